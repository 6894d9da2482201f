// The relational operations strategies ask the engine for (dedup, projections, column lists,
// sources with a row order), on real DuckDB and real files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

using testing::NewEngine;
using testing::Scalar;
using testing::TempDir;

std::vector<std::vector<std::optional<std::string>>> Rows(Engine& engine, const std::string& sql) {
  auto rows = engine.Query(sql);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
  return rows.ok() ? rows->rows : decltype(rows->rows){};
}

constexpr const char* kEvents =
    "SELECT * FROM (VALUES (1, 10, 'a', 1), (1, NULL, 'b', 2), (1, 10, 'c', 3), (2, NULL, 'd', 4),"
    " (NULL, 5, 'e', 5), (NULL, 6, 'f', 6)) t(k, seq, v, pos)";

TEST(DuckDbRelation, DeduplicateKeepsTheFirstRowPerKeyInOrder) {
  auto engine = NewEngine();
  Deduplication dedup;
  dedup.keys = {"k"};
  dedup.order = {{"seq", /*descending=*/true}, {"pos"}};
  dedup.drop_columns = {"pos"};
  dedup.dropped_count_column = "dups";
  const std::string sql = engine->Deduplicate(kEvents, dedup);
  auto rows = engine->Query(sql + " ORDER BY k NULLS LAST");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"k", "seq", "v", "dups"}));
  using R = std::vector<std::optional<std::string>>;
  // Highest seq first, NULL last, ties by position; NULL keys are one key.
  EXPECT_EQ(rows->rows, (std::vector<R>{{"1", "10", "a", "2"},
                                        {"2", std::nullopt, "d", "0"},
                                        {std::nullopt, "6", "f", "1"}}));
  dedup.order = {{"seq", false, /*nulls_first=*/true}};
  dedup.drop_columns.clear();
  dedup.dropped_count_column.clear();
  EXPECT_EQ(Scalar(*engine, "SELECT v FROM (" + engine->Deduplicate(kEvents, dedup) +
                                ") WHERE k = 1"),
            "b");
  // No keys: the whole relation is one key.
  dedup.keys.clear();
  dedup.order = {{"pos", true}};
  EXPECT_EQ(Scalar(*engine, "SELECT v FROM (" + engine->Deduplicate(kEvents, dedup) + ")"), "f");
}

TEST(DuckDbRelation, WithoutColumnsKeepsTheOthersInOrder) {
  auto engine = NewEngine();
  auto rows = engine->Query(engine->WithoutColumns(kEvents, {"seq", "pos"}) + " LIMIT 1");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"k", "v"}));
  rows = engine->Query(engine->WithoutColumns(kEvents, {}) + " LIMIT 1");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->columns.size(), 4u);
}

TEST(DuckDbRelation, DescribeColumnsGivesNamesAndEngineTypes) {
  auto engine = NewEngine();
  auto columns = engine->DescribeColumns(
      "SELECT 1::BIGINT AS \"a b\", 'x' AS s, 1.5::DECIMAL(10,2) AS d, NOW() AS t;");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ(columns->size(), 4u);
  EXPECT_EQ((*columns)[0].name, "a b");
  EXPECT_EQ((*columns)[0].type, "BIGINT");
  EXPECT_EQ((*columns)[1].type, "VARCHAR");
  EXPECT_EQ((*columns)[2].type, "DECIMAL(10,2)");
  EXPECT_EQ((*columns)[3].type, "TIMESTAMP WITH TIME ZONE");
  // The type is usable in the engine's casts.
  EXPECT_EQ(Scalar(*engine, "SELECT CAST('2.5' AS " + (*columns)[2].type + ")"), "2.50");
  EXPECT_EQ(engine->DescribeColumns("SELECT nope FROM range(1)").status().code(),
            StatusCode::kEngine);
}

TEST(DuckDbRelation, ParquetSourceNumbersEachFilesRows) {
  TempDir dir;
  auto engine = NewEngine();
  const std::string a = dir / "a.parquet", b = dir / "b.parquet";
  ASSERT_TRUE(engine->Execute("COPY (SELECT i AS id FROM range(3) t(i)) TO " + QuoteLiteral(a) +
                              " (FORMAT parquet)")
                  .ok());
  ASSERT_TRUE(engine->Execute("COPY (SELECT 10 + i AS id FROM range(2) t(i)) TO " +
                              QuoteLiteral(b) + " (FORMAT parquet)")
                  .ok());
  SourceOptions opts;
  opts.options = {{"filename", "file"}};
  opts.row_order_column = "row_in_file";
  ASSERT_TRUE(engine->RegisterFiles("src", {a, b}, opts).ok());
  using R = std::vector<std::optional<std::string>>;
  EXPECT_EQ(Rows(*engine, "SELECT id, row_in_file FROM src ORDER BY id"),
            (std::vector<R>{{"0", "0"}, {"1", "1"}, {"2", "2"}, {"10", "0"}, {"11", "1"}}));
  auto columns = engine->DescribeColumns("SELECT * FROM src");
  ASSERT_TRUE(columns.ok());
  EXPECT_EQ(columns->back().name, "row_in_file");
  EXPECT_EQ(columns->back().type, "BIGINT");
}

TEST(DuckDbRelation, MaterializedCsvSourceIsReadOnceAndOrdered) {
  TempDir dir;
  const std::string a = dir / "a.csv", b = dir / "b.csv";
  std::ofstream(a) << "id,v\n3,x\n1,y\n";
  std::ofstream(b) << "id,v\n2,z\n";
  auto engine = NewEngine();
  SourceOptions opts;
  opts.format = "csv";
  opts.options = {{"header", "true"}, {"filename", "file"}};
  opts.materialize = true;
  opts.row_order_column = "row_in_file";
  ASSERT_TRUE(engine->RegisterFiles("src", {a, b}, opts).ok());
  std::filesystem::remove(a);  // read once: the rows no longer depend on the files
  std::filesystem::remove(b);
  // Rows keep each file's order (the numbers are increasing within a file, not from 0).
  using R = std::vector<std::optional<std::string>>;
  EXPECT_EQ(Rows(*engine, "SELECT id, v FROM src ORDER BY file, row_in_file"),
            (std::vector<R>{{"3", "x"}, {"1", "y"}, {"2", "z"}}));
  engine->DropSource("src");
  EXPECT_FALSE(engine->Query("SELECT * FROM src").ok());
  EXPECT_FALSE(engine->Query("SELECT * FROM src_files").ok());
  EXPECT_FALSE(engine->Query("SELECT * FROM src_rows").ok());
}

// A csv batch whose later file does not fit the types inferred from the first is read again
// with every file's own types, not rounded.
TEST(DuckDbRelation, MaterializedCsvReadsAgainWhenLaterFilesDoNotFit) {
  TempDir dir;
  const std::string a = dir / "a.csv", b = dir / "b.csv";
  std::ofstream(a) << "id,amount\n1,2\n";
  std::ofstream(b) << "id,amount\n2,2.75\n";
  auto engine = NewEngine();
  SourceOptions opts;
  opts.format = "csv";
  opts.options = {{"header", "true"}};
  opts.materialize = true;
  ASSERT_TRUE(engine->RegisterFiles("src", {a, b}, opts).ok());
  EXPECT_EQ(Scalar(*engine, "SELECT amount FROM src WHERE id = 2"), "2.75");
}

}  // namespace
}  // namespace dl::engine
