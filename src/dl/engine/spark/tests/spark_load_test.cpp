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

// Spark names a file it reads as a URI; without a count before (merge), the batch view maps
// it back to the plan's path by this expected spelling first (a miss falls back to decoding,
// checked end to end).
TEST(SparkUriOfTest, LocalPathsAreFileUrisWithJavasEscapes) {
  EXPECT_EQ(SparkUriOf("/data/raw/a.csv"), "file:/data/raw/a.csv");
  EXPECT_EQ(SparkUriOf("/data/raw dir/a%b#c.csv"), "file:/data/raw%20dir/a%25b%23c.csv");
  EXPECT_EQ(SparkUriOf("/data/a+b=c,d@e.csv"), "file:/data/a+b=c,d@e.csv");
  EXPECT_EQ(SparkUriOf("/data/caf\xc3\xa9.csv"), "file:/data/caf\xc3\xa9.csv");
}

TEST(SparkUriOfTest, OtherPathsAreKept) {
  EXPECT_EQ(SparkUriOf("s3a://bucket/raw/a.parquet"), "s3a://bucket/raw/a.parquet");
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

TEST(SparkQuotingTest, HasColumnIgnoresCaseLikeSparksResolution) {
  using Names = std::vector<std::string>;
  EXPECT_TRUE(HasColumn(Names{"id", "Amount"}, "amount"));
  EXPECT_FALSE(HasColumn(Names{"amount"}, "amounts"));
  EXPECT_TRUE(HasColumn(Names{"id", "V"}, "v"));
}

// DESCRIBE's types read back as Delta types, so a batch is checked against its table by the
// same rules as on DuckDB (delta::MergeSchema).
TEST(SparkTypesTest, DeltaTypeOfSparkReadsDescribesTypes) {
  auto text = [](std::string_view t) {
    auto d = DeltaTypeOfSpark(t);
    return d ? d->ToString() : std::string("null");
  };
  EXPECT_EQ(text("int"), "integer");
  EXPECT_EQ(text("bigint"), "long");
  EXPECT_EQ(text("tinyint"), "byte");
  EXPECT_EQ(text("smallint"), "short");
  EXPECT_EQ(text("float"), "float");
  EXPECT_EQ(text("timestamp"), "timestamp");
  EXPECT_EQ(text("timestamp_ntz"), "timestamp_ntz");
  EXPECT_EQ(text("decimal(20,0)"), "decimal(20,0)");
  EXPECT_EQ(text("varchar(5)"), "string");
  EXPECT_EQ(text("array<bigint>"), "array<long>");
  EXPECT_EQ(text("map<string,array<int>>"), "map<string,array<integer>>");
  // Spark 4.1 spells field names bare; one holding a ':' cannot be told apart (unchecked).
  EXPECT_EQ(text("struct<a:int,x y:string,q`r:struct<f:date>>"),
            "struct<a:integer,x y:string,q`r:struct<f:date>>");
  EXPECT_EQ(text("struct<b:c:int>"), "null");
  EXPECT_EQ(text("struct<`b:c`:int,`d``e`:int>"), "struct<b:c:integer,d`e:integer>");
  EXPECT_EQ(text("void"), "null");
  EXPECT_EQ(text("interval day to second"), "null");
  EXPECT_EQ(text("array<int"), "null");
  EXPECT_EQ(text("decimal(10,2"), "null");
}

// DESCRIBE's nested types as Spark SQL reads them back (a CAST, ADD COLUMNS): field names
// quoted; what it cannot read is passed on as it is.
TEST(SparkTypesTest, SparkSqlTypeQuotesFieldNames) {
  EXPECT_EQ(SparkSqlType("struct<x.y:int,z:map<string,array<bigint>>>"),
            "STRUCT<`x.y`: INT, `z`: MAP<string, ARRAY<BIGINT>>>");
  EXPECT_EQ(SparkSqlType("decimal(38,10)"), "DECIMAL(38,10)");
  EXPECT_EQ(SparkSqlType("interval day to second"), "interval day to second");
}

// Spark's typed schema spelled so that any field name reads back: DESCRIBE's text
// (`struct<a,b:c<d>:int>`) cannot be split into names and types.
TEST(SparkTypesTest, SparkTypeTextQuotesEveryFieldNameAndReadsBack) {
  pb::DataType inner;
  auto* q = inner.mutable_struct_()->add_fields();
  q->set_name("q:r");
  q->mutable_data_type()->mutable_integer();
  pb::DataType t;
  auto* fields = t.mutable_struct_();
  auto* a = fields->add_fields();
  a->set_name("a,b:c<d>");
  a->mutable_data_type()->mutable_decimal()->set_precision(12);
  a->mutable_data_type()->mutable_decimal()->set_scale(4);
  auto* b = fields->add_fields();
  b->set_name("x`y");
  auto* map = b->mutable_data_type()->mutable_map();
  map->mutable_key_type()->mutable_string();
  *map->mutable_value_type()->mutable_array()->mutable_element_type() = inner;
  auto* c = fields->add_fields();
  c->set_name("v");
  c->mutable_data_type()->mutable_var_char()->set_length(5);
  const std::string text = SparkTypeText(t);
  EXPECT_EQ(text,
            "struct<`a,b:c<d>`:decimal(12,4),`x``y`:map<string,array<struct<`q:r`:int>>>,"
            "`v`:varchar(5)>");
  auto delta_type = DeltaTypeOfSpark(text);
  ASSERT_NE(delta_type, nullptr);
  EXPECT_EQ(delta_type->ToString(),
            "struct<a,b:c<d>:decimal(12,4),x`y:map<string,array<struct<q:r:integer>>>,v:string>");
  EXPECT_EQ(SparkSqlType(text),
            "STRUCT<`a,b:c<d>`: DECIMAL(12,4), `x``y`: MAP<string, ARRAY<STRUCT<`q:r`: INT>>>, "
            "`v`: string>");
  pb::DataType ts;
  ts.mutable_timestamp_ntz();
  EXPECT_EQ(SparkTypeText(ts), "timestamp_ntz");  // top-level names as DESCRIBE gives them
  pb::DataType none;
  none.mutable_null();
  EXPECT_EQ(DeltaTypeOfSpark(SparkTypeText(none)), nullptr);
}

// A batch column meets the table's type where that is a widening of Spark's (Delta refuses to
// append a narrower type); a csv integer the table lacks is bigint, as DuckDB infers it.
TEST(SparkTypesTest, AlignedTypeCastsUpToTheTableAndCsvIntegersToBigint) {
  auto field = [](const char* name, delta::DataTypePtr type) {
    return delta::StructField{name, std::move(type), true, nlohmann::json::object()};
  };
  const std::vector<delta::StructField> table = {
      field("ID", delta::DataType::Primitive("long")),
      field("n", delta::DataType::Primitive("integer")),
      field("d", delta::DataType::Decimal(12, 2)),
      field("s", delta::DataType::Primitive("string")),
      field("ts", delta::DataType::Primitive("timestamp")),
      field("tn", delta::DataType::Primitive("timestamp_ntz")),
      field("day", delta::DataType::Primitive("date"))};
  EXPECT_EQ(AlignedType({"id", "int"}, table, Inferred::kNone), "BIGINT");  // names ignore case
  EXPECT_EQ(AlignedType({"n", "int"}, table, Inferred::kCsv), "");          // the table's int stays
  EXPECT_EQ(AlignedType({"n", "bigint"}, table, Inferred::kCsv), "");       // never cast down
  EXPECT_EQ(AlignedType({"d", "decimal(10,2)"}, table, Inferred::kNone), "DECIMAL(12,2)");
  EXPECT_EQ(AlignedType({"s", "int"}, table, Inferred::kCsv), "");  // not a widening: Delta decides
  EXPECT_EQ(AlignedType({"new", "int"}, table, Inferred::kCsv), "BIGINT");
  EXPECT_EQ(AlignedType({"new", "int"}, table, Inferred::kNone), "");  // parquet's int32 is kept
  EXPECT_EQ(AlignedType({"new", "double"}, {}, Inferred::kCsv), "");
  // Naive csv timestamps into a column made when Spark read them zoned; parquet's types stay.
  EXPECT_EQ(AlignedType({"ts", "timestamp_ntz"}, table, Inferred::kCsv), "TIMESTAMP");
  EXPECT_EQ(AlignedType({"tn", "timestamp_ntz"}, table, Inferred::kCsv), "");
  EXPECT_EQ(AlignedType({"ts", "timestamp_ntz"}, table, Inferred::kNone), "");
  // Json text where DuckDB made a date or timestamp column; other strings stay.
  EXPECT_EQ(AlignedType({"day", "string"}, table, Inferred::kJson), "date");
  EXPECT_EQ(AlignedType({"tn", "string"}, table, Inferred::kJson), "timestamp_ntz");
  EXPECT_EQ(AlignedType({"ts", "string"}, table, Inferred::kJson), "timestamp");
  EXPECT_EQ(AlignedType({"s", "string"}, table, Inferred::kJson), "");
  EXPECT_EQ(AlignedType({"day", "string"}, table, Inferred::kNone), "");
  EXPECT_EQ(AlignedType({"new", "int"}, table, Inferred::kJson), "");
}

}  // namespace
}  // namespace dl::engine::spark
