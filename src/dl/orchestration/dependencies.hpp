// Upstream dependencies (cluster mode): what must be true before a run starts.
//
//   table:<database.table | catalog.schema.table | /abs/path>  a Delta table with a commit newer
//        than dependency_max_age_seconds, or (unset) newer than our last successful run's start
//   file:<path>                                                 a ready flag exists
//   job:<id>                                                    the job's latest run succeeded
//                                                               (Jobs API 2.1 runs/list)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/engine/engine.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::orchestration {

enum class DependencyKind { kTable, kFile, kJob };

struct Dependency {
  DependencyKind kind = DependencyKind::kFile;
  std::string target;  ///< what follows "kind:"
  std::string spec;    ///< as written
};

/// "table:...", "file:...", "job:..." (config validation already checked the shape).
Result<Dependency> ParseDependency(const std::string& spec);

/// table:<name>: the Delta table's root: an absolute path or a URI as is, else the name resolved
/// the way the config resolves database_name.table_name (catalog.schema nests). Config error for a
/// name that is not 2 or 3 identifiers.
Result<std::string> ResolveTablePath(const config::LoaderConfig& cfg, const std::string& name);

struct DependencyState {
  std::string spec;
  bool met = false;
  std::string detail;  ///< why (not) met; never holds a token
};

struct DependencyContext {
  FileSystem* fs = nullptr;                  ///< null: the local file system
  delta::ParquetHandler* parquet = nullptr;  ///< reads table checkpoints; null: a new engine
  int64_t now_ms = 0;                        ///< 0: the clock
  /// The start of our last successful run; unset: read from the state under checkpoint_path.
  std::optional<int64_t> last_run_start_ms;
};

/// Check every upstream dependency once, without waiting: one state per entry, in config
/// order. Network or storage errors make that dependency unmet (with the error as detail).
/// An engine that may read only the tables `cfg`'s table: dependencies name (and
/// processed_data_path), to read their checkpoints.
Result<std::unique_ptr<engine::Engine>> MakeDependencyEngine(const config::LoaderConfig& cfg);

std::vector<DependencyState> CheckDependenciesOnce(const config::LoaderConfig& cfg,
                                                   const DependencyContext& ctx = {});

struct WaitOutcome {
  bool met = false;
  bool stopped = false;  ///< `sleep` returned false (stop signal)
  int checks = 0;
  std::vector<DependencyState> states;  ///< of the last check
};

/// on_unmet_dependencies: fail checks once; wait re-checks every
/// dependency_poll_interval_seconds until all are met or dependency_wait_timeout_seconds
/// passed. `sleep(ms)` waits and returns false to give up (default: sleep). Logs each unmet
/// dependency per check.
WaitOutcome AwaitDependencies(const config::LoaderConfig& cfg, const DependencyContext& ctx,
                              const std::function<bool(int64_t ms)>& sleep = {});

/// "dependencies not met: table:x (no Delta table at /p), ...": the message for exit code 3.
std::string UnmetMessage(const std::vector<DependencyState>& states);

// ---- Run state used by table:... ("newer than our last run") ----

/// <checkpoint_path>/orchestration/last_run.json
std::string LastRunStatePath(const config::LoaderConfig& cfg);
/// Record a finished run; the start time of the last successful one is kept.
Status RecordRun(const config::LoaderConfig& cfg, FileSystem& fs, const std::string& run_id,
                 int64_t start_ms, int64_t end_ms, bool success);
/// The start of the last successful run, if any was recorded.
std::optional<int64_t> LastSuccessfulRunStart(const config::LoaderConfig& cfg, FileSystem& fs);

/// <checkpoint_path>/orchestration/unmet_dependencies.json: the dependencies a run stopped
/// on (exit 3), and whether it gave up after waiting; removed once a run finds all met.
std::string UnmetStatePath(const config::LoaderConfig& cfg);
Status RecordUnmet(const config::LoaderConfig& cfg, FileSystem& fs,
                   const std::vector<DependencyState>& states, bool timed_out, int64_t at_ms);
Status ClearUnmet(const config::LoaderConfig& cfg, FileSystem& fs);
/// The dependencies the last run waited for in vain (wait mode timed out), if any.
std::vector<std::string> TimedOutDependencies(const config::LoaderConfig& cfg, FileSystem& fs);

}  // namespace dl::orchestration
