// `data_loader run`, `validate`, `create-example-config`, and the config options every
// config-taking command shares.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "dl/config/loader_config.hpp"

namespace dl::cli {

struct ConfigArgs {
  std::string file;         ///< --config
  std::string inline_text;  ///< --config-json
  std::string log_level;    ///< --log-level (wins over the config's log_level)
  std::string log_format = "text";
};

void AddConfigOptions(CLI::App& cmd, ConfigArgs& args);
/// Configure logging from the options, then load and validate the config.
Result<config::LoaderConfig> LoadConfig(const ConfigArgs& args);

void AddRunCommands(CLI::App& app, int& exit_code);

/// The flags of `run` (and `run-cluster`).
struct RunFlags {
  std::string tables;  ///< --tables a,b
  bool dry_run = false, optimize = false, vacuum = false, watch = false;
  double interval_seconds = 60;  ///< --interval (with --watch)
};

/// The run path every loading command shares: upstream dependencies (exit 3 when unmet),
/// RunOnce pass(es), summary, then per pass Unity Catalog registration, run state and
/// downstream notifications (run_hooks.hpp). Returns the exit code.
int RunLoaded(const config::LoaderConfig& cfg, const RunFlags& flags);

}  // namespace dl::cli
