#include "dl/cli/run_session.hpp"

#include <csignal>
#include <thread>

#include "dl/catalog/uc_names.hpp"
#include "dl/cli/engine_choice.hpp"
#include "dl/cli/output.hpp"
#include "dl/cli/run_hooks.hpp"
#include "dl/cli/spark_catalog.hpp"
#include "dl/common/logging.hpp"
#include "dl/engine/spark/spark_load.hpp"
#include "dl/loader/locked_engine.hpp"
#include "dl/storage/registry.hpp"

namespace dl::cli {
namespace {

int InterruptedExitCode(const loader::StopToken& stop) {
  return 128 + (stop.signal_number() > 0 ? stop.signal_number() : SIGINT);
}

RunOutcome Failed(Status error) {
  RunOutcome out;
  out.exit_code = ExitCode(error);
  out.error = std::move(error);
  return out;
}

// One pass; false when the run ends here (error, or done).
bool RunPass(const config::LoaderConfig& cfg, const RunRequest& req, loader::StopToken& stop,
             RunOutcome& out) {
  const loader::RunOptions& options = req.options;
  auto result = loader::RunOnce(cfg, options, stop);
  if (!result.ok()) {
    // Usage errors (exit 2) are the caller's mistake, not a run to report downstream.
    if (!options.dry_run && ExitCode(result.status()) == 1) {
      NotifyRunError(cfg, result.status(), stop);
    }
    out.exit_code = ExitCode(result.status());
    out.error = result.status();
    return false;
  }
  const bool did_work = result->metrics.files_loaded() + result->metrics.files_failed() > 0;
  int pass_code = result->ExitCode();
  if (options.dry_run || !req.watch || did_work) {
    if (req.on_pass) req.on_pass(*result);
    out.metrics = result->metrics;
    out.table_errors = result->table_errors;
    out.plan = result->plan;
    // Unity Catalog registration, run state, notifications.
    if (!options.dry_run) pass_code = AfterPass(cfg, options, *result, pass_code, stop);
  }
  out.exit_code = std::max(out.exit_code, pass_code);
  // Stopped with work left for the next run: a scheduler must see it (the shell's
  // convention, 128 + the signal). A pass that finished its work keeps its code.
  if (result->stopped) {
    out.stopped = true;
    out.exit_code = InterruptedExitCode(stop);
  }
  return req.watch && !options.dry_run && !stop.stopping();
}

}  // namespace

RunOutcome ExecuteRun(const config::LoaderConfig& loaded, RunRequest req,
                      loader::StopToken& stop) {
  config::LoaderConfig cfg = loaded;  // the Spark catalog may say where tables live
  if (Status st = RefuseSparkLoading(cfg); !st.ok()) return Failed(st);
  // use_unity_catalog may come from a flag (run-cluster --unity-catalog), after validation.
  if (cfg.use_unity_catalog) {
    if (Status st = catalog::ValidateUcNames(cfg); !st.ok()) return Failed(st);
  }
  if (UsesSpark(cfg)) {
    auto remote = SparkRemoteOf(cfg);
    if (!remote.ok()) return Failed(remote.status());
    if (Status st = ResolveSparkCatalogLocations(cfg); !st.ok()) return Failed(st);
    req.options.remote_engine = [remote = *remote] {
      return engine::spark::SparkLoadEngine::Connect(remote);
    };
  }
  // Every location of the command, one storage.
  if (!req.options.fs) req.options.fs = MakeFileSystem(cfg.storage);
  RunOutcome out;
  // Upstream dependencies gate the run (exit 3 when unmet); see run_hooks.hpp.
  if (int code = CheckUpstream(cfg, *req.options.fs, req.options.dry_run, stop); code != 0) {
    out.exit_code = code;
    return out;
  }
  while (RunPass(cfg, req, stop, out)) {
    // Wait for the next pass; a stop ends the wait at once.
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(req.interval_seconds * 1000));
    while (!stop.stopping() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (stop.stopping()) break;
  }
  if (stop.stopping() && out.error.ok()) {
    log::Info("stopped by signal; the next run continues from here");
  }
  return out;
}

Result<config::LoaderConfig> LoadCheckedConfig(const std::string& file, const std::string& text,
                                               const std::string& source,
                                               std::vector<config::ConfigProblem>* problems,
                                               const std::string& overrides) {
  auto cfg = file.empty() ? config::LoadConfigText(text, source, problems, overrides)
                          : config::LoadConfigFile(file, problems, overrides);
  if (!cfg.ok()) return cfg.status();
  // Every command that reads a config refuses SQL fragments beyond the allowlist up front.
  DL_RETURN_IF_ERROR(loader::CheckSqlFragments(*cfg, problems));
  DL_RETURN_IF_ERROR(CheckSparkRemote(*cfg, problems));
  return cfg;
}

}  // namespace dl::cli
