#include "dl/engine/spark/spark_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"

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

// Names and values reach Spark SQL text only through these: nothing in them can end the
// quoted token early.
TEST(SparkQuotingTest, IdentifiersAreBackquotedWithBackquotesDoubled) {
  EXPECT_EQ(SparkIdent("id"), "`id`");
  EXPECT_EQ(SparkIdent("a`b"), "`a``b`");
  EXPECT_EQ(SparkIdent("/data/t 1"), "`/data/t 1`");
}

TEST(SparkQuotingTest, LiteralsEscapeQuotesAndBackslashes) {
  EXPECT_EQ(SparkLiteral("x"), "'x'");
  EXPECT_EQ(SparkLiteral("it's"), "'it\\'s'");
  EXPECT_EQ(SparkLiteral("a\\b"), "'a\\\\b'");
  EXPECT_EQ(SparkLiteral("a\\'; DROP"), "'a\\\\\\'; DROP'");
}

TEST(SparkQuotingTest, SameNameIgnoresCaseLikeSparksResolution) {
  EXPECT_TRUE(SameName("Amount", "amount"));
  EXPECT_FALSE(SameName("amount", "amounts"));
  EXPECT_TRUE(HasColumn({"id", "V"}, "v"));
}

}  // namespace
}  // namespace dl::engine::spark
