// Turning results and errors into what the user sees, and exit codes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "dl/common/status.hpp"
#include "dl/config/loader_config.hpp"

namespace dl::cli {

/// 2 for usage and config errors, 1 for everything else that failed, 0 for OK.
int ExitCode(const Status& status);
/// Print "error: <message>" to stderr and return the exit code.
int ReportError(const Status& status);
/// Same, with the config's secrets (storage option values, ${VAR} values) masked: for errors
/// once the config is loaded (a backend's error may quote an endpoint or account).
int ReportError(const Status& status, const config::LoaderConfig& cfg);
void PrintJson(const nlohmann::ordered_json& value);

}  // namespace dl::cli
