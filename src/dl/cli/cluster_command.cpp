// `data_loader run-cluster`: exactly the `run` path (RunLoader), prepared for the environment.
#include "dl/cli/cluster_command.hpp"

#include <iostream>
#include <memory>

#include "dl/catalog/uc_names.hpp"
#include "dl/cli/output.hpp"
#include "dl/cli/run_command.hpp"
#include "dl/cluster/health.hpp"
#include "dl/cluster/resource_monitor.hpp"
#include "dl/common/logging.hpp"
#include "dl/monitoring/run_metrics.hpp"

namespace dl::cli {
namespace {

using monitoring::HumanBytes;
using nlohmann::ordered_json;

struct ClusterArgs {
  RunArgs run;
  ClusterRunFlags flags;
};

// --unity-catalog turns use_unity_catalog on after the config was validated without it.
Status EnableUnityCatalog(config::LoaderConfig& cfg) {
  cfg.use_unity_catalog = true;
  Status st = catalog::ValidateUcNames(cfg);
  if (st.ok()) return st;
  return Status::Config("--unity-catalog: {}", st.message());
}

void PrintDryRunHeader(const config::LoaderConfig& cfg, const cluster::Environment& env,
                       const cluster::ResourcePlan& plan) {
  // The dependency checks follow (the run path prints them on a dry run).
  std::cout << EnvironmentText(env) << PlanText(plan) << "\n";
}

}  // namespace

Status PrepareClusterRun(const ClusterRunFlags& flags, config::LoaderConfig& cfg,
                         loader::RunOptions& options) {
  if (flags.unity_catalog) DL_RETURN_IF_ERROR(EnableUnityCatalog(cfg));
  cluster::Environment env = DetectFor(cfg);
  cluster::ResourcePlan plan = cluster::PlanResources(env, cfg);
  cfg.max_parallel_jobs = plan.parallelism;
  options.engine_threads = plan.engine_threads;
  if (plan.engine_memory > 0) {
    options.memory_limit = cluster::EngineMemorySetting(plan.engine_memory);
  }
  options.command = "run-cluster";
  log::Info("cluster environment", {{"environment", std::string(cluster::ToString(env.kind))},
                                    {"cpu_cores", env.cpu_cores},
                                    {"memory_limit", HumanBytes(env.memory_limit)},
                                    {"parallelism", plan.parallelism},
                                    {"engine_threads", plan.engine_threads},
                                    {"engine_memory", HumanBytes(plan.engine_memory)}});
  if (options.dry_run) {
    PrintDryRunHeader(cfg, env, plan);
    return Status::OK();
  }
  if (!flags.monitoring) return Status::OK();
  // The process is real even when detection reads a fake system_root.
  auto monitor =
      std::make_shared<cluster::ResourceMonitor>(plan, cfg.cluster.monitoring_interval_ms);
  monitor->Start();
  options.may_start_batch = [monitor](int running) { return monitor->MayStartBatch(running); };
  std::string kind(cluster::ToString(env.kind));
  options.finish_metrics = [monitor, kind](monitoring::RunMetrics& m) {
    monitor->SampleNow();
    m.resources = monitor->Metrics();
    m.resources->environment = kind;
  };
  return Status::OK();
}

cluster::Environment DetectFor(const config::LoaderConfig& cfg) {
  cluster::DetectOptions o;
  o.root = cfg.cluster.system_root;
  return cluster::DetectEnvironment(o, cfg.cluster);
}

void AddClusterCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ClusterArgs>();
  auto* run = app.add_subcommand(
      "run-cluster", "`run` with parallelism and engine memory derived from the environment");
  AddRunOptions(*run, args->run);
  run->add_flag("--unity-catalog", args->flags.unity_catalog,
                "name tables catalog.schema.table (sets use_unity_catalog)")
      ->envname("DATALOADER_UNITY_CATALOG");
  run->add_flag("--monitoring", args->flags.monitoring,
                "sample CPU and memory into the run's metrics; hold back batches near the "
                "memory budget")
      ->envname("DATALOADER_MONITORING");
  run->callback([args, &exit_code] {
    RunHooks hooks;
    hooks.prepare = [args](config::LoaderConfig& cfg, loader::RunOptions& options) {
      return PrepareClusterRun(args->flags, cfg, options);
    };
    exit_code = RunLoader(args->run, hooks);
  });

  struct StatusArgs {
    ConfigArgs config;
    bool json = false;
  };
  auto sargs = std::make_shared<StatusArgs>();
  auto* status = app.add_subcommand(
      "cluster-status", "Environment, resources, health, recommendations, dependency states");
  AddConfigOptions(*status, sargs->config);
  status->add_flag("--json", sargs->json, "print JSON");
  status->callback(
      [sargs, &exit_code] { exit_code = ClusterStatus(sargs->config, sargs->json); });
}

}  // namespace dl::cli
