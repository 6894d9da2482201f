// Planning: which discovered files of a table to load now, and in which batches.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/discovery/discover.hpp"
#include "dl/loader/reconcile.hpp"
#include "dl/storage/location_identity.hpp"
#include "dl/tracker/file_tracker.hpp"

namespace dl::loader {

/// Why a discovered file is not loaded in this run.
enum class SkipReason {
  kAlreadyLoaded,      ///< the table holds this version of the file
  kModifiedAfterLoad,  ///< a new version of a loaded file, and allow_overwrites is off
  kRetriesExhausted,   ///< failed retry_attempts + 1 times; stays failed
};
const char* SkipReasonName(SkipReason reason);

struct PlannedFile {
  table::SourceFile file;
  int32_t retry_count = 0;  ///< failed attempts so far (from the tracker)
  int64_t created_at_ms = 0;
  bool reload = false;  ///< a modified file loaded again under allow_overwrites
};

struct SkippedFile {
  table::SourceFile file;
  SkipReason reason;
  std::string detail;
};

struct TablePlan {
  std::vector<std::vector<PlannedFile>> batches;
  std::vector<SkippedFile> skipped;  ///< except kAlreadyLoaded (counted only)
  /// Files left for a later run (min_file_age_seconds), with why.
  std::vector<discovery::WaitingFile> waiting;
  /// Problems with the source as a whole that are not errors (its base does not exist).
  std::vector<std::string> warnings;
  int64_t already_loaded = 0;
  int64_t files_discovered = 0;
  int64_t bytes_planned = 0;
  int64_t files_planned() const;
};

/// What the table already holds: the tracker's records, corrected by the commits the target
/// made after the newest version the tracker knows (reconciliation). Every map is by the
/// file's identity key (`identity.Key(path)`): a file recorded as s3a://b/x is found as
/// s3://b/x, and the records keep the spelling they were written with.
struct LoadState {
  LocationIdentity identity;
  std::map<std::string, tracker::FileRecord> records;  ///< from the tracker
  std::map<std::string, RecordedLoad> committed;       ///< newest version wins
  /// Files the table holds whose version is unknown (found in the audit column because the
  /// log no longer has the commits that loaded them); never loaded again.
  std::set<std::string> loaded_paths;

  std::string Key(std::string_view path) const { return identity.Key(path); }
};

/// The tracker's records (by path, as FileTracker::Load gives them) by identity key. Two
/// spellings of one file (an older run under s3a://, a later one under s3://) are one record:
/// of the same version the completed one, else the one updated last.
std::map<std::string, tracker::FileRecord> RecordsByKey(
    std::map<std::string, tracker::FileRecord> by_path, const LocationIdentity& identity);

/// Decide for each discovered file (in discovery order) and cut batches of at most
/// max_files_per_batch files and (softly) max_bytes_per_batch bytes.
TablePlan PlanTable(const config::TableConfig& table, int retry_attempts,
                    const std::vector<discovery::DiscoveredFile>& discovered,
                    const LoadState& state);

}  // namespace dl::loader
