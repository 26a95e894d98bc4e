# Helper functions every module uses. One CMake library per module folder.
#
#   bora_library(NAME SRCS a.cc b.cc DEPS other_lib ...)
#   bora_test(NAME SRCS a_test.cc DEPS lib ... [LABELS l1 l2] [PREFIX p.] [SERIAL])
#                                                              -> one gtest binary, tests discovered by CTest
#   bora_benchmark(NAME SRCS a_bench.cc DEPS lib ...)           -> Google Benchmark binary (not run by CTest)
#   bora_fuzzer(NAME SRCS a_fuzz.cc DEPS lib ...)               -> libFuzzer target, only with BORA_FUZZ=ON (clang)
include(GoogleTest)

function(bora_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} ${ARG_DEPS})
endfunction()

function(bora_test name)
  cmake_parse_arguments(ARG "SERIAL" "PREFIX" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT BORA_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
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
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${labels}" RUN_SERIAL ${serial}
                       ENVIRONMENT "${environment}"
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} TEST_PREFIX "${ARG_PREFIX}")
endfunction()

function(bora_benchmark name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
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
