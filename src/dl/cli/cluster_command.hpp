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

/// What cluster-status prints, as JSON and as text (values from ${ENV} shown as ***), and
/// whether health is critical (its exit code 1).
struct ClusterStatusReport {
  std::string json, text;
  bool critical = false;
};
Result<ClusterStatusReport> CollectClusterStatus(const config::LoaderConfig& cfg);

/// run-cluster's additions to the `run` path.
struct ClusterRunFlags {
  bool unity_catalog = false;  ///< --unity-catalog: turn use_unity_catalog on
  bool monitoring = false;     ///< --monitoring: sample resources, hold back batches
};
/// Set parallelism and engine resources from the detected environment (and the flags) on
/// the loaded config and the run's options, as run-cluster does before the run.
Status PrepareClusterRun(const ClusterRunFlags& flags, config::LoaderConfig& cfg,
                         loader::RunOptions& options);

}  // namespace dl::cli
