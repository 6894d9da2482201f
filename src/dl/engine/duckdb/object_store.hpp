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

/// The spelling DuckDB gets for `path`. abfs[s]://container@account.dfs.core.windows.net/p and
/// abfs[s]://container/p become az://container/p: DuckDB's azure extension sends abfs(s) to the
/// ADLS (dfs) endpoint and ignores a configured endpoint, while the Blob API serves the same
/// data (delta-rs uses it for every Azure URL too). The account goes into the secret scoped to
/// the rewritten location (ConfigureObjectStores). Other paths are returned as they are.
/// Every path the engine hands to DuckDB goes through this.
std::string EnginePath(const std::string& path);
std::vector<std::string> EnginePaths(const std::vector<std::string>& paths);
/// The spelling a DuckDB reader (read_parquet / read_csv / read_json, parquet_metadata) gets
/// for the literal file `path`. Readers glob: '*', '?' and '[' are wildcards locally and on
/// Azure, so st*.csv would read every st<x>.csv too and d[1]/f.csv would read d1/f.csv. This
/// is EnginePath with each of them (and '\' on Azure) as a one-character class: [*], [?], [[]
/// (a backslash escape cannot work locally, where DuckDB's glob splits paths at '\'). The
/// first component of an absolute local path stays: DuckDB takes it as written. S3 paths stay
/// as they are: the engine turns httpfs's globbing and query parameters off
/// (s3_url_compatibility_mode, ConfigureObjectStores). DuckDB names the files it read by
/// their EnginePath; escaping a directory keeps it a prefix of the files' escaped paths.
std::string ReadPath(const std::string& path);
std::vector<std::string> ReadPaths(const std::vector<std::string>& paths);
/// Whether ReadPath cannot escape the local `path` and gives it as written: DuckDB then reads
/// it only where it matches nothing as a pattern (its glob falls back to the literal path).
/// A backslash beside a glob character does that (DuckDB's glob splits paths at '\', so
/// no escape keeps the name whole), and so does a file in the root directory with a glob
/// character (which DuckDB never reads). Callers check what DuckDB's glob() finds.
bool ReadAsWritten(const std::string& path);
/// A path DuckDB reported below EnginePath(user_root), spelled below `user_root` again.
std::string UserPath(const std::string& engine_path, const std::string& user_root);
/// SQL mapping `column` (file names DuckDB reports for reading `user_paths`) back to the
/// spelling of `user_paths`; `column` itself when EnginePath changes none of them.
std::string UserPathSql(const std::string& column, const std::vector<std::string>& user_paths);

/// The object-store locations of `options` (URIs among allowed_directories, allowed_files and
/// object_store_locations), without trailing '/', sorted and unique.
std::vector<std::string> ObjectStoreLocations(const EngineOptions& options);

/// Where the extension files are: $DATA_LOADER_DUCKDB_EXTENSIONS, else
/// options.extension_directory, else the directory scripts/fetch_duckdb_extensions.sh fills.
std::string ExtensionDirectory(const EngineOptions& options);

/// Load the extensions `locations` need and create a secret per location (scoped to its
/// EnginePath and ReadPath). Must run before the lock-down. Errors name the scheme and bucket,
/// never a credential; two Azure accounts behind one engine location are a Config error.
Status ConfigureObjectStores(Connection& conn, const EngineOptions& options,
                             const std::vector<std::string>& locations);

}  // namespace dl::engine::duck
