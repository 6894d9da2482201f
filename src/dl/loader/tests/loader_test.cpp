#include "dl/loader/loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dl/common/clock.hpp"
#include "dl/common/testing/temp_dir.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/transaction.hpp"
#include "dl/engine/engine.hpp"
#include "dl/loader/batch_runner.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/table/table.hpp"
#include "dl/tracker/file_tracker.hpp"

namespace dl::loader {
namespace {

using ::testing::HasSubstr;

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = engine::MakeDuckDbEngine();
    ASSERT_TRUE(e.ok());
    engine_ = std::move(*e);
  }

  config::LoaderConfig Config(const std::string& tables_yaml, const std::string& extra = "") {
    std::string yaml = fmt::format(
        "raw_data_path: {0}/raw\nprocessed_data_path: {0}/processed\ncheckpoint_path: "
        "{0}/state\nretry_attempts: 1\nretry_backoff_ms: 0\nenable_metrics: false\n{1}"
        "tables:\n{2}",
        dir_.path(), extra, tables_yaml);
    auto cfg = config::LoadConfigText(yaml, "test.yaml");
    EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    return *cfg;
  }

  static std::string CsvTable(const std::string& name, const std::string& pattern,
                              const std::string& more = "") {
    return fmt::format(
        "  - table_name: {}\n    database_name: db\n    source_path_pattern: {}\n"
        "    file_format: csv\n{}",
        name, pattern, more);
  }

  void Csv(const std::string& name, const std::string& content) {
    dl::testing::WriteFile(dir_.path() + "/raw/" + name, content);
  }

  void Parquet(const std::string& name, int first, int rows) {
    std::string path = dir_.path() + "/raw/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    ASSERT_TRUE(engine_
                    ->Execute(fmt::format("COPY (SELECT i AS id FROM range({}, {}) t(i)) TO {} "
                                          "(FORMAT parquet)",
                                          first, first + rows, engine::QuoteLiteral(path)))
                    .ok());
  }

  RunResult Run(const config::LoaderConfig& cfg, RunOptions options = {}) {
    StopToken stop;
    auto r = RunOnce(cfg, options, stop);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : RunResult{};
  }

  std::string Query(const std::string& table, const std::string& select) {
    auto fs = MakeLocalFileSystem();
    table::TableContext ctx{*fs, *engine_};
    auto snap = table::LoadSnapshot(ctx, dir_.path() + "/processed/db/" + table);
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    if (!snap.ok()) return "";
    EXPECT_TRUE(engine_->RegisterSnapshot("tbl", **snap).ok());
    auto rows = engine_->Query(select);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() && !rows->rows.empty() ? rows->rows[0][0].value_or("NULL") : "";
  }

  std::map<std::string, tracker::FileRecord> TrackerRecords(const std::string& table) {
    auto fs = MakeLocalFileSystem();
    tracker::FileTracker tracker(*fs, *engine_,
                                 dir_.path() + "/processed/metadata/file_processing_tracker");
    auto records = tracker.Load(table);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    return records.ok() ? *records : std::map<std::string, tracker::FileRecord>{};
  }

  dl::testing::TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(LoaderTest, LoadsEachFileOnceAndASecondRunDoesNothing) {
  for (int i = 0; i < 5; ++i) Csv(fmt::format("in/f{}.csv", i), fmt::format("id\n{}\n{}\n", i, i + 100));
  auto cfg = Config(CsvTable("t", "in/*.csv", "    max_files_per_batch: 2\n"));
  auto first = Run(cfg);
  EXPECT_EQ(first.ExitCode(), 0);
  EXPECT_EQ(first.metrics.files_loaded(), 5);
  EXPECT_EQ(first.metrics.tables[0].batches, 3);
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "10");
  auto records = TrackerRecords("db.t");
  ASSERT_EQ(records.size(), 5u);
  for (const auto& [path, r] : records) {
    EXPECT_EQ(r.status, tracker::FileStatus::kCompleted) << path;
    EXPECT_EQ(r.rows_loaded, 2) << path;
    EXPECT_TRUE(r.target_version.has_value());
  }
  auto second = Run(cfg);
  EXPECT_EQ(second.metrics.files_loaded(), 0);
  EXPECT_EQ(second.metrics.tables[0].target_version, first.metrics.tables[0].target_version);

  Csv("in/f9.csv", "id\n9\n");
  auto third = Run(cfg);
  EXPECT_EQ(third.metrics.files_loaded(), 1);
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "11");
}

TEST_F(LoaderTest, DryRunTouchesNothing) {
  Csv("in/a.csv", "id\n1\n");
  auto cfg = Config(CsvTable("t", "in/*.csv"));
  RunOptions options;
  options.dry_run = true;
  auto r = Run(cfg, options);
  EXPECT_THAT(r.plan, HasSubstr("db.t: 1 new file(s) in 1 batch(es)"));
  EXPECT_THAT(r.plan, HasSubstr("in/a.csv"));
  for (int i = 0; i < 30; ++i) Csv(fmt::format("in/m{:02}.csv", i), "id\n1\n");
  r = Run(cfg, options);
  EXPECT_THAT(r.plan, HasSubstr("... and 11 more"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/processed"));
}

TEST_F(LoaderTest, ALostTrackerIsRebuiltFromTheTableLog) {
  for (int i = 0; i < 3; ++i) Csv(fmt::format("in/f{}.csv", i), "id\n1\n");
  auto cfg = Config(CsvTable("t", "in/*.csv", "    max_files_per_batch: 1\n"));
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 3);
  // A crash after the target commits and before the tracker update looks like this.
  std::filesystem::remove_all(dir_.path() + "/processed/metadata");
  auto again = Run(cfg);
  EXPECT_EQ(again.metrics.files_loaded(), 0);
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "3");
  auto records = TrackerRecords("db.t");
  ASSERT_EQ(records.size(), 3u);
  for (const auto& [path, r] : records) {
    EXPECT_EQ(r.status, tracker::FileStatus::kCompleted);
    EXPECT_THAT(r.error_message.value_or(""), HasSubstr("reconciled"));
  }
}

// Process A commits f and dies before its tracker update; process B, which read the log
// before A's commit, commits g after it and records g (issue 11). The tracker's newest
// version is then g's: the next run must still find f in the log, not load it twice.
TEST_F(LoaderTest, ALoadCommittedBeforeAnotherLoadersTrackedLoadIsReconciled) {
  Csv("in/a.csv", "id\n1\n");
  auto cfg = Config(CsvTable("t", "in/*.csv"));
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 1);
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 0);  // reconciled through version 0
  Csv("in/f.csv", "id\n2\n");
  Csv("in/g.csv", "id\n3\n");
  auto fs = MakeLocalFileSystem();
  auto commit = [&](const std::string& name) -> table::SourceFile {
    std::string path = dir_.path() + "/raw/in/" + name;
    auto st = fs->Stat(path);
    EXPECT_TRUE(st.ok());
    strategy::Batch batch;
    batch.id = NewUuid();
    batch.load_time_ms = NowMs();
    batch.files.push_back({path, st->size, st->modification_time_ms});
    table::TableContext ctx{*fs, *engine_};
    strategy::Target target{cfg.tables[0], dir_.path() + "/processed/db/t", "db.t"};
    auto r = strategy::LoadBatch(ctx, target, batch, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return batch.files[0];
  };
  table::SourceFile f = commit("f.csv");  // A: committed at version 1, never tracked
  table::SourceFile g = commit("g.csv");  // B: committed at version 2 and tracked
  tracker::FileTracker tracker(*fs, *engine_,
                               dir_.path() + "/processed/metadata/file_processing_tracker");
  tracker::FileRecord r;
  r.file_path = g.path;
  r.file_size = g.size;
  r.file_modified_time_ms = g.modification_time_ms;
  r.table_name = "db.t";
  r.status = tracker::FileStatus::kCompleted;
  r.created_at_ms = r.updated_at_ms = NowMs();
  r.target_version = 2;
  tracker.Record(r);
  ASSERT_TRUE(tracker.Flush().ok());

  auto next = Run(cfg);
  EXPECT_EQ(next.metrics.files_loaded(), 0);
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "3");
  auto records = TrackerRecords("db.t");
  ASSERT_EQ(records.count(f.path), 1u);
  EXPECT_EQ(records[f.path].status, tracker::FileStatus::kCompleted);
  EXPECT_EQ(records[f.path].target_version, 1);
}

// A commit Spark makes for us (the Spark engine) carries our metadata only in
// commitInfo.userMetadata: reconciliation counts the files it names as loaded.
TEST_F(LoaderTest, FilesACommitNamesInUserMetadataCountAsLoaded) {
  Csv("in/a.csv", "id\n1\n");
  auto cfg = Config(CsvTable("t", "in/*.csv"));
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 1);
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 0);  // reconciled through version 0
  Csv("in/b.csv", "id\n2\n");
  const std::string b = dir_.path() + "/raw/in/b.csv";
  const std::string root = dir_.path() + "/processed/db/t";
  auto fs = MakeLocalFileSystem();
  auto st = fs->Stat(b);
  ASSERT_TRUE(st.ok());

  // As Spark would commit it: b's row, and our metadata naming b in userMetadata only.
  table::TableContext ctx{*fs, *engine_};
  auto snap = table::LoadSnapshot(ctx, root);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_TRUE(engine_->RegisterSnapshot("tbl", **snap).ok());
  auto sql = engine_->AlignToSchema("SELECT * REPLACE (2 AS id) FROM tbl", (*snap)->schema());
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  auto adds = engine_->WriteDataFiles(*sql, root, (*snap)->schema(), {});
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  delta::Transaction tx(*fs, engine_.get(), root, *snap);
  for (auto& add : *adds) tx.Add(add);
  delta::LoaderCommitInfo info;
  info.source_files = {{b, st->size, st->modification_time_ms, st->etag}};
  tx.SetCommitInfoField("userMetadata", info.ToUserMetadata());
  auto committed = tx.Commit();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  ASSERT_EQ(committed->version, 1);

  auto next = Run(cfg);
  EXPECT_EQ(next.metrics.files_loaded(), 0);
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "2");
  auto records = TrackerRecords("db.t");
  ASSERT_EQ(records.count(b), 1u);
  EXPECT_EQ(records[b].status, tracker::FileStatus::kCompleted);
  EXPECT_EQ(records[b].target_version, 1);
}

// The reconciliation mark lives beside the tracker; a tracker whose log was deleted (or
// recreated) lost what the mark vouches for, so the whole table log is read again.
TEST_F(LoaderTest, AReconciliationMarkOutlivingItsTrackerIsIgnored) {
  for (int i = 0; i < 3; ++i) Csv(fmt::format("in/f{}.csv", i), "id\n1\n");
  auto cfg = Config(CsvTable("t", "in/*.csv", "    max_files_per_batch: 1\n"));
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 3);
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 0);  // writes the mark
  const std::string tracker = dir_.path() + "/processed/metadata/file_processing_tracker";
  ASSERT_TRUE(std::filesystem::exists(tracker + "/_dl_/reconciled/db.t.json"));
  std::filesystem::remove_all(tracker + "/_delta_log");
  EXPECT_EQ(Run(cfg).metrics.files_loaded(), 0);
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "3");
  EXPECT_EQ(TrackerRecords("db.t").size(), 3u);
}

TEST_F(LoaderTest, ABadFileFailsAloneAndIsRetriedUntilAttemptsRunOut) {
  for (int i = 0; i < 6; ++i) Parquet(fmt::format("p/f{}.parquet", i), i * 10, 10);
  dl::testing::WriteFile(dir_.path() + "/raw/p/f3.parquet", "PAR1 definitely not parquet PAR1");
  auto cfg = Config(
      "  - table_name: p\n    database_name: db\n    source_path_pattern: p/*.parquet\n");
  auto r = Run(cfg);
  EXPECT_EQ(r.ExitCode(), 1);
  EXPECT_EQ(r.metrics.files_loaded(), 5);
  ASSERT_EQ(r.metrics.tables[0].errors.size(), 1u);
  EXPECT_THAT(r.metrics.tables[0].errors[0].file, HasSubstr("f3.parquet"));
  EXPECT_EQ(Query("p", "SELECT count(*) FROM tbl"), "50");
  auto records = TrackerRecords("db.p");
  const auto& bad = records.at(dir_.path() + "/raw/p/f3.parquet");
  EXPECT_EQ(bad.status, tracker::FileStatus::kFailed);
  EXPECT_EQ(bad.retry_count, 1);
  EXPECT_THAT(bad.error_message.value_or(""), HasSubstr("f3.parquet"));

  // retry_attempts: 1 -> one more try on the next run, then it stays failed.
  EXPECT_EQ(Run(cfg).metrics.files_failed(), 1);
  auto last = Run(cfg);
  EXPECT_EQ(last.metrics.files_failed(), 0);
  EXPECT_EQ(last.metrics.files_skipped(), 1);
  EXPECT_EQ(last.ExitCode(), 1);  // still not loaded: the run is not a success
  // A fixed file is a new version and loads.
  Parquet("p/f3.parquet", 1000, 7);
  auto fixed = Run(cfg);
  EXPECT_EQ(fixed.metrics.files_loaded(), 1);
  EXPECT_EQ(Query("p", "SELECT count(*) FROM tbl"), "57");
}

TEST_F(LoaderTest, ABadRowThatNamesNoFileIsIsolatedByBisection) {
  auto cfg = Config(CsvTable("t", "in/*.csv"));
  Csv("in/a0.csv", "id\n1\n");
  ASSERT_EQ(Run(cfg).metrics.files_loaded(), 1);  // id is now BIGINT
  for (int i = 1; i < 8; ++i) Csv(fmt::format("in/b{}.csv", i), fmt::format("id\n{}\n", i));
  Csv("in/b5.csv", "id\nnot-a-number\n");
  auto r = Run(cfg);
  EXPECT_EQ(r.metrics.files_loaded(), 6);
  ASSERT_EQ(r.metrics.files_failed(), 1);
  EXPECT_THAT(r.metrics.tables[0].errors[0].file, HasSubstr("b5.csv"));
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "7");
}

TEST_F(LoaderTest, ATableThatCannotLoadDoesNotStopTheOthers) {
  Csv("in/a.csv", "id\n1\n");
  dl::testing::WriteFile(dir_.path() + "/processed/db/bad/somebody_elses.txt", "x");
  auto cfg = Config(CsvTable("bad", "in/*.csv") + CsvTable("good", "in/*.csv"));
  auto r = Run(cfg);
  EXPECT_EQ(r.ExitCode(), 1);
  ASSERT_EQ(r.table_errors.size(), 1u);
  EXPECT_THAT(r.table_errors[0], HasSubstr("not a Delta table"));
  EXPECT_EQ(Query("good", "SELECT count(*) FROM tbl"), "1");
}

TEST_F(LoaderTest, ConcurrentLoadersLoadEveryFileExactlyOnce) {
  for (int i = 0; i < 40; ++i) Csv(fmt::format("in/f{:02}.csv", i), fmt::format("id\n{}\n", i));
  auto cfg = Config(CsvTable("t", "in/*.csv", "    max_files_per_batch: 3\n"));
  cfg.max_parallel_jobs = 3;
  cfg.retry_attempts = 10;
  std::vector<RunResult> results(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      StopToken stop;
      auto r = RunOnce(cfg, {}, stop);
      if (r.ok()) results[i] = std::move(*r);
    });
  }
  for (auto& t : threads) t.join();
  int64_t loaded = 0;
  for (const auto& r : results) loaded += r.metrics.files_loaded();
  EXPECT_EQ(loaded, 40);
  EXPECT_EQ(Query("t", "SELECT count(*) FROM tbl"), "40");
  EXPECT_EQ(Query("t", "SELECT count(DISTINCT _source_file) FROM tbl"), "40");
  // Every loader's tracker updates survive the others (and the race to create the tracker).
  auto records = TrackerRecords("db.t");
  EXPECT_EQ(records.size(), 40u);
  for (const auto& [path, r] : records) {
    EXPECT_EQ(r.status, tracker::FileStatus::kCompleted) << path << r.error_message.value_or("");
    EXPECT_TRUE(r.target_version.has_value()) << path;
  }
}

TEST_F(LoaderTest, AnAbandonedRunCommitsNothingAndRecordsNothing) {
  Csv("in/a.csv", "id\n1\n");
  auto cfg = Config(CsvTable("t", "in/*.csv"));
  StopToken stop;
  stop.Escalate();
  stop.Escalate();
  auto r = RunOnce(cfg, {}, stop);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stopped);
  EXPECT_EQ(r->metrics.files_loaded(), 0);
  EXPECT_EQ(r->metrics.files_failed(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/processed/db/t/_delta_log"));
  // The next run picks the file up.
  EXPECT_EQ(Run(cfg).metrics.files_loaded(), 1);
}

TEST_F(LoaderTest, ADeltaSourceIsLoadedVersionByVersion) {
  auto fs = MakeLocalFileSystem();
  table::TableContext ctx{*fs, *engine_};
  const std::string source = dir_.path() + "/source_table";
  auto append = [&](int first, int n) {
    table::WriteRequest req;
    req.source_sql = fmt::format("SELECT i AS id FROM range({}, {}) t(i)", first, first + n);
    auto r = table::Write(ctx, source, req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  append(0, 3);
  append(3, 1);
  auto cfg = Config(fmt::format("  - table_name: d\n    database_name: db\n"
                                "    source_path_pattern: {}\n    file_format: delta\n",
                                source));
  auto first = Run(cfg);
  EXPECT_EQ(first.ExitCode(), 0);
  EXPECT_EQ(first.metrics.files_loaded(), 2);
  EXPECT_EQ(Query("d", "SELECT count(*) FROM tbl"), "4");
  EXPECT_EQ(Query("d", "SELECT count(*) FROM tbl WHERE _source_file LIKE '%source_table/part-%'"),
            "4");

  // New rows, then a compaction (dataChange=false): only the new rows are loaded.
  append(4, 2);
  ASSERT_TRUE(table::Optimize(ctx, source, {}).ok());
  auto second = Run(cfg);
  EXPECT_EQ(second.metrics.files_loaded(), 1);
  EXPECT_EQ(Query("d", "SELECT count(*), count(DISTINCT id) FROM tbl"), "6");
  EXPECT_EQ(Run(cfg).metrics.files_loaded(), 0);

  // The target's txn records the source version loaded.
  auto target = table::LoadSnapshot(ctx, dir_.path() + "/processed/db/d");
  auto src = table::LoadSnapshot(ctx, source);
  ASSERT_TRUE(target.ok() && src.ok());
  EXPECT_EQ((*target)->TxnVersion("data_loader/source/" + (*src)->metadata().id),
            (*src)->version());
}

TEST_F(LoaderTest, WatchdogInterruptsAQueryPastItsDeadline) {
  StopToken stop;
  Watchdog watchdog(stop);
  watchdog.Arm(0, engine_.get(), std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
  Status st = engine_->Execute("SELECT count(*) FROM range(1000000000000) a");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(watchdog.Disarm(0));
  watchdog.Arm(0, engine_.get(), std::chrono::steady_clock::now() + std::chrono::hours(1));
  EXPECT_TRUE(engine_->Execute("SELECT 1").ok());
  EXPECT_FALSE(watchdog.Disarm(0));
}

TEST_F(LoaderTest, WritesMetricsFilesWhenEnabled) {
  Csv("in/a.csv", "id\n1\n");
  auto cfg = Config(CsvTable("t", "in/*.csv"));
  cfg.enable_metrics = true;
  Run(cfg);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/state/metrics/latest.prom"));
}

TEST_F(LoaderTest, TheBackpressureGateDecidesWhenBatchesStart) {
  for (int i = 0; i < 4; ++i) {
    Csv(fmt::format("a/f{}.csv", i), fmt::format("id\n{}\n", i));
    Csv(fmt::format("b/f{}.csv", i), fmt::format("id\n{}\n", i));
  }
  auto cfg = Config(CsvTable("a", "a/*.csv", "    max_files_per_batch: 1\n") +
                        CsvTable("b", "b/*.csv", "    max_files_per_batch: 1\n"),
                    "max_parallel_jobs: 3\n");
  cfg.enable_metrics = true;
  RunOptions options;
  options.command = "run-cluster";
  std::atomic<int> admitted{0}, asked{0};
  // A gate that only lets a batch start when none runs: batches go one at a time.
  options.may_start_batch = [&](int running) {
    ++asked;
    if (running > 0) return false;
    ++admitted;
    return true;
  };
  options.finish_metrics = [](monitoring::RunMetrics& m) {
    m.resources = monitoring::ResourceMetrics{};
    m.resources->backpressure_pauses = 7;
  };
  auto r = Run(cfg, options);
  EXPECT_EQ(r.ExitCode(), 0);
  EXPECT_EQ(r.metrics.files_loaded(), 8);
  // 8 one-file batches, each started only after the gate said yes with nothing running.
  EXPECT_EQ(r.metrics.tables[0].batches + r.metrics.tables[1].batches, 8);
  EXPECT_EQ(admitted.load(), 8);
  EXPECT_GE(asked.load(), admitted.load());
  EXPECT_EQ(Query("a", "SELECT count(*) FROM tbl"), "4");
  EXPECT_EQ(Query("b", "SELECT count(*) FROM tbl"), "4");
  ASSERT_TRUE(r.metrics.resources.has_value());
  EXPECT_EQ(r.metrics.command, "run-cluster");
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/state/metrics")) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), {});
    found = text.find("\"backpressure_pauses\": 7") != std::string::npos &&
            text.find("\"command\": \"run-cluster\"") != std::string::npos;
  }
  EXPECT_TRUE(found) << "the metrics file lacks what finish_metrics added";
}

}  // namespace
}  // namespace dl::loader
