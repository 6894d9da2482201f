// The config's engine on object stores: its locations become the engine's allowed URI
// prefixes, and a table's own storage options win over the global ones below its location.
#include "dl/loader/locked_engine.hpp"

#include <gtest/gtest.h>

#include "dl/common/testing/test_servers.hpp"

namespace dl::loader {
namespace {

using dl::testing::VersitygwServer;

config::LoaderConfig ObjectStoreConfig(const std::string& endpoint) {
  config::LoaderConfig cfg;
  cfg.processed_data_path = "s3://lake/processed";
  cfg.checkpoint_path = "s3://lake/state";
  config::TableConfig t;
  t.table_name = "t";
  t.database_name = "db";
  t.source_path_pattern = "s3://raw/in/*.csv";
  cfg.tables.push_back(t);
  StorageOptions base = {{"aws_access_key_id", VersitygwServer::kAccessKey},
                         {"aws_endpoint_url", endpoint},
                         {"aws_region", "us-east-1"}};
  cfg.storage.global = base;
  cfg.storage.global["aws_secret_access_key"] = "not-the-secret";
  StorageOptions right = base;
  right["aws_secret_access_key"] = VersitygwServer::kSecretKey;
  cfg.storage.scopes.push_back({"s3://raw/in", right});
  // A table root below processed_data_path, as the config's per-table options are scoped.
  cfg.storage.scopes.push_back({"s3://lake/processed/db/t", right});
  return cfg;
}

TEST(LockedEngine, ObjectStoreLocationsAreAllowedWithTheirScopedOptions) {
  auto cfg = ObjectStoreConfig("http://127.0.0.1:1");
  engine::EngineOptions options = LockedEngineOptions(cfg);
  ASSERT_TRUE(options.allowed_directories);
  const auto& dirs = *options.allowed_directories;
  for (const char* want : {"s3://lake/processed", "s3://lake/state", "s3://raw/in/"}) {
    EXPECT_NE(std::find(dirs.begin(), dirs.end(), want), dirs.end()) << want;
  }
  EXPECT_EQ(options.object_store_locations,
            (std::vector<std::string>{"s3://raw/in", "s3://lake/processed/db/t"}));
  EXPECT_EQ(options.storage.scopes.size(), 2u);
}

TEST(LockedEngine, ATablesOwnCredentialsWinBelowItsLocation) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  dl::testing::WriteFile(server->LocalPath("raw", "in/a.csv"), "id\n1\n2\n");
  dl::testing::WriteFile(server->LocalPath("lake", "processed/x.csv"), "id\n1\n");
  dl::testing::WriteFile(server->LocalPath("lake", "processed/db/t/y.csv"), "id\n1\n2\n3\n");
  auto engine = MakeLockedEngine(ObjectStoreConfig(server->endpoint()));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto rows = (*engine)->Query("SELECT count(*) FROM read_csv('s3://raw/in/a.csv')");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows.at(0).at(0), "2");
  auto table = (*engine)->Query("SELECT count(*) FROM read_csv('s3://lake/processed/db/t/y.csv')");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->rows.at(0).at(0), "3");
  // The processed location has only the global (wrong) secret: the store refuses it.
  auto refused = (*engine)->Query("SELECT count(*) FROM read_csv('s3://lake/processed/x.csv')");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("403"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(refused.status().message().find("not-the-secret"), std::string::npos);
}

}  // namespace
}  // namespace dl::loader
