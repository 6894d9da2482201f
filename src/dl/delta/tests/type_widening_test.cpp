#include "dl/delta/type_widening.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

DataTypePtr T(const char* name) {
  auto t = ParseDataType(nlohmann::json(name));
  EXPECT_TRUE(t.ok()) << name;
  return t.ok() ? *t : DataType::Primitive("string");
}

bool Widens(const char* from, const char* to) { return IsTypeWidening(*T(from), *T(to)); }

TEST(TypeWideningTest, TheProtocolsChangesAndNoOthers) {
  for (auto [from, to] : std::vector<std::pair<const char*, const char*>>{
           {"byte", "short"},
           {"byte", "long"},
           {"short", "integer"},
           {"integer", "long"},
           {"float", "double"},
           {"byte", "double"},
           {"integer", "double"},
           {"date", "timestamp_ntz"},
           {"decimal(6,2)", "decimal(10,4)"},
           {"decimal(6,2)", "decimal(7,2)"},
           {"decimal(6,2)", "decimal(8,4)"},
           {"decimal(6,2)", "decimal(7,3)"},
           {"integer", "decimal(10,0)"},
           {"short", "decimal(12,2)"},
           {"long", "decimal(20,0)"},
           {"long", "decimal(38,18)"}}) {
    EXPECT_TRUE(Widens(from, to)) << from << " -> " << to;
  }
  for (auto [from, to] : std::vector<std::pair<const char*, const char*>>{
           {"long", "integer"},  // narrowing
           {"integer", "integer"},
           {"double", "float"},
           {"long", "double"},  // loses precision
           {"float", "decimal(38,10)"},
           {"date", "timestamp"},  // the protocol widens dates to timestamp_ntz only
           {"timestamp_ntz", "date"},
           {"decimal(10,4)", "decimal(6,2)"},
           {"decimal(6,2)", "decimal(7,4)"},  // fewer integer digits
           {"decimal(6,2)", "decimal(6,2)"},
           {"integer", "decimal(10,1)"},
           {"long", "decimal(19,0)"},
           {"integer", "string"},
           {"string", "binary"}}) {
    EXPECT_FALSE(Widens(from, to)) << from << " -> " << to;
  }
}

TEST(TypeWideningTest, EnabledOnlyByTheTableProperty) {
  EXPECT_FALSE(TypeWideningEnabled({}));
  EXPECT_FALSE(TypeWideningEnabled({{"delta.enableTypeWidening", "false"}}));
  EXPECT_TRUE(TypeWideningEnabled({{"delta.enableTypeWidening", "true"}}));
  EXPECT_TRUE(TypeWideningEnabled({{"delta.enableTypeWidening", "TRUE"}}));
}

Schema WithChanges(const char* column_type, const char* changes) {
  StructField f{"c", T(column_type), true, nlohmann::json::object()};
  f.metadata["delta.typeChanges"] = nlohmann::json::parse(changes);
  return Schema{{StructField{"id", T("long")},
                 StructField{"s", DataType::Struct({f}), true, nlohmann::json::object()}}};
}

TEST(TypeWideningTest, ReadersCheckEveryRecordedChange) {
  // As Spark 4 writes them, and Delta 3's preview (with tableVersion).
  EXPECT_TRUE(CheckTypeChanges(WithChanges("long", R"([{"toType":"integer","fromType":"short"},
      {"toType":"long","fromType":"integer"}])"),
                               "/t")
                  .ok());
  EXPECT_TRUE(CheckTypeChanges(WithChanges("decimal(10,4)", R"j([{"toType":"decimal(10,4)",
      "fromType":"decimal(6,2)","tableVersion":3}])j"),
                               "/t")
                  .ok());
  Status bad = CheckTypeChanges(WithChanges("string", R"([{"toType":"string",
      "fromType":"integer"}])"),
                                "/t");
  EXPECT_EQ(bad.code(), StatusCode::kUnsupported);
  EXPECT_EQ(bad.message(),
            "table /t: column s.c went through the type change integer -> string, which "
            "data_loader cannot read");
  for (const char* malformed : {R"("short")", R"([{"toType":"long"}])", R"([1])",
                                R"([{"fromType":"int","toType":"long"}])"}) {
    Status st = CheckTypeChanges(WithChanges("long", malformed), "/t");
    EXPECT_EQ(st.code(), StatusCode::kCorruptLog) << malformed;
    EXPECT_NE(st.message().find("column s.c"), std::string::npos) << st.message();
  }
}

TEST(TypeWideningTest, WidenColumnByHand) {
  Schema schema{{StructField{"id", T("integer")}, StructField{"d", T("date")}}};
  auto w = WidenColumn(schema, "id", *T("long"), "/t");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->fields[0].type->ToString(), "long");
  EXPECT_EQ(w->fields[0].metadata.dump(),
            R"({"delta.typeChanges":[{"fromType":"integer","toType":"long"}]})");
  EXPECT_EQ(w->fields[1], schema.fields[1]);
  auto twice = WidenColumn(*w, "id", *T("decimal(22,2)"), "/t");
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->fields[0].metadata["delta.typeChanges"].size(), 2u);

  auto narrow = WidenColumn(*w, "id", *T("integer"), "/t");
  EXPECT_EQ(narrow.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_NE(narrow.status().message().find("table /t: column id cannot change from long to "
                                           "integer"),
            std::string::npos)
      << narrow.status().message();
  EXPECT_EQ(WidenColumn(schema, "d", *T("timestamp"), "/t").status().code(),
            StatusCode::kSchemaMismatch);
  EXPECT_EQ(WidenColumn(schema, "nope", *T("long"), "/t").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace dl::delta
