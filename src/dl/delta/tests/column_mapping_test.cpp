#include "dl/delta/column_mapping.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

// As Spark writes a name-mode table after RENAME COLUMN id TO key (physical names unchanged).
constexpr const char* kMapped =
    R"j({"type":"struct","fields":[)j"
    R"j({"name":"key","type":"long","nullable":true,"metadata":{"delta.columnMapping.id":1,"delta.columnMapping.physicalName":"col-a1"}},)j"
    R"j({"name":"st","type":{"type":"struct","fields":[)j"
    R"j({"name":"x","type":"integer","nullable":true,"metadata":{"delta.columnMapping.id":3,"delta.columnMapping.physicalName":"col-c3"}}]},)j"
    R"j("nullable":true,"metadata":{"delta.columnMapping.id":2,"delta.columnMapping.physicalName":"col-b2"}},)j"
    R"j({"name":"arr","type":{"type":"array","elementType":{"type":"struct","fields":[)j"
    R"j({"name":"y","type":"string","nullable":true,"metadata":{"delta.columnMapping.id":5,"delta.columnMapping.physicalName":"col-e5"}}]},)j"
    R"j("containsNull":true},"nullable":true,"metadata":{"delta.columnMapping.id":4,"delta.columnMapping.physicalName":"col-d4"}}]})j";

const StringMap kName{{"delta.columnMapping.mode", "name"},
                      {"delta.columnMapping.maxColumnId", "5"}};

Schema MustParse(std::string_view s) {
  auto r = ParseSchemaString(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Schema{};
}

TEST(ColumnMappingTest, ModeFromConfiguration) {
  EXPECT_EQ(GetColumnMappingMode({}), ColumnMappingMode::kNone);
  EXPECT_EQ(GetColumnMappingMode({{"delta.columnMapping.mode", "none"}}), ColumnMappingMode::kNone);
  EXPECT_EQ(GetColumnMappingMode({{"delta.columnMapping.mode", "name"}}), ColumnMappingMode::kName);
  EXPECT_EQ(GetColumnMappingMode({{"delta.columnMapping.mode", "id"}}), ColumnMappingMode::kId);
  EXPECT_FALSE(UsesColumnMapping({{"delta.columnMapping.mode", "none"}}));
}

TEST(ColumnMappingTest, PhysicalNamesAndIdsNestedToo) {
  Schema s = MustParse(kMapped);
  EXPECT_EQ(SerializeSchema(s), kMapped);  // metadata round-trips untouched
  EXPECT_TRUE(CheckColumnMapping(s, kName, "/t").ok());
  EXPECT_EQ(PhysicalName(s.fields[0]), "col-a1");
  EXPECT_EQ(ColumnMappingId(s.fields[1]), 2);
  EXPECT_EQ(PhysicalColumnName(s, "key"), "col-a1");
  EXPECT_EQ(PhysicalColumnName(s, "absent"), "absent");

  Schema p = PhysicalSchema(s);
  EXPECT_EQ(p.fields[0].name, "col-a1");
  EXPECT_EQ(p.fields[1].name, "col-b2");
  EXPECT_EQ(p.fields[1].type->fields[0].name, "col-c3");
  EXPECT_EQ(p.fields[2].type->element->fields[0].name, "col-e5");
  EXPECT_EQ(ColumnMappingId(p.fields[1].type->fields[0]), 3);  // ids stay at hand
  EXPECT_EQ(s.fields[1].type->fields[0].name, "x");            // the input is unchanged

  // Without column mapping metadata a field keeps its name.
  Schema plain{{StructField{"a", DataType::Primitive("long")}}};
  EXPECT_EQ(PhysicalSchema(plain).fields[0].name, "a");
}

TEST(ColumnMappingTest, RefusesMissingMetadataCollisionsAndUnknownModes) {
  Schema s = MustParse(kMapped);
  Schema missing = s;
  missing.fields[0].metadata.erase("delta.columnMapping.physicalName");
  Status st = CheckColumnMapping(missing, kName, "/t");
  EXPECT_EQ(st.code(), StatusCode::kCorruptLog);
  EXPECT_NE(st.message().find("column key lacks"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("/t"), std::string::npos) << st.message();
  EXPECT_TRUE(CheckColumnMapping(missing, {}, "/t").ok());  // mode none: not used

  Schema collision = s;
  collision.fields[1].metadata["delta.columnMapping.physicalName"] = "col-a1";
  st = CheckColumnMapping(collision, kName, "/t");
  EXPECT_EQ(st.code(), StatusCode::kCorruptLog);
  EXPECT_NE(st.message().find("column st has the physical name 'col-a1'"), std::string::npos)
      << st.message();

  Schema same_id = s;
  same_id.fields[1].type = DataType::Struct({});
  same_id.fields[2].metadata["delta.columnMapping.id"] = 1;
  st = CheckColumnMapping(same_id, kName, "/t");
  EXPECT_NE(st.message().find("column arr has the column mapping id 1"), std::string::npos)
      << st.message();

  st = CheckColumnMapping(s, {{"delta.columnMapping.mode", "Name!"}}, "/t");
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
}

TEST(ColumnMappingTest, NewColumnsGetFreshIdsAndPhysicalNames) {
  Schema s = MustParse(kMapped);
  Schema evolved = s;
  evolved.fields.push_back(StructField{"added", DataType::Primitive("string")});
  auto st_fields = evolved.fields[1].type->fields;
  st_fields.push_back(StructField{"z", DataType::Primitive("long")});
  evolved.fields[1].type = DataType::Struct(st_fields);

  StringMap config = kName;
  config["delta.columnMapping.maxColumnId"] = "7";  // ids 6 and 7 were used by dropped columns
  Schema out = AssignColumnMapping(evolved, &config);
  EXPECT_EQ(config["delta.columnMapping.maxColumnId"], "9");
  const StructField& z = out.fields[1].type->fields[1];
  const StructField& added = out.fields[3];
  EXPECT_EQ(ColumnMappingId(z), 8);  // children first, in schema order
  EXPECT_EQ(ColumnMappingId(added), 9);
  EXPECT_EQ(PhysicalName(added).rfind("col-", 0), 0u);
  EXPECT_EQ(PhysicalName(added).size(), 4u + 36u);
  EXPECT_NE(PhysicalName(added), PhysicalName(z));
  EXPECT_EQ(added.name, "added");
  // Existing columns keep theirs.
  EXPECT_EQ(out.fields[0], s.fields[0]);
  EXPECT_EQ(out.fields[1].type->fields[0], s.fields[1].type->fields[0]);
  EXPECT_TRUE(CheckColumnMapping(out, config, "/t").ok());

  // A table whose maxColumnId is missing starts above the largest id in the schema.
  StringMap bare{{"delta.columnMapping.mode", "id"}};
  Schema again = AssignColumnMapping(evolved, &bare);
  EXPECT_EQ(bare["delta.columnMapping.maxColumnId"], "7");
  EXPECT_EQ(ColumnMappingId(again.fields[3]), 7);
}

TEST(ColumnMappingTest, RenameAndDropKeepPhysicalNames) {
  Schema s = MustParse(kMapped);
  auto renamed = RenameColumn(s, "st.x", "x2");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  const StructField& x2 = renamed->fields[1].type->fields[0];
  EXPECT_EQ(x2.name, "x2");
  EXPECT_EQ(PhysicalName(x2), "col-c3");
  EXPECT_EQ(ColumnMappingId(x2), 3);
  auto top = RenameColumn(s, "key", "id");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->fields[0].name, "id");
  EXPECT_EQ(PhysicalName(top->fields[0]), "col-a1");

  EXPECT_EQ(RenameColumn(s, "key", "ST").status().code(), StatusCode::kInvalidArgument);
  Status st = RenameColumn(s, "st.nope", "a").status();
  EXPECT_NE(st.message().find("column st.nope is not in the table schema"), std::string::npos)
      << st.message();

  auto dropped = DropColumn(s, "arr");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->fields.size(), 2u);
  EXPECT_EQ(dropped->fields[1], s.fields[1]);
  EXPECT_EQ(DropColumn(s, "st.x").status().code(), StatusCode::kInvalidArgument);  // only child
  EXPECT_EQ(DropColumn(s, "missing").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dl::delta
