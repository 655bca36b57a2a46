# flowgate_library(NAME DIR DEPS...)
# One library per folder: every *.cpp in DIR is compiled, except *_test.cpp. Files named *_msm.cpp
# include Boost.MSM and are compiled as C++17 in a separate object library, because Boost.MSM
# 1.74 does not compile as C++20 with GCC 12.
function(flowgate_library name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  set(msm_srcs ${srcs})
  list(FILTER msm_srcs INCLUDE REGEX "_msm\\.cpp$")
  list(FILTER srcs EXCLUDE REGEX "_msm\\.cpp$")
  if(NOT srcs AND NOT msm_srcs)
    # A folder whose sources have not landed yet: headers only.
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/engine ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARGN})
    return()
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/engine ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARGN})
  if(msm_srcs)
    add_library(${name}_msm OBJECT ${msm_srcs})
    set_target_properties(${name}_msm PROPERTIES CXX_STANDARD 17 POSITION_INDEPENDENT_CODE ON)
    target_include_directories(${name}_msm PRIVATE ${PROJECT_SOURCE_DIR}/engine ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name}_msm PRIVATE Boost::boost)
    target_sources(${name} PRIVATE $<TARGET_OBJECTS:${name}_msm>)
  endif()
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# flowgate_test(NAME DIR DEPS...): one Catch2 executable from every *.cpp in DIR, registered
# with CTest under the name NAME. Tests run from the source root so fixtures resolve.
function(flowgate_test name dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(NOT srcs)
    return()
  endif()
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE flowgate_catch_main ${ARGN})
  target_compile_definitions(${name} PRIVATE
    FLOWGATE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    FLOWGATE_BINARY="$<TARGET_FILE:flowgate>")
  add_test(NAME ${name} COMMAND ${name} --order rand --warn NoAssertions)
  set_tests_properties(${name} PROPERTIES WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
