#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "dl/config/config_internal.hpp"
#include "dl/config/loader_config.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"

namespace dl::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "FAKE-SECRET-d41d8cd98f00b204";

class StorageOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("DL_TEST_S3_SECRET", kSecret, 1); }
  void TearDown() override { unsetenv("DL_TEST_S3_SECRET"); }

  static Result<LoaderConfig> Load(const std::string& global, const std::string& table) {
    return LoadConfigText("raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\n" +
                              global +
                              "tables:\n"
                              "  - table_name: t\n"
                              "    database_name: d\n"
                              "    source_path_pattern: /in/t/**/*.csv\n"
                              "    file_format: csv\n" +
                              table,
                          "config.yaml");
  }
};

TEST_F(StorageOptionsTest, GlobalAndTableOptionsAreScopedToTheTablesLocations) {
  auto cfg = Load(
      "storage_options:\n"
      "  AWS_REGION: eu-west-1\n"
      "  aws_endpoint: http://127.0.0.1:9000\n"
      "  aws_secret_access_key: ${DL_TEST_S3_SECRET}\n",
      "    storage_options:\n"
      "      aws_region: us-east-2\n"
      "      azure_storage_access_key: k3y-of-the-table\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  // Keys are case-insensitive and aliases become the spelling the backends read.
  EXPECT_EQ(cfg->storage.global, (StorageOptions{{"aws_endpoint_url", "http://127.0.0.1:9000"},
                                                 {"aws_region", "eu-west-1"},
                                                 {"aws_secret_access_key", kSecret}}));
  ASSERT_EQ(cfg->storage.scopes.size(), 2u);
  EXPECT_EQ(cfg->storage.scopes[0].prefix, "/p/d/t");
  EXPECT_EQ(cfg->storage.scopes[1].prefix, "/in/t");
  const StorageOptions table_options = {{"aws_region", "us-east-2"},
                                        {"azure_storage_account_key", "k3y-of-the-table"}};
  EXPECT_EQ(cfg->storage.scopes[0].options, table_options);
  // A source file and a table file get the table's options over the global ones; the tracker
  // and other places only the global ones.
  for (const char* path : {"/in/t/2026/a.csv", "/p/d/t/_delta_log/00.json"}) {
    StorageOptions o = cfg->storage.For(path);
    EXPECT_EQ(o["aws_region"], "us-east-2") << path;
    EXPECT_EQ(o["aws_secret_access_key"], kSecret) << path;
    EXPECT_EQ(o["azure_storage_account_key"], "k3y-of-the-table") << path;
  }
  StorageOptions tracker = cfg->storage.For(TrackerPath(*cfg));
  EXPECT_EQ(tracker["aws_region"], "eu-west-1");
  EXPECT_EQ(tracker.count("azure_storage_account_key"), 0u);
}

TEST_F(StorageOptionsTest, UnknownKeyIsAnErrorNamingPathAndLineWithASuggestion) {
  auto cfg = Load("", "    storage_options:\n      aws_regoin: us-east-2\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), StatusCode::kConfig);
  EXPECT_THAT(cfg.status().message(),
              HasSubstr("config.yaml:10: tables[0].storage_options.aws_regoin: unknown storage "
                        "option 'aws_regoin' (did you mean 'aws_region'?)"));

  auto global = Load("storage_options:\n  totally_unrelated_thing: x\n", "");
  ASSERT_FALSE(global.ok());
  EXPECT_THAT(global.status().message(),
              HasSubstr("config.yaml:5: storage_options.totally_unrelated_thing: unknown storage "
                        "option 'totally_unrelated_thing'"));
  EXPECT_THAT(global.status().message(), Not(HasSubstr("did you mean")));
}

TEST_F(StorageOptionsTest, TheSingleWriterOptInAndTheAliasesAreKnown) {
  auto cfg = Load(
      "storage_options:\n"
      "  aws_conditional_put: disabled\n"
      "  aws_s3_allow_unsafe_rename: true\n"
      "  azure_storage_sas_token: sv=2020&sig=abc\n"
      "  azure_storage_account_name: devstoreaccount1\n",
      "");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->storage.global.at("aws_conditional_put"), "disabled");
  EXPECT_EQ(cfg->storage.global.at("aws_s3_allow_unsafe_rename"), "true");
  EXPECT_EQ(internal::CanonicalStorageOption("azure_storage_sas_key"), "azure_storage_sas_token");
  EXPECT_EQ(internal::CanonicalStorageOption("Azure_Storage_Account_Key"),
            "azure_storage_account_key");
  EXPECT_EQ(internal::CanonicalStorageOption("aws_endpoint"), "aws_endpoint_url");
  EXPECT_EQ(internal::CanonicalStorageOption("aws_secret"), std::nullopt);
  EXPECT_EQ(internal::CanonicalStorageOption("google_service_account_path"),
            "google_service_account");
}

// A delta-rs option no backend reads would be ignored silently (server-side encryption not
// applied, a proxy not used): refused, naming the key.
TEST_F(StorageOptionsTest, KnownOptionsNoBackendReadsAreRefused) {
  for (const char* line : {"  aws_server_side_encryption: aws:kms\n", "  proxy_url: http://p:1\n",
                           "  google_service_account_path: /keys/sa.json\n",
                           "  aws_role_arn: arn:aws:iam::1:role/x\n"}) {
    auto cfg = Load(std::string("storage_options:\n") + line, "");
    ASSERT_FALSE(cfg.ok()) << line;
    EXPECT_THAT(cfg.status().message(), HasSubstr("does not support yet")) << line;
  }
}

TEST_F(StorageOptionsTest, TwoSpellingsOfOneOptionAndNonStringValuesAreErrors) {
  auto twice =
      Load("storage_options:\n  aws_endpoint: http://a\n  aws_endpoint_url: http://b\n", "");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(),
              HasSubstr("storage_options.aws_endpoint_url: 'aws_endpoint' and 'aws_endpoint_url' "
                        "set the same option (aws_endpoint_url)"));
  auto nested = Load("storage_options:\n  aws_region: [a, b]\n", "");
  ASSERT_FALSE(nested.ok());
  EXPECT_THAT(nested.status().message(), HasSubstr("storage_options.aws_region: expected"));
  auto not_map = Load("storage_options: aws_region=x\n", "");
  ASSERT_FALSE(not_map.ok());
  EXPECT_THAT(not_map.status().message(), HasSubstr("storage_options: expected a mapping"));
}

TEST_F(StorageOptionsTest, SecretValuesAreMaskedInPrintedConfigAndText) {
  auto cfg = Load(
      "storage_options:\n"
      "  aws_region: eu-west-3\n"
      "  aws_access_key_id: AKIAFAKEACCESSKEY0001\n"
      "  aws_secret_access_key: ${DL_TEST_S3_SECRET}\n"
      "  aws_allow_http: true\n",
      "    storage_options:\n      azure_storage_account_key: written-in-the-config-k3y\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const std::string json = ToRedactedJson(*cfg);
  for (const char* secret : {kSecret, "AKIAFAKEACCESSKEY0001", "written-in-the-config-k3y"}) {
    EXPECT_THAT(json, Not(HasSubstr(secret)));
    EXPECT_EQ(RedactEnvValues(*cfg, fmt::format("error: 403 for key {} here", secret)),
              "error: 403 for key *** here");
  }
  EXPECT_THAT(json, HasSubstr("\"aws_access_key_id\": \"***\""));
  EXPECT_THAT(json, HasSubstr("\"azure_storage_account_key\": \"***\""));
  // Regions, endpoints and account names are not secrets: errors may name them.
  EXPECT_THAT(json, HasSubstr("\"aws_region\": \"eu-west-3\""));
  EXPECT_EQ(RedactEnvValues(*cfg, "region eu-west-3"), "region eu-west-3");
  // Plain settings are not secrets: masking every "true" would garble the output.
  EXPECT_EQ(RedactEnvValues(*cfg, "header: true"), "header: true");
}

// Clears the credentials a cloud's environment could give, for one test.
class NoCloudCredentials {
 public:
  NoCloudCredentials() {
    for (const char* v :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
          "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY",
          "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_SAS_KEY", "AZURE_STORAGE_CONNECTION_STRING",
          "AZURE_STORAGE_USE_EMULATOR"}) {
      if (const char* old = std::getenv(v)) saved_.emplace_back(v, old);
      unsetenv(v);
    }
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
  }
  ~NoCloudCredentials() {
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_CONFIG_FILE");
    for (const auto& [k, v] : saved_) setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

// A ".." above the bucket, written or from a relative pattern below raw_data_path, is a config
// error naming the key: folded, it would load from (or write to) another place than written.
TEST_F(StorageOptionsTest, ALocationClimbingAboveItsBucketIsRefused) {
  auto cfg = LoadConfigText(
      "raw_data_path: s3://bucket/raw\nprocessed_data_path: s3://bucket/../other\n"
      "checkpoint_path: /c\nstorage_options:\n  aws_access_key_id: k\n"
      "  aws_secret_access_key: s\n  aws_region: us-east-1\ntables:\n"
      "  - table_name: t\n    database_name: d\n"
      "    source_path_pattern: ../../x/*.csv\n    file_format: csv\n",
      "config.yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), StatusCode::kConfig);
  EXPECT_THAT(cfg.status().message(),
              HasSubstr("processed_data_path: s3://bucket/../other: its '..' segments climb"));
  EXPECT_THAT(cfg.status().message(),
              HasSubstr("tables[0].source_path_pattern: s3://bucket/raw/../../x/*.csv: its '..'"));
}

TEST_F(StorageOptionsTest, AnObjectStoreWithoutUsableCredentialsFailsValidation) {
  int served = 0;
  for (const char* base :
       {"s3://bucket", "az://container", "abfss://c@acct.dfs.core.windows.net"}) {
    const std::string scheme = UriScheme(base);
    if (FindBackend(scheme) == nullptr) continue;  // refused as unsupported: paths_test
    ++served;
    NoCloudCredentials no_credentials;
    auto cfg = LoadConfigText(
        fmt::format("raw_data_path: {}/raw\nprocessed_data_path: /p\ncheckpoint_path: /c\n"
                    "tables:\n  - table_name: t\n    database_name: d\n"
                    "    source_path_pattern: t/*.csv\n    file_format: csv\n",
                    base),
        "config.yaml");
    ASSERT_FALSE(cfg.ok()) << base;
    EXPECT_EQ(cfg.status().code(), StatusCode::kConfig);
    const std::string what = scheme + ":// storage cannot be used";
    EXPECT_THAT(cfg.status().message(), HasSubstr("config.yaml:1: raw_data_path: " + what));
    EXPECT_THAT(cfg.status().message(), HasSubstr("tables[0].source_path_pattern: " + what));
  }
  if (served == 0) GTEST_SKIP() << "no object-store backend in this build";
}

TEST_F(StorageOptionsTest, AnObjectStoreWithCredentialsInTheTablesOptionsValidates) {
  if (FindBackend("az") == nullptr) GTEST_SKIP() << "no Azure backend in this build";
  NoCloudCredentials no_credentials;
  // The table's own options reach its source; the global locations stay local.
  constexpr char kKey[] = "RkFLRS1BWlVSRS1LRVktZm9yLXRlc3Rz";  // base64, as account keys are
  auto in_azure = LoadConfigText(
      "raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\ntables:\n"
      "  - table_name: t\n    database_name: d\n"
      "    source_path_pattern: az://container/raw/t/*.csv\n    file_format: csv\n"
      "    storage_options:\n      azure_storage_account_name: devstoreaccount1\n"
      "      azure_storage_access_key: RkFLRS1BWlVSRS1LRVktZm9yLXRlc3Rz\n",
      "config.yaml");
  ASSERT_TRUE(in_azure.ok()) << in_azure.status().ToString();
  EXPECT_EQ(in_azure->storage.For("az://container/raw/t/a.csv").at("azure_storage_account_key"),
            kKey);
  // Without them, the same source is refused naming the key.
  auto without = LoadConfigText(
      "raw_data_path: /r\nprocessed_data_path: /p\ncheckpoint_path: /c\ntables:\n"
      "  - table_name: t\n    database_name: d\n"
      "    source_path_pattern: az://container/raw/t/*.csv\n    file_format: csv\n",
      "config.yaml");
  ASSERT_FALSE(without.ok());
  EXPECT_THAT(without.status().message(),
              HasSubstr("tables[0].source_path_pattern: az:// storage cannot be used"));
}

// Config locations on object stores, and the checks between them, go by identity: another
// scheme of the same store (s3a:// for s3://, azure:// or abfss://c@<the account> for az://)
// is the same place, while keys stay case-sensitive.
class ObjectStoreLocationsTest : public StorageOptionsTest {
 protected:
  static constexpr char kS3Options[] =
      "storage_options:\n  aws_access_key_id: k\n  aws_secret_access_key: s\n"
      "  aws_region: us-east-1\n";
  static constexpr char kAzureOptions[] =
      "storage_options:\n  azure_storage_account_name: devstoreaccount1\n"
      "  azure_storage_account_key: RkFLRS1BWlVSRS1LRVktZm9yLXRlc3Rz\n";

  static Result<LoaderConfig> Config(const std::string& raw, const std::string& processed,
                                     const std::string& checkpoint, const std::string& pattern,
                                     const char* options = kS3Options) {
    return LoadConfigText(fmt::format("raw_data_path: {}\nprocessed_data_path: {}\n"
                                      "checkpoint_path: {}\n{}tables:\n"
                                      "  - table_name: t\n    database_name: db\n"
                                      "    source_path_pattern: '{}'\n    file_format: json\n",
                                      raw, processed, checkpoint, options, pattern),
                          "config.yaml");
  }
  NoCloudCredentials no_credentials_;
};

TEST_F(ObjectStoreLocationsTest, ConfigLocationsAreNormalised) {
  auto cfg = Config("s3://bkt3//land/", "s3://bkt3//proc", "s3://bkt3/./ckpt/", "*.json");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->raw_data_path, "s3://bkt3/land");
  EXPECT_EQ(cfg->processed_data_path, "s3://bkt3/proc");
  EXPECT_EQ(cfg->checkpoint_path, "s3://bkt3/ckpt");
  EXPECT_EQ(TablePath(*cfg, cfg->tables[0]), "s3://bkt3/proc/db/t");
  EXPECT_EQ(TrackerPath(*cfg), "s3://bkt3/proc/metadata/file_processing_tracker");
  EXPECT_EQ(cfg->tables[0].source_path_pattern, "s3://bkt3/land/*.json");
}

TEST_F(ObjectStoreLocationsTest, ASourceReadingItsTargetUnderAnotherSchemeIsRefused) {
  for (const char* pattern : {"s3://bkt3/proc/db/t/*.parquet", "s3a://bkt3/proc/db/t/*.parquet",
                              "S3A://bkt3/proc/db/t/**"}) {
    auto cfg = Config("s3://bkt3/land", "s3://bkt3/proc", "s3://bkt3/ckpt", pattern);
    ASSERT_FALSE(cfg.ok()) << pattern;
    EXPECT_THAT(cfg.status().message(),
                HasSubstr("reads s3://bkt3/proc/db/t, the Delta table db.t (its own target)"));
  }
  auto azure =
      Config("az://bkt3/land", "az://bkt3/proc", "az://bkt3/ckpt",
             "abfss://bkt3@devstoreaccount1.dfs.core.windows.net/proc/db/t/*.json", kAzureOptions);
  ASSERT_FALSE(azure.ok());
  EXPECT_THAT(azure.status().message(), HasSubstr("(its own target)"));
  EXPECT_FALSE(Config("az://bkt3/land", "azure://bkt3/proc", "az://bkt3/ckpt",
                      "az://bkt3/proc/db/t/*.json", kAzureOptions)
                   .ok());
  // Another account's container of the same name is another place (refused only because
  // the options name another account for it).
  auto elsewhere =
      Config("az://bkt3/land", "az://bkt3/proc", "az://bkt3/ckpt",
             "abfss://bkt3@elsewhere.dfs.core.windows.net/proc/db/t/*.json", kAzureOptions);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_THAT(elsewhere.status().message(),
              HasSubstr("the location names Azure account 'elsewhere'"));
  EXPECT_THAT(elsewhere.status().message(), Not(HasSubstr("its own target")));
  // Keys are case-sensitive on a store: proc/DB/t is not the table's prefix proc/db/t.
  auto other_case =
      Config("s3://bkt3/land", "s3://bkt3/proc", "s3://bkt3/ckpt", "s3a://bkt3/proc/DB/t/*.json");
  EXPECT_TRUE(other_case.ok()) << other_case.status().ToString();
}

TEST_F(ObjectStoreLocationsTest, NestingIsFoundUnderEverySpelling) {
  auto cfg = Config("s3://bkt3/land", "s3a://bkt3/proc", "s3://bkt3/proc/db/t/state", "*.json");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              HasSubstr("checkpoint_path: checkpoint_path at s3://bkt3/proc/db/t/state is inside "
                        "tables[0] (db.t) at s3a://bkt3/proc/db/t"));
  auto azure =
      Config("az://c/land", "azure://c/proc",
             "abfss://c@devstoreaccount1.dfs.core.windows.net/proc", "*.json", kAzureOptions);
  ASSERT_FALSE(azure.ok());
  EXPECT_THAT(azure.status().message(), HasSubstr("is inside checkpoint_path"));
}

// raw s3a://bkt7 above checkpoint s3://bkt7/ckpt is allowed (discovery skips the checkpoint
// under any spelling), but a source inside checkpoint_path would load the loader's own state.
TEST_F(ObjectStoreLocationsTest, ASourceInsideCheckpointPathIsRefused) {
  auto above = Config("s3a://bkt7", "s3://bkt7/proc", "s3://bkt7/ckpt", "**/*.json");
  EXPECT_TRUE(above.ok()) << above.status().ToString();
  for (const char* pattern : {"s3a://bkt7/ckpt/**/*.json", "s3://bkt7/ckpt/metrics/*.json"}) {
    auto inside = Config("s3a://bkt7", "s3://bkt7/proc", "s3://bkt7/ckpt", pattern);
    ASSERT_FALSE(inside.ok()) << pattern;
    EXPECT_THAT(inside.status().message(),
                HasSubstr("reads checkpoint_path s3://bkt7/ckpt: the loader's own state and "
                          "metrics would be loaded as source files"));
  }
  EXPECT_FALSE(Config("azure://bkt7", "az://bkt7/proc", "az://bkt7/ckpt", "azure://bkt7/ckpt/**",
                      kAzureOptions)
                   .ok());
}

}  // namespace
}  // namespace dl::config
