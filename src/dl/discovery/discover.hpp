// Discover: list the files matching a table's source_path_pattern, in a stable order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/location_identity.hpp"

namespace dl::discovery {

struct DiscoveredFile {
  /// The file's identity: the pattern's base directory in canonical form (CanonicalPath:
  /// no "./", "..", doubled slashes or symlinks) joined with the path below it.
  std::string path;
  int64_t size = 0;
  int64_t modification_time_ms = 0;
  /// The path as the pattern spelled it, when that differs from `path` (older versions
  /// recorded files under this spelling); empty otherwise.
  std::string spelled_path;
  /// The object store's ETag (part of the file's identity there); "" for local files.
  std::string etag;
  bool operator==(const DiscoveredFile&) const = default;
};

struct DiscoverOptions {
  /// Skip files modified less than this many seconds ago (still being written). 0 = none.
  int64_t min_file_age_seconds = 0;
  /// "Now" for the age check, in ms since the epoch; unset = the wall clock (tests set it).
  std::optional<int64_t> now_ms;
  /// Give up below this many directory levels under the base (guards against symlink loops).
  int max_depth = 64;
  /// Directories never walked, in canonical form (the loader's own checkpoint_path: its
  /// metrics and state are not source files), under any spelling `identity` folds
  /// (checkpoint s3://b/ckpt is excluded from a walk of s3a://b).
  std::vector<std::string> excluded_dirs;
  /// How spellings of one location are told apart (the config's storage options).
  LocationIdentity identity;
};

/// A matching file left for a later run, and why.
struct WaitingFile {
  std::string path;
  std::string reason;  ///< "younger than min_file_age_seconds" or "modified in the future ..."
};

/// What the walk saw, for logs and dry runs.
struct DiscoverStats {
  int64_t directories_listed = 0;
  int64_t files_matched = 0;  ///< before the age filter
  int64_t skipped_too_young = 0;
  int64_t skipped_future = 0;        ///< modified after "now" (clock skew?), also waiting
  std::vector<WaitingFile> waiting;  ///< the files of the two counts above
  bool base_missing = false;         ///< the pattern's base directory does not exist
  /// Directories below the base that hold a `_delta_log` (Delta tables, e.g. the loader's own
  /// output): never walked, their files are not source files.
  std::vector<std::string> delta_tables_skipped;
};

/// List the files matching `pattern` (GlobMatcher syntax), sorted by modification time,
/// then path.
///
/// - Only the longest literal directory prefix of the pattern is walked, and only as deep as
///   the pattern can match; `**` walks the whole subtree below it.
/// - Below that prefix, files and directories whose name starts with '.' or '_' (`.tmp`,
///   `_SUCCESS`, `_delta_log`) are skipped unless the pattern segment that matches them starts
///   with that literal character. Names inside the literal prefix are never filtered.
/// - A pattern without wildcards names a file (returned if it exists) or a directory (every
///   visible file below it, as with Spark's load(dir), e.g. Hive-style partitions).
/// - A directory below the base holding a `_delta_log` (a Delta table) is not walked: its data
///   files are table internals, never source files (see stats). Config validation refuses a
///   base at or inside a table of the config.
/// - A missing base directory gives an empty list and stats->base_missing, not an error.
/// - On object stores (a URI pattern, "s3://bucket/raw/**/*.parquet") the prefix is listed
///   once, recursively (FileSystem::ListRecursive, Delta tables pruned), and each key is
///   matched against the rest of the pattern with the same rules; a prefix without objects
///   is a missing base.
/// - With min_file_age_seconds, files younger than that, or modified in the future, are left
///   out and listed in stats->waiting.
/// Errors: InvalidArgument for a bad pattern, Io if a directory cannot be listed.
Result<std::vector<DiscoveredFile>> Discover(FileSystem& fs, const std::string& pattern,
                                             const DiscoverOptions& opts = {},
                                             DiscoverStats* stats = nullptr);

/// Whether the pattern's base (the directory Discover starts from, or what a literal pattern
/// names) exists, without listing the files below it: on an object store the first page of
/// the prefix's listing (and a HEAD for a literal key), on a local disk a stat. For `status`,
/// which warns about a missing base as a run does. Errors: the store's (access denied, ...).
Result<bool> PatternBaseExists(FileSystem& fs, const std::string& pattern);

}  // namespace dl::discovery
