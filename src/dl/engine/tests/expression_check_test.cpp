#include "dl/engine/expression_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

using ::testing::HasSubstr;
using testing::NewEngine;
using testing::TempDir;

std::string Nested(const std::string& open, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += open;
  return out;
}

std::string Refusal(Engine& engine, const std::string& fragment, Qualifiers q = Qualifiers::kAny) {
  auto r = CheckExpression(engine, fragment, "replace_where", q);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// Every fragment the docs, examples and tests use (merge_condition, delete_condition,
// replace_where, table --where) passes.
TEST(ExpressionCheck, LegitimateFragmentsPass) {
  auto engine = NewEngine();
  for (const char* f : {"op = 'D'",
                        "source.op = 'D'",
                        "missing = 1",
                        "day = 2",
                        "day >= '2024-01-01'",
                        "p = 1",
                        "id % 3 = 0 OR id = 2001",
                        "id % 4 = 0",
                        "id < 100",
                        "id = 1",
                        "(id >= 3 AND id <= 6) OR part = 'a/b'",
                        "part IS NULL",
                        "op = 'a;b' OR note = 'it''s'",
                        "\"weird;col\" = 1",
                        "note = 'x -- not a comment'",
                        "lower(trim(name)) LIKE 'a%' AND length(name) BETWEEN 1 AND 10",
                        "CAST(amount AS DECIMAL(10,2)) > 1.5 AND coalesce(flag, false)",
                        "CASE WHEN a IS NOT NULL THEN a ELSE b END IN (1, 2)",
                        "d > current_date - INTERVAL 7 DAY",
                        "date_trunc('day', ts) = DATE '2024-01-01'",
                        "regexp_matches(name, '^a') AND s.field = 1",
                        "a = $$dollar$$",
                        "a = 1 /* a harmless comment */"}) {
    EXPECT_EQ(Refusal(*engine, f), "") << f;
  }
  for (const char* f : {"source.updated_at > target.updated_at", "source.seq > target.seq",
                        "source.ts > target.ts", "source.nope > target.name"}) {
    EXPECT_EQ(Refusal(*engine, f, Qualifiers::kSourceOrTarget), "") << f;
  }
  EXPECT_EQ(Refusal(*engine, "source.op = 'D' OR op = 'X'", Qualifiers::kNotTarget), "");
}

TEST(ExpressionCheck, ReturnsTheColumnsNamed) {
  auto engine = NewEngine();
  auto cols =
      CheckExpression(*engine, "source.op = 'D' AND lower(note) = x", "k", Qualifiers::kNotTarget);
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  EXPECT_EQ(*cols, (std::vector<std::vector<std::string>>{{"source", "op"}, {"note"}, {"x"}}));
}

// Each escape attempt is refused with the key and the offending part named.
TEST(ExpressionCheck, EscapesAreRefused) {
  auto engine = NewEngine();
  const std::pair<std::string, std::string> cases[] = {
      {"id = CAST((SELECT content FROM read_text('/etc/hostname')) AS INTEGER)", "subquery"},
      {"id IN (SELECT 1)", "subquery"},
      {"EXISTS (SELECT 1)", "subquery"},
      {"length(read_text('/etc/hostname')) > 0", "function read_text"},
      {"getenv('HOME') = 'x'", "function getenv"},
      {"current_setting('threads') = '1'", "function current_setting"},
      {"id = 1) FROM read_text('/etc/hostname') --", "must be one expression"},
      {"id = 1; SELECT 1", "not a single SQL expression"},
      {"id = 1 --", "not a single SQL expression"},
      {"id = 1) --", "must be one expression"},
      {"id = 1) OR (1 = 1", "closes a parenthesis"},
      {"list_apply([1], x -> (SELECT 1)) = [1]", "function list_apply"},
      {"(x -> x) = 1", "lambda"},
      {"user = 'root'", "reads the session"},
      {"a::my_type = 1", "cast to USER"},
      {"a COLLATE nocase = 'x'", "COLLATE"},
      {"a = ?", "must be one expression"},  // a parameter
      {"count(*) OVER () > 1", "window"},
      {"a = U&'\\0061'", "not a single SQL expression"},
      {"a = 'x') FROM read_text('/etc/passwd') --", "must be one expression"},
      {"a = 'x' || (SELECT 'y')", "subquery"},
      {std::string(kMaxFragmentBytes + 1, '1'), "at most 4096"},
      {Nested("abs(", 100) + "1" + std::string(100, ')') + " = 1", "deeper than"},
  };
  for (const auto& [fragment, why] : cases) {
    std::string message = Refusal(*engine, fragment);
    EXPECT_THAT(message, HasSubstr("replace_where: ")) << fragment;
    EXPECT_THAT(message, HasSubstr(why)) << fragment;
  }
  EXPECT_THAT(Refusal(*engine, "a = 1", Qualifiers::kSourceOrTarget),
              HasSubstr("must be written source.a or target.a"));
  EXPECT_THAT(Refusal(*engine, "target.op = 'D'", Qualifiers::kNotTarget),
              HasSubstr("names the target"));
  // The offending part is quoted from the fragment.
  EXPECT_THAT(Refusal(*engine, "id = 1 AND getenv('HOME') = 'x'"), HasSubstr("at 'getenv('HOME')"));
}

// The engine itself refuses what a locked-down run must never do, even if a path got through.
TEST(EngineLockDown, FilesOutsideTheAllowedDirectoriesAreRefused) {
  TempDir allowed, other;
  dl::testing::WriteFile(allowed / "in.csv", "a\n1\n");
  dl::testing::WriteFile(other / "secret.txt", "secret\n");
  const std::string other_name = std::filesystem::path(other.path()).filename().string();
  EngineOptions options;
  options.allowed_directories = std::vector<std::string>{allowed.path()};
  auto engine = MakeDuckDbEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Engine& e = **engine;
  EXPECT_TRUE(e.Query("SELECT * FROM read_csv(" + QuoteLiteral(allowed / "in.csv") + ")").ok());
  EXPECT_TRUE(e.Execute("COPY (SELECT 1 AS a) TO " + QuoteLiteral(allowed / "out.parquet")).ok());
  for (const std::string& sql :
       {"SELECT * FROM read_text(" + QuoteLiteral(other / "secret.txt") + ")",
        "SELECT * FROM read_text(" +
            QuoteLiteral(allowed.path() + "/../" + other_name + "/secret.txt") + ")",
        "SELECT * FROM glob(" + QuoteLiteral(other.path() + "/*") + ")",
        "COPY (SELECT 1) TO " + QuoteLiteral(other / "out.csv"),
        "ATTACH " + QuoteLiteral(other / "x.db"), std::string("SET threads = 1"),
        std::string("SET enable_external_access = true"), std::string("RESET allowed_directories"),
        std::string("SET lock_configuration = false"), std::string("INSTALL httpfs"),
        std::string("LOAD httpfs")}) {
    auto st = e.Execute(sql);
    EXPECT_FALSE(st.ok()) << sql;
    EXPECT_THAT(st.message(), ::testing::Not(HasSubstr("secret\n"))) << sql;
  }
  EXPECT_FALSE(std::filesystem::exists(other / "out.csv"));
  // Other sessions of the same database are locked too.
  auto session = e.NewSession();
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE((*session)
                   ->Query("SELECT * FROM read_text(" + QuoteLiteral(other / "secret.txt") + ")")
                   .ok());
}

}  // namespace
}  // namespace dl::engine
