// Spark Connect connection strings, SPARK_REMOTE and the Databricks Connect variables.
#include "dl/engine/spark/connection_string.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

GetEnv Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(ConnectionStringTest, HostAndDefaultPort) {
  auto r = ParseConnectionString("sc://spark.example.com");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->host, "spark.example.com");
  EXPECT_EQ(r->port, 15002);
  EXPECT_FALSE(r->use_ssl);
  EXPECT_EQ(r->Redacted(), "sc://spark.example.com:15002/");
}

TEST(ConnectionStringTest, EveryParameter) {
  auto r = ParseConnectionString(
      "sc://h:443/;token=s3cr%3Bt;user_id=etl;user_agent=loader;"
      "session_id=0f8fad5b-d9cb-469f-a165-70867728950e;x-databricks-cluster-id=0123-abc");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->port, 443);
  EXPECT_EQ(r->token, "s3cr;t");  // percent-decoded
  EXPECT_TRUE(r->use_ssl);        // a token implies TLS
  EXPECT_EQ(r->user_id, "etl");
  EXPECT_EQ(r->user_agent, "loader");
  EXPECT_EQ(r->session_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_EQ(r->headers.at("x-databricks-cluster-id"), "0123-abc");
}

TEST(ConnectionStringTest, RedactedNeverShowsTheToken) {
  auto r = ParseConnectionString("sc://h/;token=topsecret;x-databricks-cluster-id=c1");
  ASSERT_TRUE(r.ok());
  std::string shown = r->Redacted();
  EXPECT_THAT(shown, Not(HasSubstr("topsecret")));
  EXPECT_EQ(shown, "sc://h:15002/;token=***;use_ssl=true;x-databricks-cluster-id=c1");
}

TEST(ConnectionStringTest, Ipv6Host) {
  auto r = ParseConnectionString("sc://[::1]:15010");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->host, "::1");
  EXPECT_EQ(r->Endpoint(), "[::1]:15010");
}

TEST(ConnectionStringTest, ExplicitUseSsl) {
  auto r = ParseConnectionString("sc://h/;use_ssl=true");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->use_ssl);
  // A token without TLS only to this machine.
  auto local = ParseConnectionString("sc://127.0.0.1:1/;token=t;use_ssl=false");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_FALSE(local->use_ssl);
  EXPECT_EQ(local->Redacted(), "sc://127.0.0.1:1/;token=***;use_ssl=false");
  auto remote = ParseConnectionString("sc://h/;token=t;use_ssl=false");
  ASSERT_FALSE(remote.ok());
  EXPECT_THAT(remote.status().message(), HasSubstr("loopback"));
  EXPECT_THAT(remote.status().message(), Not(HasSubstr("token=t")));
}

TEST(ConnectionStringTest, ErrorsNameTheBadPart) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c :
       {Case{"http://h:1", "must start with 'sc://'"}, Case{"sc://:15002", "host is empty"},
        Case{"sc://h:notaport", "bad port 'notaport'"}, Case{"sc://h:70000", "bad port '70000'"},
        Case{"sc://h/path", "unexpected path '/path'"},
        Case{"sc://h/;use_ssl=yes", "use_ssl must be true or false"},
        Case{"sc://h/;session_id=abc", "session_id 'abc' is not a UUID"},
        Case{"sc://h/;Bad Header=1", "'Bad Header' is not a valid header"},
        Case{"sc://h/;token%zz", "not key=value"}, Case{"sc://h/;x-a=%zz", "bad %-escape in x-a"},
        Case{"sc://[::1", "unclosed '['"}}) {
    auto r = ParseConnectionString(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.says)) << c.text;
  }
}

TEST(ConnectionStringTest, SparkRemoteVariable) {
  auto r = RemoteFromEnvironment(Env({{"SPARK_REMOTE", "sc://127.0.0.1:15099"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->port, 15099);
  auto bad = RemoteFromEnvironment(Env({{"SPARK_REMOTE", "localhost:15002"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("SPARK_REMOTE"));
}

TEST(ConnectionStringTest, DatabricksVariables) {
  auto r = RemoteFromEnvironment(Env({{"DATABRICKS_HOST", "https://adb-1.2.azuredatabricks.net/"},
                                      {"DATABRICKS_TOKEN", "dapiXYZ"},
                                      {"DATABRICKS_CLUSTER_ID", "0101-abc"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  const SparkRemote& remote = **r;
  EXPECT_EQ(remote.host, "adb-1.2.azuredatabricks.net");
  EXPECT_EQ(remote.port, 443);
  EXPECT_TRUE(remote.use_ssl);
  EXPECT_EQ(remote.token, "dapiXYZ");
  EXPECT_EQ(remote.Redacted(),
            "sc://adb-1.2.azuredatabricks.net:443/;token=***;use_ssl=true;"
            "x-databricks-cluster-id=0101-abc");
  auto missing = RemoteFromEnvironment(Env({{"DATABRICKS_HOST", "h"}, {"DATABRICKS_TOKEN", "t"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("DATABRICKS_CLUSTER_ID"));
}

TEST(ConnectionStringTest, SparkRemoteWinsOverDatabricks) {
  auto r = RemoteFromEnvironment(Env({{"SPARK_REMOTE", "sc://a"}, {"DATABRICKS_HOST", "b"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->host, "a");
}

TEST(ConnectionStringTest, ResolveRemote) {
  auto configured = ResolveRemote("sc://cfg:1", Env({{"SPARK_REMOTE", "sc://env:2"}}));
  ASSERT_TRUE(configured.ok());
  EXPECT_EQ(configured->host, "cfg");
  auto from_env = ResolveRemote("", Env({{"SPARK_REMOTE", "sc://env:2"}}));
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->host, "env");
  auto none = ResolveRemote("", Env({}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("SPARK_REMOTE"));
}

}  // namespace
}  // namespace dl::engine::spark
