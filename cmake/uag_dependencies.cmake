# Third-party packages, all from Debian 12:
#   libeigen3-dev nlohmann-json3-dev libpcre2-dev libutf8proc-dev libomp-dev (OpenMP ships with g++)
include(GNUInstallDirs)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})
find_package(uag_pcre2 REQUIRED)
find_package(uag_utf8proc REQUIRED)
