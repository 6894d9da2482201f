// LocationIdentity: the spellings of one object-store location share a key; keys stay exact.
#include "dl/storage/location_identity.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

namespace dl {
namespace {

constexpr char kKey[] = "ZW52a2V5";  // any base64 key: nothing is sent

// The Azure account az://c means may come from the environment: none for these tests.
class LocationIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_CONNECTION_STRING",
          "AZURE_STORAGE_USE_EMULATOR", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN"}) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) ::setenv(name, value->c_str(), 1);
    }
  }
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST_F(LocationIdentityTest, S3aIsS3) {
  LocationIdentity ids;
  EXPECT_EQ(ids.Key("s3a://bkt3/land/f0.csv"), "s3://bkt3/land/f0.csv");
  EXPECT_EQ(ids.Key("S3A://bkt3/land/f0.csv"), "s3://bkt3/land/f0.csv");
  EXPECT_TRUE(ids.Same("s3a://bkt3/land/f0.csv", "s3://bkt3/land/f0.csv"));
  EXPECT_TRUE(ids.SameOrInside("s3a://bkt7/ckpt/metrics/run-1.json", "s3://bkt7/ckpt"));
  EXPECT_TRUE(ids.SameOrInside("s3://bkt7/ckpt", "s3a://bkt7"));
  EXPECT_FALSE(ids.SameOrInside("s3a://bkt7/ckpt2/x", "s3://bkt7/ckpt"));
}

TEST_F(LocationIdentityTest, KeysAndBucketsStayExact) {
  LocationIdentity ids;
  // Object keys are case-sensitive, and "//" or "." segments name other objects.
  EXPECT_FALSE(ids.Same("s3://b/Raw/x.csv", "s3://b/raw/x.csv"));
  EXPECT_FALSE(ids.Same("s3://b/raw//x.csv", "s3a://b/raw/x.csv"));
  EXPECT_FALSE(ids.Same("s3://b/raw/./x.csv", "s3://b/raw/x.csv"));
  EXPECT_EQ(ids.Key("s3a://b/raw//x.csv"), "s3://b/raw//x.csv");
  EXPECT_FALSE(ids.Same("s3://b1/x", "s3://b2/x"));
  EXPECT_FALSE(ids.Same("s3://b/x", "az://b/x"));  // another store
  EXPECT_FALSE(ids.SameOrInside("s3://b/proc/DB/t/x.parquet", "s3a://b/proc/db/t"));
  // Local paths and other schemes are keys as they are.
  EXPECT_EQ(ids.Key("/data/raw/x.csv"), "/data/raw/x.csv");
  EXPECT_EQ(ids.Key("raw/x.csv"), "raw/x.csv");
  EXPECT_EQ(ids.Key("gs://b/x"), "gs://b/x");
}

// With no account known the short forms are one place per container.
TEST_F(LocationIdentityTest, AzureAliasesAreAzOfTheirContainer) {
  LocationIdentity ids;
  EXPECT_EQ(ids.Key("azure://bkt3/land/f0.csv"), "az://bkt3/land/f0.csv");
  EXPECT_EQ(ids.Key("abfss://bkt3/land/f0.csv"), "az://bkt3/land/f0.csv");
  EXPECT_EQ(ids.Key("abfs://bkt3/land/f0.csv"), "az://bkt3/land/f0.csv");
  EXPECT_TRUE(ids.SameOrInside("azure://bkt7/ckpt/metrics/x.json", "az://bkt7/ckpt"));
}

// abfss://c@account... is az://c only when az://c means that account under the location's
// options; with no account configured (or another one) it stays a place of its own.
TEST_F(LocationIdentityTest, AnAbfssAccountIsAzOnlyWhenItIsTheConfiguredOne) {
  const std::string abfss = "abfss://bkt3@devstoreaccount1.dfs.core.windows.net/land/f0.csv";
  StorageConfig configured;
  configured.global = {{"azure_storage_account_name", "devstoreaccount1"},
                       {"azure_storage_account_key", kKey}};
  LocationIdentity ids(configured);
  EXPECT_EQ(ids.Key("az://bkt3/land/f0.csv"), abfss);
  EXPECT_EQ(ids.Key("azure://bkt3/land/f0.csv"), abfss);
  EXPECT_EQ(ids.Key(abfss), abfss);
  EXPECT_TRUE(ids.Same(abfss, "az://bkt3/land/f0.csv"));
  EXPECT_TRUE(ids.Same("abfs://bkt3@devstoreaccount1.blob.core.windows.net/land/f0.csv",
                       "azure://bkt3/land/f0.csv"));
  EXPECT_TRUE(ids.SameOrInside("azure://bkt3/land/f0.csv",
                               "abfss://bkt3@devstoreaccount1.dfs.core.windows.net/land"));
  EXPECT_FALSE(
      ids.Same("abfss://bkt3@other.dfs.core.windows.net/land/f0.csv", "az://bkt3/land/f0.csv"));

  StorageConfig other = configured;
  other.global["azure_storage_account_name"] = "someoneelse";
  EXPECT_FALSE(LocationIdentity(other).Same(abfss, "az://bkt3/land/f0.csv"));
  EXPECT_EQ(LocationIdentity(other).Key(abfss), abfss);

  // Nothing names an account for az://: the URI's account is the only one known.
  LocationIdentity none;
  EXPECT_EQ(none.Key(abfss), abfss);
  EXPECT_EQ(none.Key("abfs://bkt3@devstoreaccount1.blob.core.windows.net/land/f0.csv"), abfss);
  EXPECT_FALSE(none.Same(abfss, "az://bkt3/land/f0.csv"));

  // The emulator's well-known account counts as configured.
  StorageConfig emulator;
  emulator.global = {{"azure_storage_use_emulator", "true"}};
  EXPECT_TRUE(LocationIdentity(emulator).Same(abfss, "az://bkt3/land/f0.csv"));
}

// A table's own options decide for the locations they are scoped to: the same container name
// under two accounts is two places.
TEST_F(LocationIdentityTest, ScopedOptionsDecideForTheirLocations) {
  StorageConfig storage;
  storage.global = {{"azure_storage_account_name", "main"}, {"azure_storage_account_key", kKey}};
  storage.scopes.push_back({"az://c/exports", {{"azure_storage_account_name", "partner"}}});
  LocationIdentity ids(storage);
  EXPECT_EQ(ids.Key("az://c/exports/x.csv"),
            "abfss://c@partner.dfs.core.windows.net/exports/x.csv");
  EXPECT_EQ(ids.Key("az://c/other/x.csv"), "abfss://c@main.dfs.core.windows.net/other/x.csv");
  EXPECT_FALSE(
      ids.Same("az://c/exports/x.csv", "abfss://c@main.dfs.core.windows.net/exports/x.csv"));
}

}  // namespace
}  // namespace dl
