#include "dl/loader/table_state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/commit_range.hpp"
#include "dl/delta/maintenance.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/staging_dir.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/strategy/source_position.hpp"
#include "dl/table/table.hpp"

namespace dl::loader {
namespace {

void WarnMissing(const std::string& name, size_t files) {
  log::Warn(
      "files the tracker records as loaded are not in the table (it was deleted, "
      "recreated or restored); run with --reload-missing to load them again",
      {{"table", name}, {"files", files}});
}

// Tracker rows for the loads the tracker does not know yet: of each path, the load the
// table holds (a file's older versions stay what the tracker says).
void RecordUnknownLoads(const std::string& name, TableStart& start) {
  int64_t now = NowMs();
  for (const auto& [key, load] : start.state.committed) {
    auto rec = start.state.records.find(key);
    bool tracked = rec != start.state.records.end() &&
                   rec->second.status == tracker::FileStatus::kCompleted &&
                   SameVersion(TrackedVersion(load.file.path, rec->second), load.file);
    if (tracked) continue;
    tracker::FileRecord r;
    r.file_path = load.file.path;
    r.file_size = load.file.size;
    r.file_modified_time_ms = load.file.modification_time_ms;
    r.file_etag = load.file.etag;
    r.table_name = name;
    r.status = tracker::FileStatus::kCompleted;
    r.created_at_ms = rec != start.state.records.end() ? rec->second.created_at_ms : now;
    r.updated_at_ms = now;
    r.target_version = load.version;
    r.error_message = "reconciled from the table's log (the tracker missed this load)";
    start.reconciled.push_back(std::move(r));
  }
  if (!start.reconciled.empty()) {
    log::Warn("reconciled loads the tracker missed",
              {{"table", name}, {"files", start.reconciled.size()}});
  }
}

// Whether the table at version `v` holds what commit `load_version` loaded: the newest
// RESTORE after that commit (and at or before v) decides, by the version it went back to.
bool HeldAt(int64_t load_version, int64_t v,
            const std::vector<std::pair<int64_t, int64_t>>& restores) {
  const std::pair<int64_t, int64_t>* last = nullptr;
  for (const auto& r : restores) {
    if (r.first > load_version && r.first <= v && (!last || r.first > last->first)) last = &r;
  }
  if (last == nullptr) return true;
  return last->second >= load_version && HeldAt(load_version, last->second, restores);
}

// The loads the table still holds, by identity key (the newest held load of each file).
std::map<std::string, RecordedLoad> HeldLoads(const CommitScan& scan, const LoadState& state) {
  std::map<std::string, RecordedLoad> held;
  for (const auto& load : scan.loads) {
    if (HeldAt(load.version, scan.latest_version, scan.restores)) {
      held[state.Key(load.file.path)] = load;
    }
  }
  return held;
}

// Files the tracker records as loaded that the table does not hold: carried over from the
// last mark until loaded again, plus (the table recreated) every completed record it lacks,
// plus the loads a restore undid. A path the table holds in any version is not missing; a
// load the tracker never recorded is not either (the planner loads it again by itself).
std::vector<table::SourceFile> MissingFiles(const std::optional<ReconcileMark>& mark,
                                            bool recreated, const CommitScan& scan,
                                            const TableStart& start) {
  auto holds = [&](const std::string& key) {
    return start.state.committed.count(key) != 0 || start.state.loaded_paths.count(key) != 0;
  };
  auto tracked_loaded = [&](const table::SourceFile& f) {
    auto rec = start.state.records.find(start.state.Key(f.path));
    return rec != start.state.records.end() &&
           rec->second.status == tracker::FileStatus::kCompleted &&
           SameVersion(TrackedVersion(f.path, rec->second), f);
  };
  std::vector<table::SourceFile> candidates;
  if (mark) candidates = mark->missing;
  if (recreated) {
    for (const auto& [key, rec] : start.state.records) {
      candidates.push_back(TrackedVersion(rec.file_path, rec));
    }
  }
  // Loads the table no longer holds (a restore undid them), newest first.
  for (auto it = scan.loads.rbegin(); it != scan.loads.rend(); ++it) candidates.push_back(it->file);
  std::vector<table::SourceFile> missing;
  std::set<std::string> seen;
  for (const auto& f : candidates) {
    const std::string key = start.state.Key(f.path);
    if (!holds(key) && tracked_loaded(f) && seen.insert(key).second) missing.push_back(f);
  }
  return missing;
}

// No table at all (deleted): every file the tracker says loaded is missing from it.
void NoTable(const std::string& tracker_path, const std::string& name, TableStart& start) {
  start.mark_path = ReconcileMarkPath(tracker_path, name);
  ReconcileMark mark;
  for (const auto& [key, rec] : start.state.records) {
    if (rec.status != tracker::FileStatus::kCompleted) continue;
    mark.missing.push_back(TrackedVersion(rec.file_path, rec));
  }
  if (mark.missing.empty()) return;
  WarnMissing(name, mark.missing.size());
  start.mark = std::move(mark);
}

// The commits with gaps (log cleanup) leave only the data to ask: the source-file column.
Status AskTheData(FileSystem& fs, engine::Engine& engine, const config::TableConfig& table,
                  const std::string& name, const std::string& root, TableStart& start) {
  const std::string& col = table.audit_columns.source_file;
  if (!table.audit_columns.enabled || !start.snapshot->schema().Find(col)) {
    log::Warn(
        "the table's log no longer lists every load and it has no source-file column; "
        "files loaded before the oldest remaining commit cannot be recognised",
        {{"table", name}});
    return Status::OK();
  }
  table::TableContext ctx{fs, engine};
  DL_ASSIGN_OR_RETURN(auto full, table::LoadSnapshot(ctx, root, start.snapshot->version()));
  DL_RETURN_IF_ERROR(engine.RegisterSnapshot("__dl_reconcile", *full));
  DL_ASSIGN_OR_RETURN(auto rows, engine.Query(fmt::format(
                                     "SELECT DISTINCT {} FROM __dl_reconcile WHERE {} IS NOT NULL",
                                     engine::QuoteIdent(col), engine::QuoteIdent(col))));
  for (const auto& row : rows.rows) {
    start.state.loaded_paths.insert(start.state.Key(row.at(0).value_or("")));
  }
  return Status::OK();
}

// Reads the table's log after the reconciliation mark (all of it without one, or when the
// table was recreated), records the loads the tracker missed, and finds the files the tracker
// says loaded that the table does not hold.
Status Reconcile(FileSystem& fs, engine::Engine& engine, const config::TableConfig& table,
                 const std::string& name, const std::string& root, tracker::FileTracker& tracker,
                 TableStart& start) {
  const std::string id = start.snapshot->metadata().id;
  start.mark_path = ReconcileMarkPath(tracker.path(), name);
  std::optional<ReconcileMark> mark = ReadReconcileMark(fs, start.mark_path);
  // Written with another tracker (its log deleted or recreated since): it vouches for nothing.
  if (mark && (mark->tracker_id.empty() || mark->tracker_id != tracker.table_id())) mark.reset();
  // Another table id, or a version the table never reached: the table was recreated.
  const bool recreated =
      mark && (mark->table_id != id || mark->version > start.snapshot->version());
  int64_t after = mark && !recreated ? mark->version : -1;
  DL_ASSIGN_OR_RETURN(auto scan, ScanLoaderCommits(fs, root, after));
  // A restore undoes the loads after the version it went back to: read back that far.
  int64_t back_to = after;
  for (const auto& [at, to] : scan.restores) back_to = std::min(back_to, to);
  if (back_to < after) {
    DL_ASSIGN_OR_RETURN(scan, ScanLoaderCommits(fs, root, std::max<int64_t>(back_to, -1)));
  }
  start.state.committed = HeldLoads(scan, start.state);
  RecordUnknownLoads(name, start);
  if (scan.gap) DL_RETURN_IF_ERROR(AskTheData(fs, engine, table, name, root, start));

  ReconcileMark next{"", id, scan.latest_version, MissingFiles(mark, recreated, scan, start)};
  if (!next.missing.empty()) WarnMissing(name, next.missing.size());
  // Loads found only in the data are not in the tracker: the next run must look again.
  bool data_untracked = std::any_of(start.state.loaded_paths.begin(),
                                    start.state.loaded_paths.end(), [&](const auto& p) {
                                      auto rec = start.state.records.find(p);
                                      return rec == start.state.records.end() ||
                                             rec->second.status != tracker::FileStatus::kCompleted;
                                    });
  if (!data_untracked) start.mark = std::move(next);
  return Status::OK();
}

// The data files one commit of a Delta source added (dataChange); counts its removes.
void TakeNewAdds(std::vector<delta::Action>& actions, std::vector<delta::AddFile>* adds,
                 int64_t* removes) {
  // A file removed and added back in one commit with a deletion vector had rows deleted in
  // place: nothing new to load from it.
  std::set<std::string> removed_paths;
  for (const auto& a : actions) {
    if (auto* rm = std::get_if<delta::RemoveFile>(&a); rm && rm->data_change) {
      removed_paths.insert(rm->path);
      ++*removes;
    }
  }
  for (auto& a : actions) {
    auto* add = std::get_if<delta::AddFile>(&a);
    if (!add || !add->data_change) continue;
    if (add->deletion_vector && removed_paths.count(add->path)) continue;
    adds->push_back(std::move(*add));
  }
}

// A Delta source is loaded version by version: the target's txn for the source says up to
// which version it holds; the data files its later commits added (dataChange) are the batch.
// The first load takes every live file of the source's latest version.
Status PlanDeltaSource(FileSystem& fs, engine::Engine& engine, const config::TableConfig& table,
                       TableStart& start) {
  // One spelling of the source, so its files' paths are canonical too.
  const std::string root = CanonicalPath(table.source_path_pattern);
  table::TableContext ctx{fs, engine};
  auto loaded = table::LoadSnapshot(ctx, root);
  if (!loaded.ok()) return loaded.status().WithContext("reading the source Delta table " + root);
  auto source = std::make_shared<strategy::DeltaSource>();
  source->snapshot = *loaded;
  source->version = source->snapshot->version();
  source->app_id = "data_loader/source/" + source->snapshot->metadata().id;
  std::optional<int64_t> done;
  if (start.snapshot) {
    done = start.snapshot->TxnVersion(source->app_id);
    // Loaded by the Spark engine and killed before the txn followed its commit.
    DL_ASSIGN_OR_RETURN(auto recorded,
                        strategy::RecordedSourceVersion(ctx, *start.snapshot, source->app_id));
    if (recorded && *recorded > done.value_or(-1)) done = source->unrecorded = recorded;
  }
  int64_t removes = 0;
  if (!done) {
    source->adds = source->snapshot->files();
  } else {
    // The source snapshot's log segment lists its recent commits: read them without listing.
    delta::CommitRangeOptions options;
    options.known = &source->snapshot->log_segment();
    auto range =
        delta::ForEachCommit(fs, root, *done, source->version, options, [&](delta::Commit&& c) {
          TakeNewAdds(c.actions, &source->adds, &removes);
          return Status::OK();
        });
    if (!range.ok()) return range.status();
    if (range->expired) {
      return Status::NotFound(
          "version {} of source {} is no longer in its log (last loaded: {}); the versions in "
          "between cannot be loaded incrementally",
          range->expired->first, root, *done);
    }
  }
  if (table.engine == config::EngineKind::kSpark) {
    DL_RETURN_IF_ERROR(strategy::CheckRemoteDeltaSource(*source, table.QualifiedName()));
  }
  if (removes > 0) {
    log::Warn("the source deleted or rewrote rows; append loads only what was added",
              {{"table", table.QualifiedName()}, {"source", root}, {"removed_files", removes}});
  }
  TablePlan& plan = start.plan;
  plan.files_discovered = static_cast<int64_t>(source->adds.size());
  std::vector<PlannedFile> batch;
  int64_t now = NowMs();
  for (const auto& add : source->adds) {
    table::SourceFile f{strategy::DeltaSourceFilePath(*source->snapshot, add), add.size,
                        add.modification_time};
    plan.bytes_planned += add.size;
    batch.push_back(PlannedFile{f, 0, now, false});
  }
  if (!batch.empty()) plan.batches.push_back(std::move(batch));
  start.delta_source = std::move(source);
  return Status::OK();
}

// Discover the pattern's files and plan them; what discovery set aside becomes the plan's
// waiting files and warnings.
Result<TablePlan> PlanSourceFiles(const config::LoaderConfig& config,
                                  const config::TableConfig& table, FileSystem& fs,
                                  const std::string& name, const LoadState& state) {
  discovery::DiscoverOptions dopts;
  dopts.min_file_age_seconds = table.min_file_age_seconds;
  // The checkpoint directory under any spelling (raw s3a://b, checkpoint s3://b/ckpt).
  dopts.identity = state.identity;
  if (!config.checkpoint_path.empty()) {
    dopts.excluded_dirs.push_back(CanonicalPath(config.checkpoint_path));
  }
  discovery::DiscoverStats stats;
  auto discovered = discovery::Discover(fs, table.source_path_pattern, dopts, &stats);
  if (!discovered.ok()) {
    return discovered.status().WithContext("listing source_path_pattern " +
                                           table.source_path_pattern);
  }
  TablePlan plan = PlanTable(table, config.retry_attempts, *discovered, state);
  plan.waiting = std::move(stats.waiting);
  if (stats.base_missing) {
    plan.warnings.push_back(fmt::format("source_path_pattern {}: its base directory does not exist",
                                        table.source_path_pattern));
  } else if (stats.files_matched == 0) {
    plan.warnings.push_back(
        fmt::format("source_path_pattern {} matches no file", table.source_path_pattern));
  }
  if (!stats.delta_tables_skipped.empty()) {
    log::Warn(
        "not looking inside Delta tables below the source's base (their files are "
        "table data, not source files; is raw_data_path above processed_data_path?)",
        {{"table", name},
         {"tables", stats.delta_tables_skipped.size()},
         {"first", stats.delta_tables_skipped.front()}});
  }
  return plan;
}

// --reload-missing: the planner sees no tracker record for the missing files, so loads them.
void ForgetMissing(const ReconcileMark& mark, TableStart& start) {
  for (const auto& f : mark.missing) {
    auto rec = start.state.records.find(start.state.Key(f.path));
    if (rec != start.state.records.end() && SameVersion(TrackedVersion(f.path, rec->second), f)) {
      start.state.records.erase(rec);
    }
  }
}

}  // namespace

Result<TableStart> StartTable(const config::LoaderConfig& config, const config::TableConfig& table,
                              FileSystem& fs, engine::Engine& engine, tracker::FileTracker& tracker,
                              bool reload_missing) {
  TableStart start;
  const std::string root = config::TablePath(config, table);
  const std::string name = config::DisplayName(config, table);
  // Also for tables the config does not know (made by `table write`): an outer table's VACUUM
  // would delete this one's files.
  DL_RETURN_IF_ERROR(table::CheckNotNested(fs, root));
  // Planning needs the version, schema and txns; the file list is read only if reconciliation
  // has to ask the data (see Reconcile).
  auto snapshot = delta::Snapshot::LoadWithoutFiles(fs, &engine, root);
  if (snapshot.ok()) {
    start.snapshot = *snapshot;
  } else if (snapshot.status().code() == StatusCode::kNotFound) {
    DL_RETURN_IF_ERROR(table::CheckCanCreateAt(fs, root));
  } else {
    return snapshot.status().WithContext("reading target table " + root);
  }

  // Files are compared by identity: trackers and commits hold the spellings earlier configs
  // used (s3a://, abfss://...), the discovered paths this config's.
  start.state.identity = LocationIdentity(config.storage);
  DL_ASSIGN_OR_RETURN(auto records, tracker.Load(name));
  start.state.records = RecordsByKey(std::move(records), start.state.identity);
  if (start.snapshot) {
    DL_RETURN_IF_ERROR(Reconcile(fs, engine, table, name, root, tracker, start));
  } else {
    NoTable(tracker.path(), name, start);
  }
  if (reload_missing && start.mark) ForgetMissing(*start.mark, start);

  if (table.file_format == config::FileFormat::kDelta) {
    DL_RETURN_IF_ERROR(PlanDeltaSource(fs, engine, table, start));
    return start;
  }
  DL_ASSIGN_OR_RETURN(start.plan, PlanSourceFiles(config, table, fs, name, start.state));
  return start;
}

void RemoveAbandonedStaging(const std::string& root, const std::string& table_name) {
  if (IsUri(root)) return;  // object stores get no staging directories (no renames there)
  auto abandoned = AbandonedStagingDirs(root);
  if (!abandoned.ok()) {
    log::Warn("cannot look for staging directories of killed writers",
              {{"table", table_name}, {"error", abandoned.status().message()}});
    return;
  }
  for (const auto& dir : *abandoned) {
    Status st = RemoveStagingDir(dir.path);
    if (st.ok()) {
      log::Info("removed the staging directory of a writer that died",
                {{"table", table_name}, {"path", dir.path}, {"bytes", dir.bytes}});
    } else {
      log::Warn("cannot remove a dead writer's staging directory",
                {{"table", table_name}, {"error", st.message()}});
    }
  }
}

void RemoveInterruptedCommitTemps(FileSystem& fs, const std::string& root, int64_t version,
                                  const std::string& table_name) {
  if (IsUri(root)) return;  // commits there are conditional PUTs: no temps are written
  auto removed = delta::RemoveStaleLogTemps(fs, root, version);
  if (removed.ok() && !removed->empty()) {
    log::Info("removed temp files of interrupted commits",
              {{"table", table_name}, {"files", removed->size()}});
  }
}

}  // namespace dl::loader
