// Reconciliation: which source files a table already holds, read from the table's own log.
// Every loader commit lists its source files in commitInfo.dataLoader.sourceFiles (a commit
// Spark made for us: in commitInfo.userMetadata), so the target's log is the truth about what
// was loaded, whatever the tracker managed to record before a crash.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/location_identity.hpp"
#include "dl/table/table.hpp"
#include "dl/tracker/file_tracker.hpp"

namespace dl::loader {

/// One version of a source file: a file rewritten in place is a new version. Same path,
/// size and modification time, and the same ETag when both sides know one (loads recorded
/// before ETags were, and local files, have none).
bool SameVersion(const table::SourceFile& a, const table::SourceFile& b);
/// SameVersion with the paths compared by identity (s3a://b/x is s3://b/x; see
/// LocationIdentity): commits and trackers hold the spellings of the runs that wrote them.
bool SameVersion(const table::SourceFile& a, const table::SourceFile& b,
                 const LocationIdentity& identity);
/// The version of the file at `path` a tracker record describes.
table::SourceFile TrackedVersion(const std::string& path, const tracker::FileRecord& record);

/// A source file a commit recorded.
struct RecordedLoad {
  table::SourceFile file;
  int64_t version = 0;  ///< the table version that loaded it
};

struct CommitScan {
  std::vector<RecordedLoad> loads;  ///< in commit order
  int64_t latest_version = -1;      ///< newest commit seen (-1: no table)
  /// Commits after `after_version` that no longer exist (log cleanup): what they loaded is
  /// unknown to this scan.
  bool gap = false;
  /// RESTORE commits seen: (the restore's version, the version it restored).
  std::vector<std::pair<int64_t, int64_t>> restores;
};

/// The source files recorded by the table's commits after `after_version` (-1: all).
Result<CommitScan> ScanLoaderCommits(FileSystem& fs, const std::string& table_root,
                                     int64_t after_version);

/// How far reconciliation got for one table, kept beside the tracker (in its `_dl_` folder,
/// so deleting the tracker deletes it too): every load the table's log holds up to `version`
/// is in the tracker. A run scans the log only after it.
struct ReconcileMark {
  /// The tracker's metaData id: a tracker deleted (or recreated) lost what the mark vouches for.
  std::string tracker_id;
  std::string table_id;  ///< the table's metaData id (another id: the table was recreated)
  int64_t version = -1;
  /// Files the tracker records as loaded that the table does not hold (it was recreated or
  /// restored to an older version); kept until they are loaded again.
  std::vector<table::SourceFile> missing;
};

/// <tracker>/_dl_/reconciled/<table name, escaped>.json
std::string ReconcileMarkPath(const std::string& tracker_path, const std::string& table_name);
/// nullopt when there is none (or it is unreadable: then the whole log is scanned).
std::optional<ReconcileMark> ReadReconcileMark(FileSystem& fs, const std::string& path);
Status WriteReconcileMark(FileSystem& fs, const std::string& path, const ReconcileMark& mark);

/// The source files one commit's actions record (our metadata in its commitInfo, see
/// delta::LoaderCommitInfo); none for a commit that is not ours. CorruptLog when our
/// metadata is malformed.
Result<std::vector<table::SourceFile>> RecordedSourceFiles(
    const std::vector<delta::Action>& actions);

/// A CommitOptions::check_winner refusing a commit when a concurrent commit loaded one of
/// `files` (the same version under any spelling, SameVersion with `identity`): another loader
/// got there first.
std::function<Status(int64_t, const std::vector<delta::Action>&)> RefuseFilesLoadedBy(
    std::vector<table::SourceFile> files, std::string table_name,
    LocationIdentity identity = LocationIdentity());

}  // namespace dl::loader
