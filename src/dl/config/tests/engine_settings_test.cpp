// `engine:` (global default and per table) and `spark: {remote: ...}`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/config/loader_config.hpp"

namespace dl::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kRoot = "raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\n";
constexpr const char* kTables =
    "tables:\n"
    "  - table_name: a\n    database_name: d\n    source_path_pattern: /r/a/*\n"
    "  - table_name: b\n    database_name: d\n    source_path_pattern: /r/b/*\n"
    "    engine: duckdb\n";

TEST(EngineSettingsTest, DuckdbByDefault) {
  auto cfg = LoadConfigText(std::string(kRoot) + kTables, "config.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->tables[0].engine, EngineKind::kDuckdb);
  EXPECT_TRUE(cfg->spark_remote.empty());
}

TEST(EngineSettingsTest, GlobalDefaultAndTableOverride) {
  auto cfg = LoadConfigText(std::string(kRoot) + "engine: spark\n" + kTables, "config.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->tables[0].engine, EngineKind::kSpark);
  EXPECT_EQ(cfg->tables[0].engine_key, "engine");
  EXPECT_EQ(cfg->tables[1].engine, EngineKind::kDuckdb);
  EXPECT_EQ(cfg->tables[1].engine_key, "tables[1].engine");
}

TEST(EngineSettingsTest, UnknownEngineNamesKeyAndLine) {
  auto cfg = LoadConfigText(std::string(kRoot) + "engine: flink\n" + kTables, "config.yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), StatusCode::kConfig);
  EXPECT_THAT(cfg.status().message(), HasSubstr("config.yaml:4: engine"));
  EXPECT_THAT(cfg.status().message(), HasSubstr("flink"));
}

TEST(EngineSettingsTest, SparkRemoteWithEnvTokenIsMasked) {
  setenv("DL_TEST_SPARK_TOKEN", "s3cret-tok", 1);
  auto cfg = LoadConfigText(std::string(kRoot) +
                                "spark:\n  remote: \"sc://h:443/;token=${DL_TEST_SPARK_TOKEN};"
                                "x-databricks-cluster-id=c1\"\n" +
                                kTables,
                            "config.yaml");
  unsetenv("DL_TEST_SPARK_TOKEN");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->spark_remote, "sc://h:443/;token=s3cret-tok;x-databricks-cluster-id=c1");
  EXPECT_THAT(RedactEnvValues(*cfg, cfg->spark_remote), Not(HasSubstr("s3cret-tok")));
}

TEST(EngineSettingsTest, LiteralTokenIsMaskedToo) {
  auto cfg = LoadConfigText(
      std::string(kRoot) + "spark:\n  remote: \"sc://h/;token=literal-tok\"\n" + kTables,
      "config.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_THAT(RedactEnvValues(*cfg, "remote " + cfg->spark_remote), Not(HasSubstr("literal-tok")));
}

TEST(EngineSettingsTest, SparkKeysAreChecked) {
  auto unknown =
      LoadConfigText(std::string(kRoot) + "spark:\n  remot: sc://h\n" + kTables, "config.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("spark: unknown key 'remot' (did you mean 'remote'?)"));
  auto in_table =
      LoadConfigText(std::string(kRoot) + kTables + "    spark: {remote: sc://h}\n", "config.yaml");
  ASSERT_FALSE(in_table.ok());
  EXPECT_THAT(in_table.status().message(),
              HasSubstr("tables[1]: unknown key 'spark' here (it belongs at the top level)"));
}

}  // namespace
}  // namespace dl::config
