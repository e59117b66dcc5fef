# steward_library(NAME SRCS a.cc b.cc [PUBLIC_DEPS x y] [DEPS z])
#   A static library `steward_NAME` from src/NAME, alias `steward::NAME`. Its headers are included
#   as "NAME/x.h" from src/. PUBLIC_DEPS are the libraries its own headers include; DEPS, which only
#   its .cc files use, are private: a module that includes its headers does not get them, so a heavy
#   header kept in a .cc stays there.
function(steward_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(steward_${name} STATIC ${ARG_SRCS})
  add_library(steward::${name} ALIAS steward_${name})
  target_include_directories(steward_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(steward_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
endfunction()

# steward_test(NAME SRCS a_test.cc DEPS steward::x [BOTH_STORES | POSTGRESQL_ONLY])
#   A GoogleTest binary whose tests ctest discovers one by one. BOTH_STORES: its tests run twice,
#   on SQLite and, named "postgresql.<test>", on the test cluster (store/testing/scratch.h);
#   POSTGRESQL_ONLY: only the second.
function(steward_test name)
  if(NOT STEWARD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "BOTH_STORES;POSTGRESQL_ONLY" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    STEWARD_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    STEWARD_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT ARG_POSTGRESQL_ONLY)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120)
  endif()
  if(ARG_BOTH_STORES OR ARG_POSTGRESQL_ONLY)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_PREFIX "postgresql."
      PROPERTIES TIMEOUT 180 FIXTURES_REQUIRED postgresql
                 ENVIRONMENT "STEWARD_TEST_POSTGRESQL=${STEWARD_TEST_CLUSTER}")
  endif()
endfunction()
