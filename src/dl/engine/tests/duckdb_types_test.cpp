#include "dl/engine/duckdb/duckdb_types.hpp"

#include <gtest/gtest.h>

#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

using delta::DataType;
using testing::NewEngine;
using testing::Scalar;

std::string DeltaTypeOf(Engine& engine, const std::string& expr) {
  auto schema = engine.SchemaOf("SELECT " + expr + " AS c");
  if (!schema.ok()) return "error: " + schema.status().ToString();
  return schema->fields.at(0).type->ToString();
}

TEST(DuckDbTypes, PrimitivesMapToDelta) {
  auto engine = NewEngine();
  EXPECT_EQ(DeltaTypeOf(*engine, "1::BIGINT"), "long");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::INTEGER"), "integer");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::SMALLINT"), "short");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::TINYINT"), "byte");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::FLOAT"), "float");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::DOUBLE"), "double");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::DECIMAL(12,3)"), "decimal(12,3)");
  EXPECT_EQ(DeltaTypeOf(*engine, "'a'"), "string");
  EXPECT_EQ(DeltaTypeOf(*engine, "'a'::BLOB"), "binary");
  EXPECT_EQ(DeltaTypeOf(*engine, "true"), "boolean");
  EXPECT_EQ(DeltaTypeOf(*engine, "DATE '2024-01-01'"), "date");
  EXPECT_EQ(DeltaTypeOf(*engine, "TIMESTAMPTZ '2024-01-01 00:00:00+00'"), "timestamp");
  EXPECT_EQ(DeltaTypeOf(*engine, "TIMESTAMP '2024-01-01 00:00:00'"), "timestamp_ntz");
}

TEST(DuckDbTypes, CastTypesMapToWiderDeltaTypes) {
  auto engine = NewEngine();
  EXPECT_EQ(DeltaTypeOf(*engine, "1::UTINYINT"), "short");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::USMALLINT"), "integer");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::UINTEGER"), "long");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::UBIGINT"), "decimal(20,0)");
  EXPECT_EQ(DeltaTypeOf(*engine, "1::HUGEINT"), "decimal(38,0)");
  EXPECT_EQ(DeltaTypeOf(*engine, "uuid()"), "string");
  EXPECT_EQ(DeltaTypeOf(*engine, "'a'::ENUM('a', 'b')"), "string");
  EXPECT_EQ(DeltaTypeOf(*engine, "TIME '10:00:00'"), "string");
  EXPECT_EQ(DeltaTypeOf(*engine, "'2024-01-01'::TIMESTAMP_NS"), "timestamp_ntz");
  EXPECT_EQ(DeltaTypeOf(*engine, "'2024-01-01'::TIMESTAMP_MS"), "timestamp_ntz");
  EXPECT_EQ(DeltaTypeOf(*engine, "'2024-01-01'::TIMESTAMP_S"), "timestamp_ntz");
}

TEST(DuckDbTypes, NestedTypesMapRecursively) {
  auto engine = NewEngine();
  auto schema = engine->SchemaOf(
      "SELECT [1, 2] AS l, MAP {'k': 1.5::DOUBLE} AS m, {'a': 1::UINTEGER, 'b': ['x']} AS s, "
      "[1, 2]::INTEGER[2] AS arr");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_EQ(schema->fields.size(), 4u);
  EXPECT_EQ(schema->fields[0].type->ToString(), "array<integer>");
  EXPECT_EQ(schema->fields[1].type->ToString(), "map<string,double>");
  const DataType& s = *schema->fields[2].type;
  ASSERT_EQ(s.kind, DataType::Kind::kStruct);
  ASSERT_EQ(s.fields.size(), 2u);
  EXPECT_EQ(s.fields[0].name, "a");
  EXPECT_TRUE(s.fields[0].type->is_primitive("long"));
  EXPECT_EQ(s.fields[1].type->ToString(), "array<string>");
  EXPECT_TRUE(s.fields[1].nullable);
  EXPECT_EQ(schema->fields[3].type->ToString(), "array<integer>");
  for (const auto& f : schema->fields) EXPECT_TRUE(f.nullable);
}

TEST(DuckDbTypes, RejectedTypesNameColumnAndType) {
  auto engine = NewEngine();
  struct Case {
    std::string expr, type_text;
  };
  for (const Case& c : std::vector<Case>{{"INTERVAL 1 DAY", "INTERVAL"},
                                         {"1::UHUGEINT", "UHUGEINT"},
                                         {"'101'::BIT", "BIT"},
                                         {"union_value(k := 1)", "UNION"}}) {
    auto schema = engine->SchemaOf("SELECT 1 AS ok, " + c.expr + " AS bad_col");
    ASSERT_FALSE(schema.ok()) << c.expr;
    EXPECT_EQ(schema.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(schema.status().message().find("bad_col"), std::string::npos);
    EXPECT_NE(schema.status().message().find(c.type_text), std::string::npos)
        << schema.status().message();
  }
  auto nested = engine->SchemaOf("SELECT {'inner': INTERVAL 1 DAY} AS s");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("s.inner"), std::string::npos);
}

TEST(DuckDbTypes, DeltaToDuckDb) {
  auto type_sql = [](const delta::DataTypePtr& t) {
    auto r = duck::DuckDbTypeFromDelta(*t);
    return r.ok() ? *r : "error: " + r.status().ToString();
  };
  EXPECT_EQ(type_sql(DataType::Primitive("long")), "BIGINT");
  EXPECT_EQ(type_sql(DataType::Primitive("integer")), "INTEGER");
  EXPECT_EQ(type_sql(DataType::Primitive("short")), "SMALLINT");
  EXPECT_EQ(type_sql(DataType::Primitive("byte")), "TINYINT");
  EXPECT_EQ(type_sql(DataType::Primitive("float")), "FLOAT");
  EXPECT_EQ(type_sql(DataType::Primitive("double")), "DOUBLE");
  EXPECT_EQ(type_sql(DataType::Primitive("string")), "VARCHAR");
  EXPECT_EQ(type_sql(DataType::Primitive("binary")), "BLOB");
  EXPECT_EQ(type_sql(DataType::Primitive("boolean")), "BOOLEAN");
  EXPECT_EQ(type_sql(DataType::Primitive("date")), "DATE");
  EXPECT_EQ(type_sql(DataType::Primitive("timestamp")), "TIMESTAMPTZ");
  EXPECT_EQ(type_sql(DataType::Primitive("timestamp_ntz")), "TIMESTAMP");
  EXPECT_EQ(type_sql(DataType::Decimal(10, 2)), "DECIMAL(10,2)");
  auto nested = DataType::Struct(
      {{"a b", DataType::Array(DataType::Primitive("long")), true, nlohmann::json::object()},
       {"m", DataType::Map(DataType::Primitive("string"), DataType::Primitive("date")), true,
        nlohmann::json::object()}});
  EXPECT_EQ(type_sql(nested), "STRUCT(\"a b\" BIGINT[], \"m\" MAP(VARCHAR, DATE))");
  EXPECT_FALSE(duck::DuckDbTypeFromDelta(*DataType::Primitive("variant")).ok());
  EXPECT_FALSE(duck::DuckDbTypeFromDelta(*DataType::Decimal(40, 2)).ok());
}

TEST(DuckDbTypes, RoundTripThroughDuckDb) {
  // Delta -> DuckDB type -> Delta gives the same type back.
  auto engine = NewEngine();
  auto type = DataType::Struct(
      {{"x",
        DataType::Map(DataType::Primitive("string"),
                      DataType::Array(DataType::Primitive("timestamp"))),
        true, nlohmann::json::object()},
       {"y", DataType::Decimal(38, 10), true, nlohmann::json::object()},
       {"z", DataType::Primitive("timestamp_ntz"), true, nlohmann::json::object()}});
  auto duck_type = duck::DuckDbTypeFromDelta(*type);
  ASSERT_TRUE(duck_type.ok());
  auto schema = engine->SchemaOf("SELECT CAST(NULL AS " + *duck_type + ") AS c");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(schema->fields[0].type->ToString(), type->ToString());
}

TEST(DuckDbTypes, DeltaCompatibleSelectCastsOnlyWhatIsNeeded) {
  auto engine = NewEngine();
  std::string src =
      "SELECT 1::UINTEGER AS u, 'x' AS s, uuid() AS id, {'t': TIME '01:02:03'} AS st, "
      "1::HUGEINT AS h;";
  auto select = engine->DeltaCompatibleSelect(src);
  ASSERT_TRUE(select.ok()) << select.status().ToString();
  EXPECT_NE(select->find("CAST(\"u\" AS BIGINT)"), std::string::npos) << *select;
  EXPECT_EQ(select->find("CAST(\"s\""), std::string::npos) << *select;
  auto schema = engine->SchemaOf(*select);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(schema->fields[0].type->ToString(), "long");
  EXPECT_EQ(schema->fields[3].type->ToString(), "struct<t:string>");
  EXPECT_EQ(schema->fields[4].type->ToString(), "decimal(38,0)");
  EXPECT_EQ(Scalar(*engine, "SELECT st.t FROM (" + *select + ")"), "01:02:03");
  auto rejected = engine->DeltaCompatibleSelect("SELECT INTERVAL 1 DAY AS iv");
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnsupported);
}

// pandas' Timestamp.max and .min are the int64 ends in nanoseconds, DuckDB's infinities (as
// the parquet reader gives them here): a cast wrote year 294247, which Delta readers refuse.
TEST(DuckDbTypes, NanosecondTimestampsAtTheInt64EndsKeepTheirValue) {
  auto engine = NewEngine();
  auto select = engine->DeltaCompatibleSelect(
      "SELECT 'infinity'::TIMESTAMP_NS AS hi, '-infinity'::TIMESTAMP_NS AS lo, "
      "make_timestamp_ns(1999) AS f");
  ASSERT_TRUE(select.ok()) << select.status().ToString();
  EXPECT_EQ(Scalar(*engine,
                   "SELECT hi::VARCHAR || ' ' || lo::VARCHAR || ' ' || f::VARCHAR || ' ' "
                   "|| typeof(hi) FROM (" +
                       *select + ")"),
            "2262-04-11 23:47:16.854775 1677-09-21 00:12:43.145225 1970-01-01 00:00:00.000001 "
            "TIMESTAMP");
}

TEST(DuckDbTypes, DuplicateNamesAreRejected) {
  auto engine = NewEngine();
  auto schema = engine->SchemaOf("SELECT 1 AS a, 2 AS A");
  ASSERT_FALSE(schema.ok());
  EXPECT_EQ(schema.status().code(), StatusCode::kInvalidArgument);
}

TEST(DuckDbTypes, AlignToSchemaOrdersCastsAndFills) {
  auto engine = NewEngine();
  auto schema = delta::ParseSchemaString(
      R"({"type":"struct","fields":[)"
      R"({"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"s","type":{"type":"struct","fields":[)"
      R"({"name":"a","type":"integer","nullable":true,"metadata":{}},)"
      R"({"name":"b","type":"string","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}},)"
      R"({"name":"missing","type":"date","nullable":true,"metadata":{}}]})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto aligned = engine->AlignToSchema("SELECT {'a': 7} AS s, 5::INTEGER AS ID", *schema);
  ASSERT_TRUE(aligned.ok()) << aligned.status().ToString();
  auto got = engine->SchemaOf(*aligned);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(delta::SerializeSchema(*got), delta::SerializeSchema(*schema));
  auto rows = engine->Query("SELECT id, s.a, s.b, missing FROM (" + *aligned + ")");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows[0][0], "5");
  EXPECT_EQ(rows->rows[0][1], "7");
  EXPECT_EQ(rows->rows[0][2], std::nullopt);
  EXPECT_EQ(rows->rows[0][3], std::nullopt);

  auto extra = engine->AlignToSchema("SELECT 1 AS id, 2 AS other", *schema);
  EXPECT_EQ(extra.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(extra.status().message().find("other"), std::string::npos);
  auto nested_extra = engine->AlignToSchema("SELECT {'a': 1, 'zz': 2} AS s", *schema);
  EXPECT_EQ(nested_extra.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nested_extra.status().message().find("s.zz"), std::string::npos);
  auto bad_shape = engine->AlignToSchema("SELECT [1] AS s", *schema);
  EXPECT_EQ(bad_shape.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_shape.status().message().find("'s'"), std::string::npos);
}

}  // namespace
}  // namespace dl::engine
