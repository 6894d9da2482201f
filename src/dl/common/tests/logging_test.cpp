#include "dl/common/logging.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace dl::log {
namespace {

// Captures records and restores the default logger afterwards.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetSinkForTesting([this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(line);
    });
  }
  void TearDown() override {
    SetSinkForTesting(nullptr);
    Configure(Level::kInfo, Format::kText);
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(LoggingTest, DefaultIsInfoText) {
  EXPECT_EQ(CurrentLevel(), Level::kInfo);
  EXPECT_EQ(CurrentFormat(), Format::kText);
}

TEST_F(LoggingTest, LevelFiltering) {
  Configure(Level::kWarning, Format::kText);
  Debug("d");
  Info("i");
  Warn("w");
  Error("e");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" WARN  w"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" ERROR e"), std::string::npos) << lines[1];

  Configure(Level::kDebug, Format::kText);
  EXPECT_EQ(CurrentLevel(), Level::kDebug);
  Debug("d2");
  ASSERT_EQ(Lines().size(), 3u);
  EXPECT_NE(Lines()[2].find(" DEBUG d2"), std::string::npos);
}

TEST_F(LoggingTest, TextLineLayout) {
  Configure(Level::kInfo, Format::kText);
  Info("loaded batch",
       {{"table", "sales.orders"}, {"files", 3}, {"error", "quoted if it has spaces"}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  std::regex re(
      R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO  loaded batch table=sales\.orders )"
      R"(files=3 error="quoted if it has spaces"$)");
  EXPECT_TRUE(std::regex_match(lines[0], re)) << lines[0];
}

TEST_F(LoggingTest, TextEscapesValues) {
  Info("multi\nline message", {{"q", "say \"hi\""},
                               {"nl", "a\nb"},
                               {"bs", "c:\\dir"},
                               {"empty", ""},
                               {"eq", "a=b"},
                               {"tab", "x\ty"},
                               {"ok", true},
                               {"ratio", 0.5},
                               {"list", nlohmann::json::array({1, 2})}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::string& l = lines[0];
  EXPECT_EQ(l.find('\n'), std::string::npos);
  EXPECT_NE(l.find("INFO  multi\\nline message "), std::string::npos) << l;
  EXPECT_NE(l.find(R"(q="say \"hi\"")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"(nl="a\nb")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"(bs="c:\\dir")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"(empty="")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"(eq="a=b")"), std::string::npos) << l;
  EXPECT_NE(l.find(R"(tab="x\ty")"), std::string::npos) << l;
  EXPECT_NE(l.find("ok=true"), std::string::npos) << l;
  EXPECT_NE(l.find("ratio=0.5"), std::string::npos) << l;
  EXPECT_NE(l.find("list=[1,2]"), std::string::npos) << l;
}

TEST_F(LoggingTest, JsonLinesAreValid) {
  Configure(Level::kDebug, Format::kJson);
  Debug("first \"one\"\n", {{"table", "sales.orders"}, {"files", 3}, {"bytes", int64_t{1} << 40}});
  Error("second", {{"msg", "clash"}, {"ts", 1}, {"seconds", 1.25}, {"nested", {{"a", "b"}}}});
  Info("bad utf8", {{"file", std::string("x\xff.csv")}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.find('\n'), std::string::npos);
    ASSERT_TRUE(nlohmann::json::accept(l)) << l;
  }
  auto a = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(lines[0].rfind("{\"ts\":\"", 0), 0u) << lines[0];  // ts, level, msg come first
  EXPECT_EQ(a["level"], "debug");
  EXPECT_EQ(a["msg"], "first \"one\"\n");
  EXPECT_EQ(a["table"], "sales.orders");
  EXPECT_EQ(a["files"], 3);
  EXPECT_EQ(a["bytes"], int64_t{1} << 40);
  EXPECT_TRUE(std::regex_match(a["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")));
  auto b = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(b["level"], "error");
  EXPECT_EQ(b["msg"], "second");  // a field never overwrites the record's keys
  EXPECT_EQ(b["_msg"], "clash");
  EXPECT_EQ(b["_ts"], 1);
  EXPECT_EQ(b["seconds"], 1.25);
  EXPECT_EQ(b["nested"]["a"], "b");
}

TEST_F(LoggingTest, WarnLevelName) {
  Configure(Level::kInfo, Format::kJson);
  Warn("w");
  ASSERT_EQ(Lines().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(Lines()[0])["level"], "warn");
  EXPECT_EQ(ParseLevel("WARNING"), Level::kWarning);
  EXPECT_EQ(ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(ParseLevel("loud"), std::nullopt);
}

TEST_F(LoggingTest, ConcurrentLoggingGivesWholeLines) {
  for (Format format : {Format::kText, Format::kJson}) {
    lines_.clear();
    Configure(Level::kInfo, format);
    constexpr int kThreads = 8, kPerThread = 500;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([t] {
        for (int i = 0; i < kPerThread; ++i) {
          Info(
              "concurrent record with a long-ish message to widen the race window",
              {{"thread", t}, {"i", i}, {"payload", std::string(200, static_cast<char>('a' + t))}});
        }
      });
    }
    for (auto& th : threads) th.join();
    auto lines = Lines();
    ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
    std::map<int, int> per_thread;
    for (const auto& l : lines) {
      ASSERT_EQ(l.find('\n'), std::string::npos);
      if (format == Format::kJson) {
        auto j = nlohmann::json::parse(l);
        int t = j["thread"];
        EXPECT_EQ(j["payload"], std::string(200, static_cast<char>('a' + t)));
        ++per_thread[t];
      } else {
        std::smatch m;
        ASSERT_TRUE(std::regex_search(l, m, std::regex(R"( thread=(\d) i=\d+ payload=([a-h]+)$)")))
            << l;
        int t = std::stoi(m[1]);
        EXPECT_EQ(m[2].str(), std::string(200, static_cast<char>('a' + t)));
        ++per_thread[t];
      }
    }
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per_thread[t], kPerThread);
  }
}

TEST_F(LoggingTest, SecretFieldsAreRedacted) {
  Configure(Level::kInfo, Format::kJson);
  Info("connecting", {{"password", "hunter2"},
                      {"aws_secret_access_key", "AKIASECRET"},
                      {"sas_token", "sv=1&sig=abc"},
                      {"options", {{"api-key", "k123"}, {"region", "eu"}}},
                      {"url", "postgres://bob:hunter2@db:5432/x"}});
  Configure(Level::kInfo, Format::kText);
  Info("failed: password=hunter2 token: abc123 Authorization: Bearer eyJhbGci",
       {{"error", "s3://AKIA:hunter2@bucket/key?X-Amz-Signature=deadbeef&x=1"}});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    for (const char* secret : {"hunter2", "AKIASECRET", "abc123", "k123", "eyJhbGci", "deadbeef"}) {
      EXPECT_EQ(l.find(secret), std::string::npos) << secret << " in " << l;
    }
  }
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["password"], "***");
  EXPECT_EQ(j["options"]["region"], "eu");
  EXPECT_EQ(j["url"], "postgres://bob:***@db:5432/x");
  EXPECT_NE(lines[1].find("x=1"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("s3://AKIA:***@bucket/key"), std::string::npos) << lines[1];
}

TEST_F(LoggingTest, DefaultSinkWritesLinesToStderr) {
  SetSinkForTesting(nullptr);
  ::testing::internal::CaptureStderr();
  Info("to stderr", {{"n", 1}});
  Debug("filtered out");
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(std::regex_match(out, std::regex(R"(\S+Z INFO  to stderr n=1\n)"))) << out;
}

TEST(RedactSecretsTest, KeepsOrdinaryText) {
  EXPECT_EQ(RedactSecrets("read s3://bucket/a.csv: 10 rows, error: bad row"),
            "read s3://bucket/a.csv: 10 rows, error: bad row");
  EXPECT_EQ(RedactSecrets(R"({"password":"p w","user":"u"})"), R"({"password":"***","user":"u"})");
  EXPECT_EQ(RedactSecrets("AccountName=a;AccountKey=Zm9v==;EndpointSuffix=x"),
            "AccountName=a;AccountKey=***;EndpointSuffix=x");
  EXPECT_EQ(RedactSecrets("https://user@host/x"), "https://user@host/x");
  // A store's error code is not a key with a secret value.
  EXPECT_EQ(RedactSecrets("HTTP 403 SignatureDoesNotMatch: The request signature we calculated"),
            "HTTP 403 SignatureDoesNotMatch: The request signature we calculated");
  EXPECT_EQ(RedactSecrets("InvalidAccessKeyId: The AWS Access Key Id does not exist"),
            "InvalidAccessKeyId: The AWS Access Key Id does not exist");
  EXPECT_EQ(RedactSecrets("X-Amz-Signature: abc"), "X-Amz-Signature: ***");
  EXPECT_TRUE(IsSecretKey("clientSecret"));
  EXPECT_TRUE(IsSecretKey("PGPASSWORD"));
  EXPECT_FALSE(IsSecretKey("table"));
  EXPECT_FALSE(IsSecretKey("rows_loaded"));
}

}  // namespace
}  // namespace dl::log
