#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "dl/engine/duckdb/source_reader.hpp"
#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

using testing::NewEngine;
using testing::Scalar;
using testing::TempDir;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Sql, Quoting) {
  EXPECT_EQ(QuoteIdent("a"), "\"a\"");
  EXPECT_EQ(QuoteIdent("we\"ird"), "\"we\"\"ird\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
  EXPECT_EQ(QuoteLiteral("back\\slash"), "'back\\slash'");
}

TEST(DuckDbEngine, QuotedValuesSurviveTheRoundTrip) {
  auto engine = NewEngine();
  std::string nasty = "x'); DROP TABLE t; --\"\\";
  EXPECT_EQ(Scalar(*engine, "SELECT " + QuoteLiteral(nasty) + " AS " + QuoteIdent(nasty)), nasty);
  auto rows = engine->Query("SELECT 1 AS " + QuoteIdent(nasty));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->columns.at(0), nasty);
}

TEST(DuckDbEngine, QueryReturnsText) {
  auto engine = NewEngine();
  auto rows = engine->Query(
      "SELECT 1 AS i, NULL::VARCHAR AS n, [1, 2] AS l, DATE '2024-01-02' AS d, "
      "TIMESTAMPTZ '2024-01-01 10:00:00+02' AS ts, 1.50::DECIMAL(5,2) AS dec;");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"i", "n", "l", "d", "ts", "dec"}));
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0], "1");
  EXPECT_EQ(rows->rows[0][1], std::nullopt);
  EXPECT_EQ(rows->rows[0][2], "[1, 2]");
  EXPECT_EQ(rows->rows[0][3], "2024-01-02");
  EXPECT_EQ(rows->rows[0][4], "2024-01-01 08:00:00+00");  // session time zone is UTC
  EXPECT_EQ(rows->rows[0][5], "1.50");
  // Statements that are not queries still work.
  ASSERT_TRUE(engine->Execute("CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t VALUES (2)").ok());
  EXPECT_EQ(Scalar(*engine, "SELECT sum(a) FROM t"), "3");
  auto pragma = engine->Query("PRAGMA table_info('t')");
  ASSERT_TRUE(pragma.ok()) << pragma.status().ToString();
  EXPECT_EQ(pragma->rows.size(), 1u);
}

TEST(DuckDbEngine, ErrorsKeepDuckDbMessage) {
  auto engine = NewEngine();
  Status st = engine->Execute("SELECT * FROM no_such_table");
  EXPECT_EQ(st.code(), StatusCode::kEngine);
  EXPECT_NE(st.message().find("no_such_table"), std::string::npos) << st.message();
  auto q = engine->Query("SELEC 1");
  EXPECT_EQ(q.status().code(), StatusCode::kEngine);
  EXPECT_NE(q.status().message().find("syntax error"), std::string::npos);
}

TEST(DuckDbEngine, CorruptParquetErrorNamesFile) {
  TempDir dir;
  std::string bad = dir / "corrupt.parquet";
  WriteText(bad, "this is not parquet at all, just some bytes");
  auto engine = NewEngine();
  Status st = engine->RegisterFiles("src", {bad}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kEngine);
  EXPECT_NE(st.message().find("corrupt.parquet"), std::string::npos) << st.message();
  // DuckDB's own words are kept.
  EXPECT_NE(st.message().find("magic bytes"), std::string::npos) << st.message();
}

// The detail names the file at fault as the caller gave it (not the files the statement
// echoes, nor a file whose path is a prefix of it), and calls the failure permanent.
TEST(DuckDbEngine, ErrorsNameTheCorruptParquetFileAtFault) {
  TempDir dir;
  const std::string good = dir / "b.parquet";
  const std::string bad = dir / "b.parquet.1";
  auto engine = NewEngine();
  ASSERT_TRUE(
      engine->Execute("COPY (SELECT 1 AS id) TO " + QuoteLiteral(good) + " (FORMAT parquet)").ok());
  WriteText(bad, "PAR1 this is not parquet at all PAR1");
  Status st = engine->RegisterFiles("src", {good, bad}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail().files, std::vector<std::string>{bad}) << st.ToString();
  EXPECT_EQ(st.detail().cause, ErrorDetail::Cause::kData) << st.ToString();
  EXPECT_NE(st.message().find("in file '" + bad + "'"), std::string::npos) << st.message();
}

TEST(DuckDbEngine, ErrorsNameTheMalformedCsvFileAtFault) {
  TempDir dir;
  const std::string a = dir / "a.csv", b = dir / "b.csv", c = dir / "c.csv";
  WriteText(a, "id,name\n1,x\n2,y\n");
  WriteText(b, "id,name\n3,x\n4,y,z,w\n5,\"unterminated\n");
  WriteText(c, "id,name\n6,x\n");
  auto engine = NewEngine();
  SourceOptions csv;
  csv.format = "csv";
  csv.options = {{"header", "true"}, {"delim", ","}};
  Status st = engine->RegisterFiles("src", {a, b, c}, csv);
  if (st.ok()) st = engine->Execute("CREATE TEMP TABLE m AS SELECT * FROM src");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail().files, std::vector<std::string>{b}) << st.ToString();
  EXPECT_EQ(st.detail().cause, ErrorDetail::Cause::kData) << st.ToString();
}

TEST(DuckDbEngine, ErrorsSayWhetherRetryingMayHelp) {
  auto engine = NewEngine();
  using Cause = ErrorDetail::Cause;
  EXPECT_EQ(engine->Execute("SELECT * FROM no_such_table").detail().cause, Cause::kQuery);
  EXPECT_EQ(engine->Query("SELEC 1").status().detail().cause, Cause::kQuery);
  EXPECT_EQ(engine->SchemaOf("SELECT no_such_column FROM range(3)").status().detail().cause,
            Cause::kQuery);
  EXPECT_EQ(
      engine->Query("SELECT CAST(x AS INTEGER) FROM (VALUES ('abc')) t(x)").status().detail().cause,
      Cause::kData);
  // Memory runs out (a list cannot spill): another time, with less going on, it may not.
  EngineOptions small;
  small.threads = 1;
  small.memory_limit = "8MB";
  auto tight = MakeDuckDbEngine(small);
  ASSERT_TRUE(tight.ok()) << tight.status().ToString();
  Status oom = (*tight)->Execute("SELECT len(list(i)) FROM range(10000000) t(i)");
  ASSERT_FALSE(oom.ok());
  EXPECT_EQ(oom.code(), StatusCode::kEngine) << oom.ToString();
  EXPECT_EQ(oom.detail().cause, Cause::kTransient) << oom.ToString();
}

TEST(DuckDbEngine, RegisterFilesCsvWithOptions) {
  TempDir dir;
  WriteText(dir / "a.csv", "id;name\n1;x\n2;NA\n");
  WriteText(dir / "b.csv", "id;name;extra\n3;z;e\n");
  auto engine = NewEngine();
  SourceOptions opts;
  opts.format = "csv";
  opts.options = {{"delim", ";"}, {"header", "true"}, {"nullstr", "NA"}};
  ASSERT_TRUE(engine->RegisterFiles("src", {dir / "a.csv", dir / "b.csv"}, opts).ok());
  EXPECT_EQ(Scalar(*engine, "SELECT count(*) FROM src"), "3");
  EXPECT_EQ(Scalar(*engine, "SELECT count(*) FROM src WHERE name IS NULL"), "1");
  EXPECT_EQ(Scalar(*engine, "SELECT extra FROM src WHERE id = 3"), "e");  // union_by_name

  opts.options = {{"delim", ";"}, {"columns", "{'id': 'VARCHAR', 'name': 'VARCHAR'}"}};
  ASSERT_TRUE(engine->RegisterFiles("typed", {dir / "a.csv"}, opts).ok());
  auto schema = engine->SchemaOf("SELECT * FROM typed");
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(schema->fields.at(0).type->is_primitive("string"));
}

// Files sharing a header are read with the types of one of them: not of a file holding the
// header alone, whose columns all read as text.
TEST(DuckDbEngine, CsvTypesComeFromAFileWithRowsNotFromAHeaderAlone) {
  TempDir dir;
  WriteText(dir / "a.csv", "id,name\n");
  WriteText(dir / "b.csv", "id,name");
  WriteText(dir / "c.csv", "id,name\n3,x\n4,y\n");
  auto engine = NewEngine();
  SourceOptions opts;
  opts.format = "csv";
  ASSERT_TRUE(
      engine->RegisterFiles("src", {dir / "a.csv", dir / "b.csv", dir / "c.csv"}, opts).ok());
  auto schema = engine->SchemaOf("SELECT * FROM src");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE(schema->fields.at(0).type->is_primitive("long"))
      << schema->fields.at(0).type->ToString();
  EXPECT_EQ(Scalar(*engine, "SELECT sum(id) FROM src"), "7");
}

TEST(DuckDbEngine, RegisterFilesRejectsUnknownOrUnsafeOptions) {
  TempDir dir;
  WriteText(dir / "a.csv", "id\n1\n");
  auto engine = NewEngine();
  SourceOptions opts;
  opts.format = "csv";
  opts.options = {{"delim) ; DROP TABLE x; --", ","}};
  Status st = engine->RegisterFiles("src", {dir / "a.csv"}, opts);
  EXPECT_EQ(st.code(), StatusCode::kConfig);
  opts.options = {{"header", "maybe"}};
  EXPECT_EQ(engine->RegisterFiles("src", {dir / "a.csv"}, opts).code(), StatusCode::kConfig);
  opts.options = {{"columns", "{'a': 'INT'}) ; SELECT 1; --"}};
  EXPECT_EQ(engine->RegisterFiles("src", {dir / "a.csv"}, opts).code(), StatusCode::kConfig);
  opts.format = "xlsx";
  opts.options = {};
  EXPECT_EQ(engine->RegisterFiles("src", {dir / "a.csv"}, opts).code(), StatusCode::kConfig);
  // A quote inside a string option stays a value.
  opts.format = "csv";
  opts.options = {{"nullstr", "it's"}};
  EXPECT_TRUE(engine->RegisterFiles("src", {dir / "a.csv"}, opts).ok());
}

TEST(DuckDbEngine, SanitizeColumnsLiteral) {
  auto ok = duck::SanitizeColumnsLiteral(R"({'a': 'INTEGER', "b c": 'DECIMAL(10,2)'})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "{'a': 'INTEGER', 'b c': 'DECIMAL(10,2)'}");
  EXPECT_FALSE(duck::SanitizeColumnsLiteral("{'a': INTEGER}").ok());
  EXPECT_FALSE(duck::SanitizeColumnsLiteral("{}").ok());
  EXPECT_FALSE(duck::SanitizeColumnsLiteral("{'a': 'x'} extra").ok());
}

TEST(DuckDbEngine, RegisterFilesJson) {
  TempDir dir;
  WriteText(dir / "a.jsonl", "{\"id\": 1, \"s\": {\"x\": \"a\"}}\n{\"id\": 2, \"s\": null}\n");
  auto engine = NewEngine();
  SourceOptions opts;
  opts.format = "json";
  opts.options = {{"format", "newline_delimited"}};
  ASSERT_TRUE(engine->RegisterFiles("j", {dir / "a.jsonl"}, opts).ok());
  EXPECT_EQ(Scalar(*engine, "SELECT s.x FROM j WHERE id = 1"), "a");
}

// Decimals inside struct, list and map columns come from their json text, as scalar ones do:
// the reader's doubles gave 1234567.8899999998, and 17 digits silently became others.
TEST(DuckDbEngine, JsonDecimalsInsideNestedColumnsAreExact) {
  TempDir dir;
  WriteText(dir / "a.jsonl",
            "{\"id\": 1, \"st\": {\"d\": 1234567.89, \"s\": \"x\", \"in\": {\"a\": 1, \"b\": 2}}, "
            "\"l\": [0.1, \"12345678901234567.5\", null], \"m\": {\"k\": 1234567.89}}\n"
            "{\"id\": 2, \"st\": null, \"l\": [], \"m\": null}\n");
  WriteText(dir / "b.jsonl", "{\"id\": 3, \"l\": [1234567890123456.78]}\n");
  auto engine = NewEngine();
  SourceOptions opts;
  opts.format = "json";
  opts.materialize = true;
  opts.options = {{"format", "newline_delimited"},
                  {"columns", "{'id': 'BIGINT', 'st': 'JSON', 'l': 'JSON', 'm': 'JSON'}"}};
  opts.json_decimal_columns = {{"st", "STRUCT(d DECIMAL(20,2), s VARCHAR, \"in\" STRUCT(a INT))"},
                               {"l", "DECIMAL(38,10)[]"},
                               {"m", "MAP(VARCHAR, DECIMAL(18,4))"}};
  ASSERT_TRUE(engine->RegisterFiles("j", {dir / "a.jsonl"}, opts).ok());
  // Keys the struct does not have are ignored at every depth, as the reader ignores them.
  EXPECT_EQ(
      Scalar(*engine, "SELECT st.d::VARCHAR || ' ' || st.s || ' ' || st.in.a FROM j WHERE id = 1"),
      "1234567.89 x 1");
  EXPECT_EQ(Scalar(*engine, "SELECT l::VARCHAR FROM j WHERE id = 1"),
            "[0.1000000000, 12345678901234567.5000000000, NULL]");
  EXPECT_EQ(Scalar(*engine, "SELECT m['k']::VARCHAR FROM j WHERE id = 1"), "1234567.8900");
  EXPECT_EQ(Scalar(*engine, "SELECT typeof(st) || ' ' || (st IS NULL) FROM j WHERE id = 2"),
            "STRUCT(d DECIMAL(20,2), s VARCHAR, \"in\" STRUCT(a INTEGER)) true");
  Status st = engine->RegisterFiles("k", {dir / "b.jsonl"}, opts);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("decimal column l.element"), std::string::npos) << st.ToString();
}

TEST(DuckDbEngine, ExportCsvAndJsonl) {
  TempDir dir;
  auto engine = NewEngine();
  std::string sql = "SELECT * FROM (VALUES (1, 'a'), (2, NULL)) t(id, name) ORDER BY id";
  ASSERT_TRUE(engine->Export(sql, dir / "out.csv", "csv").ok());
  EXPECT_EQ(ReadText(dir / "out.csv"), "id,name\n1,a\n2,\n");
  ASSERT_TRUE(engine->Export(sql, dir / "out.jsonl", "jsonl").ok());
  EXPECT_EQ(ReadText(dir / "out.jsonl"), "{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"name\":null}\n");
  EXPECT_EQ(engine->Export(sql, dir / "x", "xml").code(), StatusCode::kInvalidArgument);
}

TEST(DuckDbEngine, ExportToRedirectedStdoutKeepsEarlierOutput) {
  TempDir dir;
  auto engine = NewEngine();
  std::string file = dir / "stdout.txt";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "before\n", 7), 7);
  std::fflush(stdout);
  int saved = ::dup(STDOUT_FILENO);
  ::dup2(fd, STDOUT_FILENO);
  Status st = engine->Export("SELECT 1 AS a", "/dev/stdout", "csv");
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(fd);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ReadText(file), "before\na\n1\n");
}

TEST(DuckDbEngine, SessionsShareTheDatabase) {
  auto engine = NewEngine();
  ASSERT_TRUE(engine->Execute("CREATE TABLE shared AS SELECT 42 AS v").ok());
  auto session = engine->NewSession();
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(Scalar(**session, "SELECT v FROM shared"), "42");
  // Temp views are per session.
  ASSERT_TRUE(engine->Execute("CREATE TEMP VIEW mine AS SELECT 1").ok());
  EXPECT_FALSE((*session)->Query("SELECT * FROM mine").ok());
  EXPECT_EQ(Scalar(**session, "SELECT current_setting('TimeZone')"), "UTC");
}

TEST(DuckDbEngine, InterruptCancelsRunningQuery) {
  auto engine = NewEngine();
  std::atomic<bool> done{false};
  Result<QueryRows> result = Status::Internal("not run");
  std::thread worker([&] {
    result = engine->Query("SELECT count(*) FROM range(10000000000) a, range(1000) b");
    done = true;
  });
  // Keep interrupting until the query notices (it may not have started on the first call).
  for (int i = 0; i < 200 && !done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    engine->Interrupt();
  }
  worker.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
}

}  // namespace
}  // namespace dl::engine
