// ResolveAzureSettings: where each Azure setting comes from, and in which order.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "dl/storage/object_store_settings.hpp"

namespace dl {
namespace {

constexpr char kEmulatorKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// Clears the Azure environment for a test and restores it after.
class AzureSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name, value->c_str(), 1);
      else
        ::unsetenv(name);
    }
  }

  static constexpr const char* kNames[] = {
      "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY",       "AZURE_STORAGE_ACCESS_KEY",
      "AZURE_STORAGE_SAS_TOKEN",    "AZURE_STORAGE_SAS_KEY",           "AZURE_STORAGE_ENDPOINT",
      "AZURE_STORAGE_USE_EMULATOR", "AZURE_STORAGE_CONNECTION_STRING", "AZURITE_BLOB_STORAGE_URL"};
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST_F(AzureSettingsTest, OptionsThenConnectionStringThenEnvironment) {
  ::setenv("AZURE_STORAGE_ACCOUNT_NAME", "envacct", 1);
  ::setenv("AZURE_STORAGE_ACCOUNT_KEY", "ZW52a2V5", 1);
  ::setenv("AZURE_STORAGE_ENDPOINT", "http://env", 1);
  ::setenv("AZURE_STORAGE_CONNECTION_STRING", "SharedAccessSignature=sv=1&sig=envcs", 1);
  auto s = ResolveAzureSettings(
      {{"azure_storage_account_name", "optacct"},
       {"azure_storage_connection_string",
        "AccountName=csacct;accountkey=Y3NrZXk=;BlobEndpoint=http://cs/acct"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->account_name, "optacct");          // option
  EXPECT_EQ(s->account_key, "Y3NrZXk=");          // option's connection string (value with '=')
  EXPECT_EQ(s->blob_endpoint, "http://cs/acct");  // connection string before the environment
  EXPECT_EQ(s->sas_token, "sv=1&sig=envcs");      // AZURE_STORAGE_CONNECTION_STRING comes last

  auto env_only = ResolveAzureSettings({});
  ASSERT_TRUE(env_only.ok()) << env_only.status().ToString();
  EXPECT_EQ(env_only->account_name, "envacct");
  EXPECT_EQ(env_only->account_key, "ZW52a2V5");
  EXPECT_EQ(env_only->blob_endpoint, "http://env");
}

TEST_F(AzureSettingsTest, DeltaRsAliases) {
  auto s = ResolveAzureSettings({{"azure_storage_account_name", "a"},
                                 {"azure_storage_access_key", "a2V5"},
                                 {"azure_storage_sas_key", "?sv=1&sig=x"},
                                 {"azure_endpoint", "https://custom"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->account_key, "a2V5");
  EXPECT_EQ(s->sas_token, "sv=1&sig=x");  // the leading '?' dropped
  EXPECT_EQ(s->blob_endpoint, "https://custom");
  EXPECT_EQ(ResolveAzureSettings(
                {{"azure_storage_account_name", "a"}, {"azure_storage_master_key", "bWs="}})
                ->account_key,
            "bWs=");
  EXPECT_EQ(ResolveAzureSettings(
                {{"azure_storage_account_name", "a"}, {"azure_storage_sas_token", "sv=2&sig=y"}})
                ->sas_token,
            "sv=2&sig=y");
}

TEST_F(AzureSettingsTest, EmulatorMeansAzuritesWellKnownAccount) {
  for (const StorageOptions& options :
       {StorageOptions{{"azure_storage_use_emulator", "true"}},
        StorageOptions{{"azure_storage_connection_string", "UseDevelopmentStorage=true"}}}) {
    auto s = ResolveAzureSettings(options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->account_name, "devstoreaccount1");
    EXPECT_EQ(s->account_key, kEmulatorKey);
    EXPECT_EQ(s->blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  }
  auto hosted = ResolveAzureSettings({{"azure_storage_use_emulator", "true"},
                                      {"azure_storage_endpoint", "http://azurite:10000/"}});
  EXPECT_EQ(hosted->blob_endpoint, "http://azurite:10000/devstoreaccount1");
  ::setenv("AZURITE_BLOB_STORAGE_URL", "http://10.0.0.5:1234", 1);
  ::setenv("AZURE_STORAGE_USE_EMULATOR", "1", 1);
  EXPECT_EQ(ResolveAzureSettings({})->blob_endpoint, "http://10.0.0.5:1234/devstoreaccount1");
}

TEST_F(AzureSettingsTest, ConnectionStringEndpoints) {
  auto http = ResolveAzureSettings({{"azure_storage_connection_string",
                                     "DefaultEndpointsProtocol=http;AccountName=acct;"
                                     "AccountKey=a2V5"}});
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->blob_endpoint, "http://acct.blob.core.windows.net");
  auto china = ResolveAzureSettings({{"azure_storage_connection_string",
                                      "AccountName=acct;AccountKey=a2V5;"
                                      "EndpointSuffix=core.chinacloudapi.cn"}});
  EXPECT_EQ(china->blob_endpoint, "https://acct.blob.core.chinacloudapi.cn");
  auto plain = ResolveAzureSettings(
      {{"azure_storage_connection_string", "AccountName=acct;AccountKey=a2V5"}});
  EXPECT_EQ(plain->blob_endpoint, "");  // Azure's own endpoint
}

TEST_F(AzureSettingsTest, MissingOrMalformedCredentialsNameTheKeysNotTheSecrets) {
  auto none = ResolveAzureSettings({{"azure_storage_account_key", "c2VjcmV0LWtleQ=="}});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("azure_storage_account_name"), std::string::npos);
  EXPECT_EQ(none.status().message().find("c2VjcmV0LWtleQ"), std::string::npos);

  auto bearer = ResolveAzureSettings(
      {{"azure_storage_account_name", "a"}, {"azure_storage_token", "eyJhbGciOi"}});
  ASSERT_FALSE(bearer.ok());
  EXPECT_NE(bearer.status().message().find("bearer tokens"), std::string::npos);
  EXPECT_EQ(bearer.status().message().find("eyJhbGciOi"), std::string::npos);

  auto malformed = ResolveAzureSettings(
      {{"azure_storage_connection_string", "AccountName=a;AccountKeyc2VjcmV0"}});
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("azure_storage_connection_string"),
            std::string::npos);
  EXPECT_EQ(malformed.status().message().find("c2VjcmV0"), std::string::npos);
}

TEST_F(AzureSettingsTest, TheAccountOfTheUriIsTheAccountAndAnotherOneIsAnError) {
  // abfss://container@acct.dfs.core.windows.net: the URI's account with the options' key.
  auto same = ResolveAzureSettings({{"azure_storage_account_key", "a2V5"}}, "acct");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->account_name, "acct");
  EXPECT_TRUE(
      ResolveAzureSettings(
          {{"azure_storage_account_name", "acct"}, {"azure_storage_account_key", "a2V5"}}, "acct")
          .ok());
  // Another account in the options: the key is that account's, never sent to the URI's.
  auto named = ResolveAzureSettings(
      {{"azure_storage_account_name", "other"}, {"azure_storage_account_key", "c2VjcmV0LWtleQ=="}},
      "acct");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.status().code(), StatusCode::kInvalidArgument);
  for (const char* part : {"'acct'", "azure_storage_account_name", "'other'"}) {
    EXPECT_NE(named.status().message().find(part), std::string::npos) << named.status().message();
  }
  EXPECT_EQ(named.status().message().find("c2VjcmV0LWtleQ"), std::string::npos);
  auto cs = ResolveAzureSettings(
      {{"azure_storage_connection_string", "AccountName=other;AccountKey=c2VjcmV0LWtleQ=="}},
      "acct");
  ASSERT_FALSE(cs.ok());
  EXPECT_NE(cs.status().message().find("azure_storage_connection_string (AccountName)"),
            std::string::npos)
      << cs.status().message();
  EXPECT_NE(cs.status().message().find("'other'"), std::string::npos);
  EXPECT_EQ(cs.status().message().find("c2VjcmV0LWtleQ"), std::string::npos);
  // A key from the environment is the environment's account's: it must be the URI's too.
  ::setenv("AZURE_STORAGE_ACCOUNT_NAME", "envacct", 1);
  ::setenv("AZURE_STORAGE_ACCOUNT_KEY", "ZW52a2V5", 1);
  auto env = ResolveAzureSettings({}, "acct");
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("AZURE_STORAGE_ACCOUNT_NAME names account 'envacct'"),
            std::string::npos)
      << env.status().message();
  // Credentials in the options go with the URI's account whatever the environment names.
  auto opt = ResolveAzureSettings({{"azure_storage_sas_token", "sv=1&sig=x"}}, "acct");
  ASSERT_TRUE(opt.ok()) << opt.status().ToString();
  EXPECT_EQ(opt->account_name, "acct");
  EXPECT_EQ(opt->sas_token, "sv=1&sig=x");
}

}  // namespace
}  // namespace dl
