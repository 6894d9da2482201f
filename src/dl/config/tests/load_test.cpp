#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "dl/config/loader_config.hpp"

namespace dl::config {
namespace {

// The "Example Configuration" of original-description.md, verbatim.
constexpr const char* kOriginalExample = R"(raw_data_path: /mnt/raw/
processed_data_path: /mnt/processed/
checkpoint_path: /mnt/checkpoints/
file_tracker_table: file_processing_tracker
file_tracker_database: metadata
max_parallel_jobs: 4
retry_attempts: 3
timeout_minutes: 60
log_level: INFO
enable_metrics: true
tables:
  - table_name: customers
    database_name: analytics
    source_path_pattern: /mnt/raw/customers/*.parquet
    loading_strategy: scd2
    primary_keys:
      - customer_id
    tracking_columns:
      - name
      - email
      - address
    file_format: parquet
    schema_evolution: true
    partition_columns:
      - date_partition
  - table_name: transactions
    database_name: analytics
    source_path_pattern: /mnt/raw/transactions/*.parquet
    loading_strategy: append
    file_format: parquet
    schema_evolution: true
    partition_columns:
      - transaction_date
)";

TEST(LoadTest, OriginalExampleLoadsUnchanged) {
  auto r = LoadConfigText(kOriginalExample, "config.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const LoaderConfig& c = *r;
  EXPECT_EQ(c.raw_data_path, "/mnt/raw/");
  EXPECT_EQ(c.processed_data_path, "/mnt/processed/");
  EXPECT_EQ(c.checkpoint_path, "/mnt/checkpoints/");
  EXPECT_EQ(c.file_tracker_table, "file_processing_tracker");
  EXPECT_EQ(c.file_tracker_database, "metadata");
  EXPECT_EQ(c.max_parallel_jobs, 4);
  EXPECT_EQ(c.retry_attempts, 3);
  EXPECT_EQ(c.timeout_minutes, 60);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_TRUE(c.enable_metrics);
  ASSERT_EQ(c.tables.size(), 2u);
  const TableConfig& cu = c.tables[0];
  EXPECT_EQ(cu.table_name, "customers");
  EXPECT_EQ(cu.database_name, "analytics");
  EXPECT_EQ(cu.source_path_pattern, "/mnt/raw/customers/*.parquet");
  EXPECT_EQ(cu.loading_strategy, LoadingStrategy::kScd2);
  EXPECT_EQ(cu.primary_keys, std::vector<std::string>{"customer_id"});
  EXPECT_EQ(cu.tracking_columns, (std::vector<std::string>{"name", "email", "address"}));
  EXPECT_EQ(cu.file_format, FileFormat::kParquet);
  EXPECT_TRUE(cu.schema_evolution);
  EXPECT_EQ(cu.schema_evolution_mode, SchemaEvolutionMode::kAddNewColumns);
  EXPECT_EQ(cu.partition_columns, std::vector<std::string>{"date_partition"});
  EXPECT_EQ(cu.scd2_effective_date_column, "effective_date");
  EXPECT_EQ(cu.scd2_end_date_column, "end_date");
  EXPECT_EQ(cu.scd2_current_flag_column, "is_current");
  EXPECT_EQ(cu.line, 12);
  const TableConfig& tx = c.tables[1];
  EXPECT_EQ(tx.table_name, "transactions");
  EXPECT_EQ(tx.loading_strategy, LoadingStrategy::kAppend);
  EXPECT_EQ(tx.partition_columns, std::vector<std::string>{"transaction_date"});
  EXPECT_EQ(tx.line, 26);
  EXPECT_EQ(TablePath(c, cu), "/mnt/processed/analytics/customers");
  EXPECT_EQ(TrackerPath(c), "/mnt/processed/metadata/file_processing_tracker");
  EXPECT_EQ(c.source_name, "config.yaml");
  EXPECT_TRUE(c.env_keys.empty());
}

TEST(LoadTest, Defaults) {
  auto r = LoadConfigText(R"(
raw_data_path: /r
processed_data_path: /p
checkpoint_path: /c
tables:
  - {table_name: t, database_name: d, source_path_pattern: /r/*.parquet}
)",
                          "inline");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const LoaderConfig& c = *r;
  EXPECT_EQ(c.file_tracker_table, "file_processing_tracker");
  EXPECT_EQ(c.file_tracker_database, "metadata");
  EXPECT_EQ(c.max_parallel_jobs, 4);
  EXPECT_EQ(c.retry_attempts, 3);
  EXPECT_EQ(c.timeout_minutes, 60);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_TRUE(c.enable_metrics);
  EXPECT_FALSE(c.use_unity_catalog);
  const TableConfig& t = c.tables[0];
  EXPECT_EQ(t.loading_strategy, LoadingStrategy::kAppend);
  EXPECT_EQ(t.file_format, FileFormat::kParquet);
  EXPECT_TRUE(t.schema_evolution);
  EXPECT_EQ(t.schema_evolution_mode, SchemaEvolutionMode::kAddNewColumns);
  EXPECT_EQ(t.rescued_data_column, "_rescued_data");
  EXPECT_EQ(t.max_files_per_batch, 1000);
  EXPECT_EQ(t.max_bytes_per_batch, kGiB);
  EXPECT_EQ(t.min_file_age_seconds, 0);
  EXPECT_FALSE(t.allow_overwrites);
  EXPECT_TRUE(t.audit_columns.enabled);
  EXPECT_EQ(t.audit_columns.load_timestamp, "_load_timestamp");
  EXPECT_EQ(t.audit_columns.source_file, "_source_file");
  EXPECT_EQ(t.audit_columns.batch_id, "_batch_id");
  EXPECT_FALSE(t.dedup);
  EXPECT_EQ(t.on_bad_rows, OnBadRows::kFail);
  EXPECT_TRUE(t.csv.header);
  EXPECT_FALSE(t.csv.delimiter.has_value());
  EXPECT_EQ(t.csv.encoding, "utf-8");
  EXPECT_TRUE(t.csv.multi_line);
  EXPECT_EQ(t.json.format, JsonFormat::kAuto);
  EXPECT_EQ(t.overwrite_mode, OverwriteMode::kStatic);
  EXPECT_EQ(t.when_not_matched_by_source, WhenNotMatchedBySource::kKeep);
}

constexpr const char* kHeader = "raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\n";

Result<LoaderConfig> LoadTable(const std::string& table_yaml, const std::string& extra = "") {
  return LoadConfigText(std::string(kHeader) + extra + "tables:\n  - table_name: t\n" +
                            "    database_name: d\n    source_path_pattern: /r/*\n" + table_yaml,
                        "c.yaml");
}

TEST(LoadTest, AllAdditions) {
  auto r = LoadTable(R"(    file_format: csv
    csv_options:
      header: false
      delimiter: "\t"
      quote: "'"
      escape: "\\"
      null_value: NA
      encoding: Latin1
      multi_line: false
      columns:
        id: BIGINT
        amount: DECIMAL(10,2)
        tags: VARCHAR[]
    max_files_per_batch: 50
    max_bytes_per_batch: 512MB
    min_file_age_seconds: 30
    allow_overwrites: yes
    audit_columns:
      enabled: true
      load_timestamp: loaded_at
      source_file: src
      batch_id: bid
    dedup_keys: [id]
    schema_evolution: false
    on_bad_rows: quarantine
)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const TableConfig& t = r->tables[0];
  EXPECT_FALSE(t.csv.header);
  EXPECT_EQ(*t.csv.delimiter, "\t");
  EXPECT_EQ(*t.csv.quote, "'");
  EXPECT_EQ(*t.csv.escape, "\\");
  EXPECT_EQ(*t.csv.null_value, "NA");
  EXPECT_EQ(t.csv.encoding, "latin-1");
  EXPECT_FALSE(t.csv.multi_line);
  EXPECT_EQ(t.csv.columns,
            (std::vector<ColumnSpec>{
                {"id", "BIGINT"}, {"amount", "DECIMAL(10,2)"}, {"tags", "VARCHAR[]"}}));
  EXPECT_EQ(t.max_files_per_batch, 50);
  EXPECT_EQ(t.max_bytes_per_batch, 512 << 20);
  EXPECT_EQ(t.min_file_age_seconds, 30);
  EXPECT_TRUE(t.allow_overwrites);
  EXPECT_EQ(t.audit_columns.load_timestamp, "loaded_at");
  EXPECT_EQ(t.audit_columns.source_file, "src");
  EXPECT_EQ(t.audit_columns.batch_id, "bid");
  EXPECT_TRUE(t.dedup);  // implied by dedup_keys
  EXPECT_EQ(t.dedup_keys, std::vector<std::string>{"id"});
  EXPECT_EQ(t.schema_evolution_mode, SchemaEvolutionMode::kFailOnNewColumns);
  EXPECT_EQ(t.on_bad_rows, OnBadRows::kQuarantine);
}

TEST(LoadTest, SchemaEvolutionModeExplicitWins) {
  auto r = LoadTable(
      "    schema_evolution: false\n    schema_evolution_mode: rescue\n"
      "    rescued_data_column: _extra\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables[0].schema_evolution_mode, SchemaEvolutionMode::kRescue);
  EXPECT_EQ(r->tables[0].rescued_data_column, "_extra");
  r = LoadTable("    schema_evolution: true\n    schema_evolution_mode: NONE\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables[0].schema_evolution_mode, SchemaEvolutionMode::kNone);
}

TEST(LoadTest, JsonOptionsAndAuditShorthand) {
  auto r = LoadTable(
      "    file_format: json\n    json_options: {format: lines, columns: {a: INT}}\n"
      "    audit_columns: false\n    dedup: true\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const TableConfig& t = r->tables[0];
  EXPECT_EQ(t.json.format, JsonFormat::kLines);
  EXPECT_EQ(t.json.columns, (std::vector<ColumnSpec>{{"a", "INT"}}));
  EXPECT_FALSE(t.audit_columns.enabled);
  EXPECT_TRUE(t.dedup);
  EXPECT_TRUE(t.dedup_keys.empty());
}

TEST(LoadTest, StrategyOptions) {
  auto r = LoadTable(R"(    loading_strategy: scd2
    primary_keys: [id]
    sequence_column: updated_at
    delete_condition: "op = 'D'"
    retire_absent_keys: true
    scd2_open_end_value: "9999-12-31"
)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const TableConfig& s = r->tables[0];
  EXPECT_EQ(*s.sequence_column, "updated_at");
  EXPECT_EQ(*s.delete_condition, "op = 'D'");
  EXPECT_TRUE(s.retire_absent_keys);
  EXPECT_EQ(*s.scd2_open_end_value, "9999-12-31");

  r = LoadTable(R"(    loading_strategy: merge
    primary_keys: [id]
    merge_condition: source.updated_at > target.updated_at
    except_columns: [created_at]
    when_not_matched_by_source: delete
)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->tables[0].merge_condition, "source.updated_at > target.updated_at");
  EXPECT_EQ(r->tables[0].except_columns, std::vector<std::string>{"created_at"});
  EXPECT_EQ(r->tables[0].when_not_matched_by_source, WhenNotMatchedBySource::kDelete);

  r = LoadTable(
      "    loading_strategy: overwrite\n    overwrite_mode: dynamic\n"
      "    partition_columns: [day]\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables[0].overwrite_mode, OverwriteMode::kDynamic);
  r = LoadTable("    loading_strategy: overwrite\n    replace_where: \"day >= '2024-01-01'\"\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->tables[0].replace_where, "day >= '2024-01-01'");
}

TEST(LoadTest, TableProperties) {
  auto r = LoadTable(
      "    table_properties:\n      delta.enableDeletionVectors: true\n"
      "      delta.logRetentionDuration: interval 30 days\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables[0].table_properties,
            (std::map<std::string, std::string>{{"delta.enableDeletionVectors", "true"},
                                                {"delta.logRetentionDuration", "interval 30 days"}}));
}

TEST(LoadTest, TableDefaultsAtTopLevel) {
  auto r = LoadConfigText(std::string(kHeader) + R"(max_files_per_batch: 10
max_bytes_per_batch: 1k
min_file_age_seconds: 5
allow_overwrites: true
on_bad_rows: quarantine
tables:
  - {table_name: a, database_name: d, source_path_pattern: /r/a/*}
  - {table_name: b, database_name: d, source_path_pattern: /r/b/*, max_files_per_batch: 3}
)",
                          "c.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables[0].max_files_per_batch, 10);
  EXPECT_EQ(r->tables[1].max_files_per_batch, 3);
  EXPECT_EQ(r->tables[1].max_bytes_per_batch, 1024);
  EXPECT_EQ(r->tables[1].min_file_age_seconds, 5);
  EXPECT_TRUE(r->tables[1].allow_overwrites);
  EXPECT_EQ(r->tables[0].on_bad_rows, OnBadRows::kQuarantine);
}

TEST(LoadTest, ClusterKeys) {
  auto r = LoadConfigText(std::string(kHeader) + R"(use_unity_catalog: true
default_catalog: production
unity_catalog_url: http://localhost:8080
upstream_dependencies: ["job:123456", "table:bronze.raw_events", "file:/mnt/config/ready.flag"]
downstream_notifications: ["webhook:https://hooks.slack.com/x", "job:654321"]
tables:
  - {table_name: t, database_name: sales, source_path_pattern: /r/*}
  - {table_name: t, database_name: other.sales, source_path_pattern: /r/*}
)",
                          "c.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->use_unity_catalog);
  EXPECT_EQ(*r->default_catalog, "production");
  EXPECT_EQ(*r->unity_catalog_url, "http://localhost:8080");
  EXPECT_EQ(r->upstream_dependencies.size(), 3u);
  EXPECT_EQ(r->downstream_notifications.size(), 2u);
  EXPECT_EQ(TablePath(*r, r->tables[0]), "/p/production/sales/t");
  EXPECT_EQ(TablePath(*r, r->tables[1]), "/p/other/sales/t");
  EXPECT_EQ(DisplayName(*r, r->tables[0]), "production.sales.t");
}

TEST(LoadTest, JobsAreGivenByTheirIds) {
  // The original's placeholder `job:bronze-pipeline-job-id` could never be met at run time.
  std::vector<ConfigProblem> problems;
  auto r =
      LoadConfigText(std::string(kHeader) + R"(upstream_dependencies: ["job:bronze-pipeline-job-id"]
downstream_notifications: ["job:0", "job:12"]
tables:
  - {table_name: t, database_name: sales, source_path_pattern: /r/*}
)",
                     "c.yaml", &problems);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(problems.size(), 2u) << r.status().ToString();
  EXPECT_EQ(problems[0].path, "upstream_dependencies");
  EXPECT_NE(problems[0].message.find("'job:bronze-pipeline-job-id'"), std::string::npos);
  EXPECT_NE(problems[0].message.find("Databricks job id"), std::string::npos);
  EXPECT_EQ(problems[1].path, "downstream_notifications");
  EXPECT_NE(problems[1].message.find("'job:0'"), std::string::npos);
}

TEST(LoadTest, OverridesReplaceTopLevelKeysAndAreValidated) {
  const std::string text = std::string(kHeader) + R"(upstream_dependencies: ["job:1"]
tables:
  - {table_name: t, database_name: sales, source_path_pattern: /r/*}
)";
  auto r = LoadConfigText(text, "c.yaml", nullptr,
                          R"({"default_catalog": "production", "upstream_dependencies": []})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->default_catalog, "production");
  EXPECT_TRUE(r->upstream_dependencies.empty());
  std::vector<ConfigProblem> problems;
  r = LoadConfigText(text, "c.yaml", &problems, R"({"upstream_dependencies": ["x"]})");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "upstream_dependencies");
}

TEST(LoadTest, RelativePatternIsUnderRawDataPath) {
  auto r = LoadConfigText(std::string(kHeader) +
                              "tables:\n  - {table_name: t, database_name: d, "
                              "source_path_pattern: 'customers/*.csv'}\n",
                          "c.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables[0].source_path_pattern, "/r/customers/*.csv");
}

TEST(LoadTest, JsonText) {
  auto r = LoadConfigText(
      R"({"raw_data_path": "/r", "processed_data_path": "/p", "checkpoint_path": "/c",
          "max_parallel_jobs": 8, "enable_metrics": false,
          "tables": [{"table_name": "t", "database_name": "d", "source_path_pattern": "/r/*.json",
                      "file_format": "json", "primary_keys": ["id"]}]})",
      "--config-json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_parallel_jobs, 8);
  EXPECT_FALSE(r->enable_metrics);
  EXPECT_EQ(r->tables[0].file_format, FileFormat::kJson);
}

TEST(LoadTest, InlineYamlWithLiteralBackslashN) {
  // What `--config-json 'raw_data_path: /mnt/raw/\n...'` passes from a shell.
  std::string text =
      "raw_data_path: /mnt/raw/\\nprocessed_data_path: /mnt/p/\\ncheckpoint_path: /mnt/c/\\n"
      "tables:\\n  - table_name: t\\n    database_name: d\\n    source_path_pattern: /mnt/raw/*";
  auto r = LoadConfigText(text, "--config-json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->processed_data_path, "/mnt/p/");
  EXPECT_EQ(r->tables[0].table_name, "t");
}

TEST(LoadTest, LoadConfigFile) {
  auto dir = std::filesystem::temp_directory_path() / "dl_config_load_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / "config.yaml").string();
  std::ofstream(path) << kOriginalExample;
  auto r = LoadConfigFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source_name, path);
  auto missing = LoadConfigFile((dir / "nope.yaml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kConfig);
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(LoadTest, ExampleConfigLoads) {
  for (std::string base : {"/tmp/demo", "/tmp/we ird: ${x} [dir]*", "relative/dir"}) {
    std::string text = ExampleConfig(base);
    auto r = LoadConfigText(text, "example.yaml");
    ASSERT_TRUE(r.ok()) << base << "\n" << r.status().ToString() << "\n" << text;
    EXPECT_EQ(r->raw_data_path, base + "/raw");
    EXPECT_EQ(r->processed_data_path, base + "/processed");
    EXPECT_EQ(r->checkpoint_path, base + "/checkpoints");
    EXPECT_TRUE(r->env_keys.empty());
    ASSERT_EQ(r->tables.size(), 3u);
    EXPECT_EQ(r->tables[0].file_format, FileFormat::kCsv);
    EXPECT_EQ(r->tables[0].loading_strategy, LoadingStrategy::kScd2);
    EXPECT_EQ(r->tables[0].primary_keys, std::vector<std::string>{"customer_id"});
    EXPECT_EQ(r->tables[1].file_format, FileFormat::kParquet);
    EXPECT_EQ(r->tables[2].file_format, FileFormat::kJson);
    EXPECT_EQ(r->tables[2].schema_evolution_mode, SchemaEvolutionMode::kRescue);
  }
  EXPECT_EQ(LoadConfigText(ExampleConfig("/d"), "e")->tables[0].source_path_pattern,
            "/d/raw/customers/*.csv");
  EXPECT_EQ(LoadConfigText(ExampleConfig("/d*"), "e")->tables[0].source_path_pattern,
            "/d\\*/raw/customers/*.csv");
}

}  // namespace
}  // namespace dl::config
