#include "dl/delta/stats.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

StructField F(std::string name, DataTypePtr type) { return {std::move(name), std::move(type)}; }
DataTypePtr P(const char* name) { return DataType::Primitive(name); }

ColumnStats S(std::optional<std::string> min, std::optional<std::string> max,
              std::optional<int64_t> nulls = 0) {
  return ColumnStats{std::move(min), std::move(max), nulls, false};
}

TEST(StatsTest, NumbersDatesAndStrings) {
  Schema schema{{F("i", P("long")), F("d", P("double")), F("dec", DataType::Decimal(38, 2)),
                 F("day", P("date")), F("s", P("string"))}};
  FileColumnStats cols{
      {{"i"}, S("-5", "42")},
      {{"d"}, S("-0.5", "1e+20", 2)},
      {{"dec"}, S("-12345678901234567890123456789012.34", "0.10")},
      {{"day"}, S("2000-01-01", "2021-09-08")},
      {{"s"}, S("apple", "zebra", std::nullopt)},
  };
  EXPECT_EQ(BuildStatsJson(schema, 7, cols),
            R"({"numRecords":7,)"
            R"("minValues":{"i":-5,"d":-0.5,"dec":-12345678901234567890123456789012.34,)"
            R"("day":"2000-01-01","s":"apple"},)"
            R"("maxValues":{"i":42,"d":1e+20,"dec":0.10,"day":"2021-09-08","s":"zebra"},)"
            R"("nullCount":{"i":0,"d":2,"dec":0,"day":0}})");
}

TEST(StatsTest, TimestampsInUtcWithMillisecondTruncation) {
  Schema schema{{F("ts", P("timestamp")), F("ntz", P("timestamp_ntz"))}};
  FileColumnStats cols{
      {{"ts"}, S("2026-11-25 01:49:58.153216+00", "2026-11-25 03:49:58.999999+02:00")},
      {{"ntz"}, S("2026-11-25 01:49:58.153216", "2026-11-25 01:49:58")},
  };
  EXPECT_EQ(BuildStatsJson(schema, 1, cols),
            R"({"numRecords":1,)"
            R"("minValues":{"ts":"2026-11-25T01:49:58.153Z","ntz":"2026-11-25T01:49:58.153"},)"
            R"("maxValues":{"ts":"2026-11-25T01:49:58.999Z","ntz":"2026-11-25T01:49:58.000"},)"
            R"("nullCount":{"ts":0,"ntz":0}})");
  // Before the epoch, truncation still goes down; out-of-range values are omitted.
  FileColumnStats old{{{"ts"}, S("1969-12-31 23:59:59.9995+00", "294247-01-10 04:00:54+00")}};
  EXPECT_EQ(BuildStatsJson(Schema{{F("ts", P("timestamp"))}}, 1, old),
            R"({"numRecords":1,"minValues":{"ts":"1969-12-31T23:59:59.999Z"},)"
            R"("maxValues":{},"nullCount":{"ts":0}})");
}

TEST(StatsTest, StringsCutTo32CodePoints) {
  std::string long_ascii(40, 'a');
  std::string umlauts;
  for (int i = 0; i < 33; ++i) umlauts += "ü";
  std::string exactly32(32, 'b');
  Schema schema{{F("a", P("string")), F("u", P("string")), F("e", P("string"))}};
  FileColumnStats cols{{{"a"}, S(long_ascii, long_ascii)},
                       {{"u"}, S(umlauts, umlauts)},
                       {{"e"}, S(exactly32, exactly32)}};
  auto stats = ParseStats(BuildStatsJson(schema, 1, cols));
  std::string prefix_u;
  for (int i = 0; i < 32; ++i) prefix_u += "ü";
  EXPECT_EQ(stats.min_values["a"], std::string(32, 'a'));
  EXPECT_EQ(stats.max_values["a"], std::string(32, 'a') + "\xF4\x8F\xBF\xBF");  // + U+10FFFF
  EXPECT_EQ(stats.min_values["u"], prefix_u);
  EXPECT_EQ(stats.max_values["u"], prefix_u + "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(stats.min_values["e"], exactly32);  // not cut: no tie-breaker
  EXPECT_EQ(stats.max_values["e"], exactly32);
}

TEST(StatsTest, NanInfinityAndGarbageAreOmitted) {
  Schema schema{
      {F("f", P("float")), F("g", P("double")), F("h", P("double")), F("i", P("integer"))}};
  ColumnStats nan = S("1.0", "2.0", 0);
  nan.has_nan = true;
  FileColumnStats cols{{{"f"}, nan},
                       {{"g"}, S("-inf", "nan")},
                       {{"h"}, S("-Infinity", "3.5")},
                       {{"i"}, S("1.5", "abc")}};
  EXPECT_EQ(BuildStatsJson(schema, 3, cols),
            R"({"numRecords":3,"minValues":{},"maxValues":{"h":3.5},)"
            R"("nullCount":{"f":0,"g":0,"h":0,"i":0}})");
}

TEST(StatsTest, OtherTypesGetOnlyNullCount) {
  Schema schema{{F("b", P("boolean")), F("bin", P("binary")), F("arr", DataType::Array(P("long"))),
                 F("m", DataType::Map(P("string"), P("long")))}};
  FileColumnStats cols{{{"b"}, S("false", "true", 1)},
                       {{"bin"}, S("\\x00", "\\xFF", 0)},
                       {{"arr"}, S(std::nullopt, std::nullopt, 4)},
                       {{"m"}, S(std::nullopt, std::nullopt, std::nullopt)}};
  EXPECT_EQ(BuildStatsJson(schema, 5, cols), R"({"numRecords":5,"minValues":{},"maxValues":{},)"
                                             R"("nullCount":{"b":1,"bin":0,"arr":4}})");
}

TEST(StatsTest, NestedStructsNest) {
  Schema schema{{F("id", P("long")),
                 F("st", DataType::Struct({F("x", P("integer")),
                                           F("in", DataType::Struct({F("y", P("string"))}))}))}};
  FileColumnStats cols{
      {{"id"}, S("1", "2")}, {{"st", "x"}, S("3", "4", 1)}, {{"st", "in", "y"}, S("a", "b", 0)}};
  EXPECT_EQ(BuildStatsJson(schema, 2, cols),
            R"({"numRecords":2,"minValues":{"id":1,"st":{"x":3,"in":{"y":"a"}}},)"
            R"("maxValues":{"id":2,"st":{"x":4,"in":{"y":"b"}}},)"
            R"("nullCount":{"id":0,"st":{"x":1,"in":{"y":0}}}})");
}

TEST(StatsTest, OnlyTheFirstIndexedLeavesCount) {
  std::vector<StructField> fields;
  FileColumnStats cols;
  for (int i = 0; i < 40; ++i) {
    std::string name = "c" + std::to_string(i);
    if (i == 10) {  // a struct of two leaves counts as two
      fields.push_back(F(name, DataType::Struct({F("a", P("long")), F("b", P("long"))})));
      cols[{name, "a"}] = S("1", "1");
      cols[{name, "b"}] = S("1", "1");
      continue;
    }
    fields.push_back(F(name, P("long")));
    cols[{name}] = S("1", "1");
  }
  Schema schema{fields};
  auto stats = ParseStats(BuildStatsJson(schema, 1, cols));
  EXPECT_EQ(stats.null_count.size(), 31u);  // c0..c30, with c10 holding 2 leaves
  EXPECT_TRUE(stats.null_count.contains("c30"));
  EXPECT_FALSE(stats.null_count.contains("c31"));
  EXPECT_EQ(stats.min_values["c10"].size(), 2u);

  auto three = ParseStats(BuildStatsJson(schema, 1, cols, 3));
  EXPECT_EQ(three.min_values.size(), 3u);
  auto none = ParseStats(BuildStatsJson(schema, 1, cols, 0));
  EXPECT_TRUE(none.min_values.empty());
  auto all = ParseStats(BuildStatsJson(schema, 1, cols, -1));
  EXPECT_EQ(all.min_values.size(), 40u);
  // Leaf 11 is c10.b: a struct cut in the middle keeps its first leaf only.
  auto cut = ParseStats(BuildStatsJson(schema, 1, cols, 11));
  EXPECT_EQ(cut.min_values["c10"].size(), 1u);
}

TEST(StatsTest, ParseStats) {
  auto s = ParseStats(std::string(R"({"numRecords":9,"minValues":{"a":1},"nullCount":{"a":0}})"));
  EXPECT_EQ(s.num_records, 9);
  EXPECT_EQ(s.min_values["a"], 1);
  EXPECT_TRUE(s.max_values.empty());
  EXPECT_FALSE(ParseStats(std::nullopt).num_records);
  EXPECT_FALSE(ParseStats(std::string("{broken")).num_records);
  EXPECT_FALSE(ParseStats(std::string("[]")).num_records);
}

TEST(StatsTest, JsonEscapingOfNamesAndValues) {
  Schema schema{{F("we\"ird", P("string"))}};
  FileColumnStats cols{{{"we\"ird"}, S("a\"b\n", "c\\d")}};
  auto s = ParseStats(BuildStatsJson(schema, 1, cols));
  EXPECT_EQ(s.min_values["we\"ird"], "a\"b\n");
  EXPECT_EQ(s.max_values["we\"ird"], "c\\d");
}

TEST(StatsTest, WithWideBoundsKeepsEverythingElse) {
  // Decimal bounds beyond double precision must survive byte for byte.
  const std::string spark =
      R"({"numRecords":3,"minValues":{"d":12345678901234567890.12,"s":"a,\"tightBounds\":x"},)"
      R"("maxValues":{"tightBounds":true},"nullCount":{"d":0},"tightBounds":true})";
  const std::string wide = spark.substr(0, spark.size() - 5) + "false}";
  ASSERT_EQ(wide.substr(wide.size() - 20), R"("tightBounds":false})");
  EXPECT_EQ(WithWideBounds(spark).value(), wide);
  EXPECT_EQ(WithWideBounds(R"({"numRecords":2, "tightBounds" : false})").value(),
            R"({"numRecords":2, "tightBounds" : false})");
  // Our own writer omits tightBounds: it is added.
  EXPECT_EQ(WithWideBounds(R"({"numRecords":7,"minValues":{"a":1}} )").value(),
            R"({"numRecords":7,"minValues":{"a":1},"tightBounds":false} )");
  auto parsed = nlohmann::json::parse(WithWideBounds(R"({"numRecords":7})").value());
  EXPECT_EQ(parsed["tightBounds"], false);
  EXPECT_EQ(parsed["numRecords"], 7);
}

TEST(StatsTest, WithWideBoundsNeedsNumRecords) {
  for (const char* bad : {"", "[]", "{}", R"({"numRecords":"3"})", "{\"numRecords\":1",
                          R"({"numRecords":1,"tightBounds":1})"}) {
    auto r = WithWideBounds(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("add.stats"), std::string::npos);
  }
}

}  // namespace
}  // namespace dl::delta
