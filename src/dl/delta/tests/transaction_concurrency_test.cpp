// Concurrent writers on one table (threads and processes) and commit-time checkpoints.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "dl/delta/maintenance.hpp"
#include "dl/delta/tests/txn_test_util.hpp"
#include "dl/delta/transaction.hpp"

namespace dl::delta {
namespace {

using test_util::CreateTable;
using test_util::JsonLinesParquet;
using test_util::LoadLatest;
using test_util::MakeAdd;
using test_util::ReadCommitJson;
using test_util::TempDir;

class TransactionConcurrencyTest : public ::testing::Test {
 protected:
  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  TempDir dir_;
  std::string root_ = dir_.path() + "/table";
};

TEST_F(TransactionConcurrencyTest, ConcurrentThreadsAllLandWithDistinctVersions) {
  CreateTable(*fs_, root_);
  auto snap = LoadLatest(*fs_, root_);
  constexpr int kThreads = 16;
  std::vector<Result<CommitResult>> results(kThreads, Status::Internal("not run"));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto fs = MakeLocalFileSystem();  // one per writer, as separate loaders would have
      Transaction txn(*fs, nullptr, root_, snap);
      txn.Add(MakeAdd(fmt::format("part-{:03d}.parquet", i)));
      while (!go.load()) std::this_thread::yield();
      CommitOptions options;
      options.max_retries = kThreads;
      options.base_backoff_ms = 1;
      results[i] = txn.Commit(options);
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  std::set<int64_t> versions;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    versions.insert(r->version);
  }
  EXPECT_EQ(versions.size(), static_cast<size_t>(kThreads));
  EXPECT_EQ(*versions.begin(), 1);
  EXPECT_EQ(*versions.rbegin(), kThreads);
  auto latest = LoadLatest(*fs_, root_);
  EXPECT_EQ(latest->version(), kThreads);
  EXPECT_EQ(latest->files().size(), static_cast<size_t>(kThreads));
  // No temp files left behind by put-if-absent.
  auto listing = fs_->List(LogDir(root_));
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->size(), static_cast<size_t>(kThreads + 1));
}

TEST_F(TransactionConcurrencyTest, ConcurrentProcessesAllLand) {
  CreateTable(*fs_, root_);
  constexpr int kProcesses = 4;
  constexpr int kCommitsEach = 5;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto fs = MakeLocalFileSystem();
      int failures = 0;
      for (int c = 0; c < kCommitsEach; ++c) {
        auto snap = Snapshot::Load(*fs, nullptr, root_);
        if (!snap.ok()) {
          ++failures;
          continue;
        }
        Transaction txn(*fs, nullptr, root_, *snap);
        txn.Add(MakeAdd(fmt::format("p{}-c{}.parquet", p, c)));
        CommitOptions options;
        options.max_retries = kProcesses * kCommitsEach;
        if (!txn.Commit(options).ok()) ++failures;
      }
      ::_exit(failures);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto latest = LoadLatest(*fs_, root_);
  EXPECT_EQ(latest->version(), kProcesses * kCommitsEach);
  EXPECT_EQ(latest->files().size(), static_cast<size_t>(kProcesses * kCommitsEach));
}

TEST_F(TransactionConcurrencyTest, WritesCheckpointAtTheInterval) {
  JsonLinesParquet parquet;
  CreateTable(*fs_, root_, {}, {{"delta.checkpointInterval", "3"}});
  for (int v = 1; v <= 4; ++v) {
    Transaction txn(*fs_, &parquet, root_, LoadLatest(*fs_, root_, &parquet));
    txn.Add(MakeAdd(fmt::format("f{}.parquet", v)));
    auto r = txn.Commit();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->checkpoint_written, v == 3) << v;
  }
  EXPECT_EQ(parquet.writes, 1);
  EXPECT_TRUE(*fs_->Exists(CheckpointPath(root_, 3)));
  auto last = fs_->Read(LastCheckpointPath(root_));
  ASSERT_TRUE(last.ok());
  auto j = nlohmann::json::parse(*last);
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["numOfAddFiles"], 3);
  EXPECT_EQ(j["size"], 5);  // protocol, metaData, 3 adds
  EXPECT_FALSE(j.contains("checksum"));
  // The table reads back through the checkpoint.
  auto latest = LoadLatest(*fs_, root_, &parquet);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->version(), 4);
  EXPECT_EQ(latest->files().size(), 4u);
  EXPECT_EQ(latest->log_segment().checkpoint_version, 3);
}

TEST_F(TransactionConcurrencyTest, DefaultIntervalIsTenAndNeedsAParquetHandler) {
  JsonLinesParquet parquet;
  CreateTable(*fs_, root_);
  for (int v = 1; v <= 10; ++v) {
    // Commits without a handler never checkpoint; the 10th has one.
    ParquetHandler* handler = v == 10 ? &parquet : nullptr;
    Transaction txn(*fs_, handler, root_, LoadLatest(*fs_, root_));
    txn.Add(MakeAdd(fmt::format("f{}.parquet", v)));
    auto r = txn.Commit();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->checkpoint_written, v == 10) << v;
  }
  EXPECT_TRUE(*fs_->Exists(CheckpointPath(root_, 10)));
}

TEST_F(TransactionConcurrencyTest, CheckpointFailureDoesNotFailTheCommit) {
  JsonLinesParquet parquet;
  parquet.fail_writes = true;
  CreateTable(*fs_, root_, {}, {{"delta.checkpointInterval", "1"}});
  Transaction txn(*fs_, &parquet, root_, LoadLatest(*fs_, root_));
  txn.Add(MakeAdd("f.parquet"));
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 1);
  EXPECT_FALSE(r->checkpoint_written);
  EXPECT_EQ(parquet.writes, 1);
  EXPECT_FALSE(*fs_->Exists(LastCheckpointPath(root_)));
  EXPECT_EQ(ReadCommitJson(*fs_, root_, 1).size(), 2u);
}

}  // namespace
}  // namespace dl::delta
