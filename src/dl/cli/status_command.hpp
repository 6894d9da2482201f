// `data_loader status`: per table, what the tracker and the table say.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"

namespace dl::cli {

void AddStatusCommand(CLI::App& app, int& exit_code);

/// What `status --json` prints: {"tracker": path, "tables": [per table: files by status,
/// rows, version, failures]} for `tables` (empty: all).
Result<nlohmann::ordered_json> StatusReport(const config::LoaderConfig& cfg,
                                            const std::vector<std::string>& tables);

}  // namespace dl::cli
