#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "dl/delta/partition.hpp"
#include "dl/delta/stats.hpp"
#include "dl/engine/duckdb/write_sql.hpp"
#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

namespace fs = std::filesystem;
using testing::NewEngine;
using testing::Scalar;
using testing::TempDir;

delta::Schema Schema(const std::string& fields_json) {
  auto s = delta::ParseSchemaString(R"({"type":"struct","fields":[)" + fields_json + "]}");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ValueOr({});
}

std::string Field(const std::string& name, const std::string& type) {
  return R"({"name":")" + name + R"(","type":)" + type + R"(,"nullable":true,"metadata":{}})";
}

std::set<std::string> ListTree(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out.insert(fs::relative(e.path(), root).string());
  }
  return out;
}

TEST(DuckDbWrite, PartitionedWithSpecialCharactersAndNulls) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("p", "\"string\"") + "," +
                       Field("q", "\"integer\""));
  std::string sql =
      "SELECT * FROM (VALUES (1, 'a/b=c', 1), (2, '%20 x', 1), (3, '', NULL), (4, NULL, NULL), "
      "(5, 'é', 2), (6, 'a/b=c', 1)) t(id, p, q)";
  WriteOptions opts;
  opts.partition_columns = {"p", "q"};
  auto adds = engine->WriteDataFiles(sql, dir.path(), schema, opts);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();

  std::map<std::string, delta::AddFile> by_dir;
  int64_t rows = 0;
  std::regex file_name(
      R"(part-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.snappy\.parquet)");
  for (const auto& add : *adds) {
    std::string relative = delta::UriDecodePath(add.path);
    std::string directory = fs::path(relative).parent_path().string();
    EXPECT_TRUE(std::regex_match(fs::path(relative).filename().string(), file_name)) << add.path;
    EXPECT_EQ(directory, delta::PartitionDirectory({"p", "q"}, add.partition_values));
    EXPECT_EQ(add.path, delta::UriEncodePath(relative));
    std::string abs = delta::ResolveDataPath(dir.path(), add.path);
    ASSERT_TRUE(fs::exists(abs)) << abs;
    EXPECT_EQ(add.size, static_cast<int64_t>(fs::file_size(abs)));
    EXPECT_GT(add.modification_time, 1600000000000);
    EXPECT_TRUE(add.data_change);
    ASSERT_TRUE(add.stats.has_value());
    rows += *delta::ParseStats(add.stats).num_records;
    // Partition columns are not stored in the files.
    auto cols = engine->Query("DESCRIBE SELECT * FROM read_parquet(" + QuoteLiteral(abs) +
                              ", hive_partitioning=false)");
    ASSERT_TRUE(cols.ok());
    ASSERT_EQ(cols->rows.size(), 1u);
    EXPECT_EQ(cols->rows[0][0], "id");
    by_dir[directory] = add;
  }
  EXPECT_EQ(rows, 6);
  // '' and NULL are both null partitions; '/' and '=' and '%' are Hive-escaped, then the path
  // is URI-encoded once more.
  ASSERT_EQ(by_dir.size(), 4u);
  ASSERT_TRUE(by_dir.count("p=a%2Fb%3Dc/q=1"));
  EXPECT_EQ(by_dir["p=a%2Fb%3Dc/q=1"].partition_values,
            (delta::PartitionValues{{"p", "a/b=c"}, {"q", "1"}}));
  EXPECT_EQ(by_dir["p=a%2Fb%3Dc/q=1"].path.substr(0, 20), "p=a%252Fb%253Dc/q=1/");
  ASSERT_TRUE(by_dir.count("p=%2520 x/q=1"));
  EXPECT_EQ(by_dir["p=%2520 x/q=1"].path.substr(0, 17), "p=%252520%20x/q=1");
  ASSERT_TRUE(by_dir.count("p=__HIVE_DEFAULT_PARTITION__/q=__HIVE_DEFAULT_PARTITION__"));
  EXPECT_EQ(by_dir["p=__HIVE_DEFAULT_PARTITION__/q=__HIVE_DEFAULT_PARTITION__"].partition_values,
            (delta::PartitionValues{{"p", std::nullopt}, {"q", std::nullopt}}));
  ASSERT_TRUE(by_dir.count("p=é/q=2"));
  // Only partition directories remain: the staging directory is gone.
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().rfind("p=", 0), 0u) << entry.path();
  }
}

TEST(DuckDbWrite, StatsContent) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema =
      Schema(Field("id", "\"long\"") + "," + Field("s", "\"string\"") + "," +
             Field("ts", "\"timestamp\"") + "," + Field("ntz", "\"timestamp_ntz\"") + "," +
             Field("st", R"({"type":"struct","fields":[)" + Field("x", "\"double\"") + "]}") + "," +
             Field("b", "\"boolean\"") + "," + Field("dec", "\"decimal(10,2)\""));
  std::string sql =
      "SELECT i AS id, CASE WHEN i = 2 THEN NULL ELSE repeat('y', 40) || i END AS s, "
      "TIMESTAMPTZ '2024-01-01 10:00:00.123456+00' + to_seconds(i) AS ts, "
      "TIMESTAMP '2021-11-18 02:30:00.123' AS ntz, {'x': i / 2} AS st, i % 2 = 0 AS b, "
      "i::DECIMAL(10,2) AS dec FROM range(1, 4) t(i)";
  auto adds = engine->WriteDataFiles(sql, dir.path(), schema, {});
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  ASSERT_EQ(adds->size(), 1u);
  auto stats = delta::ParseStats(adds->at(0).stats);
  EXPECT_EQ(stats.num_records, 3);
  EXPECT_EQ(stats.min_values["id"], 1);
  EXPECT_EQ(stats.max_values["id"], 3);
  EXPECT_EQ(stats.null_count["id"], 0);
  EXPECT_EQ(stats.null_count["s"], 1);
  EXPECT_EQ(stats.min_values["s"].get<std::string>().size(), 32u);  // 32-character prefix
  EXPECT_EQ(stats.min_values["ts"], "2024-01-01T10:00:01.123Z");
  EXPECT_EQ(stats.max_values["ts"].get<std::string>().substr(0, 19), "2024-01-01T10:00:03");
  EXPECT_EQ(stats.min_values["ntz"].get<std::string>().substr(0, 23), "2021-11-18T02:30:00.123");
  EXPECT_EQ(stats.min_values["st"]["x"], 0.5);
  EXPECT_EQ(stats.max_values["st"]["x"], 1.5);
  EXPECT_EQ(stats.null_count["st"]["x"], 0);
  EXPECT_FALSE(stats.min_values.contains("b"));  // no min/max for booleans
  EXPECT_EQ(stats.null_count["b"], 0);
  EXPECT_EQ(stats.min_values["dec"], 1.0);
}

TEST(DuckDbWrite, TimestampsAreUtcAdjustedOnlyForTimestamp) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("ts", "\"timestamp\"") + "," + Field("ntz", "\"timestamp_ntz\""));
  auto adds = engine->WriteDataFiles(
      "SELECT TIMESTAMPTZ '2024-01-01 10:00:00+00' AS ts, TIMESTAMP '2024-01-01 10:00:00' AS ntz",
      dir.path(), schema, {});
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  std::string file = delta::ResolveDataPath(dir.path(), adds->at(0).path);
  auto rows = engine->Query("SELECT name, logical_type FROM parquet_schema(" + QuoteLiteral(file) +
                            ") WHERE name IN ('ts', 'ntz') ORDER BY name");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_NE(rows->rows[0][1]->find("isAdjustedToUTC=0"), std::string::npos);  // ntz
  EXPECT_NE(rows->rows[1][1]->find("isAdjustedToUTC=1"), std::string::npos);  // ts
}

TEST(DuckDbWrite, PartitionValuesSerializePerProtocol) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("d", "\"date\"") + "," +
                       Field("ts", "\"timestamp\"") + "," + Field("ntz", "\"timestamp_ntz\"") +
                       "," + Field("b", "\"boolean\"") + "," + Field("dec", "\"decimal(5,2)\"") +
                       "," + Field("dbl", "\"double\""));
  WriteOptions opts;
  opts.partition_columns = {"d", "ts", "ntz", "b", "dec", "dbl"};
  auto adds = engine->WriteDataFiles(
      "SELECT 1 AS id, DATE '2021-09-08' AS d, TIMESTAMPTZ '2024-01-01 12:00:00+02' AS ts, "
      "TIMESTAMP '2013-07-05 17:01:00.123456' AS ntz, false AS b, 1.5 AS dec, 0.0 AS dbl",
      dir.path(), schema, opts);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  ASSERT_EQ(adds->size(), 1u);
  const auto& pv = adds->at(0).partition_values;
  EXPECT_EQ(pv.at("d"), "2021-09-08");
  EXPECT_EQ(pv.at("ts"), "2024-01-01T10:00:00.000000Z");
  EXPECT_EQ(pv.at("ntz"), "2013-07-05 17:01:00.123456");
  EXPECT_EQ(pv.at("b"), "false");
  EXPECT_EQ(pv.at("dec"), "1.50");
  EXPECT_EQ(pv.at("dbl"), "0.0");
  EXPECT_NE(adds->at(0).path.find("ts=2024-01-01T10%253A00%253A00.000000Z"), std::string::npos)
      << adds->at(0).path;
}

TEST(DuckDbWrite, TargetFileSizeSplitsFiles) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("s", "\"string\"") + "," +
                       Field("p", "\"integer\""));
  // Random strings do not compress, so ~3 MB per partition.
  std::string sql =
      "SELECT i AS id, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS s, (i % 2)::INTEGER AS p "
      "FROM range(100000) t(i)";
  WriteOptions opts;
  opts.target_file_size_bytes = 1 << 20;
  auto plain = engine->WriteDataFiles(sql, dir / "plain", schema, opts);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_GT(plain->size(), 2u);
  opts.partition_columns = {"p"};
  auto parted = engine->WriteDataFiles(sql, dir / "parted", schema, opts);
  ASSERT_TRUE(parted.ok()) << parted.status().ToString();
  EXPECT_GT(parted->size(), 2u);
  int64_t rows = 0;
  for (const auto& add : *parted) {
    rows += *delta::ParseStats(add.stats).num_records;
    EXPECT_LT(add.size, 2 * opts.target_file_size_bytes);
    EXPECT_TRUE(fs::exists(delta::ResolveDataPath(dir / "parted", add.path)));
  }
  EXPECT_EQ(rows, 100000);
}

TEST(DuckDbWrite, OrderByAndZOrder) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("x", "\"long\"") + "," + Field("y", "\"long\""));
  std::string grid = "SELECT a AS x, b AS y FROM range(16) t(a), range(16) u(b) ORDER BY random()";
  WriteOptions opts;
  opts.order_by = {"y"};
  auto sorted = engine->WriteDataFiles(grid, dir / "sorted", schema, opts);
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  std::string file = QuoteLiteral(delta::ResolveDataPath(dir / "sorted", sorted->at(0).path));
  EXPECT_EQ(Scalar(*engine,
                   "SELECT bool_and(y >= prev) FROM (SELECT y, lag(y, 1, 0) OVER () "
                   "AS prev FROM read_parquet(" +
                       file + "))"),
            "true");

  opts.order_by = {"x", "y"};
  opts.zorder = true;
  auto z = engine->WriteDataFiles(grid, dir / "z", schema, opts);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  file = QuoteLiteral(delta::ResolveDataPath(dir / "z", z->at(0).path));
  // In Z-order the first quarter of the rows is exactly the lower-left quadrant.
  EXPECT_EQ(Scalar(*engine, "SELECT max(x) || ',' || max(y) FROM (SELECT * FROM read_parquet(" +
                                file + ") LIMIT 64)"),
            "7,7");
  EXPECT_EQ(Scalar(*engine, "SELECT x || ',' || y FROM read_parquet(" + file +
                                ") LIMIT 1 "
                                "OFFSET 1"),
            "0,1");
  opts.order_by = {"nope"};
  EXPECT_EQ(engine->WriteDataFiles(grid, dir / "bad", schema, opts).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DuckDbWrite, ZOrderKeyInterleavesBits) {
  EXPECT_EQ(duck::ZOrderBitsPerColumn(2), 31);
  EXPECT_EQ(duck::ZOrderBitsPerColumn(3), 20);
  std::string key = duck::ZOrderKeySql({"a", "b"}, 2);
  EXPECT_EQ(key,
            "((((a >> 1) & 1) << 3) | (((b >> 1) & 1) << 2) | (((a >> 0) & 1) << 1) | "
            "(((b >> 0) & 1) << 0))");
}

TEST(DuckDbWrite, ParseStatsKey) {
  using Path = std::vector<std::string>;
  EXPECT_EQ(duck::ParseStatsKey("\"a\""), Path{"a"});
  EXPECT_EQ(duck::ParseStatsKey("\"st\".\"x.y\""), (Path{"st", "x.y"}));
  EXPECT_EQ(duck::ParseStatsKey("\"a\"\"b\""), Path{"a\"b"});
  EXPECT_EQ(duck::ParseStatsKey("a"), std::nullopt);
  EXPECT_EQ(duck::ParseStatsKey("\"a"), std::nullopt);
}

TEST(DuckDbWrite, FailedQueryLeavesNothingBehind) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("p", "\"string\""));
  WriteOptions opts;
  opts.partition_columns = {"p"};
  // Fails while running, after some rows were produced.
  auto adds = engine->WriteDataFiles(
      "SELECT i AS id, CAST(CASE WHEN i < 200000 THEN (i % 3)::VARCHAR ELSE 'boom' END AS "
      "INTEGER)::VARCHAR AS p FROM range(300000) t(i)",
      dir.path(), schema, opts);
  ASSERT_FALSE(adds.ok());
  EXPECT_EQ(adds.status().code(), StatusCode::kEngine);
  EXPECT_NE(adds.status().message().find("boom"), std::string::npos) << adds.status().message();
  EXPECT_TRUE(ListTree(dir.path()).empty());
}

TEST(DuckDbWrite, EmptyResultWritesNoFiles) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("id", "\"long\""));
  auto adds = engine->WriteDataFiles("SELECT 1 AS id WHERE false", dir.path(), schema, {});
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  EXPECT_TRUE(adds->empty());
  EXPECT_TRUE(ListTree(dir.path()).empty());
}

TEST(DuckDbWrite, MissingColumnsAreNullAndExtraColumnsRejected) {
  TempDir dir;
  auto engine = NewEngine();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("later", "\"string\""));
  auto adds = engine->WriteDataFiles("SELECT 1 AS id", dir.path(), schema, {});
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  auto stats = delta::ParseStats(adds->at(0).stats);
  EXPECT_EQ(stats.null_count["later"], 1);
  auto extra = engine->WriteDataFiles("SELECT 1 AS id, 2 AS other", dir.path(), schema, {});
  EXPECT_EQ(extra.status().code(), StatusCode::kSchemaMismatch);
}

// Rows per value of a column, counted in the pass that writes them (the tracker's rows per
// source file): exact across DuckDB's threads, NULL under "", once per row when the column is
// a partition column too (its key expression names the value twice).
TEST(DuckDbWrite, CountsRowsPerValueOfAColumnAsItWrites) {
  auto engine = NewEngine();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("f", "\"string\""));
  const std::string sql =
      "SELECT i AS id, CASE WHEN i % 1000 = 0 THEN NULL WHEN i < 250000 THEN 'run' "
      "ELSE 'f' || (i % 7) END AS f FROM range(400000) t(i)";
  auto want = engine->Query("SELECT coalesce(f, ''), count(*) FROM (" + sql + ") GROUP BY 1");
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  std::map<std::string, int64_t> expected;
  for (const auto& r : want->rows) expected[*r[0]] = std::stoll(*r[1]);
  ASSERT_EQ(expected.size(), 9u);
  for (bool partitioned : {false, true}) {
    TempDir dir;
    std::map<std::string, int64_t> counts;
    WriteOptions opts;
    if (partitioned) opts.partition_columns = {"f"};
    opts.count_rows_by = "f";
    opts.rows_by_value = &counts;
    auto adds = engine->WriteDataFiles(sql, dir.path(), schema, opts);
    ASSERT_TRUE(adds.ok()) << adds.status().ToString();
    EXPECT_EQ(counts, expected) << "partitioned " << partitioned;
  }
  TempDir dir;
  std::map<std::string, int64_t> counts;
  WriteOptions opts;
  opts.count_rows_by = "id";  // not a string column: nothing counted, the write succeeds
  opts.rows_by_value = &counts;
  ASSERT_TRUE(engine->WriteDataFiles(sql, dir.path(), schema, opts).ok());
  EXPECT_TRUE(counts.empty());
}

}  // namespace
}  // namespace dl::engine
