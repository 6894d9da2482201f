#include "dl/delta/partition.hpp"
#include "dl/delta/schema.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

// The add.path examples of delta-lake-notes (DAT multi_partitioned, golden
// data-reader-partition-values): Hive-escape the value, then URI-encode the whole path.
TEST(PartitionTest, SparkPathExamples) {
  std::string dir = PartitionDirectory({"letter"}, {{"letter", "/%20%f"}});
  EXPECT_EQ(dir, "letter=%2F%2520%25f");
  EXPECT_EQ(UriEncodePath(dir + "/part-0.parquet"), "letter=%252F%252520%2525f/part-0.parquet");

  dir = PartitionDirectory({"as_timestamp"}, {{"as_timestamp", "2021-09-08 11:11:11"}});
  EXPECT_EQ(dir, "as_timestamp=2021-09-08 11%3A11%3A11");
  EXPECT_EQ(UriEncodePath(dir + "/x"), "as_timestamp=2021-09-08%2011%253A11%253A11/x");
}

TEST(PartitionTest, HiveEscapeCharacterSet) {
  EXPECT_EQ(HiveEscape("\"#%'*/:=?\\{[]^"), "%22%23%25%27%2A%2F%3A%3D%3F%5C%7B%5B%5D%5E");
  EXPECT_EQ(HiveEscape(std::string("\x01\n\x7F", 3)), "%01%0A%7F");
  EXPECT_EQ(HiveEscape("a b-c_d.e~!@$&()+,;<>|`}é"), "a b-c_d.e~!@$&()+,;<>|`}é");
  EXPECT_EQ(HiveUnescape("%2F%2520%25f"), "/%20%f");
  EXPECT_EQ(HiveUnescape("100%"), "100%");  // malformed escapes stay literal
  EXPECT_EQ(HiveUnescape("%zz%4"), "%zz%4");
  for (std::string v : {"/%20%f", "a=b/c:d", "ü ß \t", "{x}[y]"}) {
    EXPECT_EQ(HiveUnescape(HiveEscape(v)), v) << v;
  }
}

TEST(PartitionTest, PartitionDirectoryNullsAndOrder) {
  PartitionValues v{{"a", "1"}, {"b", std::nullopt}, {"c", ""}, {"d=x", "y"}};
  EXPECT_EQ(PartitionDirectory({"b", "a", "c", "d=x"}, v),
            "b=__HIVE_DEFAULT_PARTITION__/a=1/c=__HIVE_DEFAULT_PARTITION__/d%3Dx=y");
  EXPECT_EQ(PartitionDirectory({"missing"}, v), "missing=__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(PartitionDirectory({}, v), "");
}

// As the DuckDB and Spark engines read a Delta table's (or source's) files.
TEST(PartitionTest, PartitionValuesMatchTheColumnByExactNameThenIgnoringCase) {
  PartitionValues values{{"Region", "west"}, {"region", "east"}, {"DAY", "2024-01-01"},
                         {"note", std::nullopt}};
  EXPECT_EQ(PartitionValueOf(values, "region"), "east");  // the exact key wins
  EXPECT_EQ(PartitionValueOf(values, "Region"), "west");
  EXPECT_EQ(PartitionValueOf(values, "day"), "2024-01-01");
  EXPECT_EQ(PartitionValueOf(values, "Day"), "2024-01-01");
  EXPECT_EQ(PartitionValueOf(values, "note"), std::nullopt);   // null
  EXPECT_EQ(PartitionValueOf(values, "month"), std::nullopt);  // absent
  EXPECT_EQ(PartitionValueOf(values, "da"), std::nullopt);     // not a prefix match
  EXPECT_TRUE(SameColumnName("Straße_A", "straße_a"));
  EXPECT_FALSE(SameColumnName("STRASSE", "straße"));  // ASCII case only
}

TEST(PartitionTest, UriEncodeAndDecode) {
  EXPECT_EQ(UriEncodePath("a b/c%d#e?f\"g[h]^`{|}<>\\"),
            "a%20b/c%25d%23e%3Ff%22g%5Bh%5D%5E%60%7B%7C%7D%3C%3E%5C");
  EXPECT_EQ(UriEncodePath("keep-_.!~*'();:@&=+$,/é"), "keep-_.!~*'();:@&=+$,/é");
  EXPECT_EQ(UriDecodePath("a%20b/%252F"), "a b/%2F");  // decoded exactly once
  EXPECT_EQ(UriDecodePath("a+b"), "a+b");
  for (std::string p : {"x=%2F%2520/part 1.parquet", "ü/ä%", "plain"}) {
    EXPECT_EQ(UriDecodePath(UriEncodePath(p)), p) << p;
  }
}

TEST(PartitionTest, ResolveDataPath) {
  EXPECT_EQ(ResolveDataPath("/data/t", "letter=%252F/part-0.parquet"),
            "/data/t/letter=%2F/part-0.parquet");
  EXPECT_EQ(ResolveDataPath("/data/t/", "a%20b.parquet"), "/data/t/a b.parquet");
  EXPECT_EQ(ResolveDataPath("/data/t", "file:///other/x%20y.parquet"), "/other/x y.parquet");
  EXPECT_EQ(ResolveDataPath("/data/t", "file:/other/x.parquet"), "/other/x.parquet");
  EXPECT_EQ(ResolveDataPath("/data/t", "file://localhost/other/x.parquet"), "/other/x.parquet");
  EXPECT_EQ(ResolveDataPath("/data/t", "/abs/x.parquet"), "/abs/x.parquet");
  EXPECT_EQ(ResolveDataPath("/data/t", "s3://bucket/t/x%20y.parquet"), "s3://bucket/t/x y.parquet");
}

}  // namespace
}  // namespace dl::delta
