# Every dependency is a Debian package installed by scripts/install-deps.sh.
find_package(OpenMP REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Eigen3 REQUIRED NO_MODULE)
find_package(Ceres REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(GTest REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
find_package(benchmark REQUIRED)
find_package(ZLIB REQUIRED)     # data/: reading .gz and dictd .dz corpus files
find_package(OpenSSL REQUIRED)  # data/: SHA-256 of corpora, recipes and tokenizer models
pkg_check_modules(ICUUC REQUIRED IMPORTED_TARGET icu-uc)  # data/: Unicode classes (pre-tokenizers)

# oneDNN: linking -ldnnl directly avoids its CMake config's OpenCL requirement.
find_library(DNNL_LIBRARY dnnl REQUIRED)
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
add_library(precis_dnnl INTERFACE)
target_link_libraries(precis_dnnl INTERFACE ${DNNL_LIBRARY})
target_include_directories(precis_dnnl SYSTEM INTERFACE ${DNNL_INCLUDE_DIR})
