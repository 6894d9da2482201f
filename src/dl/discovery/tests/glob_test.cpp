#include "dl/discovery/glob.hpp"

#include <gtest/gtest.h>

namespace dl::discovery {
namespace {

bool M(std::string_view pattern, std::string_view path) {
  auto m = GlobMatcher::Compile(pattern);
  EXPECT_TRUE(m.ok()) << pattern << ": " << m.status().ToString();
  return m.ok() && m->Match(path);
}

TEST(GlobTest, LiteralAndStar) {
  EXPECT_TRUE(M("/mnt/raw/a.csv", "/mnt/raw/a.csv"));
  EXPECT_FALSE(M("/mnt/raw/a.csv", "/mnt/raw/b.csv"));
  EXPECT_TRUE(M("/mnt/raw/*.parquet", "/mnt/raw/x.parquet"));
  EXPECT_TRUE(M("/mnt/raw/*.parquet", "/mnt/raw/.parquet"));
  EXPECT_FALSE(M("/mnt/raw/*.parquet", "/mnt/raw/x.csv"));
  EXPECT_FALSE(M("/mnt/raw/*.parquet", "/mnt/raw/sub/x.parquet"));  // * never crosses '/'
  EXPECT_TRUE(M("*", "abc"));
  EXPECT_FALSE(M("*", "a/b"));
  EXPECT_TRUE(M("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(M("a*b*c", "abbbc"));
  EXPECT_FALSE(M("a*b*c", "abcx"));
  EXPECT_TRUE(M("*a", "aaaa"));
  EXPECT_TRUE(M("a***b", "aXb"));
  EXPECT_TRUE(M("*/*.csv", "d/f.csv"));
}

TEST(GlobTest, AbsoluteAndRelativeDiffer) {
  EXPECT_FALSE(M("/a/*", "a/b"));
  EXPECT_FALSE(M("a/*", "/a/b"));
}

TEST(GlobTest, QuestionMarkMatchesOneCodePoint) {
  EXPECT_TRUE(M("file?.csv", "file1.csv"));
  EXPECT_FALSE(M("file?.csv", "file12.csv"));
  EXPECT_FALSE(M("file?.csv", "file.csv"));
  EXPECT_TRUE(M("caf?.csv", "caf\xC3\xA9.csv"));  // é is one character
  EXPECT_FALSE(M("a?b", "a/b"));
}

TEST(GlobTest, Classes) {
  EXPECT_TRUE(M("part-[a-c].csv", "part-a.csv"));
  EXPECT_TRUE(M("part-[a-c].csv", "part-c.csv"));
  EXPECT_FALSE(M("part-[a-c].csv", "part-d.csv"));
  EXPECT_TRUE(M("part-[!a-c].csv", "part-d.csv"));
  EXPECT_FALSE(M("part-[!a-c].csv", "part-b.csv"));
  EXPECT_TRUE(M("part-[^a-c].csv", "part-z.csv"));
  EXPECT_TRUE(M("[0-9][0-9].csv", "42.csv"));
  EXPECT_FALSE(M("[0-9][0-9].csv", "4x.csv"));
  EXPECT_TRUE(M("[]]x", "]x"));  // ']' first is literal
  EXPECT_TRUE(M("[!]]x", "ax"));
  EXPECT_FALSE(M("[!]]x", "]x"));
  EXPECT_TRUE(M("[a-]x", "-x"));  // '-' last is literal
  EXPECT_TRUE(M("[\\]]x", "]x"));
  EXPECT_TRUE(
      M("[\xC3\xA9"
        "e]t\xC3\xA9",
        "\xC3\xA9t\xC3\xA9"));
  EXPECT_TRUE(M("*[0-9]", "abc7"));
}

TEST(GlobTest, Escapes) {
  EXPECT_TRUE(M("a\\*b", "a*b"));
  EXPECT_FALSE(M("a\\*b", "axb"));
  EXPECT_TRUE(M("a\\?b", "a?b"));
  EXPECT_FALSE(M("a\\?b", "axb"));
  EXPECT_TRUE(M("\\[x\\]", "[x]"));
  EXPECT_TRUE(M("d\\*/*.csv", "d*/f.csv"));
  EXPECT_FALSE(M("d\\*/*.csv", "dd/f.csv"));
}

TEST(GlobTest, GlobStar) {
  EXPECT_TRUE(M("a/**/b.csv", "a/b.csv"));  // zero directories
  EXPECT_TRUE(M("a/**/b.csv", "a/x/b.csv"));
  EXPECT_TRUE(M("a/**/b.csv", "a/x/y/z/b.csv"));
  EXPECT_FALSE(M("a/**/b.csv", "a/x/y/z/c.csv"));
  EXPECT_TRUE(M("a/**", "a/x/y"));
  EXPECT_TRUE(M("a/**", "a"));
  EXPECT_TRUE(M("**/*.csv", "f.csv"));
  EXPECT_TRUE(M("**/*.csv", "x/y/f.csv"));
  EXPECT_TRUE(M("a/**/**/b", "a/b"));
  EXPECT_TRUE(M("a/**/m/**/b", "a/m/b"));
  EXPECT_TRUE(M("a/**/m/**/b", "a/x/m/y/m/z/b"));
  EXPECT_FALSE(M("a/**/m/**/b", "a/x/b"));
  EXPECT_TRUE(M("a/x**y/b", "a/xzzy/b"));  // not a whole segment: like '*'
  EXPECT_FALSE(M("a/x**y/b", "a/x/y/b"));
}

TEST(GlobTest, SlashesAreNormalized) {
  EXPECT_TRUE(M("/mnt//raw/*.csv", "/mnt/raw/a.csv"));
  EXPECT_TRUE(M("/mnt/raw/", "/mnt/raw"));
  EXPECT_TRUE(M("/mnt/raw/*.csv", "/mnt/raw//a.csv"));
}

TEST(GlobTest, CompileErrors) {
  EXPECT_EQ(GlobMatcher::Compile("a/[bc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GlobMatcher::Compile("a/b*\\").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GlobMatcher::Compile("a/b\\").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GlobMatcher::Compile("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(GlobMatcher::Compile("a/b\\\\").ok());  // an escaped backslash
  EXPECT_TRUE(M("a/b\\\\", "a/b\\"));
}

TEST(GlobTest, StepSkipsHiddenUnlessExplicit) {
  auto m = *GlobMatcher::Compile("**/*.csv");
  auto s = m.Start();
  EXPECT_TRUE(m.Step(s, "_delta_log", true).empty());
  EXPECT_TRUE(m.Step(s, ".git", true).empty());
  EXPECT_TRUE(m.Step(s, "_x.csv", true).empty());
  EXPECT_FALSE(m.Step(s, "_x.csv", false).empty());
  EXPECT_TRUE(m.Accepts(m.Step(s, "x.csv", true)));
  EXPECT_TRUE(m.CanContinue(m.Step(s, "dir", true)));

  auto u = *GlobMatcher::Compile("_staging/.f*");
  auto s1 = u.Step(u.Start(), "_staging", true);
  EXPECT_TRUE(u.CanContinue(s1));
  EXPECT_TRUE(u.Accepts(u.Step(s1, ".f1", true)));
  EXPECT_TRUE(u.Step(s1, "_f1", true).empty());
}

TEST(GlobTest, StepPrunesDirectories) {
  auto m = *GlobMatcher::Compile("2024-*/*.csv");
  auto s = m.Start();
  EXPECT_TRUE(m.Step(s, "2023-01", true).empty());
  auto d = m.Step(s, "2024-01", true);
  EXPECT_TRUE(m.CanContinue(d));
  EXPECT_FALSE(m.Accepts(d));
  auto f = m.Step(d, "x.csv", true);
  EXPECT_TRUE(m.Accepts(f));
  EXPECT_FALSE(m.CanContinue(f));  // nothing can match deeper
}

TEST(GlobTest, SplitLiteralPrefix) {
  auto s = SplitLiteralPrefix("/mnt/raw/customers/*.parquet");
  EXPECT_EQ(s.base_dir, "/mnt/raw/customers");
  EXPECT_EQ(s.rest, "*.parquet");
  s = SplitLiteralPrefix("/mnt/raw/*/x/*.csv");
  EXPECT_EQ(s.base_dir, "/mnt/raw");
  EXPECT_EQ(s.rest, "*/x/*.csv");
  s = SplitLiteralPrefix("/mnt/**/a.csv");
  EXPECT_EQ(s.base_dir, "/mnt");
  EXPECT_EQ(s.rest, "**/a.csv");
  s = SplitLiteralPrefix("/*.csv");
  EXPECT_EQ(s.base_dir, "/");
  EXPECT_EQ(s.rest, "*.csv");
  s = SplitLiteralPrefix("*.csv");
  EXPECT_EQ(s.base_dir, "");
  EXPECT_EQ(s.rest, "*.csv");
  s = SplitLiteralPrefix("data/we\\*ird/f?.csv");
  EXPECT_EQ(s.base_dir, "data/we*ird");
  EXPECT_EQ(s.rest, "f?.csv");
  s = SplitLiteralPrefix("data/file.csv");
  EXPECT_EQ(s.base_dir, "data");
  EXPECT_EQ(s.rest, "file.csv");
}

TEST(GlobTest, HelperFunctions) {
  EXPECT_TRUE(HasWildcards("a/*.csv"));
  EXPECT_TRUE(HasWildcards("a/[ab].csv"));
  EXPECT_FALSE(HasWildcards("a/\\*.csv"));
  EXPECT_FALSE(HasWildcards("a/b.csv"));
  EXPECT_EQ(UnescapeGlob("a\\*b\\\\c"), "a*b\\c");
}

TEST(GlobTest, PathologicalStarsAreFast) {
  // Single-backtrack matching is linear-ish: no exponential blowup.
  auto m = *GlobMatcher::Compile("*a*a*a*a*a*a*a*a*a*b");
  std::string s(5000, 'a');
  EXPECT_FALSE(m.Match(s));
}

}  // namespace
}  // namespace dl::discovery
