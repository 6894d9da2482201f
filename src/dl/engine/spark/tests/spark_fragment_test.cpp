#include "dl/engine/spark/spark_fragment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>

#include "dl/engine/expression_check.hpp"
#include "dl/engine/spark/spark_fragment_parts.hpp"

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Spark(std::string_view fragment) {
  auto out = SparkFragment(fragment);
  EXPECT_TRUE(out.ok()) << fragment << ": " << out.status().ToString();
  return out.ok() ? *out : std::string();
}

std::string Refusal(std::string_view fragment) {
  auto out = SparkFragment(fragment);
  EXPECT_FALSE(out.ok()) << fragment << " became " << (out.ok() ? *out : "");
  return out.ok() ? std::string() : out.status().message();
}

// x as || and VARCHAR casts spell it (a run time check of its type).
std::string V(const std::string& x) { return fragment::SparkVarchar(x); }

// What means the same on both engines is passed on as written.
TEST(SparkFragmentTest, BareFragmentsAreUnchanged) {
  EXPECT_EQ(Spark("source.v > target.v AND target.n IS NOT NULL"),
            "source.v > target.v AND target.n IS NOT NULL");
  EXPECT_EQ(Spark("op IN ('D', 'X') OR coalesce(n, 0) >= -1"),
            "op IN ('D', 'X') OR coalesce(n, 0) >= -1");
  EXPECT_EQ(Spark("NOT a = b AND c BETWEEN 1 AND 2 AND d IS DISTINCT FROM e"),
            "NOT a = b AND c BETWEEN 1 AND 2 AND d IS DISTINCT FROM e");
  EXPECT_EQ(Spark("CASE WHEN a > 1 THEN 'x' ELSE 'y' END = 'x'"),
            "CASE WHEN a > 1 THEN 'x' ELSE 'y' END = 'x'");
  EXPECT_EQ(Spark("a * 2 + b - c % 4 = d & 6 & 3"), "a * 2 + b - c % 4 = d & 6 & 3");
}

// DuckDB's / divides as DOUBLEs, Spark's keeps DECIMALs: the divisor becomes a DOUBLE.
TEST(SparkFragmentTest, DivisionIsADoubleDivision) {
  EXPECT_EQ(Spark("a / 3 + b / -c.d / (e + 1)"),
            "a / CAST(3 AS DOUBLE) + b / CAST(-c.d AS DOUBLE) / CAST((e + 1) AS DOUBLE)");
}

// "x" is a name to DuckDB and a string to Spark: it becomes `x`.
TEST(SparkFragmentTest, QuotedNamesBecomeBackquoted) {
  EXPECT_EQ(Spark("target.\"Order Id\" = source.\"Order Id\""),
            "target.`Order Id` = source.`Order Id`");
  EXPECT_EQ(Spark("\"a\"\"b\" = 1"), "`a\"b` = 1");  // "" is a quote
  EXPECT_EQ(Spark("\"a`b\" = 1"), "`a``b` = 1");     // a backquote is doubled
  EXPECT_EQ(Spark("\"``\" = 1"), "`````` = 1");
  EXPECT_EQ(Spark("\"it's\" = 'x'"), "`it's` = 'x'");  // a quote inside a name
  EXPECT_EQ(Spark("\"a\\\" = 1"), "`a\\` = 1");        // a backslash inside a name
  EXPECT_EQ(Spark("\"a\".\"b c\".d"), "`a`.`b c`.d");
  EXPECT_EQ(Spark("\"line\nbreak\" = 1"), "`line\nbreak` = 1");
}

// Bare names with characters Spark's bare names lack: the same name, backquoted.
TEST(SparkFragmentTest, BareNamesSparkCannotReadAreBackquoted) {
  EXPECT_EQ(Spark("caf\xc3\xa9 = 1"), "`caf\xc3\xa9` = 1");
  EXPECT_EQ(Spark("a$b = 1"), "`a$b` = 1");
  EXPECT_EQ(Spark("source.na\xc3\xafve_2 > 0"), "source.`na\xc3\xafve_2` > 0");
}

// In DuckDB's strings '' is a quote and a backslash is itself; Spark's escape both.
TEST(SparkFragmentTest, StringsGetSparksEscapes) {
  EXPECT_EQ(Spark("op = 'it''s'"), "op = 'it\\'s'");
  EXPECT_EQ(Spark("p = 'C:\\temp\\'"), "p = 'C:\\\\temp\\\\'");  // a backslash at the end
  EXPECT_EQ(Spark("p = '\\'''"), "p = '\\\\\\''");               // backslash, then ''
  EXPECT_EQ(Spark("p = ''''"), "p = '\\''");
  EXPECT_EQ(Spark("p = ''"), "p = ''");
  EXPECT_EQ(Spark("p = 'say \"hi\"'"), "p = 'say \"hi\"'");  // a " inside a string
  EXPECT_EQ(Spark("p = '\\n\\u0041\\x41\\0'"), "p = '\\\\n\\\\u0041\\\\x41\\\\0'");
  EXPECT_EQ(Spark("p = 'caf\xc3\xa9 \xe2\x98\x95'"), "p = 'caf\xc3\xa9 \xe2\x98\x95'");
  EXPECT_EQ(Spark("p = '-- not /* a comment'"), "p = '-- not /* a comment'");
  EXPECT_EQ(Spark("p = 'a\nb'"), "p = 'a\nb'");
}

// DuckDB joins strings split by whitespace holding a newline (comments too); Spark would
// join adjacent strings without one, so they reach it as one.
TEST(SparkFragmentTest, StringsSplitByANewlineAreOne) {
  EXPECT_EQ(Spark("p = 'a'\n'b'"), "p = 'ab'");
  EXPECT_EQ(Spark("p = 'a' -- \"x\" 'y'\n  'b\\'"), "p = 'ab\\\\'");
  EXPECT_EQ(Spark("p = 'a'\r'b' OR q"), "p = 'ab' OR q");
  EXPECT_EQ(Spark("p = 'a' -- c\nOR q"), "p = 'a'  \nOR q");  // no string follows
}

TEST(SparkFragmentTest, DollarQuotedStringsAreStrings) {
  EXPECT_EQ(Spark("p = $$it's \\ \"x\"$$"), "p = 'it\\'s \\\\ \"x\"'");
  EXPECT_EQ(Spark("p = $t$a$$b$u$c$t$"), "p = 'a$$b$u$c'");
  EXPECT_EQ(Spark("p = $$$$"), "p = ''");
}

// Comments become a space: what they hold cannot reach Spark.
TEST(SparkFragmentTest, CommentsBecomeASpace) {
  EXPECT_EQ(Spark("a /* \"x\" 'y */ = 1"), "a   = 1");
  EXPECT_EQ(Spark("a /* one /* nested */ ' */ = 1"), "a   = 1");
  EXPECT_EQ(Spark("a = 1 -- '\\\nAND b"), "a = 1  \nAND b");
  EXPECT_EQ(Spark("a*/**/b"), "a* b");
}

TEST(SparkFragmentTest, NumbersAndAdjacentTokensStayApart) {
  EXPECT_EQ(Spark("n = 1_000 + .5e1_0 + 2."), "n = 1000 + .5e10 + 2.");
  EXPECT_EQ(Spark("n = 1and b"), "n = 1 and b");             // Spark would read one name 1and
  EXPECT_EQ(Spark("n = 1._5 + 1__0"), "n = 1. _5 + 1 __0");  // _ only between digits
}

// Operators as DuckDB's lexer cuts them: "=-1" is = then -1, each apart for Spark.
TEST(SparkFragmentTest, OperatorsAreCutAsDuckDbCutsThem) {
  EXPECT_EQ(Spark("a=-1 AND b<>c AND c!=d AND e>=-2 AND f<=+3 AND g==h"),
            "a= -1 AND b<>c AND c!=d AND e>= -2 AND f<= +3 AND g==h");
  EXPECT_EQ(Spark("a*-b"), "a* -b");
  EXPECT_EQ(Spark("a+-/*c*/b"), "a+ - b");  // a comment ends the operator
}

// DuckDB operators Spark reads otherwise or not at all: refused, naming what to write.
TEST(SparkFragmentTest, OperatorsSparkReadsOtherwiseAreRefused) {
  EXPECT_THAT(Refusal("a ^ 2"), HasSubstr("`^` (power on DuckDB, XOR on Spark"));
  EXPECT_THAT(Refusal("a ** 2"), HasSubstr("`**`"));
  EXPECT_THAT(Refusal("a // 2"), HasSubstr("`//` (integer division of integers"));
  EXPECT_THAT(Refusal("~a"), HasSubstr("`~` (bitwise NOT"));
  EXPECT_THAT(Refusal("a ~ 'x.*'"), HasSubstr("`~`"));
  EXPECT_THAT(Refusal("a ~~ 'x%'"), HasSubstr("`~~` (write LIKE)"));
  EXPECT_THAT(Refusal("a !~~ 'x%'"), HasSubstr("`!~~` (write NOT LIKE)"));
  EXPECT_THAT(Refusal("a ~~* 'x%'"), HasSubstr("`~~*` (write ILIKE)"));
  EXPECT_THAT(Refusal("a !~~* 'x%'"), HasSubstr("`!~~*` (write NOT ILIKE)"));
  EXPECT_THAT(Refusal("a ~~~ 'x*'"), HasSubstr("`~~~`"));
  EXPECT_THAT(Refusal("a ^@ 'x'"), HasSubstr("`^@` (write starts_with(a, b))"));
  EXPECT_THAT(Refusal("a ->> 'x'"), HasSubstr("`->>`"));
  EXPECT_THAT(Refusal("a << 1"), HasSubstr("`<<` (a shift past the width"));
  EXPECT_THAT(Refusal("a >> 1"), HasSubstr("`>>`"));
  EXPECT_THAT(Refusal("a <=> b"), HasSubstr("the operator <=> (no Spark counterpart)"));
  EXPECT_THAT(Refusal("a GLOB 'x*'"), HasSubstr("GLOB (no Spark counterpart: write LIKE)"));
  EXPECT_THAT(Refusal("a SIMILAR TO 'x.*'"), HasSubstr("SIMILAR TO"));
  EXPECT_THAT(Refusal("t AT TIME ZONE 'UTC'"), HasSubstr("AT TIME ZONE"));
}

// Where the grammars group a level's operators otherwise: refused, asking for parentheses;
// with them the fragment compiles.
TEST(SparkFragmentTest, OperatorsGroupedOtherwiseNeedParentheses) {
  EXPECT_THAT(Refusal("x LIKE 'a' = true"), HasSubstr("a comparison beside LIKE, IN or BETWEEN"));
  EXPECT_THAT(Refusal("x = y LIKE 'a'"), HasSubstr("a comparison beside LIKE"));
  EXPECT_THAT(Refusal("x BETWEEN 1 AND 2 = b"), HasSubstr("a comparison beside"));
  EXPECT_THAT(Refusal("x IN (1) <> b"), HasSubstr("a comparison beside"));
  EXPECT_THAT(Refusal("x NOT IN (1) IS NULL"), HasSubstr("LIKE, IN or BETWEEN beside IS"));
  EXPECT_THAT(Refusal("x IS NULL = b"), HasSubstr("a comparison after IS"));
  EXPECT_THAT(Refusal("'a' || 1 + 2"), HasSubstr("|| beside +, -, & or |"));
  EXPECT_THAT(Refusal("1 - 2 || 'a'"), HasSubstr("|| beside +"));
  EXPECT_THAT(Refusal("a | b & c"), HasSubstr("& beside |"));
  EXPECT_EQ(Spark("(x LIKE 'a') = true"), "(x LIKE 'a') = true");
  EXPECT_EQ(Spark("x = y AND y LIKE 'a' OR x IN (1) AND b"),
            "x = y AND y LIKE 'a' OR x IN (1) AND b");
  EXPECT_EQ(Spark("x = y IS NULL"), "x = y IS NULL");  // (x = y) IS NULL on both
  EXPECT_EQ(Spark("(a | b) & c"), "(a | b) & c");
  EXPECT_EQ(Spark("'a' || -1"), "'a' || -1");  // a unary minus
}

// DuckDB's LIKE and ILIKE have no escape character, Spark's escapes with a backslash.
TEST(SparkFragmentTest, LikePatternsKeepTheirBackslashesLiteral) {
  // A pattern that is one string: its backslashes doubled.
  EXPECT_EQ(Spark("p LIKE 'C:\\%'"), "p LIKE 'C:\\\\\\\\%'");
  EXPECT_EQ(Spark("(p LIKE 'a\\')"), "(p LIKE 'a\\\\\\\\')");
  EXPECT_EQ(Spark("CASE WHEN p LIKE '\\' THEN 1 END"), "CASE WHEN p LIKE '\\\\\\\\' THEN 1 END");
  // Any other: an escape of its own, doubled inside the pattern.
  EXPECT_EQ(Spark("p LIKE q"), "p LIKE replace(q, '!', '!!') ESCAPE '!'");
  EXPECT_EQ(Spark("p NOT LIKE 'a\\' || q AND r"),
            "p NOT LIKE replace('a\\\\' || " + V("q") + ", '!', '!!') ESCAPE '!' AND r");
  // With ESCAPE both engines use the escape given; Spark only before %, _ and itself.
  EXPECT_EQ(Spark("p LIKE 'a\\%' ESCAPE '\\'"), "p LIKE 'a\\\\%' ESCAPE '\\\\'");
  EXPECT_EQ(Spark("p LIKE 'a!x!%!!' ESCAPE '!'"), "p LIKE 'ax!%!!' ESCAPE '!'");
  // Strings elsewhere are plain strings, a field named like is a name.
  EXPECT_EQ(Spark("p LIKE 'x%' AND q = 'b\\'"), "p LIKE 'x%' AND q = 'b\\\\'");
  EXPECT_EQ(Spark("source.like = 'a\\'"), "source.like = 'a\\\\'");
}

// ILIKE lowers both sides: Spark's lower maps a final Σ to ς and İ to i + a dot, DuckDB's
// to σ and i. ILIKE becomes LIKE between the sides lowered as DuckDB lowers them.
TEST(SparkFragmentTest, IlikeLowersAsDuckDbLowers) {
  const std::string low = ", '\xce\xa3\xc4\xb0', '\xcf\x83i'))";
  EXPECT_EQ(Spark("p ILIKE 'A\\%'"),
            "lower(translate(p" + low + " LIKE lower(translate('A\\\\\\\\%'" + low);
  EXPECT_EQ(Spark("a || b NOT ILIKE q AND c"),
            "lower(translate(" + V("a") + " || " + V("b") + low + " NOT LIKE lower(translate(" +
                "replace(q, '!', '!!')" + low + " ESCAPE '!' AND c");
}

// || joins strings as DuckDB's implicit cast spells each value; literals and strings stay.
TEST(SparkFragmentTest, ConcatenatedValuesAreSpelledAsDuckDbSpellsThem) {
  EXPECT_EQ(Spark("a || 'x'"), V("a") + " || 'x'");
  EXPECT_EQ(Spark("'a' || 1 || 1.5 || lower(b)"),
            "'a' || 1 || 1.5 || lower(translate(b, '\xce\xa3\xc4\xb0', '\xcf\x83i'))");
  EXPECT_EQ(Spark("'a' || 1e3"), "'a' || " + V("1e3"));  // a DOUBLE
  EXPECT_EQ(Spark("x = a * 2 || b"), "x = " + V("a * 2") + " || " + V("b"));
  EXPECT_EQ(Spark("concat(a, 'b', 1)"), "concat_ws('', " + V("a") + ", 'b', 1)");
  EXPECT_EQ(Spark("concat_ws('-', a, 2)"), "concat_ws('-', " + V("a") + ", 2)");
}

// Casts to each type DuckDB and Spark share, as DuckDB casts.
TEST(SparkFragmentTest, CastsMeanWhatDuckDbsMean) {
  // DuckDB rounds to an integer (a DOUBLE's halves to even), Spark truncates.
  const std::string to_int =
      "CASE WHEN typeof(x) IN ('double', 'float') THEN CAST(bround(CAST(x AS DOUBLE)) AS INT) "
      "ELSE CAST(CAST(x AS DECIMAL(38, 0)) AS INT) END";
  EXPECT_EQ(Spark("CAST(x AS INTEGER)"), to_int);
  EXPECT_EQ(Spark("x::INT4"), to_int);
  EXPECT_EQ(Spark("CAST('1.5' AS BIGINT)"), "CAST(CAST('1.5' AS DECIMAL(38, 0)) AS BIGINT)");
  EXPECT_EQ(Spark("TRY_CAST(x AS TINYINT)"),
            "CASE WHEN typeof(x) IN ('double', 'float') THEN TRY_CAST(bround(TRY_CAST(x AS "
            "DOUBLE)) AS TINYINT) ELSE TRY_CAST(TRY_CAST(x AS DECIMAL(38, 0)) AS TINYINT) END");
  // DECIMAL is DECIMAL(18,3) on DuckDB; a DOUBLE's tie rounds otherwise (a run time error).
  EXPECT_THAT(Spark("CAST(x AS DECIMAL)"), HasSubstr("ELSE CAST(x AS DECIMAL(18, 3)) END"));
  EXPECT_THAT(Spark("CAST(x AS NUMERIC(10,2))"),
              HasSubstr("WHEN typeof(x) IN ('double', 'float') THEN raise_error('a DOUBLE cast "
                        "to a DECIMAL with digits"));
  EXPECT_THAT(Spark("CAST(x AS DECIMAL(10))"), HasSubstr("a NaN or infinite DOUBLE"));
  EXPECT_EQ(Spark("CAST('1.5' AS DECIMAL(10,2))"), "CAST('1.5' AS DECIMAL(10, 2))");
  // VARCHAR: the text DuckDB makes (a zoned timestamp with +00; DOUBLEs fail).
  EXPECT_EQ(Spark("CAST(x AS VARCHAR)"), V("x"));
  EXPECT_EQ(Spark("x::TEXT || 'a'"), V("x") + " || 'a'");
  EXPECT_EQ(Spark("CAST('a' AS VARCHAR(3))"), "'a'");
  // TIMESTAMP has no zone on DuckDB (Spark's TIMESTAMP_NTZ), TIMESTAMPTZ one (_LTZ).
  EXPECT_EQ(Spark("CAST(x AS TIMESTAMP) < CAST(y AS TIMESTAMP WITH TIME ZONE)"),
            "CAST(x AS TIMESTAMP_NTZ) < CAST(y AS TIMESTAMP_LTZ)");
  EXPECT_EQ(Spark("x::DATE = x::BOOLEAN AND x::DOUBLE PRECISION > x::REAL"),
            "CAST(x AS DATE) = CAST(x AS BOOLEAN) AND CAST(x AS DOUBLE) > CAST(x AS FLOAT)");
  // A typed string is a cast of the string.
  EXPECT_EQ(Spark("d = DATE'2024-01-01' OR t < TIMESTAMP '2024-01-01 00:00:00'"),
            "d = CAST('2024-01-01' AS DATE) OR t < CAST('2024-01-01 00:00:00' AS TIMESTAMP_NTZ)");
  EXPECT_EQ(Spark("TIMESTAMPTZ '2024-01-01 00:00:00+00'"),
            "CAST('2024-01-01 00:00:00+00' AS TIMESTAMP_LTZ)");
  EXPECT_EQ(Spark("INTERVAL 1 DAY + INTERVAL '2' HOUR + INTERVAL '1 minute'"),
            "INTERVAL 1 DAY + INTERVAL '2' HOUR + INTERVAL '1 minute'");
  // :: takes the value before it: a call, a group, a CASE, a field.
  EXPECT_EQ(Spark("-a.b::DATE"), "-CAST(a.b AS DATE)");
  EXPECT_EQ(Spark("(a + 1)::DATE"), "CAST((a + 1) AS DATE)");
  EXPECT_EQ(Spark("CASE WHEN a THEN b END::DATE"), "CAST(CASE WHEN a THEN b END AS DATE)");
  EXPECT_THAT(Refusal("a IS NULL::INT"), HasSubstr("a :: whose operand is not a value"));
}

TEST(SparkFragmentTest, CastsSparkCannotMeanAlikeAreRefused) {
  EXPECT_THAT(Refusal("CAST(x AS HUGEINT)"), HasSubstr("a cast to HUGEINT (Spark has no 128-bit"));
  for (const char* t : {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}) {
    EXPECT_THAT(Refusal(std::string("x::") + t), HasSubstr("Spark has no unsigned integers"));
  }
  EXPECT_THAT(Refusal("CAST(x AS BLOB)"), HasSubstr("a cast to BLOB (DuckDB reads \\x escapes"));
  EXPECT_THAT(Refusal("CAST(x AS TIME)"), HasSubstr("Spark has no TIME type"));
  EXPECT_THAT(Refusal("CAST(x AS TIMESTAMP_MS)"), HasSubstr("Spark keeps microseconds"));
  EXPECT_THAT(Refusal("CAST(x AS INTERVAL)"), HasSubstr("write INTERVAL '1 day'"));
  EXPECT_THAT(Refusal("CAST(x AS UUID)"), HasSubstr("Spark has no UUID type"));
  EXPECT_THAT(Refusal("CAST(x AS DECIMAL(40,2))"), HasSubstr("parameters Spark does not take"));
  EXPECT_THAT(Refusal("r'x' = 1"), HasSubstr("a cast to R"));  // DuckDB's typed string
}

// Functions Spark spells otherwise, or means otherwise, rewritten to DuckDB's meaning.
TEST(SparkFragmentTest, FunctionsAreRewrittenToDuckDbsMeaning) {
  const std::pair<const char*, std::string> cases[] = {
      {"strpos(a, 'b')", "instr(a, 'b')"},
      {"strlen(a)", "octet_length(a)"},
      {"len(a) + char_length(a)", "length(a) + length(a)"},
      {"starts_with(a, 'x') AND prefix(a, 'x')", "startswith(a, 'x') AND startswith(a, 'x')"},
      {"ends_with(a, 'x') OR suffix(a, 'x')", "endswith(a, 'x') OR endswith(a, 'x')"},
      {"sha256(a)", "sha2(a, 256)"},
      {"lower(a)", "lower(translate(a, '\xce\xa3\xc4\xb0', '\xcf\x83i'))"},
      {"sign(a)", "CAST(sign(a) AS TINYINT)"},
      {"upper(a)",
       "CASE WHEN length(upper(a)) <> length(a) THEN raise_error('upper of a string with a letter "
       "Unicode upper-cases to two or more (\xc3\x9f, ligatures) is another string on Spark') "
       "ELSE upper(a) END"},
      {"ucase('ab')", "upper('ab')"},
      {"sqrt(a)",
       "sqrt(CASE WHEN (a) < 0 THEN raise_error('cannot take square root of a negative number') "
       "ELSE a END)"},
      {"isnan(a)", "((a) = CAST('NaN' AS DOUBLE))"},
      {"trim(a, 'xy')", "trim(BOTH 'xy' FROM a)"},
      {"rtrim(a, 'xy')", "trim(TRAILING 'xy' FROM a)"},
      {"trim(BOTH 'x' FROM a)", "trim(BOTH 'x' FROM a)"},
      {"substring(a FROM 2 FOR 3)", "substring(a, 2, 3)"},
      {"substring(a, 2)", "substring(a, 2)"},
      {"left(a, 2)", "left(a, 2)"},
      {"split_part(a, ',', -1)", "split_part(a, ',', -1)"},
      {"chr(65)", "chr(65)"},
      {"round(a) + round(a, 0)", "round(a) + round(a, 0)"},
      {"floor(a)",
       "CASE WHEN typeof(a) IN ('double', 'float') AND NOT abs(CAST(a AS DOUBLE)) < 9.2e18 THEN "
       "raise_error('floor of a DOUBLE beyond 2^63, NaN or infinite is another number on Spark') "
       "ELSE floor(a) END"},
      {"like_escape(a, 'x!y!%', '!')", "((a) LIKE ('xy!%') ESCAPE '!')"},
      {"not_ilike_escape(a, b, '!')", "(NOT (a) ILIKE (b) ESCAPE '!')"},
      {"position('b' IN a)", "position('b' IN a)"},
      {"date_part('dow', d) + date_part('isodow', d)",
       "(extract(DOW FROM d) - 1) + extract(DOW_ISO FROM d)"},
      {"extract(second FROM t)", "CAST(extract(SECOND FROM t) AS BIGINT)"},
      {"datepart('ms', t)", "CAST(extract(SECOND FROM t) * 1000 AS BIGINT)"},
      {"date_part('epoch', t)", "(unix_micros(CAST(t AS TIMESTAMP_LTZ)) / 1e6)"},
      {"date_trunc('mon', d)", "date_trunc('MONTH', d)"},
      {"date_diff('day', a, b)", "timestampdiff(DAY, date_trunc('DAY', a), date_trunc('DAY', b))"},
      {"date_sub('hour', a, b)", "timestampdiff(HOUR, a, b)"},
      {"date_add(d, 1)", "((d) + (1))"},
      {"dayofweek(d) + isodow(d) + week(d)",
       "(dayofweek(d) - 1) + (weekday(d) + 1) + weekofyear(d)"},
      {"millisecond(t)", "CAST(extract(SECOND FROM t) * 1000 AS BIGINT)"},
      {"epoch(t)", "(unix_micros(CAST(t AS TIMESTAMP_LTZ)) / 1e6)"},
      {"make_timestamp(1, 2, 3, 4, 5, 6)", "make_timestamp_ntz(1, 2, 3, 4, 5, 6)"},
      {"make_timestamp(n)", "CAST(timestamp_micros(n) AS TIMESTAMP_NTZ)"},
      {"make_timestamptz(1, 2, 3, 4, 5, 6)", "make_timestamp(1, 2, 3, 4, 5, 6)"},
      {"to_timestamp(n)", "timestamp_seconds(n)"},
      {"monthname(d) || dayname(d)", "date_format(d, 'MMMM') || date_format(d, 'EEEE')"},
      {"today() = current_date", "current_date() = current_date"},
      {"now() = get_current_timestamp()", "current_timestamp() = current_timestamp()"},
  };
  for (const auto& [duck, spark] : cases) EXPECT_EQ(Spark(duck), spark) << duck;
  // DuckDB's one-argument trim removes Unicode's space separators.
  EXPECT_THAT(Spark("ltrim(a)"), HasSubstr("trim(LEADING ' \xc2\xa0"));
  EXPECT_THAT(Spark("trim(LEADING FROM a)"), HasSubstr("trim(LEADING ' \xc2\xa0"));
}

// Where the value decides (a negative count, a DOUBLE's tie) Spark fails the query naming
// why; literal arguments that cannot differ compile plain (above).
TEST(SparkFragmentTest, ArgumentsThatMightMeanOtherwiseFailAtRunTime) {
  EXPECT_EQ(Spark("left(a, n)"),
            "CASE WHEN (n) < 0 THEN raise_error('left with a negative count counts otherwise on "
            "Spark') ELSE left(a, n) END");
  EXPECT_THAT(Spark("substring(a, 0, 2)"), HasSubstr("raise_error('substring from position 0"));
  EXPECT_THAT(Spark("split_part(a, b, 1)"), HasSubstr("split_part with an empty delimiter"));
  EXPECT_THAT(Spark("chr(n)"), HasSubstr("(n) NOT BETWEEN 0 AND 255"));
  EXPECT_THAT(Spark("round(a, 2)"),
              HasSubstr("WHEN typeof(a) IN ('double', 'float') THEN raise_error('round of a "
                        "DOUBLE to digits"));
}

TEST(SparkFragmentTest, FunctionsWithoutAnExactSparkFormAreRefusedNamingWhatToWrite) {
  const std::pair<const char*, const char*> cases[] = {
      {"log(x)", "log() (base 10 on DuckDB, natural on Spark"},
      {"pow(x, 2)", "write the product, x * x"},
      {"exp(x)", "exp() (Spark's rounds its last digit otherwise"},
      {"trunc(x)", "trunc() (trunc truncates dates on Spark: write CASE WHEN x < 0"},
      {"reverse(x)", "reverse()"},
      {"regexp_matches(x, 'a')", "regexp_matches() (regular expressions are RE2"},
      {"hash(x)", "hash() (another hash function on Spark)"},
      {"printf('%d', x)", "printf()"},
      {"date_part('decade', d)", "the part 'decade': Spark has no exact counterpart"},
      {"date_diff('week', a, b)", "the part 'week'"},
      {"date_sub('month', a, b)", "the part 'month'"},
      {"date_trunc(p, d)", "a part that is not a literal string"},
      {"epoch_ms(x)", "epoch_ms() (DuckDB's takes a timestamp or a number"},
      {"strftime(d, '%Y')", "strftime()"},
      {"make_time(1, 2, 3)", "Spark has no TIME type"},
      {"current_time", "current_time (Spark has no TIME type"},
      {"timezone('UTC', t)", "timezone()"},
      {"list_value(1)", "lists are not compiled for Spark"},
      {"struct_extract(s, 'a')", "write s.field"},
      {"like_escape(a, b, c)", "an escape that is not one literal character"},
      {"abs(a, b)", "abs() (with 2 arguments)"},
      {"a.lower()", "a function called as x.f()"},
      {"nosuch(a)", "nosuch() (no Spark counterpart here)"},
  };
  for (const auto& [duck, why] : cases) EXPECT_THAT(Refusal(duck), HasSubstr(why)) << duck;
}

// Every function the allowlist accepts has a rule here (kept, rewritten or refused by name).
TEST(SparkFragmentTest, EveryAllowlistedFunctionHasARule) {
  for (const std::string& name : AllowedFunctions()) {
    if (!std::isalpha(static_cast<unsigned char>(name[0]))) continue;
    auto out = SparkFragment(name + "(a)");
    if (!out.ok()) {
      EXPECT_THAT(out.status().message(), Not(HasSubstr("(no Spark counterpart here)"))) << name;
    }
  }
}

// Forms Spark has no spelling for here are refused, saying which.
TEST(SparkFragmentTest, WhatCannotBeCarriedOverIsRefusedNamingIt) {
  EXPECT_THAT(Refusal("p = E'a\\n'"), HasSubstr("an E'...' string at 'E'a\\n''"));
  EXPECT_THAT(Refusal("p = e'x'"), HasSubstr("an E'...' string"));
  EXPECT_THAT(Refusal("n = 1e'x'"), HasSubstr("an E'...' string"));  // 1, then e'x'
  EXPECT_THAT(Refusal("b = B'101'"), HasSubstr("a B'...' string"));
  EXPECT_THAT(Refusal("b = x'1F'"), HasSubstr("an X'...' string"));
  EXPECT_THAT(Refusal("b = N'x'"), HasSubstr("an N'...' string"));
  EXPECT_THAT(Refusal("b = U&'x'"), HasSubstr("a U&'...' string or U&\"...\" name"));
  EXPECT_THAT(Refusal("u&\"x\" = 1"), HasSubstr("U&"));
  EXPECT_THAT(Refusal("a = $1"), HasSubstr("a $ outside a string (a parameter)"));
  EXPECT_THAT(Refusal("a = $x"), HasSubstr("a $ outside a string"));
  EXPECT_THAT(Refusal("a = ?"), HasSubstr("the character ? outside a string"));
  EXPECT_THAT(Refusal("a = #1"), HasSubstr("the character #"));
  EXPECT_THAT(Refusal("`a` = 1"), HasSubstr("the character ` outside a string"));
  EXPECT_THAT(Refusal("a = \\x"), HasSubstr("the character \\"));
  EXPECT_THAT(Refusal(std::string_view("a = \x01", 5)), HasSubstr("the byte 0x01"));
  EXPECT_THAT(Refusal(std::string_view("a = \0", 5)), HasSubstr("the byte 0x00"));
  EXPECT_THAT(Refusal("a = 'x"), HasSubstr("an unterminated '...' string"));
  EXPECT_THAT(Refusal("a = 'x''"), HasSubstr("an unterminated '...' string"));
  EXPECT_THAT(Refusal("\"a = 1"), HasSubstr("an unterminated \"...\" name"));
  EXPECT_THAT(Refusal("\"\" = 1"), HasSubstr("an empty \"\" name"));
  EXPECT_THAT(Refusal("a = $$x$"), HasSubstr("an unterminated $...$ string"));
  EXPECT_THAT(Refusal("a /* /* */ = 1"), HasSubstr("an unterminated /* comment"));
  EXPECT_THAT(Refusal("a[1] = 1"), HasSubstr("a list or subscript"));
  EXPECT_THAT(Refusal("{'a': 1} = b"), HasSubstr("a struct literal"));
  EXPECT_THAT(Refusal("struct_pack(a := 1)"), HasSubstr("a : (slices and named arguments"));
  EXPECT_THAT(Refusal("(a = 1"), HasSubstr("a ( that is never closed"));
  EXPECT_THAT(Refusal("a = 1)"), HasSubstr("a ) that closes nothing"));
}

// Letters that prefix a string only when they are the whole word before it.
TEST(SparkFragmentTest, WordsEndingInPrefixLettersAreNames) {
  EXPECT_EQ(Spark("u & 1 = 0 AND xe = 1"), "u & 1 = 0 AND xe = 1");
}

}  // namespace
}  // namespace dl::engine::spark
