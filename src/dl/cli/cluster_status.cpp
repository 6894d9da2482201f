// `data_loader cluster-status`: environment, resource plan, health with reasons,
// recommendations and dependency states, as text or JSON.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "dl/cli/cluster_command.hpp"
#include "dl/cli/engine_choice.hpp"
#include "dl/cli/output.hpp"
#include "dl/cluster/health.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/stats.hpp"
#include "dl/engine/spark/spark_session.hpp"
#include "dl/loader/locked_engine.hpp"
#include "dl/monitoring/run_metrics.hpp"
#include "dl/orchestration/dependencies.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"
#include "dl/table/table.hpp"
#include "dl/tracker/file_tracker.hpp"

namespace dl::cli {
namespace {

using monitoring::HumanBytes;
using nlohmann::ordered_json;

template <typename T>
ordered_json Opt(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

Result<cluster::TableFacts> Facts(const config::LoaderConfig& cfg, const config::TableConfig& t,
                                  FileSystem& fs, engine::Engine& engine,
                                  tracker::FileTracker& tracker) {
  cluster::TableFacts f;
  f.name = config::DisplayName(cfg, t);
  f.path = config::TablePath(cfg, t);
  table::TableContext ctx{fs, engine};
  auto snap = table::LoadSnapshot(ctx, f.path);
  if (snap.ok()) {
    f.exists = true;
    for (const auto& file : (*snap)->files()) {
      ++f.data_files;
      f.data_bytes += file.size;
      if (file.size < cfg.cluster.small_file_bytes) ++f.small_files;
      f.rows += delta::ParseStats(file.stats).num_records.value_or(0);
      if (file.deletion_vector) f.deleted_rows += file.deletion_vector->cardinality;
    }
  } else if (snap.status().code() != StatusCode::kNotFound) {
    f.error = snap.status().ToString();  // reported; the other tables still count
  }
  DL_ASSIGN_OR_RETURN(auto records, tracker.Load(f.name));
  for (const auto& [path, r] : records) {
    if (r.status == tracker::FileStatus::kCompleted) ++f.files_completed;
    if (r.status == tracker::FileStatus::kFailed) ++f.files_failed;
  }
  return f;
}

ordered_json HealthJson(const cluster::HealthReport& h) {
  ordered_json reasons = ordered_json::array();
  for (const auto& r : h.reasons) {
    reasons.push_back(
        {{"level", cluster::ToString(r.level)}, {"check", r.check}, {"message", r.message}});
  }
  return {{"status", cluster::ToString(h.level)}, {"reasons", reasons}};
}

void PrintText(std::ostream& out, const cluster::Environment& env,
               const cluster::ResourcePlan& plan, const cluster::HealthInput& in,
               const cluster::HealthReport& h) {
  out << EnvironmentText(env) << PlanText(plan);
  for (const auto& d : in.disks) {
    out << fmt::format("disk {}: {} free of {} under {}\n", d.label, HumanBytes(d.disk.free_bytes),
                       HumanBytes(d.disk.total_bytes), d.disk.path);
  }
  for (const auto& t : in.tables) {
    out << fmt::format("table {}: {} data files ({}), {} small; {} files loaded, {} failed\n",
                       t.name, t.data_files, HumanBytes(t.data_bytes), t.small_files,
                       t.files_completed, t.files_failed);
  }
  if (in.last_run) {
    const auto& m = *in.last_run;
    out << fmt::format(
        "last monitored run: cpu {:.0f}% avg, peak RSS {}, {} backpressure "
        "pause(s)\n",
        m.cpu_percent_avg, HumanBytes(m.rss_peak_bytes), m.backpressure_pauses);
  }
  out << "dependencies:" << (in.dependencies.empty() ? " none configured\n" : "\n");
  for (const auto& d : in.dependencies) {
    out << fmt::format("  {}: {} ({})\n", d.dependency, d.state, d.detail);
  }
  out << "health: " << cluster::ToString(h.level) << "\n";
  for (const auto& r : h.reasons) {
    out << fmt::format("  {} [{}]: {}\n", cluster::ToString(r.level), r.check, r.message);
  }
  out << "recommendations:" << (h.recommendations.empty() ? " none\n" : "\n");
  for (const auto& r : h.recommendations) out << "  - " << r << "\n";
}

ordered_json StatusJson(const cluster::Environment& env, const cluster::ResourcePlan& plan,
                        const cluster::HealthInput& in, const cluster::HealthReport& h) {
  ordered_json disks = ordered_json::array(), tables = ordered_json::array(),
               deps = ordered_json::array();
  for (const auto& d : in.disks) {
    disks.push_back({{"label", d.label},
                     {"path", d.disk.path},
                     {"free_bytes", d.disk.free_bytes},
                     {"total_bytes", d.disk.total_bytes}});
  }
  for (const auto& t : in.tables) {
    tables.push_back({{"table", t.name},
                      {"path", t.path},
                      {"exists", t.exists},
                      {"data_files", t.data_files},
                      {"data_bytes", t.data_bytes},
                      {"small_files", t.small_files},
                      {"files_completed", t.files_completed},
                      {"files_failed", t.files_failed},
                      {"rows", t.rows},
                      {"deleted_rows", t.deleted_rows},
                      {"error", t.error.empty() ? ordered_json(nullptr) : ordered_json(t.error)}});
  }
  for (const auto& d : in.dependencies) {
    deps.push_back({{"dependency", d.dependency}, {"state", d.state}, {"detail", d.detail}});
  }
  ordered_json out = {{"environment", EnvironmentJson(env)},
                      {"resources", PlanJson(plan)},
                      {"disks", disks},
                      {"tables", tables}};
  out["last_run"] = nullptr;
  if (in.last_run) {  // the same fields as the run's metrics file
    monitoring::RunMetrics m;
    m.resources = in.last_run;
    out["last_run"] = ordered_json::parse(monitoring::ToJson(m))["resources"];
  }
  out["health"] = HealthJson(h);
  out["recommendations"] = h.recommendations;
  out["dependencies"] = deps;
  return out;
}

}  // namespace

ordered_json EnvironmentJson(const cluster::Environment& e) {
  const auto& d = e.databricks;
  ordered_json sources = ordered_json::array();
  for (const auto& [fact, src] : e.sources) sources.push_back({{"fact", fact}, {"source", src}});
  return {{"kind", cluster::ToString(e.kind)},
          {"cpu_cores", e.cpu_cores},
          {"memory_limit_bytes", e.memory_limit},
          {"host",
           {{"cores", e.host_cores},
            {"memory_bytes", e.host_memory},
            {"memory_available_bytes", e.host_memory_available}}},
          {"container",
           {{"marker", e.container_marker},
            {"cgroup_version", e.cgroup.version},
            {"cgroup_path", e.cgroup.path},
            {"cpu_quota", Opt(e.cgroup.cpu_quota)},
            {"cpuset_cpus", Opt(e.cgroup.cpuset_cpus)},
            {"memory_limit_bytes", Opt(e.cgroup.memory_limit)},
            {"memory_usage_bytes", Opt(e.cgroup.memory_usage)}}},
          {"databricks",
           {{"runtime_version", Opt(d.runtime_version)},
            {"cluster_id", Opt(d.cluster_id)},
            {"cluster_name", Opt(d.cluster_name)},
            {"cluster_type", Opt(d.cluster_type)},
            {"node_type", Opt(d.node_type)},
            {"spark_version", Opt(d.spark_version)},
            {"workers", Opt(d.workers)},
            {"is_driver", Opt(d.is_driver)},
            {"is_job_cluster", Opt(d.is_job_cluster)}}},
          {"sources", sources}};
}

ordered_json PlanJson(const cluster::ResourcePlan& p) {
  return {{"parallelism", p.parallelism},
          {"parallelism_from_config", p.parallelism_from_config},
          {"cpu_parallelism", p.cpu_parallelism},
          {"memory_parallelism", p.memory_parallelism},
          {"engine_threads", p.engine_threads},
          {"engine_memory_bytes", p.engine_memory},
          {"memory_budget_bytes", p.memory_budget},
          {"backpressure_at_bytes", p.backpressure_at},
          {"hard_limit_bytes", p.hard_limit},
          {"reasons", p.reasons}};
}

std::string EnvironmentText(const cluster::Environment& e) {
  std::string out = fmt::format("environment: {}\n", cluster::ToString(e.kind));
  const auto& d = e.databricks;
  if (e.kind == cluster::EnvironmentKind::kDatabricks) {
    out += fmt::format("  databricks runtime {}, cluster {} ({}), type {}, {} worker(s)\n",
                       d.runtime_version.value_or("unknown"), d.cluster_id.value_or("unknown"),
                       d.cluster_name.value_or("unnamed"), d.cluster_type.value_or("unknown"),
                       d.workers ? std::to_string(*d.workers) : "unknown");
  }
  if (e.cgroup.version > 0) {
    out += fmt::format("  cgroup v{} {}: cpu quota {}, memory limit {}\n", e.cgroup.version,
                       e.cgroup.path,
                       e.cgroup.cpu_quota ? fmt::format("{:.2f}", *e.cgroup.cpu_quota) : "none",
                       e.cgroup.memory_limit ? HumanBytes(*e.cgroup.memory_limit) : "none");
  }
  out += fmt::format("  host: {} cores, {} memory\n", e.host_cores, HumanBytes(e.host_memory));
  out += fmt::format("  usable: {} CPU(s), {} memory\n", e.cpu_cores, HumanBytes(e.memory_limit));
  for (const auto& [fact, src] : e.sources) out += fmt::format("    {} <- {}\n", fact, src);
  return out;
}

std::string PlanText(const cluster::ResourcePlan& p) {
  std::string out = fmt::format(
      "plan: parallelism {}, engine threads {}, engine memory {}, memory budget {}\n",
      p.parallelism, p.engine_threads, HumanBytes(p.engine_memory), HumanBytes(p.memory_budget));
  for (const auto& r : p.reasons) out += "  " + r + "\n";
  return out;
}

namespace {

// Disks, tables, dependency states and the last monitored run: what health is judged on.
Status Measure(const config::LoaderConfig& cfg, cluster::HealthInput& in) {
  const std::pair<std::string, std::string> paths[] = {
      {"processed_data_path", cfg.processed_data_path}, {"checkpoint_path", cfg.checkpoint_path}};
  for (const auto& [label, path] : paths) {
    if (IsUri(path)) continue;  // object stores have no disk to fill up
    DL_ASSIGN_OR_RETURN(auto disk, cluster::MeasureDisk(path));
    in.disks.push_back({label, disk});
  }
  auto fs = MakeFileSystem(cfg.storage);
  engine::EngineOptions eopts = loader::LockedEngineOptions(cfg);
  eopts.threads = 1;
  DL_ASSIGN_OR_RETURN(auto engine, engine::MakeDuckDbEngine(eopts));
  tracker::FileTracker tracker(*fs, *engine, config::TrackerPath(cfg));
  for (const auto& t : cfg.tables) {
    DL_ASSIGN_OR_RETURN(auto f, Facts(cfg, t, *fs, *engine, tracker));
    in.tables.push_back(std::move(f));
  }
  // One non-waiting check of each upstream dependency (what a run would check first).
  // No parquet reader of ours: this engine may read only the config's locations, and a
  // table: dependency may live elsewhere; the check brings an engine allowed to read it.
  orchestration::DependencyContext dctx;
  dctx.fs = fs.get();
  auto timed_out = orchestration::TimedOutDependencies(cfg, *fs);
  for (const auto& d : orchestration::CheckDependenciesOnce(cfg, dctx)) {
    std::string state = d.met ? "ok" : "waiting", detail = log::RedactSecrets(d.detail);
    if (!d.met && std::find(timed_out.begin(), timed_out.end(), d.spec) != timed_out.end()) {
      state = "timeout";  // and still unmet: the last run gave up waiting for it
      detail += "; the last run timed out waiting for it";
    }
    in.dependencies.push_back({d.spec, state, detail});
  }
  in.last_run = cluster::LastRunResources(config::MetricsDir(cfg));
  return Status::OK();
}

}  // namespace

// The Spark engine's cluster is the remote one: where it is, whether it answers, its Spark
// version and our session there; the local machine's resources do not matter to it.
Result<ClusterStatusReport> CollectSparkStatus(const config::LoaderConfig& cfg) {
  DL_ASSIGN_OR_RETURN(engine::spark::SparkRemote remote, SparkRemoteOf(cfg));
  ordered_json j;
  j["engine"] = "spark";
  j["remote"] = remote.Redacted();
  auto session = engine::spark::SparkSession::Connect(remote);
  Result<std::string> version =
      session.ok() ? (*session)->SparkVersion() : Result<std::string>(session.status());
  j["reachable"] = version.ok();
  j["spark_version"] = version.ok() ? ordered_json(*version) : ordered_json(nullptr);
  j["session_id"] = session.ok() ? ordered_json((*session)->session_id()) : ordered_json(nullptr);
  j["error"] = version.ok() ? ordered_json(nullptr) : ordered_json(version.status().ToString());
  std::string text = fmt::format("engine: spark\nremote: {}\nreachable: {}\n", remote.Redacted(),
                                 version.ok() ? "yes" : "no");
  if (version.ok()) {
    text += fmt::format("spark version: {}\nsession: {}\n", *version, (*session)->session_id());
  } else {
    text += fmt::format("error: {}\n", version.status().ToString());
  }
  ClusterStatusReport report;
  report.json = config::RedactEnvValues(cfg, j.dump(2) + "\n");
  report.text = config::RedactEnvValues(cfg, text);
  report.critical = !version.ok();
  return report;
}

Result<ClusterStatusReport> CollectClusterStatus(const config::LoaderConfig& cfg) {
  if (UsesSpark(cfg)) return CollectSparkStatus(cfg);
  cluster::Environment env = DetectFor(cfg);
  cluster::ResourcePlan plan = cluster::PlanResources(env, cfg);
  cluster::HealthInput in;
  in.config = &cfg;
  in.environment = &env;
  in.plan = &plan;
  DL_RETURN_IF_ERROR(Measure(cfg, in));
  cluster::HealthReport health = cluster::EvaluateHealth(in);
  // Paths and dependencies may hold values from ${ENV}: shown as *** (as validate does).
  ClusterStatusReport report;
  report.json = config::RedactEnvValues(cfg, StatusJson(env, plan, in, health).dump(2) + "\n");
  std::ostringstream text;
  PrintText(text, env, plan, in, health);
  report.text = config::RedactEnvValues(cfg, text.str());
  report.critical = health.level == cluster::HealthLevel::kCritical;
  return report;
}

int ClusterStatus(const ConfigArgs& args, bool json) {
  auto cfg = LoadConfig(WithConfigFromEnv(args));
  if (!cfg.ok()) return ReportError(cfg.status());
  auto report = CollectClusterStatus(*cfg);
  if (!report.ok()) return ReportError(report.status(), *cfg);
  std::cout << (json ? report->json : report->text);
  return report->critical ? 1 : 0;
}

}  // namespace dl::cli
