// Discover: list the files matching a table's source_path_pattern, in a stable order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::discovery {

struct DiscoveredFile {
  std::string path;  ///< the base directory of the pattern joined with the relative path
  int64_t size = 0;
  int64_t modification_time_ms = 0;
  bool operator==(const DiscoveredFile&) const = default;
};

struct DiscoverOptions {
  /// Skip files modified less than this many seconds ago (still being written). 0 = none.
  int64_t min_file_age_seconds = 0;
  /// "Now" for the age check, in ms since the epoch; unset = the wall clock (tests set it).
  std::optional<int64_t> now_ms;
  /// Give up below this many directory levels under the base (guards against symlink loops).
  int max_depth = 64;
};

/// What the walk saw, for logs and dry runs.
struct DiscoverStats {
  int64_t directories_listed = 0;
  int64_t files_matched = 0;  ///< before the age filter
  int64_t skipped_too_young = 0;
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
/// - A missing base directory gives an empty list, not an error.
/// Errors: InvalidArgument for a bad pattern, Io if a directory cannot be listed.
Result<std::vector<DiscoveredFile>> Discover(FileSystem& fs, const std::string& pattern,
                                             const DiscoverOptions& opts = {},
                                             DiscoverStats* stats = nullptr);

}  // namespace dl::discovery
