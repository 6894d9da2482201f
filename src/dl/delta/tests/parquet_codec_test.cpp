#include "dl/delta/parquet_codec.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

TEST(ParquetCodecTest, WithoutThePropertyFilesAreSnappy) {
  auto codec = ParquetCodecOf({}, "db.t");
  ASSERT_TRUE(codec.ok());
  EXPECT_EQ(*codec, "snappy");
}

TEST(ParquetCodecTest, ThePropertyIsReadInAnyCaseAndNoneIsUncompressed) {
  EXPECT_EQ(*ParquetCodecOf({{kCompressionCodecKey, "ZSTD"}}, "t"), "zstd");
  EXPECT_EQ(*ParquetCodecOf({{kCompressionCodecKey, "gzip"}}, "t"), "gzip");
  EXPECT_EQ(*ParquetCodecOf({{kCompressionCodecKey, "none"}}, "t"), "uncompressed");
}

TEST(ParquetCodecTest, AnUnknownCodecIsAConfigErrorNamingTableAndProperty) {
  auto codec = ParquetCodecOf({{kCompressionCodecKey, "brotli"}}, "db.t");
  ASSERT_FALSE(codec.ok());
  EXPECT_EQ(codec.status().code(), StatusCode::kConfig);
  EXPECT_NE(codec.status().message().find("db.t"), std::string::npos);
  EXPECT_NE(codec.status().message().find("delta.compression.codec"), std::string::npos);
  EXPECT_NE(codec.status().message().find("'brotli'"), std::string::npos);
}

TEST(ParquetCodecTest, FileSuffixesAreSparks) {
  EXPECT_EQ(ParquetFileSuffix("snappy"), "snappy.parquet");
  EXPECT_EQ(ParquetFileSuffix("zstd"), "zstd.parquet");
  EXPECT_EQ(ParquetFileSuffix("gzip"), "gz.parquet");
  EXPECT_EQ(ParquetFileSuffix("uncompressed"), "parquet");
}

}  // namespace
}  // namespace dl::delta
