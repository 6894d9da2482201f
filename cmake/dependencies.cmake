# All third-party dependencies. Nothing is downloaded here: DuckDB comes from
# scripts/fetch_duckdb.sh (or -DDUCKDB_ROOT=), everything else from Debian packages.
find_package(fmt REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 QUIET)
if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)  # Debian's CLI11 is header-only
endif()
find_package(yaml-cpp REQUIRED)
find_package(CURL REQUIRED)  # cluster mode's REST calls (src/dl/common/http_client), S3 requests
find_package(OpenSSL REQUIRED)  # SHA-256 / MD5 of S3 request bodies (EVP)
find_package(pugixml REQUIRED)  # S3 XML answers (libpugixml-dev)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)  # CRC-32 of deletion vector files
# CRoaring (libroaring-dev) ships neither a CMake config nor a .pc file in Debian 12.
find_path(ROARING_INCLUDE_DIR roaring/roaring.h REQUIRED)
find_library(ROARING_LIBRARY roaring REQUIRED)
add_library(roaring::roaring UNKNOWN IMPORTED)
set_target_properties(roaring::roaring PROPERTIES
  IMPORTED_LOCATION ${ROARING_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${ROARING_INCLUDE_DIR})

set(DUCKDB_ROOT "${CMAKE_CURRENT_SOURCE_DIR}/third_party/duckdb" CACHE PATH
    "Directory with include/duckdb.h and lib/libduckdb.so (DuckDB 1.4.x)")
find_path(DUCKDB_INCLUDE_DIR duckdb.h PATHS ${DUCKDB_ROOT}/include NO_DEFAULT_PATH)
find_library(DUCKDB_LIBRARY duckdb PATHS ${DUCKDB_ROOT}/lib NO_DEFAULT_PATH)
if(NOT DUCKDB_INCLUDE_DIR OR NOT DUCKDB_LIBRARY)
  message(FATAL_ERROR "DuckDB not found under DUCKDB_ROOT=${DUCKDB_ROOT}. "
                      "Run scripts/fetch_duckdb.sh or pass -DDUCKDB_ROOT=<dir with include/ and lib/>.")
endif()
get_filename_component(DUCKDB_LIB_DIR ${DUCKDB_LIBRARY} DIRECTORY)
add_library(duckdb::duckdb SHARED IMPORTED)
set_target_properties(duckdb::duckdb PROPERTIES
  IMPORTED_LOCATION ${DUCKDB_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${DUCKDB_INCLUDE_DIR})
