# llama.cpp for include/uag/adapters/llama_cpp.hpp (UAG_WITH_LLAMA_CPP=ON).
# Your own llama.cpp: -DCMAKE_PREFIX_PATH=<its install prefix> (llama.cpp installs llama-config.cmake).
# Otherwise cmake/fetch_llama_cpp.sh builds the pinned release into ~/.cache/uag/llama.cpp (reused) and
# its prefix is used. Defines uag::llama_cpp (uag + llama) and, when found, UAG_GGUF_PY (llama.cpp's gguf-py,
# for the test fixtures) and UAG_LLAMA_QUANTIZE.
find_package(llama CONFIG QUIET)
if(NOT llama_FOUND)
  message(STATUS "llama.cpp not found: building the pinned release with cmake/fetch_llama_cpp.sh (cached)")
  execute_process(COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fetch_llama_cpp.sh release --tools
                  OUTPUT_VARIABLE _uag_llama_out RESULT_VARIABLE _uag_llama_rc)
  if(NOT _uag_llama_rc EQUAL 0)
    message(FATAL_ERROR "cmake/fetch_llama_cpp.sh failed (${_uag_llama_rc})")
  endif()
  string(STRIP "${_uag_llama_out}" _uag_llama_out)
  string(REGEX REPLACE ".*\n" "" UAG_LLAMA_CPP_PREFIX "${_uag_llama_out}")
  set(UAG_LLAMA_CPP_PREFIX "${UAG_LLAMA_CPP_PREFIX}" CACHE PATH "llama.cpp install prefix" FORCE)
  find_package(llama CONFIG REQUIRED PATHS ${UAG_LLAMA_CPP_PREFIX} NO_DEFAULT_PATH)
endif()
get_filename_component(_uag_llama_root "${llama_DIR}/../../.." ABSOLUTE)
find_path(UAG_GGUF_PY gguf/gguf_writer.py PATHS ${_uag_llama_root}/src/gguf-py NO_DEFAULT_PATH)
find_program(UAG_LLAMA_QUANTIZE llama-quantize PATHS ${_uag_llama_root}/bin NO_DEFAULT_PATH)
find_program(UAG_RPC_SERVER rpc-server PATHS ${_uag_llama_root}/bin NO_DEFAULT_PATH)
add_library(uag_llama_cpp INTERFACE)
add_library(uag::llama_cpp ALIAS uag_llama_cpp)
target_link_libraries(uag_llama_cpp INTERFACE uag::uag llama)
target_compile_definitions(uag_llama_cpp INTERFACE UAG_WITH_LLAMA_CPP=1)
# llama.cpp's exported config names the CUDA runtime only for GGML_STATIC builds; a static ggml-cuda built
# with BUILD_SHARED_LIBS=OFF alone still needs cudart, cuBLAS and the driver API when linked.
if(TARGET ggml::ggml-cuda)
  get_target_property(_uag_ggml_cuda ggml::ggml-cuda IMPORTED_LOCATION)
  if(_uag_ggml_cuda MATCHES "\\.a$")
    find_package(CUDAToolkit REQUIRED)
    set_property(TARGET ggml::ggml-cuda APPEND PROPERTY INTERFACE_LINK_LIBRARIES
                 CUDA::cudart CUDA::cublas CUDA::cublasLt CUDA::cuda_driver)
  endif()
endif()
