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

}  // namespace dl::cli
