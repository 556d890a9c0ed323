# utf8proc (Unicode normalization and categories) as the imported target uag::utf8proc.
if(NOT TARGET uag::utf8proc)
  find_path(UAG_UTF8PROC_INCLUDE_DIR utf8proc.h)
  find_library(UAG_UTF8PROC_LIBRARY NAMES utf8proc)
  include(FindPackageHandleStandardArgs)
  find_package_handle_standard_args(uag_utf8proc REQUIRED_VARS UAG_UTF8PROC_LIBRARY UAG_UTF8PROC_INCLUDE_DIR)
  if(uag_utf8proc_FOUND)
    add_library(uag::utf8proc UNKNOWN IMPORTED)
    set_target_properties(uag::utf8proc PROPERTIES IMPORTED_LOCATION "${UAG_UTF8PROC_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${UAG_UTF8PROC_INCLUDE_DIR}")
  endif()
endif()
