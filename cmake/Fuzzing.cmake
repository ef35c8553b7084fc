# mxdp_add_fuzzer(NAME SOURCES f.cpp... LIBS lib...)
#
# A libFuzzer target (fuzz preset: clang, -fsanitize=fuzzer-no-link on all code,
# -fsanitize=fuzzer on the fuzzer executable). Fuzz targets live in
# tests/<folder>/fuzz/ and define LLVMFuzzerTestOneInput; the default test run
# replays their seed corpora through a replay main built in the asan preset.
function(mxdp_add_fuzzer name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  target_include_directories(${name} PRIVATE ${MXDP_SOURCE_ROOT})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endfunction()
