// `data_loader table <verb> PATH`: look at and maintain Delta tables.
#pragma once

#include <CLI/CLI.hpp>

namespace dl::cli {

/// Register the `table` subcommand and its verbs; `exit_code` receives the verb's result.
void AddTableCommand(CLI::App& app, int& exit_code);

}  // namespace dl::cli
