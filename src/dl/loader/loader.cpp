#include "dl/loader/loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "dl/common/clock.hpp"
#include "dl/common/error_text.hpp"
#include "dl/common/logging.hpp"
#include "dl/loader/batch_runner.hpp"
#include "dl/loader/locked_engine.hpp"
#include "dl/loader/table_state.hpp"
#include "dl/monitoring/progress.hpp"
#include "dl/storage/registry.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/strategy/source_position.hpp"
#include "dl/table/table.hpp"

namespace dl::loader {
namespace {

using Clock = std::chrono::steady_clock;

// One table in this run: its plan, scheduling state and metrics.
struct TableRun {
  const config::TableConfig* config = nullptr;
  std::string root, name;
  TableStart start;
  bool exists = false;       // the table has a first commit (parallel batches need one)
  bool parallel_ok = false;  // batches may commit side by side
  int64_t planned_version = -1;  // the table version the plan was made against
  std::set<std::string> loaded;  // paths this run loaded
  size_t next_batch = 0;
  int in_flight = 0;
  int64_t files_not_attempted = 0;  // a stop signal came first
  monitoring::TableMetrics metrics;
};

std::string DescribePlan(const std::vector<TableRun>& tables,
                         const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& t : tables) {
    const TablePlan& p = t.start.plan;
    out += fmt::format("{}: {} new file(s) in {} batch(es), {} bytes; {} already loaded, {} "
                       "skipped -> {}\n",
                       t.name, p.files_planned(), p.batches.size(), p.bytes_planned,
                       p.already_loaded, p.skipped.size(), t.root);
    int64_t shown = 0;
    for (const auto& batch : p.batches) {
      for (const auto& f : batch) {
        if (shown++ == 20) break;
        out += fmt::format("  load  {}{}\n", f.file.path, f.reload ? " (new version)" : "");
      }
    }
    if (p.files_planned() > 20) {
      out += fmt::format("  ... and {} more\n", p.files_planned() - 20);
    }
    for (const auto& s : p.skipped) {
      out += fmt::format("  skip  {} ({})\n", s.file.path, s.detail);
    }
    for (const auto& w : p.waiting) out += fmt::format("  wait  {} ({})\n", w.path, w.reason);
    for (const auto& w : p.warnings) out += fmt::format("  warning: {}\n", w);
  }
  for (const auto& e : errors) out += fmt::format("error: {}\n", e);
  return out;
}

// Files left for later and source warnings: counted in the metrics and said in the log.
void ReportWaitingAndWarnings(const std::string& table, const TablePlan& plan,
                              monitoring::TableMetrics& m) {
  m.files_waiting = static_cast<int64_t>(plan.waiting.size());
  m.warnings = plan.warnings;
  for (const auto& w : plan.warnings)
    log::Warn("source warning", {{"table", table}, {"warning", w}});
  for (const auto& w : plan.waiting) {
    // A file from the future waits until the clocks agree: worth a warning, not just info.
    if (w.reason.rfind("modified in the future", 0) == 0) {
      log::Warn("file waiting", {{"table", table}, {"file", w.path}, {"reason", w.reason}});
    }
  }
  if (!plan.waiting.empty()) {
    log::Info(
        "files waiting for a later run",
        {{"table", table}, {"files", plan.waiting.size()}, {"reason", plan.waiting[0].reason}});
  }
}

tracker::FileRecord RecordFor(const TableRun& t, const FileOutcome& o) {
  tracker::FileRecord r;
  r.file_path = o.file.file.path;
  r.file_size = o.file.file.size;
  r.file_modified_time_ms = o.file.file.modification_time_ms;
  r.file_etag = o.file.file.etag;
  r.table_name = t.name;
  r.created_at_ms = o.file.created_at_ms;
  r.updated_at_ms = NowMs();
  r.processing_start_time_ms = o.start_ms;
  r.processing_end_time_ms = o.end_ms;
  r.retry_count = o.file.retry_count;
  if (o.kind == FileOutcome::Kind::kLoaded) {
    r.status = tracker::FileStatus::kCompleted;
    r.batch_id = o.batch_id;
    r.rows_loaded = o.rows;
    if (o.version >= 0) r.target_version = o.version;
  } else {
    r.status = tracker::FileStatus::kFailed;
    r.error_message = o.error;
    r.retry_count = o.file.retry_count + (o.counts_attempt ? 1 : 0);
  }
  return r;
}

// Runs the planned batches on max_parallel_jobs workers, each with its own engine session.
class Scheduler {
 public:
  Scheduler(const config::LoaderConfig& config, const RunOptions& options, FileSystem& fs,
            std::vector<TableRun>& tables, tracker::FileTracker& tracker,
            monitoring::Progress& progress, StopToken& stop)
      : config_(config), options_(options), fs_(fs), tables_(tables), tracker_(tracker),
        progress_(progress), stop_(stop), watchdog_(stop) {}

  Status Run(engine::Engine& engine) {
    size_t batches = 0;
    for (const auto& t : tables_) batches += t.start.plan.batches.size();
    int workers = static_cast<int>(std::min<size_t>(config_.max_parallel_jobs, batches));
    std::vector<std::unique_ptr<engine::Engine>> sessions;
    std::vector<std::unique_ptr<engine::RemoteLoadEngine>> remotes(workers);
    const bool remote = std::any_of(tables_.begin(), tables_.end(), [](const TableRun& t) {
      return t.config->engine == config::EngineKind::kSpark;
    });
    for (int i = 0; i < workers; ++i) {
      DL_ASSIGN_OR_RETURN(auto s, engine.NewSession());
      sessions.push_back(std::move(s));
      if (!remote) continue;
      if (!options_.remote_engine) {
        return Status::Internal("engine: spark tables but no Spark session was configured");
      }
      DL_ASSIGN_OR_RETURN(remotes[i], options_.remote_engine());
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) {
      threads.emplace_back(
          [this, i, s = sessions[i].get(), r = remotes[i].get()] { Work(i, *s, r); });
    }
    // Tracker writes are batched: one commit every few seconds, not one per status change.
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(10),
                           [&] { return finished_workers_ == workers; })) {
        lock.unlock();
        FlushTracker();
        lock.lock();
      }
    }
    for (auto& t : threads) t.join();
    return Status::OK();
  }

 private:
  void FlushTracker() {
    Status st = tracker_.Flush();
    if (!st.ok()) log::Warn("tracker update failed; will retry", {{"error", st.ToString()}});
  }

  // The next batch some worker may start: round-robin over tables; a table runs one batch at
  // a time until it exists, and always when its batches read the table.
  std::optional<size_t> Startable() const {
    for (size_t i = 0; i < tables_.size(); ++i) {
      const TableRun& t = tables_[(rr_ + i) % tables_.size()];
      if (t.next_batch >= t.start.plan.batches.size()) continue;
      if (t.in_flight > 0 && !(t.parallel_ok && t.exists)) continue;
      return i;
    }
    return std::nullopt;
  }

  std::optional<std::pair<TableRun*, std::vector<PlannedFile>>> Next() {
    std::optional<size_t> i = Startable();
    if (!i) return std::nullopt;
    TableRun& t = tables_[(rr_ + *i) % tables_.size()];
    rr_ = (rr_ + *i + 1) % tables_.size();
    ++t.in_flight;
    return std::make_pair(&t, std::move(t.start.plan.batches[t.next_batch++]));
  }

  // Backpressure is asked only when a batch could start now, so it counts real holds.
  bool Admit() const {
    return !options_.may_start_batch || (Startable() && options_.may_start_batch(running_));
  }

  bool AnyLeft() const {
    for (const auto& t : tables_) {
      if (t.next_batch < t.start.plan.batches.size()) return true;
    }
    return false;
  }

  void Work(int slot, engine::Engine& session, engine::RemoteLoadEngine* remote) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      std::optional<std::pair<TableRun*, std::vector<PlannedFile>>> job;
      auto ready = [&] { return stop_.stopping() || !AnyLeft() || (Admit() && (job = Next())); };
      if (options_.may_start_batch) {
        // Backpressure can open without a batch finishing (memory falls): look again soon.
        while (!cv_.wait_for(lock, std::chrono::milliseconds(20), ready)) {
        }
      } else {
        cv_.wait(lock, ready);
      }
      if (!job) break;
      ++running_;
      lock.unlock();
      TableRun& t = *job->first;
      progress_.SetCurrent(t.name);
      auto started = Clock::now();
      BatchContext ctx{config_,  *t.config, t.root, t.name,          fs_,
                       session,  watchdog_, stop_,  slot,   t.planned_version,
                       t.start.delta_source};
      if (t.config->engine == config::EngineKind::kSpark) ctx.remote = remote;
      BatchReport report = RunBatch(ctx, std::move(job->second));
      double seconds = std::chrono::duration<double>(Clock::now() - started).count();
      // Deferred files get no record: a lost race says nothing about the file.
      for (const auto& o : report.files) {
        if (o.kind == FileOutcome::Kind::kLoaded || o.kind == FileOutcome::Kind::kFailed) {
          tracker_.Record(RecordFor(t, o));
        }
      }
      lock.lock();
      Apply(t, report, seconds);
      --t.in_flight;
      --running_;
      cv_.notify_all();
    }
    ++finished_workers_;
    cv_.notify_all();
  }

  void Apply(TableRun& t, const BatchReport& report, double seconds) {
    auto& m = t.metrics;
    m.seconds += seconds;
    m.batches += report.commits;
    m.batches_failed += report.failed_attempts;
    m.retries += report.retries;
    m.rows_loaded += report.rows;
    if (report.commits > 0) t.exists = true;
    for (const auto& o : report.files) {
      switch (o.kind) {
        case FileOutcome::Kind::kLoaded:
          t.loaded.insert(o.file.file.path);
          ++m.files_loaded;
          m.bytes_loaded += o.file.file.size;
          progress_.FileDone(1, o.rows.value_or(0), o.file.file.size);
          break;
        case FileOutcome::Kind::kFailed:
          ++m.files_failed;
          m.errors.push_back({o.file.file.path, o.error});
          progress_.FileFailed(1);
          break;
        case FileOutcome::Kind::kLoadedElsewhere:
          ++m.files_skipped;
          break;
        case FileOutcome::Kind::kDeferred:
          ++m.files_deferred;
          break;
        case FileOutcome::Kind::kNotAttempted:
          ++t.files_not_attempted;
          break;
      }
    }
  }

  const config::LoaderConfig& config_;
  const RunOptions& options_;
  FileSystem& fs_;
  std::vector<TableRun>& tables_;
  tracker::FileTracker& tracker_;
  monitoring::Progress& progress_;
  StopToken& stop_;
  Watchdog watchdog_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t rr_ = 0;
  int running_ = 0;  // batches in flight over all tables
  int finished_workers_ = 0;
};

void Maintain(const RunOptions& options, FileSystem& fs, engine::Engine& engine,
              std::vector<TableRun>& tables) {
  for (auto& t : tables) {
    table::TableContext ctx{fs, engine};
    if (!t.exists && !t.start.snapshot) continue;
    if (options.optimize) {
      auto r = table::Optimize(ctx, t.root, {});
      if (r.ok()) {
        log::Info("optimized", {{"table", t.name},
                                {"files_removed", r->files_removed},
                                {"files_added", r->files_added}});
      } else {
        log::Error("optimize failed", {{"table", t.name}, {"error", r.status().ToString()}});
      }
    }
    if (options.vacuum) {
      auto r = table::Vacuum(ctx, t.root, {});
      if (r.ok()) {
        log::Info("vacuumed", {{"table", t.name},
                               {"files_deleted", r->files.size()},
                               {"staging_dirs_deleted", r->staging_dirs.size()}});
      } else {
        log::Error("vacuum failed", {{"table", t.name}, {"error", r.status().ToString()}});
      }
    }
  }
}

// Once the tracker holds what reconciliation found, later runs need not read those commits
// again. A file loaded again by this run is no longer missing.
void WriteReconcileMarks(FileSystem& fs, tracker::FileTracker& tracker,
                         const std::vector<TableRun>& tables) {
  auto tracker_id = tracker.ReadTableId();
  if (!tracker_id.ok() || tracker_id->empty()) return;
  for (const auto& t : tables) {
    if (!t.start.mark) continue;
    ReconcileMark mark = *t.start.mark;
    mark.tracker_id = *tracker_id;
    std::erase_if(mark.missing, [&](const auto& f) { return t.loaded.count(f.path) != 0; });
    if (Status st = WriteReconcileMark(fs, t.start.mark_path, mark); !st.ok()) {
      log::Warn("reconciliation mark not written; the next run reads more of the log",
                {{"table", t.name}, {"error", st.ToString()}});
    }
  }
}

// What killed writers left: log temps of versions that exist now, and staging directories no
// live writer owns (also of a first write, before the table exists).
void FinishKilledWork(FileSystem& fs, engine::Engine& engine, const TableRun& run,
                      const TableStart& start) {
  if (start.snapshot) {
    RemoveInterruptedCommitTemps(fs, run.root, start.snapshot->version(), run.name);
  }
  RemoveAbandonedStaging(run.root, run.name);
  // A Spark commit of a Delta source's batch whose source txn did not follow (killed in
  // between): the plan took its version already; recorded now, before the log may lose it.
  if (const auto& source = start.delta_source; source && source->unrecorded) {
    table::TableContext tctx{fs, engine};
    Status st = strategy::CommitSourceVersion(tctx, run.root, source->app_id, *source->unrecorded);
    if (!st.ok()) {
      log::Warn(
          "cannot record the source version the last Spark commit loaded; the next "
          "run tries again",
          {{"table", run.name}, {"error", st.message()}});
    }
  }
}

// Plans one table for this run: its start (reconciliation, the plan), what killed writers left
// removed, warnings and skipped files in its metrics. nullopt when it cannot be loaded at all
// (the error is in result's table errors and metrics).
std::optional<TableRun> PlanTable(const config::LoaderConfig& config, const config::TableConfig* t,
                                  const RunOptions& options, FileSystem& fs, engine::Engine& engine,
                                  tracker::FileTracker& tracker, RunResult& result) {
  TableRun run;
  run.config = t;
  run.root = config::TablePath(config, *t);
  run.name = config::DisplayName(config, *t);
  run.metrics.table = run.name;
  run.metrics.strategy = std::string(config::ToString(t->loading_strategy));
  auto start = StartTable(config, *t, fs, engine, tracker, options.reload_missing);
  if (!start.ok()) {
    // A backend's error may quote a storage option (an endpoint, an account): masked.
    const std::string why =
        BoundedErrorText(config::RedactEnvValues(config, start.status().ToString()));
    std::string error = fmt::format("{}: {}", run.name, why);
    log::Error("table not loaded", {{"table", run.name}, {"error", why}});
    result.table_errors.push_back(error);
    result.metrics.tables.push_back(run.metrics);
    return std::nullopt;
  }
  if (!options.dry_run) FinishKilledWork(fs, engine, run, *start);  // a dry run touches nothing
  run.start = std::move(*start);
  run.exists = run.start.snapshot != nullptr;
  run.planned_version = run.start.snapshot ? run.start.snapshot->version() : -1;
  run.parallel_ok = strategy::BatchesMayRunInParallel(*t);
  auto& m = run.metrics;
  m.files_discovered = run.start.plan.files_discovered;
  m.files_skipped = static_cast<int64_t>(run.start.plan.skipped.size());
  ReportWaitingAndWarnings(run.name, run.start.plan, m);
  for (const auto& s : run.start.plan.skipped) {
    log::Warn("file skipped", {{"table", run.name}, {"file", s.file.path}, {"reason", s.detail}});
    if (s.reason == SkipReason::kRetriesExhausted) {
      m.errors.push_back({s.file.path, s.detail});
      ++result.files_left_failed;
    }
  }
  if (run.start.mark && !run.start.mark->missing.empty()) {
    m.warnings.push_back(fmt::format(
        "{} file(s) the tracker records as loaded are not in the table (it was deleted, "
        "recreated or restored to an older version){}",
        run.start.mark->missing.size(),
        options.reload_missing ? "; loading them again"
                               : "; `run --reload-missing` loads them again"));
  }
  log::Info("planned", {{"table", run.name},
                        {"files", run.start.plan.files_planned()},
                        {"batches", run.start.plan.batches.size()},
                        {"bytes", run.start.plan.bytes_planned},
                        {"already_loaded", run.start.plan.already_loaded}});
  if (!options.dry_run) {
    for (auto& r : run.start.reconciled) tracker.Record(r);
  }
  return run;
}

// The stage of each selected table: a table whose Delta source is another selected table runs
// a stage after it, so one run carries new data through bronze -> silver (planned after its
// source's batches committed, not against the version before them). Tables reading each other
// in a cycle get no order among them.
std::vector<std::vector<const config::TableConfig*>> Stages(
    const config::LoaderConfig& config, const std::vector<const config::TableConfig*>& selected) {
  const std::set<const config::TableConfig*> chosen(selected.begin(), selected.end());
  const auto sources = config::DeltaSourceTables(config);
  std::vector<std::vector<const config::TableConfig*>> stages;
  for (const config::TableConfig* t : selected) {
    size_t depth = 0;
    std::set<const config::TableConfig*> seen{t};
    for (const config::TableConfig* cur = t;;) {
      auto it = sources.find(cur);
      const config::TableConfig* source = it == sources.end() ? nullptr : it->second;
      if (source == nullptr || !chosen.count(source)) break;
      if (!seen.insert(source).second) {
        depth = 0;  // a cycle
        break;
      }
      ++depth;
      cur = source;
    }
    if (stages.size() <= depth) stages.resize(depth + 1);
    stages[depth].push_back(t);
  }
  return stages;
}

// Loads one stage's planned tables: the batches, then the tracker's records of them and the
// reconciliation marks. `tracker_ok` turns false when the tracker could not be written.
Status RunStage(const config::LoaderConfig& config, const RunOptions& options, FileSystem& fs,
                engine::Engine& engine, std::vector<TableRun>& tables,
                tracker::FileTracker& tracker, StopToken& stop, bool& tracker_ok) {
  monitoring::Progress progress(options.progress);
  for (const auto& t : tables) {
    progress.AddPlanned(t.start.plan.files_planned(), t.start.plan.bytes_planned);
  }
  Scheduler scheduler(config, options, fs, tables, tracker, progress, stop);
  Status ran = scheduler.Run(engine);
  progress.Stop();
  Status flushed = tracker.Flush();
  if (!flushed.ok()) {
    // The loads are committed in their tables; the next run reconciles the tracker from them.
    log::Error("tracker update failed", {{"error", flushed.ToString()}});
    tracker_ok = false;
  } else {
    WriteReconcileMarks(fs, tracker, tables);
  }
  return ran;
}

}  // namespace

int RunResult::ExitCode() const {
  return metrics.files_failed() > 0 || files_left_failed > 0 || !table_errors.empty() ? 1 : 0;
}

Result<RunResult> RunOnce(const config::LoaderConfig& config, const RunOptions& options,
                          StopToken& stop) {
  RunResult result;
  auto& metrics = result.metrics;
  metrics.run_id = NewUuid();
  metrics.start_ms = NowMs();
  metrics.dry_run = options.dry_run;
  metrics.command = options.command;
  DL_ASSIGN_OR_RETURN(auto selected, config::SelectTables(config, options.tables));
  std::shared_ptr<FileSystem> fs = options.fs ? options.fs : MakeFileSystem(config.storage);
  // The command's storage is shared across passes (--watch): count this run's requests only.
  const RequestCounts requests_before = fs->Requests();
  engine::EngineOptions eopts = LockedEngineOptions(config);
  eopts.file_system = fs;
  eopts.threads = options.engine_threads;
  eopts.memory_limit = options.memory_limit;
  DL_ASSIGN_OR_RETURN(auto engine, engine::MakeDuckDbEngine(eopts));
  tracker::FileTracker tracker(*fs, *engine, config::TrackerPath(config));

  std::vector<TableRun> tables;
  if (options.dry_run) {
    // Nothing loads, so every table is planned against what its source holds now.
    for (const config::TableConfig* t : selected) {
      if (auto run = PlanTable(config, t, options, *fs, *engine, tracker, result)) {
        tables.push_back(std::move(*run));
      }
    }
    result.plan = DescribePlan(tables, result.table_errors);
    metrics.end_ms = NowMs();
    metrics.requests = fs->Requests().Since(requests_before);
    for (auto& t : tables) metrics.tables.push_back(t.metrics);
    return result;
  }

  bool tracker_ok = true;
  bool stages_left = false;
  Status ran;
  for (const auto& stage : Stages(config, selected)) {
    if (stop.stopping()) {
      stages_left = true;  // tables after their sources: not planned, the next run loads them
      break;
    }
    std::vector<TableRun> runs;
    for (const config::TableConfig* t : stage) {
      if (auto run = PlanTable(config, t, options, *fs, *engine, tracker, result)) {
        runs.push_back(std::move(*run));
      }
    }
    ran = RunStage(config, options, *fs, *engine, runs, tracker, stop, tracker_ok);
    for (auto& r : runs) tables.push_back(std::move(r));
    if (!ran.ok()) break;
  }
  if (tracker_ok) {
    if (Status c = tracker.Compact(); !c.ok()) {
      log::Warn("tracker compaction skipped", {{"error", c.ToString()}});
    }
  }
  DL_RETURN_IF_ERROR(ran);
  // Stopped with work left: batches never started, or files a batch did not get to.
  result.stopped =
      stop.stopping() &&
      (stages_left || std::any_of(tables.begin(), tables.end(), [](const TableRun& t) {
         return t.next_batch < t.start.plan.batches.size() || t.files_not_attempted > 0;
       }));
  if (!stop.stopping()) Maintain(options, *fs, *engine, tables);

  for (auto& t : tables) {
    if (auto snap = delta::Snapshot::LoadWithoutFiles(*fs, engine.get(), t.root); snap.ok()) {
      t.metrics.target_version = (*snap)->version();
      // A writer killed mid-commit leaves a temp for a version that was not yet committed
      // when this run started (so its start left it alone); now that version exists.
      RemoveInterruptedCommitTemps(*fs, t.root, (*snap)->version(), t.name);
    }
    metrics.tables.push_back(t.metrics);
  }
  metrics.end_ms = NowMs();
  metrics.requests = fs->Requests().Since(requests_before);
  if (options.finish_metrics) options.finish_metrics(metrics);
  if (config.enable_metrics) {
    auto written = monitoring::WriteMetricsFiles(*fs, config::MetricsDir(config), metrics);
    if (!written.ok()) {
      log::Warn("metrics not written", {{"error", written.status().ToString()}});
    }
  }
  return result;
}

}  // namespace dl::loader
