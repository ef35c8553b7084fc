# mxdp_add_gtest(NAME SOURCES f.cpp... LIBS lib... [LABELS l...] [ARGS a...] [TIMEOUT s])
#
# One GoogleTest binary = one ctest test. Labels pick runs:
#   unit    fast, default run
#   stress  short concurrency stress, default run
#   peers   talks to real peers (Postfix, swaks, smtplib), default run
#   eal     needs root + DPDK EAL with virtual ports, default run
#   long    long stress, soak and fuzz runs: NOT in the default run
#           (ctest --preset asan -L long)
find_package(GTest REQUIRED)

function(mxdp_add_gtest name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main GTest::gmock ${T_LIBS} mxdp_warnings)
  target_include_directories(${name} PRIVATE ${MXDP_SOURCE_ROOT})
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()
