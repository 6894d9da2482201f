#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/config/loader_config.hpp"

namespace dl::config {
namespace {

using ::testing::HasSubstr;

// The config error text, or "" if the config loaded.
std::string Errors(const std::string& yaml) {
  auto r = LoadConfigText(yaml, "config.yaml");
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kConfig);
  return r.status().message();
}

constexpr const char* kHeader = "raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\n";

// A config whose one table (at line 5) has the given extra keys, 4-space indented.
std::string OneTable(const std::string& keys) {
  return std::string(kHeader) +
         "tables:\n  - table_name: t\n    database_name: d\n    source_path_pattern: /r/*\n" + keys;
}

TEST(ValidationTest, BadEnumNamesKeyLineAndChoices) {
  std::string yaml = std::string(kHeader) +
                     "tables:\n"
                     "  - table_name: a\n    database_name: d\n    source_path_pattern: /r/a\n"
                     "  - table_name: b\n    database_name: d\n    source_path_pattern: /r/b\n"
                     "    loading_strategy: scd3\n";
  EXPECT_EQ(Errors(yaml),
            "config.yaml:11: tables[1].loading_strategy: 'scd3' is not one of scd2, append, "
            "overwrite, merge");
  EXPECT_EQ(Errors(OneTable("    file_format: avro\n")),
            "config.yaml:8: tables[0].file_format: 'avro' is not one of parquet, csv, json, delta");
  EXPECT_EQ(Errors(std::string(kHeader) + "log_level: verbose\ntables: []\n"),
            "config.yaml:4: log_level: 'verbose' is not one of DEBUG, INFO, WARNING, ERROR\n"
            "config.yaml:5: tables: must list at least one table");
}

TEST(ValidationTest, EnumsAreCaseInsensitive) {
  EXPECT_EQ(Errors(std::string(kHeader) + "log_level: debug\n" +
                   "tables:\n  - {table_name: t, database_name: d, source_path_pattern: /r,"
                   " loading_strategy: APPEND, file_format: Parquet}\n"),
            "");
}

TEST(ValidationTest, CollectsAllErrors) {
  std::string yaml = R"(raw_data_path: /r
processed_data_path: /p
max_parallel_jobs: 0
retry_attempts: -1
timeout_minutes: 0
enable_metrics: maybe
tables:
  - table_name: t
    source_path_pattern: /r/*
    loading_strategy: scd2
    tabel_name: x
)";
  std::string e = Errors(yaml);
  EXPECT_THAT(e, HasSubstr("config.yaml:1: required key 'checkpoint_path' is missing"));
  EXPECT_THAT(e, HasSubstr("config.yaml:3: max_parallel_jobs: must be at least 1 (got 0)"));
  EXPECT_THAT(e, HasSubstr("config.yaml:4: retry_attempts: must be at least 0 (got -1)"));
  EXPECT_THAT(e, HasSubstr("config.yaml:5: timeout_minutes: must be at least 1 (got 0)"));
  EXPECT_THAT(e, HasSubstr("config.yaml:6: enable_metrics: expected true or false, got 'maybe'"));
  EXPECT_THAT(e, HasSubstr("config.yaml:8: tables[0]: required key 'database_name' is missing"));
  EXPECT_THAT(e, HasSubstr("config.yaml:8: tables[0].primary_keys: required when "
                           "loading_strategy is scd2"));
  EXPECT_THAT(e, HasSubstr("config.yaml:11: tables[0]: unknown key 'tabel_name' (did you mean "
                           "'table_name'?)"));
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n') + 1, 8) << e;
  // Sorted by line.
  EXPECT_LT(e.find("config.yaml:3:"), e.find("config.yaml:11:"));
}

TEST(ValidationTest, UnknownKeys) {
  EXPECT_EQ(Errors(OneTable("    loading_stratgy: append\n")),
            "config.yaml:8: tables[0]: unknown key 'loading_stratgy' (did you mean "
            "'loading_strategy'?)");
  EXPECT_EQ(Errors(OneTable("    partition_by: [a]\n")),
            "config.yaml:8: tables[0]: unknown key 'partition_by' (did you mean "
            "'partition_columns'?)");
  EXPECT_EQ(Errors(OneTable("    zzz: 1\n")), "config.yaml:8: tables[0]: unknown key 'zzz'");
  EXPECT_EQ(Errors(OneTable("    max_parallel_jobs: 2\n")),
            "config.yaml:8: tables[0]: unknown key 'max_parallel_jobs' here (it belongs at the "
            "top level)");
  EXPECT_EQ(Errors(std::string(kHeader) + "primary_keys: [a]\ntables:\n  - {table_name: t, "
                                          "database_name: d, source_path_pattern: /r}\n"),
            "config.yaml:4: unknown key 'primary_keys' here (it belongs in a table entry under "
            "tables:)");
  EXPECT_EQ(Errors(OneTable("    file_format: csv\n    csv_options: {delimeter: ';'}\n")),
            "config.yaml:9: tables[0].csv_options: unknown key 'delimeter' (did you mean "
            "'delimiter'?)");
  EXPECT_EQ(Errors(std::string(kHeader) + "max_paralel_jobs: 3\ntables:\n  - {table_name: t, "
                                          "database_name: d, source_path_pattern: /r}\n"),
            "config.yaml:4: unknown key 'max_paralel_jobs' (did you mean 'max_parallel_jobs'?)");
}

// The reader refuses these only when it reads a file; caught here, they fail no file (issue 11).
TEST(ValidationTest, CsvNullValueMustNotOverlapTheDelimiterOrQuote) {
  EXPECT_EQ(Errors(OneTable("    file_format: csv\n    csv_options: {delimiter: ',', null_value: "
                            "','}\n")),
            "config.yaml:9: tables[0].csv_options: null_value ',' and delimiter ',' must not "
            "contain each other");
  EXPECT_EQ(Errors(OneTable("    file_format: csv\n    csv_options: {delimiter: ';', null_value: "
                            "'N;A'}\n")),
            "config.yaml:9: tables[0].csv_options: null_value 'N;A' and delimiter ';' must not "
            "contain each other");
  EXPECT_EQ(Errors(OneTable("    file_format: csv\n    csv_options: {quote: '|', null_value: "
                            "'|NA'}\n")),
            "config.yaml:9: tables[0].csv_options: null_value '|NA' and quote '|' must not "
            "contain each other");
  EXPECT_EQ(Errors(OneTable("    file_format: csv\n    csv_options: {delimiter: ';', null_value: "
                            "NA}\n")),
            "");
}

TEST(ValidationTest, WrongTypes) {
  EXPECT_EQ(Errors(OneTable("    primary_keys: id\n")),
            "config.yaml:8: tables[0].primary_keys: expected a list of strings, got a value "
            "(write [id])");
  EXPECT_EQ(Errors(OneTable("    primary_keys: [[a]]\n")),
            "config.yaml:8: tables[0].primary_keys[0]: expected a string, got a list");
  EXPECT_EQ(Errors(OneTable("    primary_keys: ['']\n")),
            "config.yaml:8: tables[0].primary_keys[0]: must not be empty");
  EXPECT_EQ(Errors(OneTable("    table_name: [x]\n")).substr(0, 12), "config.yaml:");
  EXPECT_EQ(Errors(OneTable("    schema_evolution: 1.5\n")),
            "config.yaml:8: tables[0].schema_evolution: expected true or false, got '1.5'");
  EXPECT_EQ(Errors(OneTable("    max_files_per_batch: many\n")),
            "config.yaml:8: tables[0].max_files_per_batch: expected an integer, got 'many'");
  EXPECT_EQ(Errors(OneTable("    max_bytes_per_batch: 3 parsecs\n")),
            "config.yaml:8: tables[0].max_bytes_per_batch: expected a size such as 1073741824, "
            "512MB or 1GiB, got '3 parsecs'");
  EXPECT_EQ(Errors(OneTable("    file_format: csv\n    csv_options: [a]\n")),
            "config.yaml:9: tables[0].csv_options: expected a mapping of options");
  EXPECT_EQ(Errors(std::string(kHeader) + "tables: {a: 1}\n"),
            "config.yaml:4: tables: expected a list of table entries");
  EXPECT_EQ(Errors(std::string(kHeader) + "tables:\n  - just a string\n"),
            "config.yaml:5: tables[0]: expected a mapping of table keys (table_name: ...)");
}

TEST(ValidationTest, DocumentShape) {
  EXPECT_EQ(Errors(""), "config.yaml: the config is empty");
  EXPECT_EQ(Errors("- a\n- b\n"),
            "config.yaml:1: the config must be a mapping of keys (raw_data_path: ...)");
  EXPECT_THAT(Errors("raw_data_path: [unclosed\n"), HasSubstr("YAML syntax error"));
  EXPECT_THAT(Errors("a: 1\n---\nb: 2\n"), HasSubstr("holds 2 YAML documents"));
  // yaml-cpp's LoadAll never returns on these; we must.
  EXPECT_EQ(Errors(","), "config.yaml:1:1: YAML syntax error: unexpected ','");
  EXPECT_EQ(Errors("a: 1\n---\n  , b\n"), "config.yaml:3:3: YAML syntax error: unexpected ','");
  EXPECT_EQ(Errors(std::string(kHeader) + "raw_data_path: /x\ntables:\n  - {table_name: t, "
                                          "database_name: d, source_path_pattern: /r}\n"),
            "config.yaml:4: raw_data_path: duplicate key (first given on line 1)");
}

TEST(ValidationTest, NullMeansDefaultButRequiredNeedsValue) {
  EXPECT_EQ(Errors(OneTable("    partition_columns:\n    loading_strategy: ~\n")), "");
  EXPECT_EQ(Errors(std::string(kHeader) + "tables:\n  - table_name:\n    database_name: d\n"
                                          "    source_path_pattern: /r\n"),
            "config.yaml:5: tables[0].table_name: a value is required");
}

TEST(ValidationTest, Names) {
  EXPECT_EQ(Errors(std::string(kHeader) +
                   "tables:\n  - {table_name: ../x, database_name: d, source_path_pattern: /r}\n"),
            "config.yaml:5: tables[0].table_name: '../x' is not a valid name: use letters, "
            "digits and '_'");
  EXPECT_EQ(Errors(std::string(kHeader) +
                   "tables:\n  - {table_name: t, database_name: a/b, source_path_pattern: /r}\n"),
            "config.yaml:5: tables[0].database_name: 'a/b' is not a valid name: use letters, "
            "digits and '_' (or catalog.schema)");
  EXPECT_THAT(Errors(std::string(kHeader) + "tables:\n  - {table_name: t, database_name: a.b.c, "
                                            "source_path_pattern: /r}\n"),
              HasSubstr("'a.b.c' is not a valid name"));
  EXPECT_THAT(Errors(std::string(kHeader) + "tables:\n  - {table_name: t, database_name: .., "
                                            "source_path_pattern: /r}\n"),
              HasSubstr("'..' is not a valid name"));
  EXPECT_EQ(Errors(std::string(kHeader) + "tables:\n  - {table_name: T_1, database_name: cat.s, "
                                          "source_path_pattern: /r}\n"),
            "");
  EXPECT_THAT(Errors(std::string(kHeader) + "file_tracker_table: 'a b'\ntables:\n"
                                            "  - {table_name: t, database_name: d, "
                                            "source_path_pattern: /r}\n"),
              HasSubstr("config.yaml:4: file_tracker_table: 'a b' is not a valid name"));
  EXPECT_THAT(Errors(OneTable("    source_path_pattern: ''\n")), HasSubstr("duplicate key"));
}

TEST(ValidationTest, DuplicateTables) {
  std::string yaml = std::string(kHeader) +
                     "tables:\n"
                     "  - {table_name: t, database_name: d, source_path_pattern: /r/a}\n"
                     "  - {table_name: u, database_name: d, source_path_pattern: /r/a}\n"
                     "  - {table_name: T, database_name: D, source_path_pattern: /r/b}\n";
  EXPECT_EQ(Errors(yaml), "config.yaml:7: tables[2]: D.T is already defined by tables[0] (line 5)");
  // Same table name in another database is fine.
  EXPECT_EQ(Errors(std::string(kHeader) +
                   "tables:\n"
                   "  - {table_name: t, database_name: d, source_path_pattern: /r/a}\n"
                   "  - {table_name: t, database_name: e, source_path_pattern: /r/a}\n"),
            "");
  EXPECT_THAT(Errors(std::string(kHeader) +
                     "tables:\n  - {table_name: file_processing_tracker, database_name: metadata,"
                     " source_path_pattern: /r}\n"),
              HasSubstr("file_tracker_table: the tracker would share its location"));
}

TEST(ValidationTest, StrategyCombinations) {
  EXPECT_EQ(Errors(OneTable("    loading_strategy: merge\n")),
            "config.yaml:5: tables[0].primary_keys: required when loading_strategy is merge");
  EXPECT_EQ(Errors(OneTable("    tracking_columns: [a]\n")),
            "config.yaml:8: tables[0].tracking_columns: only used with loading_strategy: scd2 "
            "(this table has loading_strategy: append)");
  EXPECT_THAT(Errors(OneTable("    scd2_end_date_column: e\n")),
              HasSubstr("scd2_end_date_column: only used with loading_strategy: scd2"));
  EXPECT_THAT(Errors(OneTable("    loading_strategy: merge\n    primary_keys: [k]\n"
                              "    retire_absent_keys: true\n")),
              HasSubstr("retire_absent_keys: only used with loading_strategy: scd2"));
  EXPECT_THAT(Errors(OneTable("    merge_condition: a > b\n")),
              HasSubstr("merge_condition: only used with loading_strategy: merge"));
  EXPECT_THAT(Errors(OneTable("    delete_condition: a > b\n")),
              HasSubstr("delete_condition: only used with loading_strategy: scd2 or merge"));
  EXPECT_THAT(Errors(OneTable("    sequence_column: v\n")),
              HasSubstr("sequence_column: only used with"));
  EXPECT_EQ(Errors(OneTable("    sequence_column: v\n    dedup: true\n")), "");
  EXPECT_THAT(Errors(OneTable("    overwrite_mode: dynamic\n")),
              HasSubstr("overwrite_mode: only used with loading_strategy: overwrite"));
  EXPECT_THAT(Errors(OneTable("    loading_strategy: overwrite\n    overwrite_mode: dynamic\n")),
              HasSubstr("needs partition_columns"));
  EXPECT_THAT(Errors(OneTable("    loading_strategy: overwrite\n    overwrite_mode: dynamic\n"
                              "    partition_columns: [p]\n    replace_where: p = 1\n")),
              HasSubstr("replace_where: not allowed with overwrite_mode: dynamic"));
  EXPECT_EQ(Errors(OneTable("    clustering_columns: [a, b]\n")), "");
  EXPECT_THAT(Errors(OneTable("    clustering_columns: [a]\n    partition_columns: [p]\n")),
              HasSubstr("clustering_columns: a Delta table is clustered or partitioned"));
  EXPECT_THAT(Errors(OneTable("    clustering_columns: [a, a]\n")),
              HasSubstr("clustering_columns"));
  EXPECT_THAT(Errors(OneTable("    loading_strategy: merge\n    primary_keys: [k]\n"
                              "    update_columns: [a]\n    except_columns: [b]\n")),
              HasSubstr("give update_columns or except_columns, not both"));
  EXPECT_THAT(Errors(OneTable("    loading_strategy: scd2\n    primary_keys: [k]\n"
                              "    tracking_columns: [k, a]\n")),
              HasSubstr("'k' is a primary key, not a tracked column"));
  EXPECT_THAT(Errors(OneTable("    loading_strategy: scd2\n    primary_keys: [k]\n"
                              "    scd2_open_end_value: someday\n")),
              HasSubstr("'someday' is neither a date/timestamp"));
  EXPECT_EQ(Errors(OneTable("    loading_strategy: scd2\n    primary_keys: [k]\n"
                            "    scd2_open_end_value: 9223372036854775807\n")),
            "");
  // A partition column may also be a primary key.
  EXPECT_EQ(Errors(OneTable("    loading_strategy: merge\n    primary_keys: [k, day]\n"
                            "    partition_columns: [day]\n")),
            "");
}

TEST(ValidationTest, DedupAndSchemaModes) {
  EXPECT_THAT(Errors(OneTable("    dedup: false\n    dedup_keys: [a]\n")),
              HasSubstr("dedup_keys: set, but dedup is false"));
  EXPECT_EQ(Errors(OneTable("    rescued_data_column: _r\n")),
            "config.yaml:8: tables[0].rescued_data_column: only used with "
            "schema_evolution_mode: rescue");
  EXPECT_THAT(Errors(OneTable("    schema_evolution_mode: evolve\n")),
              HasSubstr("'evolve' is not one of add_new_columns, fail_on_new_columns, rescue, "
                        "none"));
}

TEST(ValidationTest, ColumnLists) {
  EXPECT_THAT(Errors(OneTable("    partition_columns: [a, a]\n")),
              HasSubstr("tables[0].partition_columns: 'a' is listed twice"));
  EXPECT_THAT(Errors(OneTable("    dedup_keys: [_batch_id]\n")),
              HasSubstr("dedup_keys: '_batch_id' is a column the loader adds"));
  EXPECT_THAT(Errors(OneTable("    audit_columns: {source_file: x, batch_id: x}\n")),
              HasSubstr("audit_columns.batch_id 'x' is also the name of "
                        "audit_columns.source_file"));
  EXPECT_EQ(Errors(OneTable("    audit_columns: {enabled: false, source_file: x, batch_id: x}\n")),
            "");
  EXPECT_THAT(Errors(OneTable("    loading_strategy: scd2\n    primary_keys: [k]\n"
                              "    scd2_end_date_column: effective_date\n")),
              HasSubstr("is also the name of scd2_effective_date_column"));
}

TEST(ValidationTest, FormatOptions) {
  EXPECT_EQ(Errors(OneTable("    file_format: delta\n    csv_options: {header: true}\n")),
            "config.yaml:9: tables[0].csv_options: only used with file_format: csv (this table "
            "has file_format: delta)");
  EXPECT_THAT(Errors(OneTable("    json_options: {format: lines}\n")),
              HasSubstr("json_options: only used with file_format: json"));
  EXPECT_THAT(Errors(OneTable("    file_format: json\n    json_options: {format: ndjson}\n")),
              HasSubstr("'ndjson' is not one of auto, lines, array"));
  EXPECT_THAT(Errors(OneTable("    file_format: csv\n    csv_options: {delimiter: ''}\n")),
              HasSubstr("delimiter '' must be 1 to 4 characters"));
  EXPECT_THAT(Errors(OneTable("    file_format: csv\n    csv_options: {quote: ab}\n")),
              HasSubstr("quote must be one character"));
  EXPECT_THAT(Errors(OneTable("    file_format: csv\n    csv_options: {encoding: ebcdic}\n")),
              HasSubstr("encoding 'ebcdic' is not one of utf-8, utf-16, latin-1"));
  EXPECT_THAT(Errors(OneTable("    file_format: csv\n    csv_options: {multi_line: sometimes}\n")),
              HasSubstr("multi_line"));
  EXPECT_THAT(Errors(OneTable("    file_format: csv\n    csv_options:\n      columns:\n"
                              "        a: \"INT); DROP TABLE x; --\"\n")),
              HasSubstr("columns: 'a' has type 'INT); DROP TABLE x; --', which is not a SQL"));
  EXPECT_THAT(Errors(OneTable("    file_format: csv\n    csv_options: {delimiter: tab}\n")), "");
}

// What a fragment may contain is the engine's check (engine/tests/expression_check_test.cpp).
TEST(ValidationTest, SqlFragments) {
  EXPECT_THAT(Errors(OneTable("    loading_strategy: overwrite\n    replace_where: \" \"\n")),
              HasSubstr("replace_where: must not be empty"));
  EXPECT_EQ(Errors(OneTable("    loading_strategy: merge\n    primary_keys: [k]\n"
                            "    delete_condition: \"op = 'a;b' OR note = 'it''s'\"\n")),
            "");
}

TEST(ValidationTest, ClusterKeys) {
  std::string tables = "tables:\n  - {table_name: t, database_name: s, source_path_pattern: /r}\n";
  EXPECT_EQ(Errors(std::string(kHeader) + "use_unity_catalog: true\n" + tables),
            "config.yaml:6: tables[0].database_name: 's' has no catalog: with use_unity_catalog "
            "write catalog.schema or set default_catalog");
  EXPECT_EQ(
      Errors(std::string(kHeader) + "use_unity_catalog: true\ndefault_catalog: main\n" + tables),
      "");
  EXPECT_THAT(Errors(std::string(kHeader) + "unity_catalog_url: localhost:8080\n" + tables),
              HasSubstr("unity_catalog_url: must start with http:// or https://"));
  EXPECT_THAT(Errors(std::string(kHeader) + "upstream_dependencies: [webhook:x]\n" + tables),
              HasSubstr("'webhook:x' must look like one of table:..., file:..., job:..."));
  EXPECT_THAT(Errors(std::string(kHeader) + "downstream_notifications: ['job:']\n" + tables),
              HasSubstr("'job:' must look like one of webhook:..., job:..."));
  EXPECT_THAT(Errors(std::string(kHeader) + "upstream_dependencies: table:x\n" + tables),
              HasSubstr("expected a list of strings"));
  EXPECT_THAT(Errors(std::string(kHeader) + "use_unity_catalog: sure\n" + tables),
              HasSubstr("use_unity_catalog: expected true or false, got 'sure'"));
}

}  // namespace
TEST(ValidationTest, TablePropertiesWeActOnNeedBooleans) {
  EXPECT_THAT(Errors(OneTable("    table_properties: {delta.enableDeletionVectors: yes please}\n")),
              HasSubstr("table_properties: delta.enableDeletionVectors must be true or false"));
  EXPECT_THAT(Errors(OneTable("    table_properties: [a]\n")),
              HasSubstr("table_properties: expected a mapping"));
}

TEST(ValidationTest, TheCompressionCodecPropertyMustBeOneTheLoaderWrites) {
  EXPECT_THAT(Errors(OneTable("    table_properties: {delta.compression.codec: brotli}\n")),
              HasSubstr("table_properties: delta.compression.codec must be snappy, zstd, gzip or "
                        "uncompressed, got 'brotli'"));
  EXPECT_EQ(Errors(OneTable("    table_properties: {delta.compression.codec: ZSTD}\n")), "");
}

}  // namespace dl::config

namespace dl::config {
namespace {

// Issue 11 item 2: d.b.c lives at <processed>/d/b/c, inside table d.b; VACUUM of d.b deleted it.
TEST(ValidationTest, TablesTrackerAndCheckpointsMustNotNest) {
  const std::string nested = std::string(kHeader) +
                             "tables:\n"
                             "  - {table_name: b, database_name: d, source_path_pattern: /r/b}\n"
                             "  - {table_name: c, database_name: d.b, source_path_pattern: /r/c}\n";
  EXPECT_EQ(Errors(nested),
            "config.yaml:6: tables[1]: tables[1] (d.b.c) at /p/d/b/c is inside tables[0] (d.b) "
            "at /p/d/b: the outer table's VACUUM would delete its files; give them locations "
            "side by side");
  EXPECT_THAT(Errors(std::string(kHeader) + "file_tracker_database: d.b\n" +
                     "tables:\n  - {table_name: b, database_name: d, source_path_pattern: /r}\n"),
              HasSubstr("config.yaml:4: file_tracker_database: the file tracker "
                        "(d.b.file_processing_tracker) at /p/d/b/file_processing_tracker is "
                        "inside tables[0] (d.b) at /p/d/b"));
  EXPECT_THAT(Errors("raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /p/d/b/state\n"
                     "tables:\n  - {table_name: b, database_name: d, source_path_pattern: /r}\n"),
              HasSubstr("config.yaml:3: checkpoint_path: checkpoint_path at /p/d/b/state is "
                        "inside tables[0] (d.b) at /p/d/b"));
  EXPECT_THAT(Errors("raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /p/d/b\n"
                     "tables:\n  - {table_name: b, database_name: d, source_path_pattern: /r}\n"),
              HasSubstr("checkpoint_path: checkpoint_path at /p/d/b is the same directory as "
                        "tables[0] (d.b) at /p/d/b: the outer table's VACUUM would delete its "
                        "files"));
  EXPECT_THAT(Errors("raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /p\n"
                     "tables:\n  - {table_name: b, database_name: d, source_path_pattern: /r}\n"),
              HasSubstr("tables[0]: tables[0] (d.b) at /p/d/b is inside checkpoint_path at /p: "
                        "the loader's state and metrics would mix with table data"));
  // Side by side is fine, also when one name starts with the other's.
  EXPECT_EQ(Errors(std::string(kHeader) +
                   "tables:\n"
                   "  - {table_name: b, database_name: d, source_path_pattern: /r/b}\n"
                   "  - {table_name: bc, database_name: d, source_path_pattern: /r/c}\n"),
            "");
}

TEST(ValidationTest, NoNameIsALogDirectoryOrTooLong) {
  EXPECT_EQ(Errors(std::string(kHeader) + "tables:\n  - {table_name: _delta_log, "
                                          "database_name: d.t, source_path_pattern: /r}\n"),
            "config.yaml:5: tables[0].table_name: '_delta_log' is the name of a Delta table's "
            "log directory: a table there would write inside another table's log");
  EXPECT_THAT(Errors(std::string(kHeader) + "file_tracker_database: _Delta_Log\n" +
                     "tables:\n  - {table_name: t, database_name: d, source_path_pattern: /r}\n"),
              HasSubstr("file_tracker_database: '_Delta_Log' is the name of a Delta table's log"));
  const std::string long_name(300, 'x');
  EXPECT_EQ(Errors(std::string(kHeader) + "tables:\n  - {table_name: " + long_name +
                   ", database_name: d, source_path_pattern: /r}\n"),
            "config.yaml:5: tables[0].table_name: 'xxxxxxxxxxxxxxxxxxxx...' has 300 characters: "
            "it becomes a directory name, and those are limited to 255 bytes");
  EXPECT_THAT(Errors(std::string(kHeader) + "tables:\n  - {table_name: t, database_name: c." +
                     long_name + ", source_path_pattern: /r}\n"),
              HasSubstr("tables[0].database_name: 'xxxxxxxxxxxxxxxxxxxx...' has 300 characters"));
  EXPECT_EQ(Errors(std::string(kHeader) + "tables:\n  - {table_name: " + std::string(255, 'y') +
                   ", database_name: d, source_path_pattern: /r}\n"),
            "");
}

// Issue 11 item 4: a source that is its own target loads its own output again every run.
TEST(ValidationTest, ASourceIsNotItsOwnTarget) {
  EXPECT_EQ(Errors(std::string(kHeader) +
                   "tables:\n  - {table_name: t, database_name: d, file_format: delta, "
                   "source_path_pattern: /p/d/t/}\n"),
            "config.yaml:5: tables[0].source_path_pattern: /p/d/t/ reads /p/d/t, the Delta table "
            "d.t (its own target): every run would load its own output again");
  EXPECT_THAT(Errors(std::string(kHeader) + "tables:\n  - {table_name: t, database_name: d, "
                                            "source_path_pattern: '/p/d/./t/**/*.parquet'}\n"),
              HasSubstr("(its own target): every run would load its own output again"));
  // Another table's files as raw parquet would include its removed files.
  EXPECT_THAT(Errors(std::string(kHeader) +
                     "tables:\n"
                     "  - {table_name: a, database_name: d, source_path_pattern: /r/a}\n"
                     "  - {table_name: b, database_name: d, source_path_pattern: '/p/d/a/*'}\n"),
              HasSubstr("tables[1].source_path_pattern: /p/d/a/* reads /p/d/a, the Delta table "
                        "d.a: read it with file_format: delta"));
  // ... but as a Delta source it is a pipeline; and a raw path above the tables is fine
  // (discovery does not look inside Delta tables).
  EXPECT_EQ(Errors(std::string(kHeader) +
                   "tables:\n"
                   "  - {table_name: a, database_name: d, source_path_pattern: /r/a}\n"
                   "  - {table_name: b, database_name: d, source_path_pattern: /p/d/a,"
                   " file_format: delta}\n"
                   "  - {table_name: c, database_name: d, source_path_pattern: '/p/**/*.parquet'}"
                   "\n"),
            "");
}

// Should-fix: raw_data_path is a literal directory even when it holds glob characters.
TEST(ValidationTest, RawDataPathIsEscapedInPatterns) {
  auto cfg = LoadConfigText(
      "raw_data_path: /in/br[1]/raw*\nprocessed_data_path: /p\ncheckpoint_path: /c\n"
      "tables:\n  - {table_name: t, database_name: d, source_path_pattern: '*.csv'}\n"
      "  - {table_name: u, database_name: d, source_path_pattern: src, file_format: delta}\n",
      "config.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->tables[0].source_path_pattern, "/in/br\\[1\\]/raw\\*/*.csv");
  EXPECT_EQ(cfg->tables[1].source_path_pattern, "/in/br[1]/raw*/src");  // a path, not a glob
}

}  // namespace
}  // namespace dl::config
