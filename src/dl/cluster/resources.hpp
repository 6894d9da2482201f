// The resource plan of a cluster-mode run: parallelism, the engine's threads and memory limit,
// and the memory thresholds of backpressure, derived from the detected limits (a cgroup limit,
// not the host's total) unless the config sets them. Each choice carries its reason.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dl/cluster/environment.hpp"

namespace dl::cluster {

struct ResourcePlan {
  int parallelism = 1;           ///< max_parallel_jobs for the run
  int engine_threads = 1;        ///< DuckDB threads
  int64_t engine_memory = 0;     ///< DuckDB memory_limit (bytes; 0: the engine's default)
  int64_t memory_budget = 0;     ///< what the process may use (0: unknown)
  int64_t backpressure_at = 0;   ///< RSS at which no new batch starts (0: no backpressure)
  int64_t hard_limit = 0;        ///< RSS never to exceed (0: none configured)
  int cpu_parallelism = 1;       ///< what the CPUs alone would allow
  int memory_parallelism = 1;    ///< what the memory budget alone would allow
  bool parallelism_from_config = false;
  std::vector<std::string> reasons;  ///< one line per choice, for cluster-status / --dry-run
};

ResourcePlan PlanResources(const Environment& env, const config::LoaderConfig& cfg);

/// DuckDB's spelling of a byte count for memory_limit ("1536MiB").
std::string EngineMemorySetting(int64_t bytes);

}  // namespace dl::cluster
