#include "dl/engine/spark/spark_fragment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;

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

// What means the same on both engines is passed on as written.
TEST(SparkFragmentTest, BareFragmentsAreUnchanged) {
  EXPECT_EQ(Spark("source.v > target.v AND target.n IS NOT NULL"),
            "source.v > target.v AND target.n IS NOT NULL");
  EXPECT_EQ(Spark("op IN ('D', 'X') OR coalesce(n, 0) >= -1"),
            "op IN ('D', 'X') OR coalesce(n, 0) >= -1");
  EXPECT_EQ(Spark("CAST(a AS VARCHAR)::DATE <> DATE '2024-01-01'"),
            "CAST(a AS VARCHAR)::DATE <> DATE '2024-01-01'");
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
  EXPECT_EQ(Spark("n = 1and b"), "n = 1 and b");
  EXPECT_EQ(Spark("n = 1._5 + 1__0"),
            "n = 1. _5 + 1 __0");  // _ only between digits  // Spark would read one name 1and
  EXPECT_EQ(Spark("d = DATE'2024-01-01'"), "d = DATE '2024-01-01'");
  EXPECT_EQ(Spark("r'x' = \"a\"\"\"'y'"), "r 'x' = `a\"` 'y'");
}

// DuckDB's LIKE has no escape character, Spark's escapes with a backslash: a pattern that is
// one string keeps its meaning with its backslashes doubled.
TEST(SparkFragmentTest, LikePatternsKeepTheirBackslashesLiteral) {
  EXPECT_EQ(Spark("p LIKE 'C:\\%'"), "p LIKE 'C:\\\\\\\\%'");
  EXPECT_EQ(Spark("p not ilike 'a\\_b' AND q"), "p not ilike 'a\\\\\\\\_b' AND q");
  EXPECT_EQ(Spark("(p LIKE 'a\\')"), "(p LIKE 'a\\\\\\\\')");
  EXPECT_EQ(Spark("CASE WHEN p LIKE '\\' THEN 1 END"), "CASE WHEN p LIKE '\\\\\\\\' THEN 1 END");
  // With ESCAPE both engines use the escape given: the string as it is.
  EXPECT_EQ(Spark("p LIKE 'a\\%' ESCAPE '\\'"), "p LIKE 'a\\\\%' ESCAPE '\\\\'");
  // Strings elsewhere are plain strings, a field named like is a name.
  EXPECT_EQ(Spark("p LIKE 'x%' AND q = 'b\\'"), "p LIKE 'x%' AND q = 'b\\\\'");
  EXPECT_EQ(Spark("contains(p, '\\') OR p LIKE q"), "contains(p, '\\\\') OR p LIKE q");
  EXPECT_EQ(Spark("source.like = 'a\\'"), "source.like = 'a\\\\'");
}

TEST(SparkFragmentTest, ABackslashInALongerLikePatternIsRefused) {
  for (const char* f : {"p LIKE 'a\\' || q", "p LIKE q || '\\%'", "p ILIKE ('a\\')",
                        "p LIKE q AND r = 'b\\'", "p LIKE 'a\\'::VARCHAR"}) {
    EXPECT_THAT(Refusal(f), HasSubstr("a backslash in a string after a")) << f;
  }
  EXPECT_THAT(Refusal("p ilike q || '\\'"), HasSubstr("ILIKE whose pattern is not one string"));
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
}

// Letters that prefix a string only when they are the whole word before it.
TEST(SparkFragmentTest, WordsEndingInPrefixLettersAreNames) {
  EXPECT_EQ(Spark("type'x' = xe"), "type 'x' = xe");
  EXPECT_EQ(Spark("u & 1 = 0"), "u & 1 = 0");
}

}  // namespace
}  // namespace dl::engine::spark
