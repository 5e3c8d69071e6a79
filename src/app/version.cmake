# Writes OUTPUT (version.cpp) from version.cpp.in with the commit the source is at. Run on every
# build by the switchboard_version_file target; configure_file leaves OUTPUT untouched when the
# text is the same, so an unchanged commit recompiles nothing.
set(commit "${FALLBACK_COMMIT}")
if(EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND git -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12 --exclude "*"
    OUTPUT_VARIABLE described RESULT_VARIABLE failed OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT failed AND described)
    set(commit "${described}")
  endif()
endif()
if(NOT commit)
  set(commit "unknown")
endif()
set(SWITCHBOARD_COMMIT "${commit}")
configure_file("${INPUT}" "${OUTPUT}" @ONLY)
