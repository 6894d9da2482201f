#include "dl/strategy/source_position.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "dl/common/clock.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/maintenance.hpp"
#include "dl/delta/transaction.hpp"
#include "dl/strategy/tests/strategy_test_util.hpp"

namespace dl::strategy {
namespace {

constexpr const char* kApp = "data_loader/source/src-id";

class SourcePositionTest : public StrategyTest {
 protected:
  // A commit as Spark makes it for a Delta source's batch: the table's txn, our metadata
  // naming the source version loaded.
  void CommitAsSpark(int64_t txn, int64_t source_version) {
    delta::Transaction tx(*fs_, engine_.get(), root(), Snapshot());
    tx.Add(delta::SetTransaction{"data_loader/append/db.t", txn, NowMs()});
    delta::LoaderCommitInfo info;
    info.batch_id = NewUuid();
    info.delta_source = delta::DeltaSourceVersion{kApp, source_version};
    tx.SetCommitInfoField("userMetadata", info.ToUserMetadata());
    ASSERT_TRUE(tx.Commit().ok());
  }
  std::optional<int64_t> Recorded(const std::string& app_id = kApp) {
    table::TableContext ctx{*fs_, *engine_};
    auto r = RecordedSourceVersion(ctx, *Snapshot(), app_id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }
  Status Commit(int64_t version, const std::string& app_id = kApp) {
    table::TableContext ctx{*fs_, *engine_};
    return CommitSourceVersion(ctx, root(), app_id, version);
  }
  // `n` txn-only commits of other sources' loaders (as many other writers' commits).
  void CommitOthers(int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(Commit(i, "data_loader/source/other" + std::to_string(i % 3)).ok());
    }
  }
};

TEST_F(SourcePositionTest, TheLatestLoaderCommitsSourceVersionIsRolledForwardOnce) {
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  EXPECT_EQ(Recorded(), std::nullopt);  // a loader commit that names no source version
  CommitAsSpark(1, 4);
  EXPECT_EQ(Recorded(), 4);
  EXPECT_EQ(Recorded("data_loader/source/other"), std::nullopt);
  ASSERT_TRUE(Commit(4).ok());
  auto snap = Snapshot();
  EXPECT_EQ(snap->TxnVersion(kApp), 4);
  // Our txn commit is not a loader commit: the Spark commit before it is still the latest.
  EXPECT_EQ(Recorded(), 4);
  // The txn never goes back, and an equal version commits nothing.
  const int64_t version = snap->version();
  ASSERT_TRUE(Commit(4).ok());
  ASSERT_TRUE(Commit(3).ok());
  EXPECT_EQ(Snapshot()->version(), version);
  CommitAsSpark(2, 7);
  EXPECT_EQ(Recorded(), 7);
  ASSERT_TRUE(Commit(7).ok());
  EXPECT_EQ(Snapshot()->TxnVersion(kApp), 7);
}

// A crash after Spark's commit, then more commits of others than any fixed walk back would
// read: the source version is still rolled forward, not loaded twice.
TEST_F(SourcePositionTest, AManyCommitsOldLoaderCommitIsStillRolledForward) {
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  CommitAsSpark(1, 4);
  CommitOthers(150);
  EXPECT_EQ(Recorded(), 4);
}

TEST_F(SourcePositionTest, ATableWithoutLoaderCommitsRecordsNothing) {
  CreateForeignTable();
  CommitOthers(20);
  EXPECT_EQ(Recorded(), std::nullopt);
}

// Log cleanup removed the loader commit (older than the log retention): nothing recorded is
// left to roll forward, and the search ends at the oldest commit kept.
TEST_F(SourcePositionTest, ALoaderCommitLogCleanupRemovedRecordsNothing) {
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  CommitAsSpark(1, 4);
  CommitOthers(30);  // checkpoints every 10 commits
  constexpr int64_t kDayMs = 24 * 3600 * 1000;
  auto cleaned = delta::CleanupExpiredLogs(*fs_, *Snapshot(), NowMs() + 31 * kDayMs);
  ASSERT_TRUE(cleaned.ok()) << cleaned.status().ToString();
  ASSERT_TRUE(std::find(cleaned->begin(), cleaned->end(), delta::CommitPath(root(), 1)) !=
              cleaned->end());
  EXPECT_EQ(Recorded(), std::nullopt);
}

}  // namespace
}  // namespace dl::strategy
