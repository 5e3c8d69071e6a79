# Runs at install time (install(SCRIPT) from install.cmake), so that the files it writes follow
# the prefix given then (`cmake --install build --prefix /tmp/x`, or /usr for the package), not
# the one configured:
# - the config folder: /etc/switchboard for the prefix /usr (GNUInstallDirs' own exception),
#   <prefix>/etc/switchboard otherwise;
# - switchboard.toml with its paths for an installed server: the rules and the tokens file beside
#   it, the database in the service's state directory; routing.toml; an empty tokens.toml; each
#   only when absent (an operator's edits are never overwritten);
# - the systemd unit naming the installed binary and config.
# Expects SWITCHBOARD_SOURCE_DIR, SWITCHBOARD_BINARY_DIR and SWITCHBOARD_DOCDIR (set by install.cmake).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc "/etc/switchboard")
else()
  set(etc "${CMAKE_INSTALL_PREFIX}/etc/switchboard")
endif()
set(staging "${SWITCHBOARD_BINARY_DIR}/packaging")
file(MAKE_DIRECTORY "${staging}")

# Each key must be found once, in its place: a shipped config whose layout changed fails the
# install instead of installing paths that point into a source checkout.
file(READ "${SWITCHBOARD_SOURCE_DIR}/config/switchboard.toml" config)
foreach(pair "database=/var/lib/switchboard/switchboard.db" "rules=routing.toml" "tokens_file=tokens.toml")
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 key)
  list(GET parts 1 value)
  string(REGEX MATCHALL "\n${key} = \"[^\"\n]*\"" found "\n${config}")
  list(LENGTH found count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "config/switchboard.toml: expected one line `${key} = \"...\"`, found ${count}")
  endif()
  string(REGEX REPLACE "\n${key} = \"[^\"\n]*\"" "\n${key} = \"${value}\"" config "\n${config}")
  string(SUBSTRING "${config}" 1 -1 config)
endforeach()
file(WRITE "${staging}/switchboard.toml" "${config}")
# Hashes only, never a token: readable by the service's dynamic user, like the config.
file(WRITE "${staging}/tokens.toml"
     "# API tokens ([[token]] person, role, sha256): `switchboard-cli token new --person NAME --role ROLE`\n"
     "# prints an entry to append here; `systemctl reload switchboard` puts it in force.\n")

set(BIN "${CMAKE_INSTALL_PREFIX}/bin")
set(ETC "${etc}")
set(DOC "${CMAKE_INSTALL_PREFIX}/${SWITCHBOARD_DOCDIR}")
configure_file("${SWITCHBOARD_SOURCE_DIR}/tools/packaging/switchboard.service.in" "${staging}/switchboard.service" @ONLY)

# file(INSTALL) as install() itself uses: DESTDIR applies and the install manifest lists them.
# The /etc/switchboard files are the operator's once installed: each is installed only when
# absent, as dpkg treats conffiles, since file(INSTALL) would replace any whose source is newer
# (and the staged tokens.toml is rewritten on every install). CPack installs into an empty
# staging folder, so the package always holds the shipped files.
foreach(file "${staging}/switchboard.toml" "${SWITCHBOARD_SOURCE_DIR}/rules/routing.toml" "${staging}/tokens.toml")
  get_filename_component(name "${file}" NAME)
  if(EXISTS "$ENV{DESTDIR}${etc}/${name}")
    message(STATUS "Kept: $ENV{DESTDIR}${etc}/${name} (exists; an install never replaces it; the shipped one is ${file})")
  else()
    file(INSTALL DESTINATION "${etc}" TYPE FILE
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
         FILES "${file}")
  endif()
endforeach()
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${staging}/switchboard.service")
