#include "dl/storage/registry.hpp"

#include <gtest/gtest.h>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/storage/paths.hpp"

namespace dl {
namespace {

TEST(StorageConfigTest, LongerScopesWinOverGlobalOptions) {
  StorageConfig config;
  config.global = {{"aws_region", "us-east-1"}, {"aws_endpoint_url", "http://a"}};
  config.scopes = {{"s3://b/t/x", {{"aws_region", "eu-west-2"}}},
                   {"s3://b/t", {{"aws_region", "eu-west-1"}, {"aws_access_key_id", "k"}}}};
  auto inner = config.For("s3://b/t/x/part.parquet");
  EXPECT_EQ(inner["aws_region"], "eu-west-2");
  EXPECT_EQ(inner["aws_access_key_id"], "k");
  EXPECT_EQ(inner["aws_endpoint_url"], "http://a");
  EXPECT_EQ(config.For("s3://b/tx")["aws_region"], "us-east-1");  // not inside s3://b/t
}

TEST(RegistryTest, SchemeAndAuthority) {
  EXPECT_EQ(UriScheme("S3://Bucket/k"), "s3");
  EXPECT_EQ(UriAuthority("s3://bucket/a/b"), "bucket");
  EXPECT_EQ(UriAuthority("abfss://c@acct.dfs.core.windows.net/p"), "c@acct.dfs.core.windows.net");
  EXPECT_EQ(UriScheme("/local/path"), "");
  EXPECT_EQ(UriAuthority("dbfs:/x"), "");
}

TEST(RegistryTest, RoutesLocalPathsAndRefusesUnservedSchemes) {
  testing::TempDir dir;
  auto fs = MakeFileSystem();
  std::string file = JoinPath(dir.path(), "a.txt");
  ASSERT_TRUE(fs->PutIfAbsent(file, "x").ok());
  EXPECT_EQ(*fs->Read(file), "x");
  auto listed = fs->List("nosuch://bucket/dir");
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(listed.status().message().find("'nosuch:'"), std::string::npos);
  EXPECT_FALSE(MakeFileSystemFor("nosuch://b/k", {}).ok());
}

}  // namespace
}  // namespace dl
