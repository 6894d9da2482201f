// DetectEnvironment: Databricks, container or host, and the CPU and memory limits in force.
#include "dl/cluster/environment.hpp"

#include <sched.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "dl/cluster/system_files.hpp"

namespace dl::cluster {
namespace {

using internal::ReadSmallFile;
using internal::UnderRoot;

void ReadHost(const DetectOptions& o, Environment& e) {
  auto online = ReadSmallFile(UnderRoot(o.root, "/sys/devices/system/cpu/online"));
  std::optional<int> cores = online ? internal::CountCpuList(*online) : std::nullopt;
  if (cores) e.sources.emplace_back("host_cores", "/sys/devices/system/cpu/online");
  if (o.root == "/") {
    // The real host: the scheduler's affinity mask is a limit too (taskset, cpusets).
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      int n = CPU_COUNT(&set);
      if (n > 0 && (!cores || n < *cores)) {
        cores = n;
        e.sources.emplace_back("host_cores", "sched_getaffinity");
      }
    }
    if (!cores) cores = static_cast<int>(std::thread::hardware_concurrency());
  }
  e.host_cores = std::max(1, cores.value_or(1));
  if (auto meminfo = ReadSmallFile(UnderRoot(o.root, "/proc/meminfo"))) {
    e.host_memory = internal::MeminfoBytes(*meminfo, "MemTotal").value_or(0);
    e.host_memory_available = internal::MeminfoBytes(*meminfo, "MemAvailable").value_or(0);
    e.sources.emplace_back("host_memory", "/proc/meminfo MemTotal");
  }
}

bool ContainerMarker(const DetectOptions& o, const EnvLookup& env, Environment& e) {
  for (const char* f : {"/.dockerenv", "/run/.containerenv"}) {
    if (internal::PathExists(UnderRoot(o.root, f))) {
      e.sources.emplace_back("container", f);
      return true;
    }
  }
  for (const char* v : {"container", "KUBERNETES_SERVICE_HOST"}) {
    if (env(v)) {
      e.sources.emplace_back("container", std::string("$") + v);
      return true;
    }
  }
  return false;
}

// The effective limits: the tightest of host, cgroup quota and cpuset.
void Effective(Environment& e) {
  e.cpu_cores = e.host_cores;
  std::string cpu_src = "host cores";
  if (e.cgroup.cpuset_cpus && *e.cgroup.cpuset_cpus < e.cpu_cores) {
    e.cpu_cores = *e.cgroup.cpuset_cpus;
    cpu_src = "cgroup cpuset";
  }
  if (e.cgroup.cpu_quota) {
    // A quota of 1.5 CPUs runs 1 busy thread unthrottled; round down, at least 1.
    int q = std::max(1, static_cast<int>(std::floor(*e.cgroup.cpu_quota + 1e-9)));
    if (q < e.cpu_cores) {
      e.cpu_cores = q;
      cpu_src = fmt::format("cgroup v{} CPU quota {:.2f}", e.cgroup.version, *e.cgroup.cpu_quota);
    }
  }
  e.sources.emplace_back("cpu_cores", cpu_src);
  e.memory_limit = e.host_memory;
  std::string mem_src = "host MemTotal";
  if (e.cgroup.memory_limit && (e.memory_limit == 0 || *e.cgroup.memory_limit < e.memory_limit)) {
    e.memory_limit = *e.cgroup.memory_limit;
    mem_src = fmt::format("cgroup v{} memory limit", e.cgroup.version);
  }
  e.sources.emplace_back("memory_limit", mem_src);
}

void ApplyOverrides(const config::ClusterSettings& c, Environment& e) {
  const std::string src = "config cluster.";
  if (c.environment == "databricks") e.kind = EnvironmentKind::kDatabricks;
  if (c.environment == "container") e.kind = EnvironmentKind::kContainer;
  if (c.environment == "host") e.kind = EnvironmentKind::kHost;
  if (c.environment != "auto") e.sources.emplace_back("environment", src + "environment");
  auto take = [&](std::optional<std::string>& field, const std::optional<std::string>& v,
                  const char* key) {
    if (!v) return;
    field = *v;
    e.sources.emplace_back(key, src + key);
  };
  take(e.databricks.runtime_version, c.runtime_version, "runtime_version");
  take(e.databricks.cluster_id, c.cluster_id, "cluster_id");
  take(e.databricks.cluster_name, c.cluster_name, "cluster_name");
  take(e.databricks.cluster_type, c.cluster_type, "cluster_type");
  take(e.databricks.node_type, c.node_type, "node_type");
  if (c.workers) {
    e.databricks.workers = *c.workers;
    e.sources.emplace_back("workers", src + "workers");
  }
  if (c.cpu_cores) {
    e.cpu_cores = *c.cpu_cores;
    e.sources.emplace_back("cpu_cores", src + "cpu_cores");
  }
  if (c.memory_limit) {
    e.memory_limit = *c.memory_limit;
    e.sources.emplace_back("memory_limit", src + "memory_limit");
  }
}

}  // namespace

std::string_view ToString(EnvironmentKind kind) {
  switch (kind) {
    case EnvironmentKind::kDatabricks:
      return "databricks";
    case EnvironmentKind::kContainer:
      return "container";
    case EnvironmentKind::kHost:
      return "host";
  }
  return "host";
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Environment DetectEnvironment(const DetectOptions& options,
                              const config::ClusterSettings& overrides) {
  Environment e;
  e.root = options.root;
  EnvLookup env = options.env ? options.env : ProcessEnv();
  ReadHost(options, e);
  e.cgroup = internal::ReadCgroup(options.root);
  if (!e.cgroup.path.empty()) e.sources.emplace_back("cgroup", e.cgroup.path);
  e.databricks = internal::ReadDatabricks(options.root, env, e.sources);
  e.container_marker = ContainerMarker(options, env, e);
  bool limited = e.cgroup.memory_limit || e.cgroup.cpu_quota;
  if (e.databricks.runtime_version || e.databricks.cluster_id) {
    e.kind = EnvironmentKind::kDatabricks;
  } else if (e.container_marker || limited) {
    e.kind = EnvironmentKind::kContainer;
  }
  Effective(e);
  ApplyOverrides(overrides, e);
  return e;
}

Result<DiskSpace> MeasureDisk(const std::string& path) {
  std::string dir = path.empty() ? "." : path;
  while (!internal::PathExists(dir)) {  // not created yet: measure where it will be
    size_t slash = dir.find_last_of('/');
    if (slash == std::string::npos) {
      dir = ".";
      break;
    }
    dir = slash == 0 ? "/" : dir.substr(0, slash);
  }
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) {
    return Status::Io("cannot measure free space under {}: {}", dir, std::strerror(errno));
  }
  DiskSpace d;
  d.path = dir;
  d.free_bytes = static_cast<int64_t>(s.f_bavail) * static_cast<int64_t>(s.f_frsize);
  d.total_bytes = static_cast<int64_t>(s.f_blocks) * static_cast<int64_t>(s.f_frsize);
  return d;
}

}  // namespace dl::cluster
