// Cluster mode: `data_loader run-cluster` (the `run` path plus environment-derived resources,
// --unity-catalog and --monitoring) and `data_loader cluster-status`.
#pragma once

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "dl/cluster/environment.hpp"
#include "dl/cli/run_command.hpp"
#include "dl/cluster/resources.hpp"

namespace dl::cli {

void AddClusterCommands(CLI::App& app, int& exit_code);

/// The environment and the plan as JSON / as text lines (cluster-status, run-cluster --dry-run).
nlohmann::ordered_json EnvironmentJson(const cluster::Environment& e);
nlohmann::ordered_json PlanJson(const cluster::ResourcePlan& p);
std::string EnvironmentText(const cluster::Environment& e);
std::string PlanText(const cluster::ResourcePlan& p);

/// Detect with the config's cluster settings (system_root, overrides).
cluster::Environment DetectFor(const config::LoaderConfig& cfg);

/// `data_loader cluster-status`.
int ClusterStatus(const ConfigArgs& args, bool json);

}  // namespace dl::cli
