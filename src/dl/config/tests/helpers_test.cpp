#include <gtest/gtest.h>

#include "dl/config/config_internal.hpp"
#include "dl/config/loader_config.hpp"

namespace dl::config {
namespace {

TEST(HelpersTest, EditDistance) {
  EXPECT_EQ(internal::EditDistance("table_name", "table_name"), 0u);
  EXPECT_EQ(internal::EditDistance("tabel_name", "table_name"), 2u);
  EXPECT_EQ(internal::EditDistance("", "abc"), 3u);
  EXPECT_EQ(internal::EditDistance("kitten", "sitting"), 3u);
}

TEST(HelpersTest, ParseByteSize) {
  using internal::ParseByteSize;
  EXPECT_EQ(*ParseByteSize("1000"), 1000);
  EXPECT_EQ(*ParseByteSize("64k"), 65536);
  EXPECT_EQ(*ParseByteSize("512MB"), int64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("1 GiB"), kGiB);
  EXPECT_EQ(*ParseByteSize("1.5g"), kGiB + kGiB / 2);
  EXPECT_EQ(*ParseByteSize("2TB"), int64_t{2} << 40);
  EXPECT_FALSE(ParseByteSize("").has_value());
  EXPECT_FALSE(ParseByteSize("GB").has_value());
  EXPECT_FALSE(ParseByteSize("1..2").has_value());
  EXPECT_FALSE(ParseByteSize("-5").has_value());
  EXPECT_FALSE(ParseByteSize("5 parsecs").has_value());
  EXPECT_FALSE(ParseByteSize("99999999999TB").has_value());
}

TEST(HelpersTest, EnumNames) {
  EXPECT_EQ(ToString(LoadingStrategy::kScd2), "scd2");
  EXPECT_EQ(ToString(FileFormat::kDelta), "delta");
  EXPECT_EQ(ToString(LogLevel::kWarning), "WARNING");
  EXPECT_EQ(ToString(SchemaEvolutionMode::kFailOnNewColumns), "fail_on_new_columns");
  EXPECT_EQ(ToString(JsonFormat::kArray), "array");
  EXPECT_EQ(ToString(WhenNotMatchedBySource::kDelete), "delete");
  EXPECT_EQ(ToString(OverwriteMode::kDynamic), "dynamic");
  EXPECT_EQ(ToString(OnBadRows::kQuarantine), "quarantine");
}

TEST(HelpersTest, EveryTableKeyIsAccepted) {
  // Keys listed for the "belongs elsewhere" hint must be real keys (no unknown-key error).
  for (std::string_view key : internal::kTableOnlyKeys) {
    if (key == "table_name" || key == "database_name" || key == "source_path_pattern") continue;
    auto r = LoadConfigText(fmt::format("raw_data_path: /r\nprocessed_data_path: /p\n"
                                        "checkpoint_path: /c\ntables:\n  - table_name: t\n"
                                        "    database_name: d\n    source_path_pattern: /r\n"
                                        "    {}: ~\n",
                                        key),
                            "c.yaml");
    EXPECT_TRUE(r.ok()) << key << ": " << r.status().message();
  }
  for (std::string_view key : internal::kRootOnlyKeys) {
    if (key == "tables" || key.find("_path") != std::string_view::npos) continue;
    auto r = LoadConfigText(fmt::format("raw_data_path: /r\nprocessed_data_path: /p\n"
                                        "checkpoint_path: /c\n{}: ~\ntables:\n"
                                        "  - {{table_name: t, database_name: d, "
                                        "source_path_pattern: /r}}\n",
                                        key),
                            "c.yaml");
    EXPECT_TRUE(r.ok()) << key << ": " << r.status().message();
  }
}

LoaderConfig TwoTables() {
  LoaderConfig cfg;
  cfg.processed_data_path = "/p/";
  cfg.checkpoint_path = "/c";
  TableConfig a;
  a.table_name = "customers";
  a.database_name = "analytics";
  TableConfig b = a;
  b.database_name = "staging";
  TableConfig c = a;
  c.table_name = "orders";
  cfg.tables = {a, b, c};
  return cfg;
}

TEST(HelpersTest, Paths) {
  LoaderConfig cfg = TwoTables();
  EXPECT_EQ(TablePath(cfg, cfg.tables[0]), "/p/analytics/customers");
  EXPECT_EQ(TrackerPath(cfg), "/p/metadata/file_processing_tracker");
  EXPECT_EQ(StateDir(cfg), "/c");
  EXPECT_EQ(TableStateDir(cfg, cfg.tables[0]), "/c/tables/analytics/customers");
  EXPECT_EQ(MetricsDir(cfg), "/c/metrics");
  EXPECT_EQ(DisplayName(cfg, cfg.tables[0]), "analytics.customers");
  cfg.tables[0].database_name = "main.analytics";
  EXPECT_EQ(TablePath(cfg, cfg.tables[0]), "/p/main/analytics/customers");
  EXPECT_EQ(DisplayName(cfg, cfg.tables[0]), "main.analytics.customers");
  cfg.use_unity_catalog = true;
  cfg.default_catalog = "prod";
  EXPECT_EQ(TablePath(cfg, cfg.tables[1]), "/p/prod/staging/customers");
  EXPECT_EQ(TrackerPath(cfg), "/p/prod/metadata/file_processing_tracker");
  EXPECT_EQ(DisplayName(cfg, cfg.tables[1]), "prod.staging.customers");
}

TEST(HelpersTest, SelectTables) {
  LoaderConfig cfg = TwoTables();
  auto all = SelectTables(cfg, {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto some = SelectTables(cfg, {"orders", "staging.customers"});
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ((*some)[0], &cfg.tables[1]);  // config order
  EXPECT_EQ((*some)[1], &cfg.tables[2]);
  auto ambiguous = SelectTables(cfg, {"customers"});
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kConfig);
  EXPECT_NE(ambiguous.status().message().find("ambiguous"), std::string::npos);
  auto unknown = SelectTables(cfg, {"nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no table named 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace dl::config
