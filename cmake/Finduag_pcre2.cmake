# PCRE2 (8-bit code units) as the imported target uag::pcre2. Debian ships pkg-config files only.
if(NOT TARGET uag::pcre2)
  find_path(UAG_PCRE2_INCLUDE_DIR pcre2.h)
  find_library(UAG_PCRE2_LIBRARY NAMES pcre2-8)
  include(FindPackageHandleStandardArgs)
  find_package_handle_standard_args(uag_pcre2 REQUIRED_VARS UAG_PCRE2_LIBRARY UAG_PCRE2_INCLUDE_DIR)
  if(uag_pcre2_FOUND)
    add_library(uag::pcre2 UNKNOWN IMPORTED)
    set_target_properties(uag::pcre2 PROPERTIES IMPORTED_LOCATION "${UAG_PCRE2_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${UAG_PCRE2_INCLUDE_DIR}"
      INTERFACE_COMPILE_DEFINITIONS "PCRE2_CODE_UNIT_WIDTH=8")
  endif()
endif()
