// The resource plan: parallelism, engine threads and memory from the detected limits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/cluster/resources.hpp"

namespace dl::cluster {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kMiB = int64_t{1} << 20;

Environment Env(int cores, int64_t memory) {
  Environment e;
  e.host_cores = 64;
  e.host_memory = 256 * kGiB;
  e.cpu_cores = cores;
  e.memory_limit = memory;
  return e;
}

bool AnyReason(const ResourcePlan& p, const std::string& text) {
  for (const auto& r : p.reasons) {
    if (r.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(ResourcesTest, OneBatchPerCpuWhenMemoryAllows) {
  config::LoaderConfig cfg;
  ResourcePlan p = PlanResources(Env(4, 16 * kGiB), cfg);
  EXPECT_EQ(p.memory_budget, 12 * kGiB);  // 75%
  EXPECT_EQ(p.parallelism, 4);
  EXPECT_EQ(p.engine_threads, 4);
  EXPECT_EQ(p.engine_memory, 12 * kGiB * 4 / 5);
  EXPECT_EQ(p.backpressure_at, 12 * kGiB * 9 / 10);
  EXPECT_TRUE(AnyReason(p, "one batch per CPU"));
}

TEST(ResourcesTest, MemoryCapsParallelismFromTheCgroupLimitNotTheHost) {
  config::LoaderConfig cfg;
  ResourcePlan p = PlanResources(Env(8, 1 * kGiB), cfg);  // host has 256 GiB
  EXPECT_EQ(p.memory_budget, 768 * kMiB);
  EXPECT_EQ(p.memory_parallelism, 1);  // 768 MiB / 512 MiB per job
  EXPECT_EQ(p.cpu_parallelism, 8);
  EXPECT_EQ(p.parallelism, 1);
  EXPECT_TRUE(AnyReason(p, "capped by memory"));
  EXPECT_EQ(p.engine_threads, 8);
}

TEST(ResourcesTest, ConfigWins) {
  config::LoaderConfig cfg;
  cfg.max_parallel_jobs = 7;
  cfg.max_parallel_jobs_given = true;
  cfg.cluster.engine_threads = 3;
  cfg.cluster.engine_memory_limit = 2 * kGiB;
  ResourcePlan p = PlanResources(Env(2, 16 * kGiB), cfg);
  EXPECT_EQ(p.parallelism, 7);
  EXPECT_TRUE(p.parallelism_from_config);
  EXPECT_EQ(p.engine_threads, 3);
  EXPECT_EQ(p.engine_memory, 2 * kGiB);
}

TEST(ResourcesTest, HardLimitBoundsBudgetAndEngine) {
  config::LoaderConfig cfg;
  cfg.cluster.memory_hard_limit = 4 * kGiB;
  cfg.cluster.engine_memory_limit = 4 * kGiB;
  ResourcePlan p = PlanResources(Env(4, 32 * kGiB), cfg);
  EXPECT_EQ(p.memory_budget, 4 * kGiB);
  EXPECT_EQ(p.hard_limit, 4 * kGiB);
  EXPECT_EQ(p.engine_memory, 4 * kGiB * 4 / 5);
  EXPECT_LT(p.backpressure_at, p.hard_limit);
  EXPECT_TRUE(AnyReason(p, "hard limit"));
}

TEST(ResourcesTest, UnknownMemoryPlansWithoutABudget) {
  config::LoaderConfig cfg;
  ResourcePlan p = PlanResources(Env(3, 0), cfg);
  EXPECT_EQ(p.memory_budget, 0);
  EXPECT_EQ(p.engine_memory, 0);  // the engine's default
  EXPECT_EQ(p.backpressure_at, 0);
  EXPECT_EQ(p.parallelism, 3);
  EXPECT_TRUE(AnyReason(p, "memory limit unknown"));
  cfg.cluster.memory_hard_limit = 2 * kGiB;  // a hard limit alone is a budget
  p = PlanResources(Env(3, 0), cfg);
  EXPECT_EQ(p.memory_budget, 2 * kGiB);
  EXPECT_GT(p.backpressure_at, 0);
}

TEST(ResourcesTest, EngineSettingSpelling) {
  EXPECT_EQ(EngineMemorySetting(1536 * kMiB), "1536MiB");
  EXPECT_EQ(EngineMemorySetting(10), "1MiB");
}

}  // namespace
}  // namespace dl::cluster
