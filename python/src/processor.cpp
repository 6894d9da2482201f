// Runs for data_loader.core.processor and data_loader.cluster: the command line's run path
// (cli::ExecuteRun) on a native thread, so the caller can wait in short steps (the GIL
// released) and turn a KeyboardInterrupt into a stop of the run.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "dl/cli/cluster_command.hpp"
#include "dl/cli/output.hpp"
#include "dl/cli/run_session.hpp"
#include "dl/cli/status_command.hpp"
#include "native_config.hpp"

namespace dl::python {
namespace {

struct RunSpec {
  std::vector<std::string> tables;
  bool dry_run = false, optimize = false, vacuum = false, reload_missing = false;
  bool cluster = false;  ///< run-cluster: resources from the environment
  cli::ClusterRunFlags cluster_flags;
};

class RunHandle {
 public:
  RunHandle(const NativeConfig& config, RunSpec spec) : cfg_(*config.cfg) {
    thread_ = std::thread([this, spec = std::move(spec)] { Work(spec); });
  }
  ~RunHandle() {
    // Dropped while running (it should not be): abandon, and never leave a thread behind.
    if (thread_.joinable()) {
      while (stop_.level() < loader::StopToken::kAbandon) stop_.Escalate();
      thread_.join();
    }
  }
  RunHandle(const RunHandle&) = delete;
  RunHandle& operator=(const RunHandle&) = delete;

  bool Wait(double seconds) {
    std::unique_lock lock(mu_);
    done_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; });
    return done_;
  }
  void Stop() { stop_.Escalate(); }
  int stop_level() const { return stop_.level(); }

  nb::dict Outcome() {
    if (!Wait(0)) throw std::runtime_error("the run has not finished");
    if (thread_.joinable()) thread_.join();
    nb::dict d;
    d["exit_code"] = outcome_.exit_code;
    d["error"] = outcome_.error.ok()
                     ? nb::none()
                     : nb::cast(config::RedactEnvValues(cfg_, outcome_.error.message()));
    d["error_kind"] = outcome_.error.ok() ? nb::none() : nb::cast(cli::ExitCode(outcome_.error));
    d["metrics_json"] =
        outcome_.metrics ? nb::cast(monitoring::ToJson(*outcome_.metrics)) : nb::none();
    d["table_errors"] = nb::cast(outcome_.table_errors);
    d["plan"] = outcome_.plan;
    d["stopped"] = outcome_.stopped;
    return d;
  }

 private:
  void Work(const RunSpec& spec) {
    cli::RunRequest req;
    req.options.tables = spec.tables;
    req.options.dry_run = spec.dry_run;
    req.options.optimize = spec.optimize;
    req.options.vacuum = spec.vacuum;
    req.options.reload_missing = spec.reload_missing;
    // Without cluster optimizations, --unity-catalog alone (ExecuteRun checks the names).
    if (!spec.cluster && spec.cluster_flags.unity_catalog) cfg_.use_unity_catalog = true;
    Status prepared =
        spec.cluster ? cli::PrepareClusterRun(spec.cluster_flags, cfg_, req.options) : Status::OK();
    cli::RunOutcome out;
    if (prepared.ok()) {
      out = cli::ExecuteRun(cfg_, std::move(req), stop_);
    } else {
      out.exit_code = cli::ExitCode(prepared);
      out.error = prepared;
    }
    std::lock_guard lock(mu_);
    outcome_ = std::move(out);
    done_ = true;
    done_cv_.notify_all();
  }

  config::LoaderConfig cfg_;  // the run's own copy (run-cluster adjusts it)
  loader::StopToken stop_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  cli::RunOutcome outcome_;
  std::thread thread_;
};

std::string StatusJson(const NativeConfig& c, const std::vector<std::string>& tables) {
  Result<nlohmann::ordered_json> report = [&] {
    nb::gil_scoped_release release;
    return cli::StatusReport(*c.cfg, tables);
  }();
  if (!report.ok()) Raise(report.status(), c.cfg.get());
  return report->dump();
}

}  // namespace

void BindProcessor(nb::module_& m) {
  nb::class_<RunHandle>(m, "RunHandle", "A run on a native thread (see data_loader.core).")
      .def("wait", &RunHandle::Wait, nb::arg("seconds"), nb::call_guard<nb::gil_scoped_release>(),
           "Wait up to `seconds` for the run to end; True once it has.")
      .def("stop", &RunHandle::Stop,
           "Escalate the stop: first let running batches finish and start none, then abandon.")
      .def_prop_ro("stop_level", &RunHandle::stop_level)
      .def("outcome", &RunHandle::Outcome, "The finished run's outcome as a dict.");
  m.def(
      "start_run",
      [](const NativeConfig& config, std::vector<std::string> tables, bool dry_run, bool optimize,
         bool vacuum, bool reload_missing, bool cluster, bool unity_catalog, bool monitoring) {
        RunSpec spec{std::move(tables),
                     dry_run,
                     optimize,
                     vacuum,
                     reload_missing,
                     cluster,
                     cli::ClusterRunFlags{unity_catalog, monitoring}};
        return new RunHandle(config, std::move(spec));
      },
      nb::arg("config"), nb::arg("tables"), nb::arg("dry_run") = false, nb::arg("optimize") = false,
      nb::arg("vacuum") = false, nb::arg("reload_missing") = false, nb::arg("cluster") = false,
      nb::arg("unity_catalog") = false, nb::arg("monitoring") = false,
      nb::rv_policy::take_ownership, "Start `run` (or `run-cluster`) on a native thread.");
  m.def("status_json", &StatusJson, nb::arg("config"), nb::arg("tables"),
        "What `status --json` prints, for `tables` (empty: all).");
}

}  // namespace dl::python
