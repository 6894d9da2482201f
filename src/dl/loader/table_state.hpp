// A table's starting point for a run: its snapshot, what it already holds (tracker records
// reconciled with the table's log) and the files to load.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/engine/engine.hpp"
#include "dl/loader/planner.hpp"
#include "dl/strategy/source.hpp"
#include "dl/tracker/file_tracker.hpp"

namespace dl::loader {

struct TableStart {
  std::shared_ptr<const delta::Snapshot> snapshot;  ///< null: the table does not exist yet
  LoadState state;
  /// Tracker records to add: loads the table's log shows but the tracker missed (a crash
  /// between the target commit and the tracker update).
  std::vector<tracker::FileRecord> reconciled;
  TablePlan plan;
  /// The reconciliation mark to write once the tracker holds `reconciled` (unset: keep the
  /// old one), and where it goes.
  std::optional<ReconcileMark> mark;
  std::string mark_path;
  /// file_format delta: the source table and its new files (the plan's one batch).
  std::shared_ptr<const strategy::DeltaSource> delta_source;
};

/// Everything up to the plan. Errors are about the table as a whole (its path is not a Delta
/// table, its log is unreadable, its pattern is bad): the caller reports them and moves on.
/// `reload_missing`: plan the files the tracker says loaded that the table does not hold.
Result<TableStart> StartTable(const config::LoaderConfig& config, const config::TableConfig& table,
                              FileSystem& fs, engine::Engine& engine, tracker::FileTracker& tracker,
                              bool reload_missing = false);

/// Delete the staging directories (`_dl_staging_*`) of writers on this host that died while
/// writing data files (no live writer owns them any more); logs each one. Local tables only:
/// on object stores no staging directories are written (orphaned data files are VACUUM's).
void RemoveAbandonedStaging(const std::string& root, const std::string& table_name);

/// Delete the log temps a writer killed mid-commit left for versions up to `version` (they
/// are harmless to readers, but not ours to keep); logs how many. Local tables only: on
/// object stores commits are conditional PUTs and leave no temps.
void RemoveInterruptedCommitTemps(FileSystem& fs, const std::string& root, int64_t version,
                                  const std::string& table_name);

}  // namespace dl::loader
