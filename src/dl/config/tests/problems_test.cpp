// The problems of a refused config as (line, key path, message) records: what the Python
// package's ConfigError carries, with the same messages as the Status.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/config/loader_config.hpp"

namespace dl::config {
namespace {

using ::testing::HasSubstr;

constexpr const char* kHead = "raw_data_path: /r\nprocessed_data_path: /p\n";
constexpr const char* kTable =
    "tables:\n  - table_name: t\n    database_name: d\n    source_path_pattern: /r/*\n";

TEST(ConfigProblemsTest, EachProblemHasLineKeyPathAndMessage) {
  std::string yaml =
      std::string(kHead) + kTable + "    loading_strategy: scd3\n    max_files_per_bach: 2\n";
  std::vector<ConfigProblem> problems;
  auto cfg = LoadConfigText(yaml, "c.yaml", &problems);
  ASSERT_FALSE(cfg.ok());
  ASSERT_EQ(problems.size(), 3u) << cfg.status().ToString();
  // Sorted by line as the Status is; a missing key has no line of its own (the map's).
  EXPECT_EQ(problems[0].path, "checkpoint_path");
  EXPECT_EQ(problems[0].line, 1);
  EXPECT_EQ(problems[0].message, "required key 'checkpoint_path' is missing");
  EXPECT_EQ(problems[1].line, 7);
  EXPECT_EQ(problems[1].path, "tables[0].loading_strategy");
  EXPECT_THAT(problems[1].message, HasSubstr("'scd3'"));
  EXPECT_EQ(problems[2].line, 8);
  EXPECT_EQ(problems[2].path, "tables[0].max_files_per_bach");
  EXPECT_THAT(problems[2].message, HasSubstr("unknown key 'max_files_per_bach'"));
  // The Status says the same, formatted: source:line: map path: message.
  EXPECT_THAT(cfg.status().message(),
              HasSubstr("c.yaml:7: tables[0].loading_strategy: " + problems[1].message));
  EXPECT_THAT(cfg.status().message(), HasSubstr("c.yaml:8: tables[0]: unknown key"));
}

TEST(ConfigProblemsTest, SyntaxErrorHasItsLine) {
  std::vector<ConfigProblem> problems;
  auto cfg = LoadConfigText(std::string(kHead) + "checkpoint_path: [\n", "c.yaml", &problems);
  ASSERT_FALSE(cfg.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_GT(problems[0].line, 0);
  EXPECT_EQ(problems[0].path, "");
  EXPECT_THAT(problems[0].message, HasSubstr("YAML syntax error"));
}

TEST(ConfigProblemsTest, NoneForAGoodConfig) {
  std::vector<ConfigProblem> problems;
  auto cfg =
      LoadConfigText(std::string(kHead) + "checkpoint_path: /c\n" + kTable, "c.yaml", &problems);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(problems.empty());
}

}  // namespace
}  // namespace dl::config
