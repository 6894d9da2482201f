#include "dl/engine/table_rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

using ::testing::HasSubstr;
using testing::NewEngine;

delta::Schema TestSchema() {
  delta::Schema s;
  s.fields.push_back({"id", delta::DataType::Primitive("long"), true, nlohmann::json::object()});
  s.fields.push_back({"s", delta::DataType::Primitive("string"), true, nlohmann::json::object()});
  s.fields.push_back({"g", delta::DataType::Primitive("long"), true, nlohmann::json::object()});
  s.fields.push_back({"ts", delta::DataType::Primitive("timestamp"), true,
                      nlohmann::json::object()});
  return s;
}

std::string Translated(std::string_view spark) {
  auto r = TranslateSparkExpression(spark);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "<error>";
}

std::string Refusal(std::string_view spark) {
  auto r = TranslateSparkExpression(spark);
  return r.ok() ? "" : r.status().message();
}

TEST(TableRules, TranslatesTheSparkDialect) {
  EXPECT_EQ(Translated("id > 0"), "id > 0");
  EXPECT_EQ(Translated("`my col` = 'a\\'b'"), "\"my col\" = 'a''b'");
  EXPECT_EQ(Translated("s == \"x\""), "s = 'x'");
  EXPECT_EQ(Translated("a <=> b"), "a  IS NOT DISTINCT FROM  b");
  EXPECT_EQ(Translated("id div 2 != 3"), "id // 2 <> 3");
  EXPECT_EQ(Translated("CAST(ts AS DATE)"), "CAST(ts AS DATE)");
  EXPECT_EQ(Translated("cast(id as string)"), "cast(id as VARCHAR)");
  EXPECT_EQ(Translated("CAST(s AS TIMESTAMP) > TIMESTAMP '2020-01-01'"),
            "CAST(s AS TIMESTAMPTZ) > TIMESTAMPTZ '2020-01-01'");
  EXPECT_EQ(Translated("CAST(id AS DECIMAL(10, 2))"), "CAST(id AS DECIMAL(10, 2))");
  EXPECT_EQ(Translated("year(ts) >= 2000 AND id IN (1, 2)"), "year(ts) >= 2000 AND id IN (1, 2)");
  EXPECT_EQ(Translated("1.5e3 < id"), "1.5e3 < id");
  EXPECT_EQ(Translated("`a``b` IS NULL"), "\"a`b\" IS NULL");
}

TEST(TableRules, RefusesWhatDoesNotTranslate) {
  EXPECT_THAT(Refusal("concat(s, 'x') = 'ax'"), HasSubstr("function concat is not supported"));
  EXPECT_THAT(Refusal("date_format(ts, 'yyyy') = '2020'"), HasSubstr("date_format"));
  EXPECT_THAT(Refusal("id > 10L"), HasSubstr("typed numeric literal"));
  EXPECT_THAT(Refusal("id ^ 2 = 0"), HasSubstr("XOR"));
  EXPECT_THAT(Refusal("s RLIKE 'a.*'"), HasSubstr("RLIKE"));
  EXPECT_THAT(Refusal("s = 'a' 'b'"), HasSubstr("adjacent string literals"));
  EXPECT_THAT(Refusal("s = 'open"), HasSubstr("not closed"));
  EXPECT_THAT(Refusal("id > 0; DROP TABLE t"), HasSubstr("';'"));
}

TEST(TableRules, CompileChecksTheExpression) {
  auto engine = NewEngine();
  const auto schema = TestSchema();
  auto ok = CompileTableExpression(*engine, "id > 0 AND `s` <> 'x'", schema, "CHECK constraint c");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto missing = CompileTableExpression(*engine, "nope > 0", schema, "CHECK constraint c");
  ASSERT_EQ(missing.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(missing.status().message(), HasSubstr("CHECK constraint c (nope > 0)"));
  EXPECT_THAT(missing.status().message(), HasSubstr("column nope is not in the table"));
  // Reaching files is refused by expression_check, whatever the dialect.
  auto file = CompileTableExpression(*engine, "id IN (SELECT 1 FROM read_csv('/etc/passwd'))",
                                     schema, "CHECK constraint c");
  EXPECT_EQ(file.status().code(), StatusCode::kUnsupported);
  auto bad = CompileTableExpression(*engine, "id >", schema, "generated column g");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(bad.status().message(), HasSubstr("generated column g (id >)"));
}

TEST(TableRules, FindsViolationsPerFileAndFillsGeneratedColumns) {
  auto engine = NewEngine();
  const auto schema = TestSchema();
  const std::string rows =
      "SELECT * FROM (VALUES (1, 'a', NULL, NULL, 'f1'), (-1, 'b', NULL, NULL, 'f1'), "
      "(NULL, 'c', 5, NULL, 'f2'), (2, 'd', 4, NULL, 'f2')) t(id, s, g, ts, src)";
  std::vector<RowRule> rules = {{"CHECK constraint pos", "id > 0", ""},
                                {"g", "id * 2", "g"}};
  auto filled = engine->FillGeneratedColumns(rows, schema, rules);
  ASSERT_TRUE(filled.ok()) << filled.status().ToString();
  auto got = engine->Query("SELECT id, g FROM (" + *filled + ") ORDER BY s");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->rows[0][1], "2");   // computed
  EXPECT_EQ(got->rows[1][1], "-2");  // computed
  EXPECT_EQ(got->rows[2][1], "5");   // given (and wrong: id is NULL, so id * 2 is NULL)
  EXPECT_EQ(got->rows[3][1], "4");   // given and right

  auto v = engine->FindRuleViolations(*filled, schema, rules, "src");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)[0].rule, 0u);  // f1: id -1
  EXPECT_EQ((*v)[0].source_file, "f1");
  EXPECT_EQ((*v)[0].rows, 1);
  EXPECT_EQ((*v)[1].rule, 0u);  // f2: id NULL breaks the check (only TRUE passes)
  EXPECT_EQ((*v)[1].source_file, "f2");
  EXPECT_EQ((*v)[2].rule, 1u);  // f2: g 5 but id * 2 is NULL (NULL-safe comparison)
  EXPECT_EQ((*v)[2].rows, 1);

  auto all = engine->FindRuleViolations(*filled, schema, {rules[0]}, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].rows, 2);
  EXPECT_FALSE((*all)[0].source_file.has_value());
  auto none = engine->FindRuleViolations(*filled, schema, {{"c", "s IS NOT NULL", ""}}, "src");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace dl::engine
