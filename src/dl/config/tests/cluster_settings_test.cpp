// Cluster mode's `cluster:` block: parsing, defaults, validation naming key and line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/config/loader_config.hpp"

namespace dl::config {
namespace {

using ::testing::HasSubstr;

constexpr const char* kBase =
    "raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\n"
    "tables:\n  - table_name: t\n    database_name: d\n    source_path_pattern: /r/*\n";

TEST(ClusterSettingsTest, DefaultsWhenAbsent) {
  auto cfg = LoadConfigText(kBase, "config.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->cluster.environment, "auto");
  EXPECT_EQ(cfg->cluster.system_root, "/");
  EXPECT_FALSE(cfg->cluster.cpu_cores);
  EXPECT_EQ(cfg->cluster.memory_budget_percent, 75);
  EXPECT_FALSE(cfg->max_parallel_jobs_given);
}

TEST(ClusterSettingsTest, ParsesEveryKey) {
  std::string yaml = std::string(kBase) +
                     "max_parallel_jobs: 3\n"
                     "cluster:\n  environment: Container\n  system_root: /fake\n"
                     "  cpu_cores: 6\n  memory_limit: 8GiB\n  cluster_name: etl\n"
                     "  engine_threads: 5\n  engine_memory_limit: 2GiB\n"
                     "  memory_budget_percent: 50\n  memory_per_job: 256MiB\n"
                     "  backpressure_percent: 80\n  memory_hard_limit: 6GiB\n"
                     "  monitoring_interval_ms: 50\n  min_free_disk_percent: 20\n"
                     "  small_file_bytes: 1MiB\n  small_files_min: 10\n";
  auto cfg = LoadConfigText(yaml, "config.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const ClusterSettings& c = cfg->cluster;
  EXPECT_TRUE(cfg->max_parallel_jobs_given);
  EXPECT_EQ(c.environment, "container");
  EXPECT_EQ(c.system_root, "/fake");
  EXPECT_EQ(c.cpu_cores, 6);
  EXPECT_EQ(c.memory_limit, 8 * kGiB);
  EXPECT_EQ(c.cluster_name, "etl");
  EXPECT_EQ(c.engine_threads, 5);
  EXPECT_EQ(c.engine_memory_limit, 2 * kGiB);
  EXPECT_EQ(c.memory_budget_percent, 50);
  EXPECT_EQ(c.memory_per_job, 256 << 20);
  EXPECT_EQ(c.backpressure_percent, 80);
  EXPECT_EQ(c.memory_hard_limit, 6 * kGiB);
  EXPECT_EQ(c.monitoring_interval_ms, 50);
  EXPECT_EQ(c.min_free_disk_percent, 20);
  EXPECT_EQ(c.small_file_bytes, 1 << 20);
  EXPECT_EQ(c.small_files_min, 10);
  EXPECT_THAT(ToRedactedJson(*cfg), HasSubstr("\"memory_hard_limit\": 6442450944"));
}

TEST(ClusterSettingsTest, ErrorsNameKeyAndLine) {
  auto errors = [](const std::string& cluster) {
    auto r = LoadConfigText(std::string(kBase) + "cluster:\n" + cluster, "config.yaml");
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(errors("  environment: cloud\n"),
            "config.yaml:9: cluster.environment: 'cloud' is not one of auto, databricks, "
            "container, host");
  EXPECT_THAT(errors("  cpu_cores: 0\n"), HasSubstr("config.yaml:9: cluster.cpu_cores"));
  EXPECT_THAT(errors("  memory_limit: lots\n"), HasSubstr("cluster.memory_limit: expected a size"));
  EXPECT_THAT(errors("  backpressure_percent: 150\n"), HasSubstr("cluster.backpressure_percent"));
  EXPECT_THAT(errors("  memory_hard_limit: 1GiB\n  engine_memory_limit: 2GiB\n"),
              HasSubstr("cluster.engine_memory_limit: must not exceed memory_hard_limit"));
  EXPECT_EQ(errors("  memroy_limit: 1GiB\n"),
            "config.yaml:9: cluster: unknown key 'memroy_limit' (did you mean 'memory_limit'?)");
  auto r = LoadConfigText(std::string(kBase) + "cluster: 4\n", "config.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("cluster: expected a mapping of options"));
}

}  // namespace
}  // namespace dl::config
