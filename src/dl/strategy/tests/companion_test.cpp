#include "dl/strategy/companion.hpp"

#include <gtest/gtest.h>

#include "dl/delta/transaction.hpp"
#include "dl/strategy/source_position.hpp"
#include "dl/strategy/tests/strategy_test_util.hpp"

namespace dl::strategy {
namespace {

// A crash between a target commit and its quarantine's: the files are written and recorded
// in the target commit, the quarantine's own commit never made.
class CompanionTest : public StrategyTest {
 protected:
  table::TableContext ctx() { return table::TableContext{*fs_, *engine_}; }

  void CommitWithQuarantineLeftBehind() {
    auto c = ctx();
    auto files = WriteCompanionFiles(c, "quarantine", QuarantineRoot(root()), nullptr,
                                     "SELECT 7::BIGINT AS id, 'bad id' AS _quarantine_reason");
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    delta::LoaderCommitInfo info;
    info.batch_id = NewUuid();
    RecordCompanion(info, *files);
    delta::Transaction tx(*fs_, engine_.get(), root(), Snapshot());
    tx.Add(delta::SetTransaction{"data_loader/merge/db.t", 1, NowMs()});
    tx.SetCommitInfoField(delta::kLoaderCommitInfoKey, info.ToJson());
    auto committed = tx.Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  }
  // `n` txn-only commits, as other writers' commits after the crash.
  void CommitOthers(int n) {
    auto c = ctx();
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(CommitSourceVersion(c, root(), "data_loader/source/other", i).ok());
    }
  }
  Status RollForward() {
    auto c = ctx();
    auto target = Snapshot();
    if (!target) return Status::Internal("no target");
    return RollForwardCompanion(c, *target, "quarantine", QuarantineRoot(root()));
  }
  bool QuarantineExists() {
    auto c = ctx();
    auto q = LoadCompanion(c, QuarantineRoot(root()));
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() && *q;
  }
};

TEST_F(CompanionTest, FilesBehindManyLaterCommitsAreRolledForwardOnce) {
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  CommitWithQuarantineLeftBehind();
  CommitOthers(150);
  EXPECT_FALSE(QuarantineExists());
  auto r = RollForward();
  ASSERT_TRUE(r.ok()) << r.ToString();
  EXPECT_EQ(Query(QuarantineRoot(root()), "SELECT id, _quarantine_reason FROM tbl"),
            (Rows{{"7", "bad id"}}));
  auto quarantine = Snapshot(QuarantineRoot(root()));
  ASSERT_TRUE(quarantine);
  ASSERT_TRUE(RollForward().ok());  // held already: nothing committed
  EXPECT_EQ(Snapshot(QuarantineRoot(root()))->version(), quarantine->version());
}

TEST_F(CompanionTest, ATargetWithoutLoaderCommitsHasNothingToRollForward) {
  CreateForeignTable();
  CommitOthers(20);
  auto r = RollForward();
  ASSERT_TRUE(r.ok()) << r.ToString();
  EXPECT_FALSE(QuarantineExists());
}

}  // namespace
}  // namespace dl::strategy
