// Cluster-mode steps around a run (shared by `run` and `run-cluster`): upstream dependencies
// before the first pass; Unity Catalog registration, run state and downstream notifications
// after each pass.
#pragma once

#include "dl/config/loader_config.hpp"
#include "dl/loader/loader.hpp"

namespace dl::cli {

/// Exit code for unmet upstream dependencies.
inline constexpr int kExitDependenciesUnmet = 3;

/// Check (and with on_unmet_dependencies: wait, wait for) upstream_dependencies. Returns 0
/// to go on, kExitDependenciesUnmet after printing which are unmet, or 1 when stopped by a
/// signal while waiting. With dry_run: prints each dependency's state, never waits, returns 0.
int CheckUpstream(const config::LoaderConfig& cfg, FileSystem& fs, bool dry_run,
                  loader::StopToken& stop);

/// After a (non-dry) pass: register the selected tables in Unity Catalog (when
/// use_unity_catalog and unity_catalog_url are set), record the run for table:... checks,
/// and send downstream_notifications with the pass's summary. Returns the exit code of the
/// pass: `exit_code`, raised to 1 when a registration failed (notifications never change it).
/// Uses options.fs (required).
int AfterPass(const config::LoaderConfig& cfg, const loader::RunOptions& options,
              const loader::RunResult& result, int exit_code, loader::StopToken& stop);

/// The run could not start or finish (RunOnce failed): notify downstream with status failed
/// and the error. Never changes the exit code.
void NotifyRunError(const config::LoaderConfig& cfg, const Status& error, loader::StopToken& stop);

}  // namespace dl::cli
