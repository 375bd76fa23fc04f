# Project-wide compile rules and helpers for targets and tests.
add_library(agendasync_warnings INTERFACE)
target_compile_options(agendasync_warnings INTERFACE -Wall -Wextra -Werror)
target_include_directories(agendasync_warnings INTERFACE ${CMAKE_SOURCE_DIR}/src)

if(AGENDASYNC_FUZZ)
  # Coverage feedback for libFuzzer in every library a fuzz target links.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  # libstdc++ 12's std::stable_sort calls get_temporary_buffer, which it marks deprecated in
  # C++23; GCC exempts its own headers, clang does not. Only the clang fuzz build sees it.
  add_compile_options(-Wno-deprecated-declarations)
  add_link_options(-fsanitize=address,undefined)
  add_custom_target(fuzzers)
endif()

if(AGENDASYNC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# agendasync_library(NAME SOURCES ... DEPS ...): one library per layer folder.
function(agendasync_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC agendasync_warnings ${ARG_DEPS})
endfunction()

# agendasync_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest executable whose
# tests CTest lists one by one.
function(agendasync_test name)
  if(AGENDASYNC_FUZZ)
    return()  # the fuzz build makes fuzz targets only
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE agendasync_warnings ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    AGENDASYNC_CONFORMANCE_DIR="${AGENDASYNC_CONFORMANCE_DIR}"
    AGENDASYNC_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    AGENDASYNC_BINARY_DIR="${CMAKE_BINARY_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # The labels' semicolons escaped for the three list expansions between here and the
  # discovered tests' set_tests_properties (gtest_discover_tests, its include file, its
  # add_command): unescaped, that call read "LABELS a b c TIMEOUT t" as LABELS=a, b=c, ..., so
  # only the first label applied, a second one swallowed the TIMEOUT, and `-LE scale` could
  # not leave a test out. Checked with `ctest -N -L <second label>`.
  string(REPLACE ";" "\\\\\\\\\\\\\\;" labels "${ARG_LABELS}")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# agendasync_fuzzer(NAME SOURCES ... DEPS ...): a libFuzzer target, built only in the `fuzz`
# preset; scripts/fuzz.sh finds it in build/fuzz/fuzz/ and seeds it from fuzz/corpus/<name
# without the fuzz_ prefix>/.
function(agendasync_fuzzer name)
  if(NOT AGENDASYNC_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE agendasync_warnings ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  add_dependencies(fuzzers ${name})
endfunction()
