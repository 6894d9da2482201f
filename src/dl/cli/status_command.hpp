// `data_loader status`: per table, what the tracker and the table say.
#pragma once

#include <CLI/CLI.hpp>

namespace dl::cli {

void AddStatusCommand(CLI::App& app, int& exit_code);

}  // namespace dl::cli
