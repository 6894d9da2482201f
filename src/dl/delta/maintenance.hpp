// Table maintenance that only needs the log: checkpoints, log cleanup, VACUUM planning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dl/delta/parquet_handler.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta {

/// Parse a Delta interval property ("interval 7 days", "7 days", "168 hours", "1 week") to ms.
Result<int64_t> ParseIntervalMs(std::string_view text);

/// Write %020d.checkpoint.parquet for the snapshot's version (protocol, metaData, live adds,
/// unexpired tombstones without stats, txns, domainMetadata) and then _last_checkpoint
/// {"version","size","sizeInBytes","numOfAddFiles"}. A table with the v2Checkpoint feature
/// gets a v2 spec checkpoint instead: %020d.checkpoint.<uuid>.parquet, the same actions after
/// a checkpointMetadata action (never a classic one without it).
Status WriteCheckpoint(FileSystem& fs, ParquetHandler& parquet, const Snapshot& snapshot,
                       int64_t now_ms);

/// Delete temp files writers that died mid-commit left in _delta_log: commit temps
/// (".<version>.json.<x>.tmp") up to `latest_version` (those versions are decided, no writer
/// can publish them any more) and checkpoint temps below it (the latest one may be being
/// written right now). Returns the names removed.
Result<std::vector<std::string>> RemoveStaleLogTemps(FileSystem& fs, const std::string& table_root,
                                                     int64_t latest_version);

/// Delete commits, checkpoints and .crc files older than delta.logRetentionDuration (default
/// 30 days) that precede the newest checkpoint at or before the cutoff. Returns files deleted.
Result<std::vector<std::string>> CleanupExpiredLogs(FileSystem& fs, const Snapshot& snapshot,
                                                     int64_t now_ms);

struct VacuumPlan {
  std::vector<FileEntry> files;  ///< data files to delete (absolute paths)
  int64_t bytes = 0;
  int64_t retention_ms = 0;
};

/// Files under the table root that no live add references and that are older than the
/// retention (delta.deletedFileRetentionDuration, default 7 days, or `retention_ms`), aged
/// by tombstone deletionTimestamp when tombstoned, else by modification time. Never inside
/// _delta_log or any '_' / '.' directory (partition directories 'k=v' excepted).
/// InvalidArgument when retention_ms is below the table's retention and !force.
Result<VacuumPlan> PlanVacuum(FileSystem& fs, const Snapshot& snapshot, int64_t now_ms,
                              std::optional<int64_t> retention_ms, bool force);

}  // namespace dl::delta
