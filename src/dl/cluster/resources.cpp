#include "dl/cluster/resources.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dl::cluster {
namespace {

std::string Mib(int64_t bytes) { return fmt::format("{} MiB", bytes >> 20); }

// The budget: memory_budget_percent of the limit, never above the hard limit.
void PlanMemory(const Environment& env, const config::ClusterSettings& c, ResourcePlan& p) {
  if (env.memory_limit <= 0 && !c.memory_hard_limit) {
    p.reasons.push_back("memory limit unknown: no memory budget, no backpressure, the engine's "
                        "default memory limit (set cluster.memory_limit to plan with one)");
    return;
  }
  p.memory_budget = env.memory_limit * c.memory_budget_percent / 100;
  p.reasons.push_back(fmt::format("memory budget {}: {}% of the {} memory limit",
                                  Mib(p.memory_budget), c.memory_budget_percent,
                                  Mib(env.memory_limit)));
  if (c.memory_hard_limit) {
    p.hard_limit = *c.memory_hard_limit;
    if (p.memory_budget <= 0 || p.hard_limit < p.memory_budget) {
      p.memory_budget = p.hard_limit;
      p.reasons.push_back(fmt::format("memory budget lowered to the hard limit {}",
                                      Mib(p.hard_limit)));
    }
  }
  p.backpressure_at = p.memory_budget * c.backpressure_percent / 100;
  p.reasons.push_back(fmt::format("backpressure: no new batch while RSS is above {} ({}% of "
                                  "the budget)",
                                  Mib(p.backpressure_at), c.backpressure_percent));
}

void PlanParallelism(const Environment& env, const config::LoaderConfig& cfg, ResourcePlan& p) {
  const auto& c = cfg.cluster;
  p.cpu_parallelism = std::max(1, env.cpu_cores);
  p.memory_parallelism =
      p.memory_budget <= 0
          ? p.cpu_parallelism  // unknown memory caps nothing
          : static_cast<int>(std::clamp<int64_t>(
                p.memory_budget / std::max<int64_t>(1, c.memory_per_job), 1, 1024));
  if (cfg.max_parallel_jobs_given) {
    p.parallelism = cfg.max_parallel_jobs;
    p.parallelism_from_config = true;
    p.reasons.push_back(
        fmt::format("parallelism {}: max_parallel_jobs in the config", p.parallelism));
    return;
  }
  p.parallelism = std::min(p.cpu_parallelism, p.memory_parallelism);
  if (p.memory_parallelism < p.cpu_parallelism) {
    p.reasons.push_back(fmt::format(
        "parallelism {}: capped by memory ({} budget / {} per job; the {} CPU(s) would allow {})",
        p.parallelism, Mib(p.memory_budget), Mib(c.memory_per_job), env.cpu_cores,
        p.cpu_parallelism));
  } else {
    p.reasons.push_back(fmt::format("parallelism {}: one batch per CPU ({} CPU(s); memory would "
                                    "allow {})",
                                    p.parallelism, env.cpu_cores, p.memory_parallelism));
  }
}

}  // namespace

ResourcePlan PlanResources(const Environment& env, const config::LoaderConfig& cfg) {
  const auto& c = cfg.cluster;
  ResourcePlan p;
  PlanMemory(env, c, p);
  PlanParallelism(env, cfg, p);
  // Batches share one engine thread pool, so the pool is sized to the CPUs, not per batch.
  if (c.engine_threads) {
    p.engine_threads = *c.engine_threads;
    p.reasons.push_back(fmt::format("engine threads {}: cluster.engine_threads", p.engine_threads));
  } else {
    p.engine_threads = std::max(1, env.cpu_cores);
    p.reasons.push_back(fmt::format("engine threads {}: the CPUs available", p.engine_threads));
  }
  // The engine's buffers are most of the process; the rest (readers, tracker, metadata) gets
  // a fifth of the budget.
  if (c.engine_memory_limit) {
    p.engine_memory = *c.engine_memory_limit;
    p.reasons.push_back(fmt::format("engine memory limit {}: cluster.engine_memory_limit",
                                    Mib(p.engine_memory)));
  } else if (p.memory_budget > 0) {
    p.engine_memory = std::max<int64_t>(64LL << 20, p.memory_budget * 4 / 5);
    p.reasons.push_back(fmt::format("engine memory limit {}: 80% of the memory budget",
                                    Mib(p.engine_memory)));
  }
  if (p.hard_limit > 0 && p.engine_memory > p.hard_limit * 4 / 5) {
    p.engine_memory = p.hard_limit * 4 / 5;
    p.reasons.push_back(fmt::format("engine memory limit lowered to {} (80% of the hard limit)",
                                    Mib(p.engine_memory)));
  }
  return p;
}

std::string EngineMemorySetting(int64_t bytes) {
  return fmt::format("{}MiB", std::max<int64_t>(1, bytes >> 20));
}

}  // namespace dl::cluster
