// The loader: discover each table's new files, reconcile with what the table already holds,
// and load them in batches, in parallel, exactly once.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/engine/remote_load.hpp"
#include "dl/loader/stop_token.hpp"
#include "dl/monitoring/run_metrics.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::loader {

struct RunOptions {
  /// Storage for every location of the run (sources, tables, tracker, state, metrics), made
  /// once per command with MakeFileSystem(config.storage) (shared: the engine uses it too);
  /// null: RunOnce makes its own.
  std::shared_ptr<FileSystem> fs;
  std::vector<std::string> tables;  ///< --tables (empty: all)
  bool dry_run = false;             ///< plan and print, touch nothing
  bool optimize = false;            ///< OPTIMIZE each loaded table afterwards
  bool vacuum = false;              ///< VACUUM each table afterwards (default retention)
  /// Load again the files the tracker records as loaded that the table does not hold (it was
  /// deleted, recreated or restored to an older version).
  bool reload_missing = false;
  bool progress = false;            ///< live progress display on stderr
  int engine_threads = 0;           ///< engine threads (0: every core)
  std::string memory_limit;         ///< engine memory limit (empty: engine default)
  std::string command = "run";      ///< the command, for the run's metrics
  /// Backpressure (cluster mode): asked under the scheduler's lock before a batch starts, with
  /// the number of batches running; false holds it back and asks again shortly.
  std::function<bool(int running)> may_start_batch;
  /// Called with the finished run's metrics before they are written (cluster mode adds the
  /// process's CPU and memory figures).
  std::function<void(monitoring::RunMetrics&)> finish_metrics;
  /// A new session of the remote engine that `engine: spark` tables load on (one per worker);
  /// unset when the config has none.
  std::function<Result<std::unique_ptr<engine::RemoteLoadEngine>>()> remote_engine;
};

struct RunResult {
  monitoring::RunMetrics metrics;
  std::vector<std::string> table_errors;  ///< tables that could not be loaded at all
  std::string plan;                       ///< --dry-run: what would be loaded
  bool stopped = false;  ///< a stop signal ended the run with work left for the next run
  int64_t files_left_failed = 0;          ///< failed before, retries used up, not tried again
  /// 0 when every file loaded, 1 when a file or table failed (in this run, or earlier with
  /// its retries used up: it is still not loaded). Files deferred after lost commit races are
  /// no failure (the next run loads them): 0, with metrics' files_deferred saying so.
  int ExitCode() const;
};

/// One pass: plan every selected table, load the batches (up to max_parallel_jobs at a time),
/// record outcomes in the tracker, write metrics. Fails only when the run cannot start
/// (tracker unreadable, engine unavailable); table and file errors are in the result.
Result<RunResult> RunOnce(const config::LoaderConfig& config, const RunOptions& options,
                          StopToken& stop);

}  // namespace dl::loader
