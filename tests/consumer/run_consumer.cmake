# Builds tests/consumer as a separate project that uses uag either from an install tree
# (find_package) or as a subdirectory, then runs it.
file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_src ${CMAKE_CURRENT_LIST_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} -S ${UAG_SOURCE_DIR} -B ${WORK_DIR}/uag -DUAG_BUILD_TESTS=OFF -DUAG_BUILD_BENCHMARKS=OFF
      -DUAG_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/uag)
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DUAG_CONSUMER_MODE=find_package)
else()
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/build -DUAG_CONSUMER_MODE=add_subdirectory
      -DUAG_SOURCE_DIR=${UAG_SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
