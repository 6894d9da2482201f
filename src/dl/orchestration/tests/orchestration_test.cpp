#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "dl/common/clock.hpp"
#include "dl/common/http_client.hpp"
#include "dl/common/testing/temp_dir.hpp"
#include "dl/engine/engine.hpp"
#include "dl/orchestration/dependencies.hpp"
#include "dl/orchestration/notifications.hpp"
#include "dl/table/table.hpp"

namespace dl::orchestration {
namespace {

using ::testing::HasSubstr;

class DependenciesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.processed_data_path = dir_ / "processed";
    cfg_.checkpoint_path = dir_ / "checkpoints";
    auto e = engine::MakeDuckDbEngine();
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine_ = std::move(*e);
    ctx_.fs = fs_.get();
    ctx_.parquet = engine_.get();
  }
  // A real Delta table with one commit.
  void MakeTable(const std::string& root) {
    table::TableContext tctx{*fs_, *engine_};
    table::WriteRequest req;
    req.source_sql = "SELECT 1::BIGINT AS id";
    auto r = table::Write(tctx, root, req);
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  DependencyState Only(const std::string& spec) {
    cfg_.upstream_dependencies = {spec};
    auto states = CheckDependenciesOnce(cfg_, ctx_);
    EXPECT_EQ(states.size(), 1u);
    return states.at(0);
  }

  dl::testing::TempDir dir_;
  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  std::unique_ptr<engine::Engine> engine_;
  config::LoaderConfig cfg_;
  DependencyContext ctx_;
};

TEST(DependencySpecTest, ParseAndResolve) {
  auto d = ParseDependency("table:bronze.raw_events");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, DependencyKind::kTable);
  EXPECT_EQ(d->target, "bronze.raw_events");
  EXPECT_EQ(ParseDependency("file:/mnt/ready.flag")->kind, DependencyKind::kFile);
  EXPECT_EQ(ParseDependency("job:42")->kind, DependencyKind::kJob);
  EXPECT_FALSE(ParseDependency("queue:x").ok());
  EXPECT_FALSE(ParseDependency("table:").ok());

  config::LoaderConfig cfg;
  cfg.processed_data_path = "/p";
  EXPECT_EQ(*ResolveTablePath(cfg, "bronze.raw_events"), "/p/bronze/raw_events");
  EXPECT_EQ(*ResolveTablePath(cfg, "main.bronze.raw_events"), "/p/main/bronze/raw_events");
  EXPECT_EQ(*ResolveTablePath(cfg, "/abs/table"), "/abs/table");
  EXPECT_EQ(*ResolveTablePath(cfg, "s3://lake/bronze/t"), "s3://lake/bronze/t");
  cfg.use_unity_catalog = true;
  cfg.default_catalog = "Prod";
  EXPECT_EQ(*ResolveTablePath(cfg, "Bronze.Events"), "/p/prod/bronze/events");
  auto bad = ResolveTablePath(cfg, "a.b.c.d");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("table:a.b.c.d"));
  EXPECT_FALSE(ResolveTablePath(cfg, "../etc.passwd").ok());
}

TEST_F(DependenciesTest, FileFlag) {
  auto s = Only("file:" + (dir_ / "ready.flag"));
  EXPECT_FALSE(s.met);
  EXPECT_THAT(s.detail, HasSubstr("no file at"));
  dl::testing::WriteFile(dir_ / "ready.flag", "");
  EXPECT_TRUE(Only("file:" + (dir_ / "ready.flag")).met);
}

TEST_F(DependenciesTest, TableMissingThenPresent) {
  auto s = Only("table:bronze.events");
  EXPECT_FALSE(s.met);
  EXPECT_THAT(s.detail, HasSubstr("no Delta table at " + cfg_.processed_data_path));
  MakeTable(cfg_.processed_data_path + "/bronze/events");
  s = Only("table:bronze.events");
  EXPECT_TRUE(s.met) << s.detail;  // no earlier run of ours: existing is enough
  EXPECT_THAT(s.detail, HasSubstr("no earlier run of ours"));
}

TEST_F(DependenciesTest, CheckpointedTableWithoutAGivenEngine) {
  const std::string root = cfg_.processed_data_path + "/bronze/events";
  MakeTable(root);
  table::TableContext tctx{*fs_, *engine_};
  ASSERT_TRUE(table::Checkpoint(tctx, root).ok());
  cfg_.upstream_dependencies = {"table:bronze.events"};
  auto states = CheckDependenciesOnce(cfg_);  // what cluster-status calls: no context
  ASSERT_EQ(states.size(), 1u);
  EXPECT_TRUE(states[0].met) << states[0].detail;
  EXPECT_THAT(states[0].detail, HasSubstr("version 0 committed"));
}

TEST_F(DependenciesTest, TableNewerThanLastRunOrMaxAge) {
  MakeTable(cfg_.processed_data_path + "/bronze/events");
  // Our last successful run started after the table's commit: not met. (One clock reading:
  // two could fall either side of a second under load.)
  const int64_t now = NowMs();
  ASSERT_TRUE(RecordRun(cfg_, *fs_, "r1", now + 60'000, now + 61'000, true).ok());
  auto s = Only("table:bronze.events");
  EXPECT_FALSE(s.met);
  EXPECT_THAT(s.detail, HasSubstr("not after our last successful run"));
  // A failed run keeps the earlier successful start.
  ASSERT_TRUE(RecordRun(cfg_, *fs_, "r2", now + 120'000, now + 121'000, false).ok());
  EXPECT_EQ(*LastSuccessfulRunStart(cfg_, *fs_) / 1000, (now + 60'000) / 1000);
  // An earlier last run: met.
  ctx_.last_run_start_ms = NowMs() - 3'600'000;
  EXPECT_TRUE(Only("table:bronze.events").met);
  // With dependency_max_age_seconds the age decides.
  cfg_.dependency_max_age_seconds = 60;
  ctx_.now_ms = NowMs() + 3'600'000;  // an hour later
  s = Only("table:bronze.events");
  EXPECT_FALSE(s.met);
  EXPECT_THAT(s.detail, HasSubstr("older than dependency_max_age_seconds 60"));
  ctx_.now_ms = 0;
  EXPECT_TRUE(Only("table:bronze.events").met);
}

TEST_F(DependenciesTest, JobWithoutWorkspaceIsUnmetNamingTheVariable) {
  cfg_.databricks_host_env = "DL_TEST_UNSET_HOST_VARIABLE";
  auto s = Only("job:123");
  EXPECT_FALSE(s.met);
  EXPECT_THAT(s.detail, HasSubstr("$DL_TEST_UNSET_HOST_VARIABLE is not set"));
  ::setenv("DL_TEST_HOST", "http://127.0.0.1:1", 1);
  cfg_.databricks_host_env = "DL_TEST_HOST";
  s = Only("job:bronze-pipeline");
  EXPECT_FALSE(s.met);
  EXPECT_THAT(s.detail, HasSubstr("not a Databricks job id"));
}

TEST_F(DependenciesTest, FailModeChecksOnceWaitModePollsUntilMet) {
  const std::string flag = dir_ / "ready.flag";
  cfg_.upstream_dependencies = {"file:" + flag};
  int sleeps = 0;
  auto sleep = [&](int64_t ms) {
    EXPECT_EQ(ms, 7000);
    if (++sleeps == 2) dl::testing::WriteFile(flag, "");  // the flag lands while we wait
    return true;
  };
  auto once = AwaitDependencies(cfg_, ctx_, sleep);
  EXPECT_FALSE(once.met);
  EXPECT_EQ(once.checks, 1);
  EXPECT_EQ(sleeps, 0);
  EXPECT_THAT(UnmetMessage(once.states), HasSubstr("file:" + flag + " (no file at"));

  cfg_.on_unmet_dependencies = config::OnUnmetDependencies::kWait;
  cfg_.dependency_poll_interval_seconds = 7;
  auto waited = AwaitDependencies(cfg_, ctx_, sleep);
  EXPECT_TRUE(waited.met);
  EXPECT_EQ(waited.checks, 3);

  std::filesystem::remove(flag);
  auto stopped = AwaitDependencies(cfg_, ctx_, [](int64_t) { return false; });
  EXPECT_FALSE(stopped.met);
  EXPECT_TRUE(stopped.stopped);
}

monitoring::RunMetrics SampleMetrics() {
  monitoring::RunMetrics m;
  m.run_id = "run-1";
  m.start_ms = 1'700'000'000'000;
  m.end_ms = m.start_ms + 2500;
  monitoring::TableMetrics t;
  t.table = "sales.orders";
  t.files_loaded = 3;
  t.rows_loaded = 1200;
  t.target_version = 4;
  m.tables.push_back(t);
  return m;
}

TEST(NotificationsTest, SummaryAndSlackBody) {
  auto summary = BuildRunSummary(SampleMetrics(), 0);
  EXPECT_EQ(summary["event"], "data_loader.run");
  EXPECT_EQ(summary["status"], "success");
  EXPECT_EQ(summary["totals"]["rows_loaded"], 1200);
  EXPECT_EQ(summary["tables"][0]["version"], 4);
  EXPECT_THAT(summary["text"].get<std::string>(),
              HasSubstr("run-1 succeeded: 3 file(s) loaded, 0 failed, 1200 rows into 1 table(s)"));
  EXPECT_EQ(BuildRunSummary(SampleMetrics(), 1)["status"], "failed");
  auto broken = BuildRunSummary({}, 1, "engine unavailable: password=hunter2");
  EXPECT_EQ(broken["status"], "failed");
  EXPECT_EQ(broken["error"], "engine unavailable: password=***");
  EXPECT_THAT(broken["text"].get<std::string>(), HasSubstr("FAILED before loading"));

  EXPECT_TRUE(IsSlackWebhook("https://hooks.slack.com/services/T0/B0/XYZ"));
  EXPECT_TRUE(IsSlackWebhook("http://127.0.0.1:8080/services/T0/B0/XYZ"));
  EXPECT_FALSE(IsSlackWebhook("https://example.com/hook"));
  auto slack = nlohmann::json::parse(WebhookBody("https://hooks.slack.com/services/x", summary));
  EXPECT_EQ(slack.size(), 1u);
  EXPECT_EQ(slack["text"], summary["text"]);
  auto plain = nlohmann::json::parse(WebhookBody("https://example.com/hook", summary));
  EXPECT_EQ(plain["run_id"], "run-1");
}

TEST(NotificationsTest, TargetsAndUrlsAreRedacted) {
  EXPECT_EQ(RedactTarget("webhook:https://hooks.slack.com/services/T0/B0/SECRET"),
            "webhook:https://hooks.slack.com/services/***");
  EXPECT_EQ(RedactTarget("job:42"), "job:42");
  EXPECT_EQ(http::RedactUrl("https://user:pw@example.com:8443/hook?token=abc"),
            "https://example.com:8443/hook?***");
  EXPECT_EQ(http::RedactUrl("http://h/a/b?x=1"), "http://h/a/***");
  EXPECT_EQ(http::RedactUrl("not a url"), "***");
  EXPECT_EQ(http::UrlEncode("c.s t/x"), "c.s%20t%2Fx");
}

// A port nobody listens on: bound, never listened, then closed.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

TEST(NotificationsTest, RefusedWebhookIsRetriedThenReportedWithoutTheSecretPath) {
  config::LoaderConfig cfg;
  const std::string url =
      fmt::format("http://127.0.0.1:{}/services/T0/B0/SECRETPATH", ClosedPort());
  cfg.downstream_notifications = {"webhook:" + url};
  cfg.notification_retries = 2;
  cfg.notification_backoff_ms = 10;
  std::vector<int64_t> waits;
  auto out = SendNotifications(cfg, BuildRunSummary(SampleMetrics(), 0), [&](int64_t ms) {
    waits.push_back(ms);
    return true;
  });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].attempts, 3);
  EXPECT_THAT(waits, ::testing::ElementsAre(10, 20));  // exponential backoff
  EXPECT_THAT(out[0].target, ::testing::Not(HasSubstr("SECRETPATH")));
  EXPECT_THAT(out[0].detail, ::testing::Not(HasSubstr("SECRETPATH")));
  EXPECT_THAT(out[0].detail, HasSubstr("POST http://127.0.0.1:"));
}

}  // namespace
}  // namespace dl::orchestration
