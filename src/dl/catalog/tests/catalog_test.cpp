#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/catalog/registration.hpp"
#include "dl/catalog/uc_columns.hpp"
#include "dl/catalog/uc_names.hpp"
#include "dl/config/loader_config.hpp"

namespace dl::catalog {
namespace {

using ::testing::HasSubstr;

config::LoaderConfig UcConfig(std::optional<std::string> default_catalog) {
  config::LoaderConfig cfg;
  cfg.processed_data_path = "/p";
  cfg.use_unity_catalog = true;
  cfg.default_catalog = std::move(default_catalog);
  return cfg;
}

config::TableConfig Table(std::string db, std::string name) {
  config::TableConfig t;
  t.database_name = std::move(db);
  t.table_name = std::move(name);
  return t;
}

TEST(UcNamesTest, IdentifierRules) {
  EXPECT_TRUE(CheckUcIdentifier("table", "orders_2024").ok());
  EXPECT_TRUE(CheckUcIdentifier("table", "with-hyphen").ok());  // UC allows it
  EXPECT_TRUE(CheckUcIdentifier("table", std::string(255, 'a')).ok());
  Status too_long = CheckUcIdentifier("schema", std::string(256, 'a'));
  EXPECT_EQ(too_long.code(), StatusCode::kConfig);
  EXPECT_THAT(too_long.message(), HasSubstr("256 characters; Unity Catalog allows at most 255"));
  EXPECT_THAT(CheckUcIdentifier("table", "a.b").message(), HasSubstr("contains '.'"));
  EXPECT_THAT(CheckUcIdentifier("table", "a b").message(), HasSubstr("contains a space"));
  EXPECT_THAT(CheckUcIdentifier("catalog", "a/b").message(), HasSubstr("the catalog name 'a/b'"));
  EXPECT_THAT(CheckUcIdentifier("table", std::string("a\x01", 2)).message(),
              HasSubstr("control character"));
  EXPECT_THAT(CheckUcIdentifier("table", "a\x7f").message(), HasSubstr("control character"));
  EXPECT_THAT(CheckUcIdentifier("table", "").message(), HasSubstr("empty"));
}

TEST(UcNamesTest, ResolvesThreeLevelNamesLowerCase) {
  auto n = ResolveUcName(UcConfig("Prod"), Table("Sales", "Orders"));
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->FullName(), "prod.sales.orders");
  EXPECT_EQ(n->SchemaFullName(), "prod.sales");
  auto explicit_catalog = ResolveUcName(UcConfig("prod"), Table("Dev.Raw", "events"));
  ASSERT_TRUE(explicit_catalog.ok());
  EXPECT_EQ(explicit_catalog->FullName(), "dev.raw.events");  // catalog.schema wins
}

TEST(UcNamesTest, NoCatalogIsAConfigErrorNamingTheTable) {
  auto n = ResolveUcName(UcConfig(std::nullopt), Table("sales", "orders"));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kConfig);
  EXPECT_THAT(n.status().message(), HasSubstr("sales.orders"));
  EXPECT_THAT(n.status().message(), HasSubstr("default_catalog"));
  auto long_name = ResolveUcName(UcConfig("c"), Table("s", std::string(300, 't')));
  ASSERT_FALSE(long_name.ok());
  EXPECT_THAT(long_name.status().message(), HasSubstr("(table_name)"));
}

TEST(UcNamesTest, StoragePathNestsCatalogSchemaTableLowerCase) {
  auto cfg = UcConfig("Prod");
  EXPECT_EQ(config::TablePath(cfg, Table("Sales", "Orders")), "/p/prod/sales/orders");
  EXPECT_EQ(config::DisplayName(cfg, Table("Sales", "Orders")), "prod.sales.orders");
  EXPECT_EQ(config::TablePath(cfg, Table("dev.raw", "e")), "/p/dev/raw/e");
  cfg.use_unity_catalog = false;  // without Unity Catalog names keep their case
  EXPECT_EQ(config::TablePath(cfg, Table("Sales", "Orders")), "/p/Sales/Orders");
}

TEST(UcNamesTest, ValidateAllNamesForAFlagTurnedOnAfterLoading) {
  auto cfg = UcConfig(std::nullopt);
  cfg.tables = {Table("dev.raw", "events"), Table("sales", "orders"), Table("Dev.RAW", "Events")};
  Status st = ValidateUcNames(cfg);
  ASSERT_EQ(st.code(), StatusCode::kConfig);
  EXPECT_THAT(st.message(), HasSubstr("sales.orders: database_name 'sales' has no catalog"));
  EXPECT_THAT(st.message(), HasSubstr("tables dev.raw.events and Dev.RAW.Events are both "
                                      "dev.raw.events"));
  cfg.tables.pop_back();
  cfg.default_catalog = "prod";
  EXPECT_TRUE(ValidateUcNames(cfg).ok());
}

TEST(UcNamesTest, StorageLocation) {
  EXPECT_EQ(StorageLocation("/data/p/c/s/t"), "file:///data/p/c/s/t");
  EXPECT_EQ(StorageLocation("s3://bucket/p/t"), "s3://bucket/p/t");
  EXPECT_EQ(StorageLocation("abfss://c@a.dfs.core.windows.net/t"),
            "abfss://c@a.dfs.core.windows.net/t");
}

delta::Schema SampleSchema() {
  using delta::DataType;
  delta::Schema s;
  s.fields = {
      {"id", DataType::Primitive("long"), false},
      {"n", DataType::Primitive("integer"), true},
      {"amount", DataType::Decimal(10, 2), true},
      {"tags", DataType::Array(DataType::Primitive("string")), true},
      {"attrs", DataType::Map(DataType::Primitive("string"), DataType::Primitive("short")), true},
      {"point", DataType::Struct({{"x", DataType::Primitive("double"), true},
                                  {"t", DataType::Primitive("timestamp_ntz"), true}}),
       true},
      {"day", DataType::Primitive("date"), true},
  };
  return s;
}

TEST(UcColumnsTest, TypesFollowSparkCatalogStringsAndUcTypeNames) {
  auto s = SampleSchema();
  std::vector<std::string> text, names;
  for (const auto& f : s.fields) {
    text.push_back(TypeText(*f.type));
    names.push_back(TypeName(*f.type));
  }
  EXPECT_THAT(text, ::testing::ElementsAre("bigint", "int", "decimal(10,2)", "array<string>",
                                           "map<string,smallint>",
                                           "struct<x:double,t:timestamp_ntz>", "date"));
  EXPECT_THAT(names, ::testing::ElementsAre("LONG", "INT", "DECIMAL", "ARRAY", "MAP", "STRUCT",
                                            "DATE"));
}

TEST(UcColumnsTest, ColumnInfoFields) {
  auto s = SampleSchema();
  auto cols = ColumnsJson(s, {"day"});
  ASSERT_EQ(cols.size(), 7u);
  EXPECT_EQ(cols[0]["name"], "id");
  EXPECT_EQ(cols[0]["position"], 0);
  EXPECT_EQ(cols[0]["nullable"], false);
  EXPECT_FALSE(cols[0].contains("partition_index"));
  EXPECT_EQ(cols[2]["type_precision"], 10);
  EXPECT_EQ(cols[2]["type_scale"], 2);
  EXPECT_EQ(cols[6]["partition_index"], 0);
  // type_json is the Delta/Spark StructField JSON, parseable back to the same type.
  auto field = nlohmann::json::parse(cols[5]["type_json"].get<std::string>());
  EXPECT_EQ(field["name"], "point");
  auto type = delta::ParseDataType(field["type"]);
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(**type, *s.fields[5].type);
}

TEST(UcColumnsTest, SameColumnsDetectsEvolutionButNotServerExtras) {
  auto s = SampleSchema();
  auto cols = ColumnsJson(s, {});
  auto server = cols;
  for (auto& c : server) c["comment"] = "added by the server";
  std::reverse(server.begin(), server.end());  // listed in another order
  EXPECT_TRUE(SameColumns(server, cols));
  auto evolved = s;
  evolved.fields.push_back({"new_col", delta::DataType::Primitive("string"), true});
  EXPECT_FALSE(SameColumns(cols, ColumnsJson(evolved, {})));
  auto retyped = s;
  retyped.fields[1].type = delta::DataType::Primitive("long");
  EXPECT_FALSE(SameColumns(cols, ColumnsJson(retyped, {})));
  EXPECT_FALSE(SameColumns(cols, ColumnsJson(s, {"id"})));  // partitioning differs
}

TEST(UcConfigTest, ValidationNamesTheKeyForUnityCatalogRules) {
  std::string head =
      "raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\nuse_unity_catalog: true\n";
  auto r = config::LoadConfigText(head + "default_catalog: " + std::string(256, 'c') +
                                      "\ntables:\n  - table_name: t\n    database_name: s\n"
                                      "    source_path_pattern: /r/*\n",
                                  "config.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("default_catalog: has 256 characters"));
  r = config::LoadConfigText(head + "default_catalog: c\ntables:\n  - table_name: " +
                                 std::string(256, 't') +
                                 "\n    database_name: s\n    source_path_pattern: /r/*\n",
                             "config.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("tables[0].table_name"));
  EXPECT_THAT(r.status().message(), HasSubstr("Unity Catalog allows at most 255"));
  // Case-insensitive: two tables differing only in case are one Unity Catalog table.
  r = config::LoadConfigText(head + "default_catalog: c\ntables:\n"
                                    "  - {table_name: T, database_name: s, source_path_pattern: /r/a}\n"
                                    "  - {table_name: t, database_name: S, source_path_pattern: /r/b}\n",
                             "config.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("c.s.t is already defined by tables[0]"));
  r = config::LoadConfigText(head + "unity_catalog_token_env: dapi-secret-value\n"
                                    "default_catalog: c\ntables:\n"
                                    "  - {table_name: t, database_name: s, source_path_pattern: /r/a}\n",
                             "config.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("unity_catalog_token_env"));
  EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("secret-value")));
}

TEST(UcTokenTest, FromTheNamedVariableWithDatabricksFallbackForTheDefault) {
  config::LoaderConfig cfg;
  cfg.databricks_token_env = "DL_TEST_DBX_TOKEN";
  ::unsetenv("UC_TOKEN");
  ::setenv("DL_TEST_DBX_TOKEN", "dbx-token", 1);
  EXPECT_EQ(UcToken(cfg), "dbx-token");  // UC_TOKEN unset: the Databricks token
  ::setenv("UC_TOKEN", "uc-token", 1);
  EXPECT_EQ(UcToken(cfg), "uc-token");
  cfg.unity_catalog_token_env = "DL_TEST_OTHER_UNSET";
  EXPECT_EQ(UcToken(cfg), "");  // a variable named explicitly: no fallback
  ::unsetenv("UC_TOKEN");
  ::unsetenv("DL_TEST_DBX_TOKEN");
  EXPECT_FALSE(RegistrationEnabled(cfg));
  cfg.use_unity_catalog = true;
  cfg.unity_catalog_url = "http://127.0.0.1:8080";
  EXPECT_TRUE(RegistrationEnabled(cfg));
}

}  // namespace
}  // namespace dl::catalog
