// Health levels with reasons, and recommendations computed from the measured figures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dl/cluster/health.hpp"
#include "dl/cluster/tests/fake_root.hpp"

namespace dl::cluster {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kGiB = int64_t{1} << 30;

struct Fixture {
  config::LoaderConfig cfg;
  Environment env;
  ResourcePlan plan;
  HealthInput in;
  Fixture() {
    env.host_cores = env.cpu_cores = 4;
    env.host_memory = env.memory_limit = 16 * kGiB;
    env.host_memory_available = 12 * kGiB;
    plan = PlanResources(env, cfg);
    in.config = &cfg;
    in.environment = &env;
    in.plan = &plan;
  }
  HealthReport Eval() {
    in.plan = &plan;
    return EvaluateHealth(in);
  }
};

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(HealthTest, OkWithNothingToSay) {
  Fixture f;
  f.in.disks.push_back({"checkpoint_path", {"/c", 50 * kGiB, 100 * kGiB}});
  f.in.tables.push_back({"db.t", "/p/db/t", true, 10, 10 * kGiB, 0, 10, 0});
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kOk);
  EXPECT_THAT(h.reasons, IsEmpty());
  EXPECT_THAT(h.recommendations, IsEmpty());
}

TEST(HealthTest, MemoryPressureFromTheCgroup) {
  Fixture f;
  f.env.cgroup.memory_limit = 2 * kGiB;
  f.env.cgroup.memory_usage = 2 * kGiB - (50 << 20);  // 97.6%
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kCritical);
  ASSERT_EQ(h.reasons.size(), 1u);
  EXPECT_EQ(h.reasons[0].check, "memory");
  EXPECT_THAT(h.reasons[0].message, HasSubstr("the container uses"));
  f.env.cgroup.memory_usage = 2 * kGiB * 88 / 100;
  EXPECT_EQ(f.Eval().level, HealthLevel::kWarning);
}

TEST(HealthTest, LowDiskWarningThenCritical) {
  Fixture f;
  f.in.disks.push_back({"processed_data_path", {"/p", 8 * kGiB, 100 * kGiB}});
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kWarning);
  EXPECT_THAT(h.reasons[0].message, HasSubstr("low disk space under processed_data_path (/p)"));
  EXPECT_THAT(Joined(h.recommendations), HasSubstr("free space under /p"));
  f.in.disks[0].disk.free_bytes = 4 * kGiB;
  EXPECT_EQ(f.Eval().level, HealthLevel::kCritical);
}

TEST(HealthTest, FailedFileRatio) {
  Fixture f;
  f.in.tables.push_back({"db.a", "/p/db/a", true, 5, kGiB, 0, 90, 10});  // 10%
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kWarning);
  EXPECT_THAT(h.reasons[0].message, HasSubstr("10 of 100 tracked files failed (10.0%)"));
  EXPECT_THAT(Joined(h.recommendations), HasSubstr("db.a: 10 file(s) failed"));
  f.in.tables[0].files_failed = 50;
  EXPECT_EQ(f.Eval().level, HealthLevel::kCritical);
}

TEST(HealthTest, AnUnreadableTableIsAWarning) {
  Fixture f;
  cluster::TableFacts t;
  t.name = "db.bad";
  t.error = "CorruptLog: 00000000000000000000.json is not JSON";
  f.in.tables.push_back(t);
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kWarning);
  EXPECT_EQ(h.reasons[0].check, "tables");
  EXPECT_THAT(h.reasons[0].message, HasSubstr("db.bad: CorruptLog"));
}

TEST(HealthTest, SmallFilesRecommendOptimize) {
  Fixture f;
  f.in.tables.push_back({"db.s", "/p/db/s", true, 500, 500 << 10, 500, 500, 0});
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kOk);
  EXPECT_THAT(Joined(h.recommendations),
              HasSubstr("db.s: 500 of its 500 data files are under 16.0 MiB (average 1.0 KiB)"));
  f.in.tables[0].small_files = 10;  // below small_files_min
  EXPECT_THAT(f.Eval().recommendations, IsEmpty());
}

TEST(HealthTest, RowsHiddenByDeletionVectorsRecommendOptimize) {
  Fixture f;
  f.in.tables.push_back({"db.d", "/p/db/d", true, 4, 4 << 30, 0, 4, 0});
  f.in.tables[0].rows = 1000;
  f.in.tables[0].deleted_rows = 99;  // under 10%: nothing to say
  EXPECT_THAT(f.Eval().recommendations, IsEmpty());
  f.in.tables[0].deleted_rows = 250;
  EXPECT_THAT(Joined(f.Eval().recommendations),
              HasSubstr("db.d: 25% of the rows in its files are deleted by deletion vectors; "
                        "`data_loader table optimize /p/db/d`"));
}

TEST(HealthTest, DependencyStates) {
  Fixture f;
  f.in.dependencies = {{"file:/x", "waiting", "the file does not exist yet"}};
  EXPECT_EQ(f.Eval().level, HealthLevel::kWarning);
  f.in.dependencies.push_back({"job:1", "timeout", "waited 600 s"});
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kCritical);
  EXPECT_THAT(h.reasons[1].message, HasSubstr("dependency job:1 timeout"));
}

TEST(HealthTest, PlanAndLastRunRecommendations) {
  Fixture f;
  f.env.memory_limit = 1 * kGiB;  // memory caps parallelism at 1 of 4
  f.plan = PlanResources(f.env, f.cfg);
  monitoring::ResourceMetrics last;
  last.samples = 10;
  last.memory_budget_bytes = f.plan.memory_budget;
  last.backpressure_at_bytes = f.plan.backpressure_at;
  last.rss_peak_bytes = f.plan.backpressure_at + 1;
  last.backpressure_pauses = 3;
  last.backpressure_seconds = 1.5;
  f.in.last_run = last;
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kWarning);
  std::string recs = Joined(h.recommendations);
  EXPECT_THAT(recs, HasSubstr("parallelism is capped by memory at 1 (the 4 CPU(s) allow 4)"));
  EXPECT_THAT(recs, HasSubstr("held back new batches 3 time(s) for 1.5 s"));
}

TEST(HealthTest, LastRunFarBelowBudgetSuggestsSmallerJobEstimate) {
  Fixture f;
  f.env.memory_limit = 1 * kGiB;
  f.plan = PlanResources(f.env, f.cfg);
  monitoring::ResourceMetrics last;
  last.samples = 5;
  last.memory_budget_bytes = f.plan.memory_budget;
  last.rss_peak_bytes = 100 << 20;
  f.in.last_run = last;
  HealthReport h = f.Eval();
  EXPECT_EQ(h.level, HealthLevel::kOk);
  EXPECT_THAT(Joined(h.recommendations),
              HasSubstr("peaked at 100.0 MiB of a 768.0 MiB budget while memory caps parallelism "
                        "at 1: a smaller cluster.memory_per_job (512.0 MiB now)"));
}

TEST(HealthTest, ConfigParallelismAboveCpus) {
  Fixture f;
  f.cfg.max_parallel_jobs = 16;
  f.cfg.max_parallel_jobs_given = true;
  f.plan = PlanResources(f.env, f.cfg);
  EXPECT_THAT(Joined(f.Eval().recommendations),
              HasSubstr("max_parallel_jobs 16 is above the 4 CPU(s) available"));
}

TEST(LastRunTest, ReadsNewestMonitoredRun) {
  testing::FakeRoot dir;
  dir.Write("/run-20261201T000000Z-a.json", R"({"resources": {"rss_peak_bytes": 1}})");
  dir.Write("/run-20261202T000000Z-b.json", R"({"resources": {"rss_peak_bytes": 2}})");
  dir.Write("/run-20261203T000000Z-c.json", R"({"tables": []})");  // a plain run
  dir.Write("/run-20261204T000000Z-d.json", "not json");
  auto r = LastRunResources(dir.path());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rss_peak_bytes, 2);
  EXPECT_FALSE(LastRunResources(dir.path() + "/missing"));
}

}  // namespace
}  // namespace dl::cluster
