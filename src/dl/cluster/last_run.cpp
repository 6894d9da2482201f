// What cluster-status reads besides the live system: the last monitored run's metrics file,
// and a non-waiting look at the upstream dependencies.
#include <dirent.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "dl/cluster/health.hpp"
#include "dl/cluster/system_files.hpp"

namespace dl::cluster {
namespace {

std::vector<std::string> RunFilesNewestFirst(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind("run-", 0) == 0 && n.size() > 5 && n.substr(n.size() - 5) == ".json") {
      names.push_back(n);
    }
  }
  ::closedir(d);
  // Names start with the run's UTC start time (run-yyyymmddThhmmssZ-...): newest sorts last.
  std::sort(names.rbegin(), names.rend());
  return names;
}

monitoring::ResourceMetrics FromJson(const nlohmann::json& j) {
  monitoring::ResourceMetrics m;
  m.environment = j.value("environment", "");
  m.parallelism = j.value("parallelism", 0);
  m.engine_threads = j.value("engine_threads", 0);
  m.engine_memory_bytes = j.value("engine_memory_bytes", int64_t{0});
  m.memory_budget_bytes = j.value("memory_budget_bytes", int64_t{0});
  m.backpressure_at_bytes = j.value("backpressure_at_bytes", int64_t{0});
  m.hard_limit_bytes = j.value("hard_limit_bytes", int64_t{0});
  m.samples = j.value("samples", int64_t{0});
  m.cpu_seconds = j.value("cpu_seconds", 0.0);
  m.cpu_percent_avg = j.value("cpu_percent_avg", 0.0);
  m.cpu_percent_max = j.value("cpu_percent_max", 0.0);
  m.rss_peak_bytes = j.value("rss_peak_bytes", int64_t{0});
  m.rss_avg_bytes = j.value("rss_avg_bytes", int64_t{0});
  m.rss_end_bytes = j.value("rss_end_bytes", int64_t{0});
  m.backpressure_pauses = j.value("backpressure_pauses", int64_t{0});
  m.backpressure_seconds = j.value("backpressure_seconds", 0.0);
  return m;
}

}  // namespace

std::optional<monitoring::ResourceMetrics> LastRunResources(const std::string& metrics_dir) {
  for (const auto& name : RunFilesNewestFirst(metrics_dir)) {
    auto text = internal::ReadSmallFile(metrics_dir + "/" + name);
    if (!text) continue;
    auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (j.contains("resources") && j["resources"].is_object()) {
      try {
        return FromJson(j["resources"]);
      } catch (const nlohmann::json::exception&) {
        continue;  // a field of the wrong type: not ours to trust
      }
    }
  }
  return std::nullopt;
}

}  // namespace dl::cluster
