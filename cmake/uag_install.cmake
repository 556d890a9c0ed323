include(CMakePackageConfigHelpers)
install(TARGETS uag EXPORT uagTargets)
install(DIRECTORY include/uag DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(UAG_CONFIG_DIR ${CMAKE_INSTALL_DATADIR}/cmake/uag)
install(EXPORT uagTargets NAMESPACE uag:: DESTINATION ${UAG_CONFIG_DIR})
configure_package_config_file(cmake/uagConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/uagConfig.cmake
                              INSTALL_DESTINATION ${UAG_CONFIG_DIR})
# Header-only: the version file must not check the consumer's pointer size.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/uagConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/uagConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/uagConfigVersion.cmake
              cmake/Finduag_pcre2.cmake cmake/Finduag_utf8proc.cmake
        DESTINATION ${UAG_CONFIG_DIR})
