// `data_loader run`, `validate`, `create-example-config`, and the config options every
// config-taking command shares.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "dl/config/loader_config.hpp"
#include "dl/loader/loader.hpp"

namespace dl::cli {

struct ConfigArgs {
  std::string file;         ///< --config
  std::string inline_text;  ///< --config-json
  std::string log_level;    ///< --log-level (wins over the config's log_level)
  std::string log_format = "text";
};

/// The options of `run` (and `run-cluster`, which adds its own to the same set).
struct RunArgs {
  ConfigArgs config;
  std::string tables;
  bool dry_run = false, optimize = false, vacuum = false, watch = false, reload_missing = false;
  double interval = 60;
};

/// What a command built on `run` adds: `prepare` adjusts the loaded config and the run's
/// options (and may print before the plan); a failed Status stops before any work.
struct RunHooks {
  std::function<Status(config::LoaderConfig&, loader::RunOptions&)> prepare;
};

void AddConfigOptions(CLI::App& cmd, ConfigArgs& args);
/// Job runner mode: without --config / --config-json, DATALOADER_CONFIG_FILE (else
/// DATALOADER_CONFIG_JSON) names the config.
ConfigArgs WithConfigFromEnv(ConfigArgs args);
/// The `run` option set; in job runner mode each option may also come from a DATALOADER_*
/// environment variable (see docs/cluster.md); the command line wins.
void AddRunOptions(CLI::App& cmd, RunArgs& args);
/// `run`: load, then every pass of the loader; returns the exit code.
int RunLoader(const RunArgs& args, const RunHooks& hooks = {});
/// Configure logging from the options, then load and validate the config.
Result<config::LoaderConfig> LoadConfig(const ConfigArgs& args);

void AddRunCommands(CLI::App& app, int& exit_code);

}  // namespace dl::cli
