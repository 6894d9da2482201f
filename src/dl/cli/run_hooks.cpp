#include "dl/cli/run_hooks.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include "dl/catalog/registration.hpp"
#include "dl/cli/engine_choice.hpp"
#include "dl/cli/spark_catalog.hpp"
#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/engine/engine.hpp"
#include "dl/loader/locked_engine.hpp"
#include "dl/orchestration/dependencies.hpp"
#include "dl/orchestration/notifications.hpp"
#include "dl/storage/registry.hpp"

namespace dl::cli {
namespace {

// Sleeps in small steps so a stop signal ends the wait at once; false when stopping.
std::function<bool(int64_t)> StoppableSleep(loader::StopToken& stop) {
  return [&stop](int64_t ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!stop.stopping() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return !stop.stopping();
  };
}

void PrintStates(const std::vector<orchestration::DependencyState>& states) {
  std::cout << "upstream dependencies:\n";
  for (const auto& s : states) {
    std::cout << fmt::format("  {} {}: {}\n", s.met ? "met    " : "NOT MET", s.spec,
                             log::RedactSecrets(s.detail));
  }
}

}  // namespace

int CheckUpstream(const config::LoaderConfig& cfg, FileSystem& fs, bool dry_run,
                  loader::StopToken& stop) {
  if (cfg.upstream_dependencies.empty()) return 0;
  auto engine = orchestration::MakeDependencyEngine(cfg);  // reads table checkpoints
  orchestration::DependencyContext ctx;
  ctx.fs = &fs;
  ctx.parquet = engine.ok() ? engine->get() : nullptr;
  if (dry_run) {
    PrintStates(orchestration::CheckDependenciesOnce(cfg, ctx));
    return 0;
  }
  auto outcome = orchestration::AwaitDependencies(cfg, ctx, StoppableSleep(stop));
  if (outcome.met) {
    log::Info("upstream dependencies met", {{"dependencies", outcome.states.size()},
                                             {"checks", outcome.checks}});
    (void)orchestration::ClearUnmet(cfg, fs);
    return 0;
  }
  if (outcome.stopped) {
    log::Info("stopped by signal while waiting for upstream dependencies");
    return 1;
  }
  // Kept for cluster-status: a dependency waited for in vain is a critical health finding.
  const bool waited = cfg.on_unmet_dependencies == config::OnUnmetDependencies::kWait;
  if (Status st = orchestration::RecordUnmet(cfg, fs, outcome.states, waited, NowMs()); !st.ok()) {
    log::Warn("could not record the unmet dependencies", {{"error", st.message()}});
  }
  std::cerr << "error: " << log::RedactSecrets(orchestration::UnmetMessage(outcome.states))
            << (cfg.on_unmet_dependencies == config::OnUnmetDependencies::kWait
                    ? fmt::format(" (waited {} s)", cfg.dependency_wait_timeout_seconds)
                    : std::string())
            << "\n";
  return kExitDependenciesUnmet;
}

int AfterPass(const config::LoaderConfig& cfg, const loader::RunOptions& options,
              const loader::RunResult& result, int exit_code, loader::StopToken& stop) {
  FileSystem& fs = *options.fs;
  if (catalog::RegistrationEnabled(cfg)) {
    auto selected = config::SelectTables(cfg, options.tables);
    auto engine = loader::MakeLockedEngine(cfg);
    if (selected.ok()) {
      auto regs =
          catalog::RegisterTables(cfg, *selected, fs, engine.ok() ? engine->get() : nullptr);
      for (const auto& r : regs) {
        if (!r.ok) exit_code = std::max(exit_code, 1);
      }
    }
  }
  if (cfg.use_unity_catalog && UsesSpark(cfg)) {
    auto selected = config::SelectTables(cfg, options.tables);
    auto remote = SparkRemoteOf(cfg);
    auto session = remote.ok() ? engine::spark::SparkSession::Connect(*remote)
                               : Result<std::unique_ptr<engine::spark::SparkSession>>(
                                     remote.status());
    if (!selected.ok() || !session.ok()) {
      log::Error("cannot register tables in the Spark catalog",
                 {{"error", (selected.ok() ? session.status() : selected.status()).message()}});
      exit_code = std::max(exit_code, 1);
    } else {
      for (const auto& r : RegisterInSparkCatalog(cfg, *selected, fs, **session)) {
        if (!r.ok) exit_code = std::max(exit_code, 1);
      }
    }
  }
  const auto& m = result.metrics;
  Status st = orchestration::RecordRun(cfg, fs, m.run_id, m.start_ms, m.end_ms ? m.end_ms : NowMs(),
                                       exit_code == 0 && !result.stopped);
  if (!st.ok()) log::Warn("cannot record the run state", {{"error", st.message()}});
  if (!cfg.downstream_notifications.empty()) {
    orchestration::SendNotifications(cfg, orchestration::BuildRunSummary(m, exit_code),
                                     StoppableSleep(stop));
  }
  return exit_code;
}

void NotifyRunError(const config::LoaderConfig& cfg, const Status& error,
                    loader::StopToken& stop) {
  if (cfg.downstream_notifications.empty()) return;
  monitoring::RunMetrics m;
  m.run_id = NewUuid();
  m.start_ms = m.end_ms = NowMs();
  orchestration::SendNotifications(cfg, orchestration::BuildRunSummary(m, 1, error.message()),
                                   StoppableSleep(stop));
}

}  // namespace dl::cli
