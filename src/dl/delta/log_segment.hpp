// Log listing: which files of _delta_log make up a version (PROTOCOL.md "Delta Log Entries").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dl/storage/file_system.hpp"

namespace dl::delta {

/// A parsed _delta_log file name. Anything else (.crc, temp files, unknown names,
/// _staged_commits/) is ignored by readers.
struct LogPath {
  enum class Kind { kCommit, kCheckpoint, kMultiPartCheckpoint, kUuidCheckpoint, kCompacted };
  Kind kind = Kind::kCommit;
  int64_t version = 0;
  int32_t part = 0, num_parts = 0;  // multi-part checkpoints
  int64_t end_version = 0;          // compacted commits
  std::string path;                 // full path
  int64_t size = 0;
  int64_t modification_time_ms = 0;

  static std::optional<LogPath> Parse(const std::string& file_name);
};

std::string LogDir(const std::string& table_root);
std::string CommitPath(const std::string& table_root, int64_t version);
std::string CheckpointPath(const std::string& table_root, int64_t version);
/// %020d.checkpoint.<uuid>.parquet: a UUID-named (v2 spec) checkpoint.
std::string V2CheckpointPath(const std::string& table_root, int64_t version,
                             const std::string& uuid);
std::string LastCheckpointPath(const std::string& table_root);

/// The files needed to build one version: the newest complete checkpoint at or before it
/// (all parts, if multi-part) and every commit after it, contiguous.
struct LogSegment {
  int64_t version = -1;
  std::optional<int64_t> checkpoint_version;
  std::vector<LogPath> checkpoint_parts;  // empty when no checkpoint
  std::vector<LogPath> commits;           // ascending, versions checkpoint+1 .. version
  /// The commit file of checkpoint_version when it still exists (for its timestamp only).
  std::optional<LogPath> checkpoint_commit;

  /// List the log (using _last_checkpoint as a hint; missing, stale or corrupt hints fall back
  /// to listing) and choose the segment for `version` (latest if unset).
  static Result<LogSegment> Build(FileSystem& fs, const std::string& table_root,
                                  std::optional<int64_t> version = {});
  /// The same choice from an existing listing (see ListLogFiles).
  static Result<LogSegment> FromListing(const std::vector<LogPath>& files, FileSystem& fs,
                                        const std::string& table_root,
                                        std::optional<int64_t> version = {});
};

/// Every recognised _delta_log file, sorted by (version, kind, part). NotFound
/// "<table_root> is not a Delta table (no _delta_log)" if the log is missing or holds neither
/// a commit nor a checkpoint.
Result<std::vector<LogPath>> ListLogFiles(FileSystem& fs, const std::string& table_root);
/// ListLogFiles of `version` and later (its own files included): object stores list only the
/// log's tail from there.
Result<std::vector<LogPath>> ListLogFilesFrom(FileSystem& fs, const std::string& table_root,
                                              int64_t version);

/// The oldest version a reader can still rebuild from `files`: 0 while commit 0 exists, else
/// the oldest complete checkpoint. nullopt if none.
std::optional<int64_t> EarliestRecoverableVersion(const std::vector<LogPath>& files);

}  // namespace dl::delta
