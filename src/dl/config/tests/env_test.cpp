#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "dl/config/loader_config.hpp"
#include "dl/config/yaml_reader_internal.hpp"

namespace dl::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("DL_TEST_ROOT", "/data", 1);
    setenv("DL_TEST_TOKEN", "s3cr3t-token", 1);
    setenv("DL_TEST_EMPTY", "", 1);
    unsetenv("DL_TEST_UNSET");
  }
  void TearDown() override {
    for (const char* v : {"DL_TEST_ROOT", "DL_TEST_TOKEN", "DL_TEST_EMPTY"}) unsetenv(v);
  }
};

TEST_F(EnvTest, Interpolate) {
  bool expanded = false;
  EXPECT_EQ(*internal::Interpolate("${DL_TEST_ROOT}/raw", &expanded), "/data/raw");
  EXPECT_TRUE(expanded);
  expanded = false;
  EXPECT_EQ(*internal::Interpolate("/plain/$path", &expanded), "/plain/$path");
  EXPECT_FALSE(expanded);
  EXPECT_EQ(*internal::Interpolate("$${DL_TEST_ROOT}", &expanded), "${DL_TEST_ROOT}");
  EXPECT_FALSE(expanded);
  EXPECT_EQ(*internal::Interpolate("${DL_TEST_UNSET:-/fallback}", &expanded), "/fallback");
  EXPECT_EQ(*internal::Interpolate("${DL_TEST_EMPTY:-d}", &expanded), "d");
  EXPECT_EQ(*internal::Interpolate("${DL_TEST_EMPTY}", &expanded), "");
  EXPECT_EQ(*internal::Interpolate("${DL_TEST_UNSET:-}", &expanded), "");
  EXPECT_EQ(*internal::Interpolate("a${DL_TEST_ROOT}b${DL_TEST_ROOT}", &expanded), "a/datab/data");
  EXPECT_THAT(internal::Interpolate("${DL_TEST_UNSET}", &expanded).status().message(),
              HasSubstr("environment variable 'DL_TEST_UNSET' is not set"));
  EXPECT_THAT(internal::Interpolate("${DL_TEST_ROOT", &expanded).status().message(),
              HasSubstr("unterminated '${'"));
  EXPECT_THAT(internal::Interpolate("${1BAD}", &expanded).status().message(),
              HasSubstr("'${1BAD}' is not a valid environment variable reference"));
}

TEST_F(EnvTest, UnsetVariableNamesKeyAndVariable) {
  auto r = LoadConfigText(R"(raw_data_path: /r
processed_data_path: /p
checkpoint_path: /c
tables:
  - table_name: t
    database_name: d
    source_path_pattern: ${DL_TEST_UNSET}/x/*.csv
)",
                          "config.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "config.yaml:7: tables[0].source_path_pattern: environment variable 'DL_TEST_UNSET' "
            "is not set (use ${DL_TEST_UNSET:-default} to give a default)");
}

TEST_F(EnvTest, ValuesAreInterpolatedAndRemembered) {
  auto r = LoadConfigText(R"(raw_data_path: ${DL_TEST_ROOT}/raw
processed_data_path: ${DL_TEST_UNSET:-/processed}
checkpoint_path: /c
max_parallel_jobs: ${DL_TEST_UNSET:-7}
unity_catalog_url: https://uc.example.com/?token=${DL_TEST_TOKEN}
max_bytes_per_batch: ${DL_TEST_UNSET:-2GB}
tables:
  - table_name: t
    database_name: d
    source_path_pattern: customers/*.csv
    primary_keys: [id, "${DL_TEST_UNSET:-k2}"]
    file_format: csv
    csv_options:
      columns:
        id: ${DL_TEST_UNSET:-BIGINT}
)",
                          "config.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->raw_data_path, "/data/raw");
  EXPECT_EQ(r->processed_data_path, "/processed");
  EXPECT_EQ(r->max_parallel_jobs, 7);
  EXPECT_EQ(*r->unity_catalog_url, "https://uc.example.com/?token=s3cr3t-token");
  EXPECT_EQ(r->tables[0].source_path_pattern, "/data/raw/customers/*.csv");
  EXPECT_EQ(r->tables[0].primary_keys, (std::vector<std::string>{"id", "k2"}));
  EXPECT_EQ(r->tables[0].max_bytes_per_batch, 2 * kGiB);
  EXPECT_EQ(r->env_keys, (std::set<std::string>{
                             "raw_data_path", "processed_data_path", "max_parallel_jobs",
                             "unity_catalog_url", "max_bytes_per_batch",
                             "tables[0].max_bytes_per_batch", "tables[0].source_path_pattern",
                             "tables[0].primary_keys[1]", "tables[0].csv_options.columns.id"}));

  std::string json = ToRedactedJson(*r);
  EXPECT_THAT(json, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(json, Not(HasSubstr("/data")));
  auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["unity_catalog_url"], "***");
  EXPECT_EQ(j["raw_data_path"], "***");
  EXPECT_EQ(j["max_parallel_jobs"], "***");
  EXPECT_EQ(j["checkpoint_path"], "/c");
  EXPECT_EQ(j["tables"][0]["source_path_pattern"], "***");
  EXPECT_EQ(j["tables"][0]["primary_keys"], (nlohmann::json{"id", "***"}));
  EXPECT_EQ(j["tables"][0]["csv_options"]["columns"]["id"], "***");
  EXPECT_EQ(j["tables"][0]["max_bytes_per_batch"], "***");
  EXPECT_EQ(j["tables"][0]["table_name"], "t");

  // Output derived from those values (table paths, patterns) masks them too.
  // Defaults after :- are the config's own text, not the environment's.
  EXPECT_EQ(r->env_values, (std::set<std::string>{"/data", "s3cr3t-token"}));
  EXPECT_EQ(RedactEnvValues(*r, TablePath(*r, r->tables[0]) + " <- " +
                                    r->tables[0].source_path_pattern + " " + *r->unity_catalog_url),
            "/processed/" + r->tables[0].database_name + "/" + r->tables[0].table_name +
                " <- ***/raw/customers/*.csv https://uc.example.com/?token=***");
}

TEST_F(EnvTest, RedactEnvValuesMasksLongestFirstAndSkipsTinyValues) {
  LoaderConfig cfg;
  cfg.env_values = {"ab", "/data", "/data/raw-secret"};
  // Values under 4 characters would mask ordinary text (a "12" of max_parallel_jobs).
  EXPECT_EQ(RedactEnvValues(cfg, "ab /data/raw-secret/x and /data/y"), "ab ***/x and ***/y");
  EXPECT_EQ(RedactEnvValues(cfg, "/data/data"), "******");
}

TEST_F(EnvTest, RedactedJsonOfPlainConfigHasEverything) {
  auto r = LoadConfigText(ExampleConfig("/demo"), "example.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto j = nlohmann::json::parse(ToRedactedJson(*r));
  EXPECT_EQ(j["processed_data_path"], "/demo/processed");
  EXPECT_EQ(j["log_level"], "INFO");
  EXPECT_EQ(j["tables"].size(), 3u);
  EXPECT_EQ(j["tables"][0]["loading_strategy"], "scd2");
  EXPECT_EQ(j["tables"][0]["csv_options"]["delimiter"], ",");
  EXPECT_EQ(j["tables"][1]["dedup"], true);
  EXPECT_EQ(j["tables"][2]["schema_evolution_mode"], "rescue");
  EXPECT_EQ(j["tables"][2]["json_options"]["format"], "auto");
  EXPECT_THAT(ToRedactedJson(*r), Not(HasSubstr("***")));
}

}  // namespace
}  // namespace dl::config
