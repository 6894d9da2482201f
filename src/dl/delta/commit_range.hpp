// Reading the commits of a range of versions (after, until], in order, with gaps detected.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta {

/// One commit file, read.
struct Commit {
  int64_t version = 0;
  std::string path;
  /// From the log listing; 0 when the commit was read by its known path without one.
  int64_t modification_time_ms = 0;
  /// Every known action, or only the commitInfo with CommitRangeOptions::commit_info_only.
  std::vector<Action> actions;
  const CommitInfo* commit_info() const;
};

struct CommitRangeOptions {
  /// Commits the caller knows exist (a snapshot's log segment, with `until` at most its
  /// version): versions are then read by their path without listing the log, which is listed
  /// only if one turns out to be missing. Without it (or for a later `until`) the log is
  /// listed from `after` on, which also gives each commit's modification time.
  const LogSegment* known = nullptr;
  /// Parse only the commitInfo when it is the first line (as we and Spark write it); other
  /// commits are parsed whole. For readers of commit metadata on long logs.
  bool commit_info_only = false;
  /// Commits read at once (each a GET on an object store); also bounds memory.
  int parallel = 16;
};

/// Versions of a range that log cleanup removed: all below the oldest commit the log keeps.
struct ExpiredVersions {
  int64_t first = 0;
  int64_t last = 0;
};

struct CommitRangeInfo {
  /// The range's last version: `until`, or without one the newest commit of the log (at
  /// least `after`).
  int64_t until = -1;
  /// Versions of the range older than the oldest retained commit: nothing is known of them,
  /// and the callback saw only the versions after them. Callers decide whether that matters.
  std::optional<ExpiredVersions> expired;
};

/// Calls `fn` with each commit of versions (after, until] in ascending order (until unset: up
/// to the newest commit; after -1: from the first). Reads up to options.parallel commits at a
/// time. A missing version at or after the oldest retained commit is CorruptLog naming the
/// table and the version; missing versions below it are reported in the result's `expired`.
/// NotFound when the table has no log, or `until` is newer than its newest commit. A non-OK
/// status from `fn` stops the walk and is returned.
Result<CommitRangeInfo> ForEachCommit(FileSystem& fs, const std::string& table_root, int64_t after,
                                      std::optional<int64_t> until,
                                      const CommitRangeOptions& options,
                                      const std::function<Status(Commit&&)>& fn);

struct CommitRange {
  std::vector<Commit> commits;  ///< ascending and contiguous
  CommitRangeInfo info;
};

/// ForEachCommit, collected.
Result<CommitRange> ReadCommitRange(FileSystem& fs, const std::string& table_root, int64_t after,
                                    std::optional<int64_t> until,
                                    const CommitRangeOptions& options = {});

/// Calls `fn` with the commits of versions `until`, `until` - 1, ... (newest first) until it
/// returns true, after version 0, or at the oldest commit log cleanup left (the versions
/// below it are not known). For a search that usually ends at the newest commits: read in
/// ranges growing from one version to options.parallel. Returns whether `fn` stopped it.
/// Errors as ForEachCommit's.
Result<bool> ForEachCommitNewestFirst(FileSystem& fs, const std::string& table_root,
                                      int64_t until, const CommitRangeOptions& options,
                                      const std::function<Result<bool>(const Commit&)>& fn);

}  // namespace dl::delta
