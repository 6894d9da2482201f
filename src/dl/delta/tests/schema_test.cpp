#include "dl/delta/schema.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

constexpr const char* kSchema =
    R"j({"type":"struct","fields":[)j"
    R"j({"name":"id","type":"long","nullable":false,"metadata":{}},)j"
    R"j({"name":"price","type":"decimal(10,2)","nullable":true,"metadata":{"comment":"eur"}},)j"
    R"j({"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},)j"
    R"j({"name":"attrs","type":{"type":"map","keyType":"string","valueType":"integer","valueContainsNull":false},"nullable":true,"metadata":{}},)j"
    R"j({"name":"st","type":{"type":"struct","fields":[{"name":"ts","type":"timestamp_ntz","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]})j";

Schema MustParse(std::string_view s) {
  auto r = ParseSchemaString(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Schema{};
}

StructField F(std::string name, DataTypePtr type, bool nullable = true) {
  return StructField{std::move(name), std::move(type), nullable};
}

TEST(SchemaTest, ParsesAndSerializesSparkJsonExactly) {
  Schema s = MustParse(kSchema);
  ASSERT_EQ(s.fields.size(), 5u);
  EXPECT_FALSE(s.fields[0].nullable);
  EXPECT_EQ(s.fields[1].type->kind, DataType::Kind::kDecimal);
  EXPECT_EQ(s.fields[1].type->precision, 10);
  EXPECT_EQ(s.fields[1].type->scale, 2);
  EXPECT_EQ(s.fields[1].metadata["comment"], "eur");
  EXPECT_EQ(s.fields[3].type->ToString(), "map<string,integer>");
  EXPECT_FALSE(s.fields[3].type->value_contains_null);
  EXPECT_EQ(s.fields[4].type->ToString(), "struct<ts:timestamp_ntz>");
  EXPECT_EQ(SerializeSchema(s), kSchema);
  EXPECT_EQ(MustParse(SerializeSchema(s)), s);
  ASSERT_NE(s.Find("tags"), nullptr);
  EXPECT_EQ(s.Find("TAGS"), nullptr);
}

TEST(SchemaTest, DataTypeJson) {
  auto t = DataType::Array(DataType::Decimal(38, 18), false);
  auto j = DataTypeToJson(*t);
  EXPECT_EQ(j["elementType"], "decimal(38,18)");
  auto back = ParseDataType(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(**back, *t);
  EXPECT_EQ((*ParseDataType(nlohmann::json("decimal(5, 1)")))->ToString(), "decimal(5,1)");
}

TEST(SchemaTest, RejectsBadSchemas) {
  EXPECT_EQ(ParseSchemaString("{not json").status().code(), StatusCode::kCorruptLog);
  EXPECT_EQ(ParseSchemaString(R"({"type":"array"})").status().code(), StatusCode::kCorruptLog);
  auto r = ParseSchemaString(R"({"type":"struct","fields":[{"name":"x","type":"interval"}]})");
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("'x'"), std::string::npos);
  EXPECT_FALSE(ParseDataType(nlohmann::json("decimal(40,2)")).ok());
}

TEST(SchemaTest, MergeAppendsNullableColumnsRecursively) {
  Schema table{{F("a", DataType::Primitive("long"), false),
                F("s", DataType::Struct({F("x", DataType::Primitive("integer"))}))}};
  Schema in{{F("s", DataType::Struct({F("x", DataType::Primitive("integer")),
                                      F("y", DataType::Primitive("string"), false)})),
             F("b", DataType::Primitive("date"), false)}};
  auto r = MergeSchema(table, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->fields.size(), 3u);
  EXPECT_EQ(r->fields[0].name, "a");
  EXPECT_FALSE(r->fields[0].nullable);  // existing columns keep their nullability
  EXPECT_EQ(r->fields[1].type->ToString(), "struct<x:integer,y:string>");
  EXPECT_TRUE(r->fields[1].type->fields[1].nullable);
  EXPECT_EQ(r->fields[2].name, "b");
  EXPECT_TRUE(r->fields[2].nullable);
}

TEST(SchemaTest, MergeAcceptsNarrowerTypesKeepingTableType) {
  Schema table{{F("l", DataType::Primitive("long")), F("d", DataType::Primitive("double")),
                F("m", DataType::Decimal(12, 4))}};
  Schema in{{F("l", DataType::Primitive("byte")), F("d", DataType::Primitive("float")),
             F("m", DataType::Decimal(6, 2))}};
  auto r = MergeSchema(table, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, table);
}

TEST(SchemaTest, MergeRejectsWideningAndIncompatibleTypes) {
  Schema table{{F("s", DataType::Struct({F("i", DataType::Primitive("integer"))}))}};
  Schema in{{F("s", DataType::Struct({F("i", DataType::Primitive("long"))}))}};
  auto r = MergeSchema(table, in);
  ASSERT_EQ(r.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_EQ(r.status().message(),
            "column s.i has type integer in the table but long in the incoming data; widening "
            "the column needs the table property delta.enableTypeWidening=true and schema "
            "evolution on");

  SchemaMergeOptions widen;
  widen.allow_type_widening = true;
  auto w = MergeSchema(table, in, widen);
  ASSERT_TRUE(w.ok());
  const StructField& i = w->fields[0].type->fields[0];
  EXPECT_EQ(i.type->ToString(), "long");
  // Recorded on the nearest struct field, as the protocol asks.
  EXPECT_EQ(i.metadata.dump(), R"({"delta.typeChanges":[{"fromType":"integer","toType":"long"}]})");
  EXPECT_TRUE(w->fields[0].metadata.empty());

  Schema str{{F("s", DataType::Primitive("string"))}};
  auto s = MergeSchema(table, str, widen);
  EXPECT_EQ(s.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_EQ(s.status().message().find("widening"), std::string::npos);  // not a widening at all
  Schema dbl{{F("i", DataType::Primitive("double"))}};
  Schema ints{{F("i", DataType::Primitive("integer"))}};
  Schema longs{{F("i", DataType::Primitive("long"))}};
  EXPECT_EQ(MergeSchema(ints, dbl).status().code(), StatusCode::kSchemaMismatch);
  EXPECT_EQ(MergeSchema(dbl, ints).value(), dbl);  // integers fit in a double: cast up
  EXPECT_EQ(MergeSchema(ints, dbl, widen)->fields[0].type->ToString(), "double");
  // long -> double loses precision: never a widening.
  EXPECT_EQ(MergeSchema(longs, dbl, widen).status().code(), StatusCode::kSchemaMismatch);
  EXPECT_EQ(MergeSchema(dbl, longs, widen).status().code(), StatusCode::kSchemaMismatch);
}

TEST(SchemaTest, WideningRecordsNestedChangesWithTheirFieldPath) {
  auto arr = [](DataTypePtr e) { return DataType::Array(std::move(e)); };
  auto map = [](DataTypePtr k, DataTypePtr v) { return DataType::Map(std::move(k), std::move(v)); };
  Schema table{{F("e", arr(map(DataType::Primitive("string"), DataType::Decimal(6, 2)))),
                F("m", map(DataType::Primitive("float"), DataType::Primitive("short")))}};
  table.fields[1].metadata["delta.typeChanges"] =
      nlohmann::json::parse(R"([{"fromType":"byte","toType":"short","fieldPath":"value"}])");
  Schema in{{F("e", arr(map(DataType::Primitive("string"), DataType::Decimal(10, 4)))),
             F("m", map(DataType::Primitive("double"), DataType::Primitive("integer")))}};
  SchemaMergeOptions widen;
  widen.allow_type_widening = true;
  auto w = MergeSchema(table, in, widen);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->fields[0].type->ToString(), "array<map<string,decimal(10,4)>>");
  EXPECT_EQ(w->fields[0].metadata["delta.typeChanges"].dump(),
            R"j([{"fieldPath":"element.value","fromType":"decimal(6,2)",)j"
            R"j("toType":"decimal(10,4)"}])j");
  // Earlier changes are kept, new ones appended.
  EXPECT_EQ(w->fields[1].metadata["delta.typeChanges"].dump(),
            R"([{"fieldPath":"value","fromType":"byte","toType":"short"},)"
            R"({"fieldPath":"key","fromType":"float","toType":"double"},)"
            R"({"fieldPath":"value","fromType":"short","toType":"integer"}])");
  // The records survive serialization (writers must preserve them).
  EXPECT_EQ(MustParse(SerializeSchema(*w)), *w);
}

TEST(SchemaTest, MergeNewColumnsCanBeDisallowedAndCaseClashes) {
  Schema table{{F("a", DataType::Primitive("long"))}};
  Schema in{{F("a", DataType::Primitive("long")), F("b", DataType::Primitive("long"))}};
  SchemaMergeOptions strict;
  strict.allow_new_columns = false;
  auto r = MergeSchema(table, in, strict);
  EXPECT_EQ(r.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_NE(r.status().message().find("b"), std::string::npos);
  Schema upper{{F("A", DataType::Primitive("long"))}};
  EXPECT_EQ(MergeSchema(table, upper).status().code(), StatusCode::kSchemaMismatch);
  Schema dup{{F("b", DataType::Primitive("long")), F("b", DataType::Primitive("long"))}};
  EXPECT_EQ(MergeSchema(table, dup).status().code(), StatusCode::kSchemaMismatch);
}

TEST(SchemaTest, MergeArraysAndMaps) {
  Schema table{
      {F("arr", DataType::Array(DataType::Struct({F("x", DataType::Primitive("long"))})))}};
  Schema in{{F("arr", DataType::Array(DataType::Struct({F("x", DataType::Primitive("integer")),
                                                        F("y", DataType::Primitive("string"))})))}};
  auto r = MergeSchema(table, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fields[0].type->ToString(), "array<struct<x:long,y:string>>");
  Schema m1{{F("m", DataType::Map(DataType::Primitive("string"), DataType::Primitive("long")))}};
  Schema m2{{F("m", DataType::Map(DataType::Primitive("string"), DataType::Primitive("string")))}};
  auto bad = MergeSchema(m1, m2);
  EXPECT_EQ(bad.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_NE(bad.status().message().find("m.value"), std::string::npos);
}

TEST(SchemaTest, UsesAndNotNull) {
  Schema s = MustParse(kSchema);
  EXPECT_TRUE(SchemaUses(s, "timestamp_ntz"));
  EXPECT_TRUE(SchemaUses(s, "integer"));
  EXPECT_FALSE(SchemaUses(s, "timestamp"));
  EXPECT_TRUE(SchemaHasNotNull(s));
  Schema nested{{F("s", DataType::Struct({F("x", DataType::Primitive("long"), false)}))}};
  EXPECT_TRUE(SchemaHasNotNull(nested));
  Schema plain{{F("x", DataType::Primitive("long"))}};
  EXPECT_FALSE(SchemaHasNotNull(plain));
}

}  // namespace
}  // namespace dl::delta
