// One `run` (or `run-cluster`) once its config is loaded and its options are set: upstream
// dependencies, every pass of the loader, Unity Catalog registration, run state,
// notifications. The command line prints its outcome; the Python package returns it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/loader/loader.hpp"
#include "dl/monitoring/run_metrics.hpp"

namespace dl::cli {

struct RunRequest {
  loader::RunOptions options;  ///< options.fs null: made from the config's storage
  bool watch = false;          ///< keep running passes until stopped
  double interval_seconds = 60;
  /// Called with each reported pass before its registration and notifications: every pass,
  /// with watch only the passes that loaded or failed files (the CLI prints it).
  std::function<void(const loader::RunResult&)> on_pass;
};

struct RunOutcome {
  /// The command's exit code: 0, 1 (a file or table failed), 2 (usage), 3 (upstream
  /// dependencies unmet), 128 + signal (stopped with work left).
  int exit_code = 0;
  Status error;  ///< the run could not start or finish (exit_code says which kind)
  std::optional<monitoring::RunMetrics> metrics;  ///< the last reported pass
  std::vector<std::string> table_errors;          ///< of that pass
  std::string plan;                               ///< dry run: what would be loaded
  bool stopped = false;  ///< a stop ended the run with work left for the next run
};

/// Runs until done (or, with watch, until `stop` stops it). Installs no signal handlers:
/// the caller routes its stop requests to `stop`. Never throws.
RunOutcome ExecuteRun(const config::LoaderConfig& cfg, RunRequest request, loader::StopToken& stop);

/// Load and validate a config without touching logging: what every command's LoadConfig
/// checks (the config module's rules, then the SQL fragments). Exactly one of file / text
/// is non-empty; text's source name is `source`. Problems and `overrides` as in
/// config::LoadConfigFile.
Result<config::LoaderConfig> LoadCheckedConfig(const std::string& file, const std::string& text,
                                               const std::string& source,
                                               std::vector<config::ConfigProblem>* problems,
                                               const std::string& overrides = "");

}  // namespace dl::cli
