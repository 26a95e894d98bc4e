# Helper functions every module uses. One CMake library per module folder.
#
#   bora_library(NAME SRCS a.cc b.cc DEPS other_lib ...)
#   bora_test(NAME SRCS a_test.cc DEPS lib ... [LABELS label] [PREFIX p.] [SERIAL]
#             [DEFINES NAME=value ...] [NEEDS target ...] [FIXTURE name])
#                                                              -> one gtest binary, tests discovered by CTest;
#                                                                 NEEDS: targets built before it (e.g. bora);
#                                                                 FIXTURE: a CTest fixture its tests require
#   bora_benchmark(NAME SRCS a_bench.cc DEPS lib ...)           -> Google Benchmark binary (not run by CTest)
#   bora_fuzzer(NAME SRCS a_fuzz.cc DEPS lib ...)               -> libFuzzer target, only with BORA_FUZZ=ON (clang)
include(GoogleTest)

# A misspelt keyword would otherwise pass its values as sources or dependencies of another keyword.
function(bora_check_arguments function name unparsed)
  if(unparsed)
    message(FATAL_ERROR "${function}(${name}): unknown arguments ${unparsed}")
  endif()
endfunction()

function(bora_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  bora_check_arguments(bora_library ${name} "${ARG_UNPARSED_ARGUMENTS}")
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} ${ARG_DEPS})
endfunction()

function(bora_test name)
  cmake_parse_arguments(ARG "SERIAL" "PREFIX;FIXTURE" "SRCS;DEPS;LABELS;DEFINES;NEEDS" ${ARGN})
  bora_check_arguments(bora_test ${name} "${ARG_UNPARSED_ARGUMENTS}")
  if(NOT BORA_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  if(ARG_DEFINES)
    target_compile_definitions(${name} PRIVATE ${ARG_DEFINES})
  endif()
  if(ARG_NEEDS)
    add_dependencies(${name} ${ARG_NEEDS})
  endif()
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  # Integration tests run the Redis store verifying that every task the engine did not mark changed
  # (TaskExecution::revision) really is unchanged: a missed mark fails the commit, naming the task.
  set(environment "")
  if("integration" IN_LIST labels)
    set(environment "BORA_VERIFY_REVISIONS=1")
  endif()
  # One label only: gtest_discover_tests passes a list of them unescaped, which shifts every property after it
  # (a second label silently dropped RUN_SERIAL and ENVIRONMENT).
  list(LENGTH labels label_count)
  if(label_count GREATER 1)
    message(FATAL_ERROR "bora_test(${name}): one label only, got ${labels}")
  endif()
  set(fixture "")
  if(ARG_FIXTURE)
    set(fixture FIXTURES_REQUIRED ${ARG_FIXTURE})
  endif()
  # (The fixture comes before ENVIRONMENT: an empty environment would take the next word as its value.)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${labels}" RUN_SERIAL ${serial}
                       ${fixture} ENVIRONMENT "${environment}"
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} TEST_PREFIX "${ARG_PREFIX}")
endfunction()

function(bora_benchmark name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  bora_check_arguments(bora_fuzzer ${name} "${ARG_UNPARSED_ARGUMENTS}")
  bora_check_arguments(bora_benchmark ${name} "${ARG_UNPARSED_ARGUMENTS}")
  if(NOT BORA_BUILD_BENCHMARKS)
    return()
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
endfunction()

function(bora_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  if(NOT BORA_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()
