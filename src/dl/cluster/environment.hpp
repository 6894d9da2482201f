// Where the loader runs: a Databricks driver, a container (cgroup limits) or a plain host, and
// the CPU and memory it may use. Everything is read below a root directory (normally "/") and
// through an environment lookup, so tests drive detection with fake trees and variables.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dl/config/loader_config.hpp"

namespace dl::cluster {

enum class EnvironmentKind { kDatabricks, kContainer, kHost };
std::string_view ToString(EnvironmentKind kind);

/// Reads an environment variable (nullopt: unset).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
/// The process environment (getenv).
EnvLookup ProcessEnv();

struct DetectOptions {
  std::string root = "/";  ///< /proc, /sys and /databricks are read below it
  EnvLookup env;           ///< empty: the process environment
};

/// What the Databricks runtime says about the cluster (only what it provides).
struct DatabricksInfo {
  std::optional<std::string> runtime_version;  ///< DATABRICKS_RUNTIME_VERSION, DBR_VERSION file
  std::optional<std::string> cluster_id, cluster_name, node_type, spark_version;
  /// single_user | shared | no_isolation_shared | <mode in lower case> (dataSecurityMode)
  std::optional<std::string> cluster_type;
  std::optional<int> workers;            ///< clusterWorkers
  std::optional<bool> is_driver, is_job_cluster;
  std::optional<std::string> scaling;    ///< clusterScalingType ("autoscaling", ...)
};

/// What the cgroup (v1 or v2) of this process limits.
struct CgroupInfo {
  int version = 0;                       ///< 0: no cgroup found, 1 or 2
  std::optional<double> cpu_quota;       ///< CPUs allowed by the CFS quota (cpu.max)
  std::optional<int> cpuset_cpus;        ///< CPUs in the cpuset
  std::optional<int64_t> memory_limit;   ///< memory.max / memory.limit_in_bytes (unset: none)
  std::optional<int64_t> memory_usage;   ///< memory.current / memory.usage_in_bytes
  std::string path;                      ///< the cgroup directory read
};

struct Environment {
  EnvironmentKind kind = EnvironmentKind::kHost;
  std::string root = "/";
  DatabricksInfo databricks;
  CgroupInfo cgroup;
  bool container_marker = false;  ///< /.dockerenv, /run/.containerenv, $container, Kubernetes
  int host_cores = 1;
  int64_t host_memory = 0;            ///< MemTotal
  int64_t host_memory_available = 0;  ///< MemAvailable
  /// The effective limits: overrides, else the tightest of cgroup and host.
  int cpu_cores = 1;
  int64_t memory_limit = 0;
  /// (fact, where it came from), in detection order: the explanation cluster-status prints.
  std::vector<std::pair<std::string, std::string>> sources;
};

/// Detect, then apply the config's overrides (`cluster:` keys).
Environment DetectEnvironment(const DetectOptions& options,
                              const config::ClusterSettings& overrides);

/// Free and total bytes of the filesystem holding `path` (its nearest existing ancestor).
struct DiskSpace {
  std::string path;  ///< the directory measured
  int64_t free_bytes = 0, total_bytes = 0;
};
Result<DiskSpace> MeasureDisk(const std::string& path);

}  // namespace dl::cluster
