// SparkFragment against both engines: each fragment, accepted by the DuckDB check, gives the
// same value on DuckDB as its compiled form on the live Spark server (SPARK_REMOTE), over one
// row whose column names and values hold quotes, backquotes, backslashes and non-ASCII.
#include "dl/engine/spark/spark_fragment.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "dl/engine/engine.hpp"
#include "dl/engine/expression_check.hpp"
#include "dl/engine/spark/server_tests/server_session.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_session.hpp"

namespace dl::engine::spark {
namespace {

// The row: (name, value) of each column, all strings.
const std::pair<const char*, const char*> kRow[] = {{"Order Id", "7"},
                                                    {"a\"b", "x\"y"},
                                                    {"it's", "C:\\dir\\it's"},
                                                    {"a`b", "back\\"},
                                                    {"caf\xc3\xa9", "\xc3\xa9"},
                                                    {"p", "C:\\x"},
                                                    {"q", "C:%"},
                                                    {"Mixed", "M"}};

const char* const kFragments[] = {
    "\"Order Id\" = '7'",
    "\"a\"\"b\" = 'x\"y'",
    "\"it's\" = 'C:\\dir\\it''s'",
    "\"a`b\" = 'back\\'",
    "\"caf\xc3\xa9\" || '\xe2\x98\x95' || caf\xc3\xa9",
    "\"MIXED\" || mixed || \"Mixed\"",
    "p LIKE 'C:\\%'",
    "q LIKE 'C:\\%'",
    "p ILIKE 'c:\\X' AND p NOT LIKE 'C:\\'",
    "p LIKE 'C:\\%' ESCAPE '!'",
    "q LIKE 'C:\\%' ESCAPE '\\'",
    "CASE WHEN p LIKE '%\\x' THEN 'yes' ELSE 'no' END",
    "'a'\n  'b\\' || \"it's\"",
    "'a' -- \"x\" 'y\n'b' = 'ab'",
    "$$it's \\ \"x\"$$ || $t$$$t$",
    "\"Order Id\" /* \"x\" 'y */ || '1_000' || 1_000",
    "replace(\"it's\", '\\', '/')",
    "'it''s' = 'it' || chr(39) || 's'",
    "length('\\\\') + length('''')",
    "'\"' || \"a\"\"b\" || '''' || '\\'",
    "replace(p, '\\', '/') || split_part(p, '\\', 2)",
    "coalesce(q, 'none') = 'C:%' AND p <> q -- a comment\n",
};

// Each fragment's value on DuckDB and, compiled, on `spark`.
void ExpectSameValues(SparkSession& spark) {
  auto duck = MakeDuckDbEngine();
  ASSERT_TRUE(duck.ok()) << duck.status().ToString();
  std::string duck_row, spark_row;
  for (const auto& [name, value] : kRow) {
    duck_row += (duck_row.empty() ? "" : ", ") + QuoteLiteral(value) + " AS " + QuoteIdent(name);
    spark_row += (spark_row.empty() ? "" : ", ") + SparkLiteral(value) + " AS " + SparkIdent(name);
  }
  for (const char* fragment : kFragments) {
    SCOPED_TRACE(fragment);
    auto checked = CheckExpression(**duck, fragment, "fragment", Qualifiers::kAny);
    ASSERT_TRUE(checked.ok()) << checked.status().ToString();
    auto compiled = SparkFragment(fragment);
    ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
    auto want = (*duck)->Query("SELECT CAST((" + std::string(fragment) +
                               "\n) AS VARCHAR) FROM (SELECT " + duck_row + ") AS t");
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    auto got = spark.Sql("SELECT CAST((" + *compiled + "\n) AS STRING) FROM (SELECT " + spark_row +
                         ") AS t");
    ASSERT_TRUE(got.ok()) << *compiled << ": " << got.status().ToString();
    ASSERT_EQ(got->rows.size(), 1u);
    EXPECT_EQ(got->rows[0].at(0), want->rows.at(0).at(0)) << "as Spark SQL: " << *compiled;
  }
}

TEST(SparkFragmentServerTest, FragmentsMeanOnSparkWhatTheyMeanOnDuckDb) {
  auto spark = ServerSession();
  ASSERT_TRUE(spark);
  ExpectSameValues(*spark);
}

// A cluster whose default keeps backslashes in string literals
// (spark.sql.parser.escapedStringLiterals): a batch's session pins them back.
TEST(SparkFragmentServerTest, LiteralsMeanTheSameUnderAClusterThatKeepsBackslashes) {
  auto spark = ServerSession();
  ASSERT_TRUE(spark);
  ASSERT_TRUE(spark->SetConf("spark.sql.parser.escapedStringLiterals", "true").ok());
  const std::string value = "C:\\dir\\it's";
  auto raw = spark->Sql("SELECT " + SparkLiteral(value));
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_NE(raw->rows.at(0).at(0), value) << "the conf no longer changes what a literal means";
  AppendOperation op;
  op.paths = {"/tmp/x.parquet"};
  ASSERT_TRUE(PrepareSession(*spark, op).ok());
  auto pinned = spark->Sql("SELECT " + SparkLiteral(value));
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  EXPECT_EQ(pinned->rows.at(0).at(0), value);
  ExpectSameValues(*spark);
}

}  // namespace
}  // namespace dl::engine::spark
