#include "dl/storage/paths.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "dl/common/testing/temp_dir.hpp"

namespace dl {
namespace {

namespace stdfs = std::filesystem;

TEST(LexicallyNormal, FoldsDotsSlashesAndParents) {
  EXPECT_EQ(LexicallyNormal("/raw/./x.csv"), "/raw/x.csv");
  EXPECT_EQ(LexicallyNormal("/raw//sub///x.csv"), "/raw/sub/x.csv");
  EXPECT_EQ(LexicallyNormal("/raw/sub/../x.csv"), "/raw/x.csv");
  EXPECT_EQ(LexicallyNormal("/raw/"), "/raw");
  EXPECT_EQ(LexicallyNormal("/../x"), "/x");
  EXPECT_EQ(LexicallyNormal("./raw/x"), "raw/x");
  EXPECT_EQ(LexicallyNormal("../raw"), "../raw");
  EXPECT_EQ(LexicallyNormal("."), ".");
}

TEST(LexicallyNormal, KeepsTheSchemeAndAuthorityOfUris) {
  EXPECT_EQ(LexicallyNormal("s3://bucket/raw/./x.csv"), "s3://bucket/raw/x.csv");
  EXPECT_EQ(LexicallyNormal("s3://bucket//raw//x.csv"), "s3://bucket/raw/x.csv");
  EXPECT_EQ(LexicallyNormal("s3://bucket/../x"), "s3://bucket/x");
  EXPECT_EQ(LexicallyNormal("abfss://c@acct.dfs.core.windows.net/a/"),
            "abfss://c@acct.dfs.core.windows.net/a");
  EXPECT_TRUE(IsUri("gs://b/x"));
  EXPECT_FALSE(IsUri("/mnt/s3:/x"));
}

TEST(CanonicalPath, ResolvesSymlinksOfTheExistingPrefix) {
  testing::TempDir tmp;
  const std::string real = stdfs::canonical(tmp.path()).string();
  testing::WriteFile(tmp / "raw/x.csv", "a\n");
  stdfs::create_directory_symlink(tmp / "raw", tmp / "rawlink");
  EXPECT_EQ(CanonicalPath(tmp / "rawlink/x.csv"), real + "/raw/x.csv");
  EXPECT_EQ(CanonicalPath(tmp / "rawlink/./missing/../y.csv"), real + "/raw/y.csv");
  EXPECT_EQ(CanonicalPath(tmp / "rawlink/new/dir"), real + "/raw/new/dir");
  EXPECT_EQ(CanonicalPath(tmp / "raw/"), real + "/raw");
  EXPECT_EQ(CanonicalPath("s3://b/./x"), "s3://b/x");
}

TEST(CanonicalPath, KeepsPathsBelowTheWorkingDirectoryRelative) {
  testing::TempDir tmp;
  testing::WriteFile(tmp / "raw/x.csv", "a\n");
  stdfs::create_directory_symlink(tmp / "raw", tmp / "rawlink");
  const auto old_cwd = stdfs::current_path();
  stdfs::current_path(tmp.path());
  EXPECT_EQ(CanonicalPath("raw/x.csv"), "raw/x.csv");
  EXPECT_EQ(CanonicalPath("./raw//x.csv"), "raw/x.csv");
  EXPECT_EQ(CanonicalPath("rawlink/x.csv"), "raw/x.csv");
  EXPECT_EQ(CanonicalPath("."), ".");
  stdfs::current_path(old_cwd);
}

TEST(IsSameOrInside, ComparesWholeSegments) {
  EXPECT_TRUE(IsSameOrInside("/p/d/b/c", "/p/d/b"));
  EXPECT_TRUE(IsSameOrInside("/p/d/b", "/p/d/b"));
  EXPECT_FALSE(IsSameOrInside("/p/d/bc", "/p/d/b"));
  EXPECT_FALSE(IsSameOrInside("/p/d", "/p/d/b"));
  EXPECT_TRUE(IsSameOrInside("/x", "/"));
}

}  // namespace
}  // namespace dl
