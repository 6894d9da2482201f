// Health (ok / warning / critical, with reasons) and recommendations, computed from what was
// measured: memory in use against the limit, the last monitored run's peak and backpressure,
// free disk under the target and checkpoint paths, the failed-file ratio, small files per
// table, dependency states, and how the resource plan was capped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dl/cluster/environment.hpp"
#include "dl/cluster/resources.hpp"
#include "dl/monitoring/run_metrics.hpp"

namespace dl::cluster {

enum class HealthLevel { kOk, kWarning, kCritical };
std::string_view ToString(HealthLevel level);

/// One table as cluster-status measured it (snapshot + tracker).
struct TableFacts {
  std::string name, path;
  bool exists = false;
  int64_t data_files = 0, data_bytes = 0;
  int64_t small_files = 0;  ///< data files below cluster.small_file_bytes
  int64_t files_completed = 0, files_failed = 0;
  std::string error;  ///< the table could not be read (it counts as a warning)
  int64_t rows = 0;          ///< rows in the data files (numRecords)
  int64_t deleted_rows = 0;  ///< of those, hidden by deletion vectors
};

/// An upstream dependency's state: ok | waiting | timeout | failed | unknown.
struct DependencyState {
  std::string dependency, state, detail;
};

struct LabeledDisk {
  std::string label;  ///< "processed_data_path", "checkpoint_path"
  DiskSpace disk;
};

struct HealthInput {
  const config::LoaderConfig* config = nullptr;
  const Environment* environment = nullptr;
  const ResourcePlan* plan = nullptr;
  std::vector<LabeledDisk> disks;
  std::vector<TableFacts> tables;
  std::vector<DependencyState> dependencies;
  std::optional<monitoring::ResourceMetrics> last_run;  ///< the last monitored run, if any
};

struct HealthReason {
  HealthLevel level = HealthLevel::kOk;
  std::string check;  ///< memory | disk | failed_files | dependencies | tables
  std::string message;
};

struct HealthReport {
  HealthLevel level = HealthLevel::kOk;  ///< the worst reason's level
  std::vector<HealthReason> reasons;     ///< every check that is not ok
  std::vector<std::string> recommendations;
};

HealthReport EvaluateHealth(const HealthInput& input);

/// The resources of the newest run-*.json under `metrics_dir` that has them (a monitored
/// run-cluster), or nullopt.
std::optional<monitoring::ResourceMetrics> LastRunResources(const std::string& metrics_dir);


}  // namespace dl::cluster
