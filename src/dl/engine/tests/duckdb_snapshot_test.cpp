#include <gtest/gtest.h>

#include <filesystem>

#include "dl/delta/deletion_vector.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

namespace fs = std::filesystem;
using testing::NewEngine;
using testing::Scalar;
using testing::TempDir;

std::string Field(const std::string& name, const std::string& type) {
  return R"({"name":")" + name + R"(","type":)" + type + R"(,"nullable":true,"metadata":{}})";
}

delta::Snapshot MakeSnapshot(const std::string& root, const std::string& fields_json,
                             std::vector<std::string> partition_columns,
                             std::vector<delta::AddFile> files,
                             delta::StringMap configuration = {}) {
  auto schema = delta::ParseSchemaString(R"({"type":"struct","fields":[)" + fields_json + "]}");
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  delta::Metadata md;
  md.id = "test-table";
  md.schema_string = delta::SerializeSchema(*schema);
  md.partition_columns = std::move(partition_columns);
  md.configuration = std::move(configuration);
  return delta::Snapshot(root, delta::LogSegment{}, 1, 0, delta::Protocol{}, md, *schema,
                         std::move(files), {}, {}, {});
}

// Write `sql` as one Parquet file at root/relative (decoded path) and return its add action.
delta::AddFile WriteFile(Engine& engine, const std::string& root, const std::string& relative,
                         const std::string& sql, delta::PartitionValues values = {}) {
  std::string abs = root + "/" + relative;
  fs::create_directories(fs::path(abs).parent_path());
  Status st = engine.Execute("COPY (" + sql + ") TO " + QuoteLiteral(abs) + " (FORMAT parquet)");
  EXPECT_TRUE(st.ok()) << st.ToString();
  delta::AddFile add;
  add.path = delta::UriEncodePath(relative);
  add.partition_values = std::move(values);
  add.size = static_cast<int64_t>(fs::file_size(abs));
  return add;
}

TEST(DuckDbSnapshot, EvolvedSchemasAndPartitionValues) {
  TempDir dir;
  auto engine = NewEngine();
  std::vector<delta::AddFile> files;
  files.push_back(WriteFile(*engine, dir.path(), "p=a%2Fb/f1.parquet",
                            "SELECT 1::INTEGER AS id, {'x': 1::INTEGER} AS st",
                            {{"p", "a/b"},
                             {"d", "2021-09-08"},
                             {"ts", "2021-09-08 11:11:11"},
                             {"ntz", "2013-07-05 17:01:00.123456"},
                             {"n", "7"},
                             {"flag", "true"},
                             {"dec", "1.50"}}));
  files.push_back(WriteFile(*engine, dir.path(), "p=__HIVE_DEFAULT_PARTITION__/f 2.parquet",
                            "SELECT 2::BIGINT AS id, 0.5::DOUBLE AS b, "
                            "{'x': 2::BIGINT, 'y': 'why'} AS st",
                            {{"p", std::nullopt},
                             {"d", std::nullopt},
                             {"ts", "2024-01-01T10:00:00.000000Z"},
                             {"ntz", ""},
                             {"n", std::nullopt},
                             {"flag", "false"},
                             {"dec", std::nullopt}}));
  auto snapshot =
      MakeSnapshot(dir.path(),
                   Field("id", "\"long\"") + "," + Field("p", "\"string\"") + "," +
                       Field("b", "\"double\"") + "," + Field("d", "\"date\"") + "," +
                       Field("st", R"({"type":"struct","fields":[)" + Field("x", "\"long\"") + "," +
                                       Field("y", "\"string\"") + "]}") +
                       "," + Field("never", "\"date\"") + "," + Field("ts", "\"timestamp\"") + "," +
                       Field("ntz", "\"timestamp_ntz\"") + "," + Field("n", "\"integer\"") + "," +
                       Field("flag", "\"boolean\"") + "," + Field("dec", "\"decimal(5,2)\""),
                   {"p", "d", "ts", "ntz", "n", "flag", "dec"}, files);
  ASSERT_TRUE(engine->RegisterSnapshot("snap", snapshot).ok());

  auto schema = engine->SchemaOf("SELECT * FROM snap");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(delta::SerializeSchema(*schema), delta::SerializeSchema(snapshot.schema()));
  auto rows = engine->Query("SELECT * FROM snap ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.size(), 2u);
  using Row = std::vector<std::optional<std::string>>;
  EXPECT_EQ(rows->rows[0],
            (Row{"1", "a/b", std::nullopt, "2021-09-08", "{'x': 1, 'y': NULL}", std::nullopt,
                 "2021-09-08 11:11:11+00", "2013-07-05 17:01:00.123456", "7", "true", "1.50"}));
  EXPECT_EQ(rows->rows[1],
            (Row{"2", std::nullopt, "0.5", std::nullopt, "{'x': 2, 'y': why}", std::nullopt,
                 "2024-01-01 10:00:00+00", std::nullopt, std::nullopt, "false", std::nullopt}));
}

TEST(DuckDbSnapshot, SparkInt96TimestampsReadAsUtc) {
  TempDir dir;
  fs::copy_file(testing::TestDataDir() + "/int96_timestamps.parquet", dir / "part-0.parquet");
  delta::AddFile add;
  add.path = "part-0.parquet";
  auto snapshot = MakeSnapshot(
      dir.path(), Field("id", "\"long\"") + "," + Field("ts", "\"timestamp\""), {}, {add});
  auto engine = NewEngine();
  ASSERT_TRUE(engine->RegisterSnapshot("snap", snapshot).ok());
  EXPECT_EQ(Scalar(*engine, "SELECT ts FROM snap WHERE id = 1"), "2024-01-01 10:00:00.123456+00");
  EXPECT_EQ(Scalar(*engine, "SELECT epoch_us(ts) FROM snap WHERE id = 1"), "1704103200123456");
  // The time zone is pinned: the engine's settings are locked.
  EXPECT_FALSE(engine->Execute("SET TimeZone = 'America/New_York'").ok());
  EXPECT_EQ(Scalar(*engine, "SELECT epoch_us(ts) FROM snap WHERE id = 1"), "1704103200123456");
}

TEST(DuckDbSnapshot, NoFilesGivesEmptyTypedView) {
  TempDir dir;
  auto engine = NewEngine();
  auto snapshot =
      MakeSnapshot(dir.path(), Field("id", "\"long\"") + "," + Field("p", "\"date\""), {"p"}, {});
  ASSERT_TRUE(engine->RegisterSnapshot("snap", snapshot).ok());
  EXPECT_EQ(Scalar(*engine, "SELECT count(*) FROM snap"), "0");
  auto schema = engine->SchemaOf("SELECT * FROM snap");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(delta::SerializeSchema(*schema), delta::SerializeSchema(snapshot.schema()));
  ASSERT_TRUE(engine->RegisterSnapshotWithFileColumn("snap2", snapshot, nullptr).ok());
  auto cols = engine->Query("SELECT * FROM snap2");
  ASSERT_TRUE(cols.ok());
  EXPECT_EQ(cols->columns, (std::vector<std::string>{"id", "p", "_dl_file", "_dl_row"}));
}

TEST(DuckDbSnapshot, FileColumnAndSubset) {
  TempDir dir;
  auto engine = NewEngine();
  std::vector<delta::AddFile> files = {
      WriteFile(*engine, dir.path(), "a b.parquet", "SELECT range AS id FROM range(3)"),
      WriteFile(*engine, dir.path(), "c%d.parquet", "SELECT range + 10 AS id FROM range(2)")};
  auto snapshot = MakeSnapshot(dir.path(), Field("id", "\"long\""), {}, files);
  ASSERT_TRUE(engine->RegisterSnapshotWithFileColumn("snap", snapshot, nullptr).ok());
  auto rows = engine->Query("SELECT _dl_file, count(*) FROM snap GROUP BY 1 ORDER BY 1");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0][0], "a%20b.parquet");  // add.path as in the log
  EXPECT_EQ(rows->rows[0][1], "3");
  EXPECT_EQ(rows->rows[1][0], "c%25d.parquet");
  std::vector<delta::AddFile> subset = {files[1]};
  ASSERT_TRUE(engine->RegisterSnapshot("part", snapshot, &subset).ok());
  EXPECT_EQ(Scalar(*engine, "SELECT sum(id) FROM part"), "21");
}

// Row tracking: a row's id is its file's materialized value when set (a rewritten row), else
// baseRowId + its row index; its commit version likewise. The materialized columns stay out
// of the table's columns.
TEST(DuckDbSnapshot, RowIdsFromMaterializedColumnsOrDefaults) {
  TempDir dir;
  auto engine = NewEngine();
  delta::AddFile plain =
      WriteFile(*engine, dir.path(), "a.parquet", "SELECT range AS id FROM range(2)");
  plain.base_row_id = 10;
  plain.default_row_commit_version = 1;
  delta::AddFile rewritten = WriteFile(
      *engine, dir.path(), "b.parquet",
      "SELECT * FROM (VALUES (5, 3::BIGINT, 1::BIGINT), (6, NULL, NULL)) "
      "AS t(id, \"_row-id-col-x\", \"_row-commit-version-col-x\")");
  rewritten.base_row_id = 40;
  rewritten.default_row_commit_version = 4;
  auto snapshot = MakeSnapshot(dir.path(), Field("id", "\"long\""), {}, {plain, rewritten},
                               {{"delta.rowTracking.materializedRowIdColumnName", "_row-id-col-x"},
                                {"delta.rowTracking.materializedRowCommitVersionColumnName",
                                 "_row-commit-version-col-x"}});
  ASSERT_TRUE(engine->RegisterSnapshotWithFileColumn("snap", snapshot, nullptr, true).ok());
  auto rows = engine->Query("SELECT * EXCLUDE (_dl_file, _dl_row) FROM snap ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->columns,
            (std::vector<std::string>{"id", kRowIdColumn, kRowCommitVersionColumn}));
  std::vector<std::string> got;
  for (const auto& r : rows->rows) got.push_back(*r.at(0) + ":" + *r.at(1) + "@" + *r.at(2));
  EXPECT_EQ(got, (std::vector<std::string>{"0:10@1", "1:11@1", "5:3@1", "6:41@4"}));
  ASSERT_TRUE(engine->RegisterSnapshot("plain", snapshot).ok());
  auto cols = engine->Query("SELECT * FROM plain LIMIT 0");
  ASSERT_TRUE(cols.ok());
  EXPECT_EQ(cols->columns, (std::vector<std::string>{"id"}));

  // A file without row ids cannot say which ids its rows have.
  rewritten.base_row_id.reset();
  auto bad = MakeSnapshot(dir.path(), Field("id", "\"long\""), {}, {plain, rewritten});
  Status st = engine->RegisterSnapshotWithFileColumn("snap", bad, nullptr, true);
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("b.parquet"), std::string::npos) << st.message();
}

TEST(DuckDbSnapshot, DeletionVectorsHideTheirRows) {
  TempDir dir;
  auto engine = NewEngine();
  auto fs = MakeLocalFileSystem();
  delta::AddFile add = WriteFile(*engine, dir.path(), "a.parquet", "SELECT range AS id FROM range(6)");
  delta::AddFile plain = WriteFile(*engine, dir.path(), "b.parquet", "SELECT 100 AS id");
  auto dv = delta::WriteDeletionVector(*fs, dir.path(), {1, 4, 5});
  ASSERT_TRUE(dv.ok()) << dv.status().ToString();
  add.deletion_vector = *dv;
  auto snapshot = MakeSnapshot(dir.path(), Field("id", "\"long\""), {}, {add, plain});
  ASSERT_TRUE(engine->RegisterSnapshotWithFileColumn("snap", snapshot, nullptr).ok());
  auto rows = engine->Query("SELECT id, _dl_row FROM snap ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> got;
  for (const auto& r : rows->rows) got.push_back(*r.at(0) + "@" + *r.at(1));
  EXPECT_EQ(got, (std::vector<std::string>{"0@0", "2@2", "3@3", "100@0"}));

  // A missing DV file is an error naming the data file, never a scan showing deleted rows.
  ASSERT_TRUE(fs->Delete(*delta::DeletionVectorPath(dir.path(), *dv)).ok());
  Status st = engine->RegisterSnapshot("snap", snapshot);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("a.parquet"), std::string::npos) << st.message();
}

std::string MappedField(const std::string& name, const std::string& type, int id,
                        const std::string& physical) {
  return R"({"name":")" + name + R"(","type":)" + type +
         R"(,"nullable":true,"metadata":{"delta.columnMapping.id":)" + std::to_string(id) +
         R"(,"delta.columnMapping.physicalName":")" + physical + R"("}})";
}

// Files of a column-mapped table name columns (nested ones too) physically, and partition
// values are keyed by physical name: the view shows the display names, whatever the mode.
TEST(DuckDbSnapshot, ColumnMappingReadsPhysicalNames) {
  TempDir dir;
  auto engine = NewEngine();
  std::vector<delta::AddFile> files;
  files.push_back(WriteFile(*engine, dir.path(), "f1.parquet",
                            "SELECT 1::BIGINT AS \"col-a\", {'col-x': 7::INTEGER, 'col-gone': 0} "
                            "AS \"col-st\", [{'col-y': 'q'}] AS \"col-arr\", 99 AS \"col-dropped\"",
                            {{"col-p", "v1"}}));
  files.push_back(WriteFile(*engine, dir.path(), "f2.parquet",
                            "SELECT 2::BIGINT AS \"col-a\", NULL::STRUCT(\"col-x\" INTEGER) AS "
                            "\"col-st\"",
                            {{"col-p", std::nullopt}}));
  std::string fields =
      MappedField("key", "\"long\"", 1, "col-a") + "," +
      MappedField("st",
                  R"({"type":"struct","fields":[)" + MappedField("x", "\"integer\"", 3, "col-x") +
                      "," + MappedField("w", "\"string\"", 6, "col-w") + "]}",
                  2, "col-st") +
      "," +
      MappedField("arr",
                  R"({"type":"array","elementType":{"type":"struct","fields":[)" +
                      MappedField("y", "\"string\"", 5, "col-y") + R"(]},"containsNull":true})",
                  4, "col-arr") +
      "," + MappedField("part", "\"string\"", 7, "col-p");
  for (const char* mode : {"name", "id"}) {
    auto snapshot =
        MakeSnapshot(dir.path(), fields, {"part"}, files, {{"delta.columnMapping.mode", mode}});
    ASSERT_TRUE(engine->RegisterSnapshot("snap", snapshot).ok()) << mode;
    auto rows = engine->Query(
        "SELECT key, CAST(st AS VARCHAR), CAST(arr AS VARCHAR), part FROM snap ORDER BY key");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(rows->columns, (std::vector<std::string>{"key", "CAST(st AS VARCHAR)",
                                                       "CAST(arr AS VARCHAR)", "part"}));
    ASSERT_EQ(rows->rows.size(), 2u);
    EXPECT_EQ(rows->rows[0], (std::vector<std::optional<std::string>>{"1", "{'x': 7, 'w': NULL}",
                                                                      "[{'y': q}]", "v1"}));
    EXPECT_EQ(rows->rows[1], (std::vector<std::optional<std::string>>{"2", std::nullopt,
                                                                      std::nullopt, std::nullopt}));
    auto cols = engine->Query("SELECT * FROM snap");
    ASSERT_TRUE(cols.ok());
    EXPECT_EQ(cols->columns, (std::vector<std::string>{"key", "st", "arr", "part"}));
  }
}

TEST(DuckDbSnapshot, MissingDataFileErrorNamesIt) {
  TempDir dir;
  auto engine = NewEngine();
  delta::AddFile add;
  add.path = "gone.parquet";
  auto snapshot = MakeSnapshot(dir.path(), Field("id", "\"long\""), {}, {add});
  Status st = engine->RegisterSnapshot("snap", snapshot);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kEngine);
  EXPECT_NE(st.message().find("gone.parquet"), std::string::npos) << st.message();
}

TEST(DuckDbSnapshot, WrittenFilesReadBackThroughTheView) {
  TempDir dir;
  auto engine = NewEngine();
  std::string fields =
      Field("id", "\"long\"") + "," + Field("p", "\"string\"") + "," + Field("ts", "\"timestamp\"");
  auto schema = delta::ParseSchemaString(R"({"type":"struct","fields":[)" + fields + "]}");
  ASSERT_TRUE(schema.ok());
  WriteOptions opts;
  opts.partition_columns = {"p", "ts"};
  std::string sql =
      "SELECT i AS id, CASE i % 4 WHEN 0 THEN 'a/b=c%20 é' WHEN 1 THEN NULL WHEN 2 THEN '' "
      "ELSE 'x' END AS p, TIMESTAMPTZ '2024-02-29 23:59:59.5+00' + to_hours(i % 2) AS ts "
      "FROM range(100) t(i)";
  auto adds = engine->WriteDataFiles(sql, dir.path(), *schema, opts);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  auto snapshot = MakeSnapshot(dir.path(), fields, {"p", "ts"}, *adds);
  ASSERT_TRUE(engine->RegisterSnapshot("snap", snapshot).ok());
  std::string expected = "SELECT id, NULLIF(p, '') AS p, ts FROM (" + sql + ")";
  EXPECT_EQ(
      Scalar(*engine, "SELECT count(*) FROM ((SELECT * FROM snap) EXCEPT (" + expected + "))"),
      "0");
  EXPECT_EQ(Scalar(*engine, "SELECT count(*) FROM snap"), "100");
}

}  // namespace
}  // namespace dl::engine
