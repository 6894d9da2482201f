#include "dl/engine/spark/spark_load.hpp"

#include <gtest/gtest.h>

namespace dl::engine::spark {
namespace {

// Spark reports a file it read as a URI; the tracker and the plan name it as a path.
TEST(PathOfSparkUriTest, LocalFileUrisBecomeThePlansPath) {
  EXPECT_EQ(PathOfSparkUri("file:///data/raw/a.csv"), "/data/raw/a.csv");
  EXPECT_EQ(PathOfSparkUri("file:/data/raw/a.csv"), "/data/raw/a.csv");
  EXPECT_EQ(PathOfSparkUri("file:///data/raw%20dir/a%25b.csv"), "/data/raw dir/a%b.csv");
}

TEST(PathOfSparkUriTest, OtherUrisAreOnlyUnescaped) {
  EXPECT_EQ(PathOfSparkUri("s3a://bucket/raw/a%20b.parquet"), "s3a://bucket/raw/a b.parquet");
  EXPECT_EQ(PathOfSparkUri("s3://bucket/raw/100%"), "s3://bucket/raw/100%");
}

}  // namespace
}  // namespace dl::engine::spark
