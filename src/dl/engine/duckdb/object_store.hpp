// Object stores in the DuckDB engine: DuckDB's own httpfs (S3) and azure extensions, loaded
// by path at start-up, and one secret per configured location with the credentials
// storage/object_store_settings resolves. Nothing is downloaded or installed at run time.
#pragma once

#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/engine/duckdb/duckdb_handle.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

/// The object-store locations of `options` (URIs among allowed_directories, allowed_files and
/// object_store_locations), without trailing '/', sorted and unique.
std::vector<std::string> ObjectStoreLocations(const EngineOptions& options);

/// Where the extension files are: $DATA_LOADER_DUCKDB_EXTENSIONS, else
/// options.extension_directory, else the directory scripts/fetch_duckdb_extensions.sh fills.
std::string ExtensionDirectory(const EngineOptions& options);

/// Load the extensions `locations` need and create a secret per location (scoped to it). Must
/// run before the lock-down. Errors name the scheme and bucket, never a credential.
Status ConfigureObjectStores(Connection& conn, const EngineOptions& options,
                             const std::vector<std::string>& locations);

}  // namespace dl::engine::duck
