# `cmake --install` and the Debian package (README "Deploying"); included from the top
# CMakeLists.txt. The dashboard's assets are inside the binary: nothing to install for them.
include(GNUInstallDirs)

install(TARGETS switchboard switchboard-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Written beside switchboard-cli by its POST_BUILD step (tools/CMakeLists.txt).
install(FILES ${PROJECT_BINARY_DIR}/tools/switchboard-cli.bash
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions RENAME switchboard-cli)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_BINARY_DIR}/openapi.json DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Debian's copyright file (machine-readable format 1.0): the binary embeds uPlot, whose MIT
# licence asks that its notice ship with every copy. Made from the vendored LICENSE so that the
# two cannot drift (a description's blank line is " ." in this format).
set(uplot_license_file ${PROJECT_SOURCE_DIR}/src/http/dashboard/assets/uplot.LICENSE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${uplot_license_file})
file(STRINGS ${uplot_license_file} uplot_license_lines)
set(uplot_license "")
foreach(line IN LISTS uplot_license_lines)
  if(line STREQUAL "")
    string(APPEND uplot_license " .\n")
  else()
    string(APPEND uplot_license " ${line}\n")
  endif()
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/copyright
     "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
     "Upstream-Name: switchboard\n"
     "\n"
     "Files: *\n"
     "Copyright: the Switchboard maintainers\n"
     "License: unspecified\n"
     " The Switchboard sources carry no licence statement of their own; ask the maintainers.\n"
     "\n"
     "Files: src/http/dashboard/assets/uplot.min.js src/http/dashboard/assets/uplot.min.css\n"
     "Copyright: 2022 Leon Sorokin\n"
     "License: MIT\n"
     "Comment: uPlot (https://github.com/leeoniya/uPlot), served by the reports page from inside the\n"
     " switchboard binary.\n"
     "\n"
     "License: MIT\n"
     "${uplot_license}")
install(FILES ${PROJECT_BINARY_DIR}/packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The config and the unit depend on the prefix given at install time (install_config.cmake).
install(CODE "set(SWITCHBOARD_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(SWITCHBOARD_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
set(SWITCHBOARD_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")")
install(SCRIPT ${CMAKE_CURRENT_LIST_DIR}/install_config.cmake)

# CPack: `cmake --build build --target package` (or `cpack -G DEB` in build/) makes
# switchboard_<version>_<arch>.deb.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME switchboard)
set(CPACK_PACKAGE_VENDOR "Switchboard")
set(CPACK_PACKAGE_CONTACT "Switchboard maintainers <switchboard@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "customer-support request routing server, with its CLI and systemd unit")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)  # the prefix CPack installs with when CPACK_SET_DESTDIR is on
# install_config.cmake sees the prefix /usr and DESTDIR the staging folder: /etc/switchboard
# lands in the package, not on the building machine.
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Shared libraries' packages (libsqlite3-0, libcurl4, libgmime-3.0-0, ...) from dpkg-shlibdeps;
# deb-systemd-helper for the maintainer scripts, as debhelper's ${misc:Depends} would add.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.54~)")
# xz over tens of MB of binaries costs CI time for little.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
# The operator's edits to these survive upgrades (dpkg asks before replacing them).
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles
     "/etc/switchboard/switchboard.toml\n/etc/switchboard/routing.toml\n/etc/switchboard/tokens.toml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/packaging/conffiles ${CMAKE_CURRENT_LIST_DIR}/postinst ${CMAKE_CURRENT_LIST_DIR}/prerm
    ${CMAKE_CURRENT_LIST_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
