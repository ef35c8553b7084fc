# Version string: the project version plus the git commit, so every report
# names exactly what produced it.
execute_process(
  COMMAND git describe --always --dirty --abbrev=10
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
  OUTPUT_VARIABLE MXDP_GIT_DESCRIBE
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET)
if(NOT MXDP_GIT_DESCRIBE)
  set(MXDP_GIT_DESCRIBE "unknown")
endif()
set(MXDP_VERSION_STRING "${PROJECT_VERSION}+${MXDP_GIT_DESCRIBE}")
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/version.hpp.in
               ${CMAKE_CURRENT_BINARY_DIR}/generated/mxdp/version.hpp @ONLY)
add_library(mxdp_version INTERFACE)
target_include_directories(mxdp_version INTERFACE ${CMAKE_CURRENT_BINARY_DIR}/generated)
