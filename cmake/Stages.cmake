# A stage of the pipeline is one folder under src/precis/ and one library, precis_<stage>.
# Its sources are globbed, so adding a file to a stage needs no edit here. Files ending in
# _avx2.cpp / _avx512.cpp are compiled for AVX2 / AVX-512 and must only be reached through run-time
# dispatch (core/cpu_features.hpp).
set(PRECIS_AVX2_FLAGS -mavx2 -mfma -mf16c)
set(PRECIS_AVX512_FLAGS -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512cd -mavx2 -mfma -mf16c)

function(precis_stage name)
  cmake_parse_arguments(STAGE "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/precis/${name}/*.cpp
                                    ${PROJECT_SOURCE_DIR}/src/precis/${name}/*/*.cpp)
  foreach(src IN LISTS srcs)
    if(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${PRECIS_AVX512_FLAGS}")
    elseif(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${PRECIS_AVX2_FLAGS}")
    endif()
  endforeach()
  if(srcs)
    add_library(precis_${name} STATIC ${srcs})
    target_include_directories(precis_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(precis_${name} PUBLIC ${STAGE_DEPS})
  else()  # a stage that is headers only so far
    add_library(precis_${name} INTERFACE)
    target_include_directories(precis_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(precis_${name} INTERFACE ${STAGE_DEPS})
  endif()
endfunction()

# A stage's unit tests: tests/<stage>/*.cpp linked into one GoogleTest binary, labelled "unit" so
# that the sanitizer build runs them too. Python oracle tests tests/<stage>/test_*.py run with the
# oracle environment's interpreter and are labelled "oracle".
function(precis_stage_tests name)
  cmake_parse_arguments(T "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX "_tool\\.cpp$")
  if(srcs)
    add_executable(precis_${name}_tests ${srcs})
    target_link_libraries(precis_${name}_tests PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
    include(GoogleTest)
    gtest_discover_tests(precis_${name}_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
  endif()
  file(GLOB tools CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*_tool.cpp)
  foreach(tool IN LISTS tools)
    get_filename_component(tool_name ${tool} NAME_WE)
    add_executable(${tool_name} ${tool})
    target_link_libraries(${tool_name} PRIVATE ${T_DEPS})
  endforeach()
  if(PRECIS_PYTHON AND NOT PRECIS_SANITIZE)
    file(GLOB pys CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/test_*.py)
    foreach(py IN LISTS pys)
      get_filename_component(py_name ${py} NAME_WE)
      add_test(NAME oracle.${name}.${py_name} COMMAND ${PRECIS_PYTHON} ${py}
               WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
      set_tests_properties(oracle.${name}.${py_name} PROPERTIES LABELS oracle
        ENVIRONMENT "PRECIS_BUILD=${PROJECT_BINARY_DIR};PRECIS_BIN=$<TARGET_FILE:precis>;PRECIS_SOURCE=${PROJECT_SOURCE_DIR};PYTHONPATH=${PROJECT_SOURCE_DIR}/tests")
    endforeach()
  endif()
endfunction()
