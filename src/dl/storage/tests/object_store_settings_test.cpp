// Where S3 settings come from: storage options, then AWS_* variables, then the profile files.
#include "dl/storage/object_store_settings.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <optional>

#include "dl/common/testing/temp_dir.hpp"

namespace dl {
namespace {

// Sets AWS variables for one test (and clears the others), restoring them after.
class AwsEnv {
 public:
  explicit AwsEnv(const std::map<std::string, std::string>& vars) {
    for (const char* name :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
          "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
          "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_ALLOW_HTTP", "HOME"}) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      ::unsetenv(name);
    }
    ::setenv("HOME", home_.path().c_str(), 1);  // no real ~/.aws leaks into a test
    for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~AwsEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
  }

 private:
  testing::TempDir home_;
  std::map<std::string, std::optional<std::string>> saved_;
};

class S3SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(dir_ / "credentials",
                       "[default]\naws_access_key_id = default-key\n"
                       "aws_secret_access_key = default-secret\n\n"
                       "[team]\naws_access_key_id=team-key\naws_secret_access_key=team-secret\n"
                       "aws_session_token = team-token\n");
    testing::WriteFile(dir_ / "config",
                       "[default]\nregion = eu-west-1\n"
                       "[profile team]\nregion = ap-south-1\n"
                       "endpoint_url = http://127.0.0.1:9000\n"
                       "s3 =\n  addressing_style = path\n");
  }
  std::map<std::string, std::string> Files() const {
    return {{"AWS_SHARED_CREDENTIALS_FILE", dir_ / "credentials"},
            {"AWS_CONFIG_FILE", dir_ / "config"}};
  }
  testing::TempDir dir_;
};

TEST_F(S3SettingsTest, ProfileFilesWhenNothingElseIsSet) {
  auto vars = Files();
  vars["AWS_PROFILE"] = "team";
  AwsEnv env(vars);
  auto s = ResolveS3Settings({});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->access_key_id, "team-key");
  EXPECT_EQ(s->secret_access_key, "team-secret");
  EXPECT_EQ(s->session_token, "team-token");
  EXPECT_EQ(s->region, "ap-south-1");
  EXPECT_EQ(s->endpoint_url, "http://127.0.0.1:9000");
  EXPECT_TRUE(s->allow_http);  // the endpoint says http://
  EXPECT_FALSE(s->single_writer);
}

TEST_F(S3SettingsTest, DefaultProfileAndTheAwsProfileOption) {
  AwsEnv env(Files());
  auto s = ResolveS3Settings({});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->access_key_id, "default-key");
  EXPECT_EQ(s->region, "eu-west-1");
  EXPECT_TRUE(s->session_token.empty());
  auto team = ResolveS3Settings({{"aws_profile", "team"}});
  ASSERT_TRUE(team.ok());
  EXPECT_EQ(team->access_key_id, "team-key");
}

TEST_F(S3SettingsTest, EnvironmentBeatsProfileAndOptionsBeatEnvironment) {
  auto vars = Files();
  vars["AWS_ACCESS_KEY_ID"] = "env-key";
  vars["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  vars["AWS_REGION"] = "us-west-2";
  AwsEnv env(vars);
  auto s = ResolveS3Settings({});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->access_key_id, "env-key");
  EXPECT_EQ(s->secret_access_key, "env-secret");
  EXPECT_TRUE(s->session_token.empty());  // never the profile's token with the env's key
  EXPECT_EQ(s->region, "us-west-2");
  auto o = ResolveS3Settings({{"aws_access_key_id", "opt-key"},
                              {"aws_secret_access_key", "opt-secret"},
                              {"aws_region", "sa-east-1"},
                              {"aws_endpoint_url", "https://s3.example.com"}});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->access_key_id, "opt-key");
  EXPECT_EQ(o->secret_access_key, "opt-secret");
  EXPECT_EQ(o->region, "sa-east-1");
  EXPECT_EQ(o->endpoint_url, "https://s3.example.com");
  EXPECT_FALSE(o->allow_http);
}

TEST_F(S3SettingsTest, EveryAcceptedEndpointAndRegionOptionTakesEffect) {
  // The config accepts these keys: ignoring one would send the requests to AWS itself.
  auto vars = Files();
  vars["AWS_ENDPOINT_URL"] = "https://env.example.com";
  vars["AWS_REGION"] = "us-west-2";
  AwsEnv env(vars);
  for (const char* key : {"aws_endpoint_url_s3", "aws_s3_endpoint"}) {
    auto s = ResolveS3Settings({{key, "http://127.0.0.1:9000"}});
    ASSERT_TRUE(s.ok()) << key;
    EXPECT_EQ(s->endpoint_url, "http://127.0.0.1:9000") << key;
    EXPECT_TRUE(s->allow_http) << key;
  }
  auto r = ResolveS3Settings({{"aws_default_region", "eu-north-1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->region, "eu-north-1");
  EXPECT_EQ(r->endpoint_url, "https://env.example.com");  // no option: the environment's
  auto both = ResolveS3Settings({{"aws_region", "sa-east-1"}, {"aws_default_region", "x"}});
  EXPECT_EQ(both->region, "sa-east-1");
}

TEST_F(S3SettingsTest, SingleWriterOptInAndAllowHttp) {
  AwsEnv env(Files());
  EXPECT_TRUE(ResolveS3Settings({{"aws_conditional_put", "disabled"}})->single_writer);
  EXPECT_TRUE(ResolveS3Settings({{"aws_s3_allow_unsafe_rename", "true"}})->single_writer);
  EXPECT_FALSE(ResolveS3Settings({{"aws_conditional_put", "etag"}})->single_writer);
  EXPECT_TRUE(ResolveS3Settings({{"aws_allow_http", "true"}})->allow_http);
}

TEST_F(S3SettingsTest, NoCredentialsAnywhereNamesTheOptions) {
  AwsEnv env({});
  auto s = ResolveS3Settings({});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("aws_access_key_id"), std::string::npos);
}

}  // namespace
}  // namespace dl
