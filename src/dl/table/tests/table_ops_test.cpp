// The table operations on a real local Delta table with the real DuckDB engine: write (create,
// append, overwrite, idempotent txn, schema evolution, conflicts), delete, optimize, vacuum,
// restore and history, checked through the log and the rows a scan returns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/delta/log_segment.hpp"
#include "dl/table/table.hpp"
#include "dl/table/tests/table_test_base.hpp"

namespace dl::table {
namespace {

using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::optional<std::string>>>;

class TableOpsTest : public TableTestBase {
 protected:
  Result<WriteResult> Put(const std::string& sql, WriteRequest request = {}) {
    request.source_sql = sql;
    return Write(*ctx_, root_, request);
  }

  std::shared_ptr<const delta::Snapshot> Snap(std::optional<int64_t> version = {}) {
    auto s = LoadSnapshot(*ctx_, root_, version);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  // The table's rows at `version` (latest when unset), as `select` over view t, ordered.
  Rows Scan(const std::string& select = "id, v", std::optional<int64_t> version = {}) {
    auto snapshot = Snap(version);
    if (!snapshot) return {};
    Status st = engine_->RegisterSnapshot("t", *snapshot);
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto rows = engine_->Query("SELECT " + select + " FROM t ORDER BY ALL");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->rows : Rows{};
  }

  static Rows R(std::initializer_list<std::vector<std::optional<std::string>>> rows) {
    return Rows(rows);
  }
};

TEST_F(TableOpsTest, CreatesThenAppendsAndKeepsEachVersion) {
  auto created = Put("SELECT 1::BIGINT AS id, 'a' AS v");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->created);
  EXPECT_EQ(created->version, 0);
  EXPECT_EQ(created->rows_written, 1);
  auto appended = Put("SELECT 2::BIGINT AS id, 'b' AS v");
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_FALSE(appended->created);
  EXPECT_EQ(appended->version, 1);

  EXPECT_EQ(Scan(), R({{"1", "a"}, {"2", "b"}}));
  EXPECT_EQ(Scan("id, v", 0), R({{"1", "a"}}));
  auto history = History(*ctx_, root_);
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(history->at(0).version, 1);  // newest first
  EXPECT_EQ(history->at(1).commit_info["operation"], "WRITE");
  auto limited = History(*ctx_, root_, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);
}

TEST_F(TableOpsTest, ATxnAlreadyAppliedIsSkipped) {
  WriteRequest request;
  request.txn = delta::SetTransaction{"loader/app", 1, {}};
  ASSERT_TRUE(Put("SELECT 1::BIGINT AS id, 'a' AS v", request).ok());
  auto again = Put("SELECT 1::BIGINT AS id, 'a' AS v", request);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->skipped);
  EXPECT_EQ(again->version, -1);
  request.txn->version = 2;
  auto next = Put("SELECT 2::BIGINT AS id, 'b' AS v", request);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_FALSE(next->skipped);
  EXPECT_EQ(Scan(), R({{"1", "a"}, {"2", "b"}}));
  EXPECT_EQ(Snap()->TxnVersion("loader/app"), 2);
}

TEST_F(TableOpsTest, OverwriteReplacesAllRowsOrOnlyTheTouchedPartitions) {
  WriteRequest partitioned;
  partitioned.partition_by = {"v"};
  ASSERT_TRUE(Put("SELECT * FROM (VALUES (1::BIGINT, 'a'), (2, 'b'), (3, 'b')) t(id, v)",
                  partitioned)
                  .ok());
  WriteRequest dynamic;
  dynamic.mode = WriteMode::kOverwrite;
  dynamic.dynamic_partition_overwrite = true;
  auto r = Put("SELECT 9::BIGINT AS id, 'b' AS v", dynamic);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Scan(), R({{"1", "a"}, {"9", "b"}}));

  WriteRequest full;
  full.mode = WriteMode::kOverwrite;
  ASSERT_TRUE(Put("SELECT 5::BIGINT AS id, 'c' AS v", full).ok());
  EXPECT_EQ(Scan(), R({{"5", "c"}}));
  EXPECT_EQ(Snap()->partition_columns(), std::vector<std::string>{"v"});
}

TEST_F(TableOpsTest, NewColumnsNeedSchemaEvolution) {
  ASSERT_TRUE(Put("SELECT 1::BIGINT AS id, 'a' AS v").ok());
  auto refused = Put("SELECT 2::BIGINT AS id, 'b' AS v, 7 AS extra");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("extra"));
  EXPECT_EQ(Snap()->version(), 0);  // nothing committed

  WriteRequest evolve;
  evolve.schema_evolution = SchemaEvolution::kAddNewColumns;
  auto r = Put("SELECT 2::BIGINT AS id, 'b' AS v, 7 AS extra", evolve);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->schema_changed);
  EXPECT_EQ(Scan("id, v, extra"), R({{"1", "a", std::nullopt}, {"2", "b", "7"}}));
}

// Rows computed from the table (dedup against it) must not be committed past a concurrent
// change they did not see.
TEST_F(TableOpsTest, AWriteThatReadTheTableConflictsWithAConcurrentAppend) {
  ASSERT_TRUE(Put("SELECT 1::BIGINT AS id, 'a' AS v").ok());
  auto seen = Snap();
  ASSERT_TRUE(Put("SELECT 2::BIGINT AS id, 'b' AS v").ok());  // the other writer

  WriteRequest request;
  request.reads_table = true;
  request.read_snapshot = seen;
  auto r = Put("SELECT 3::BIGINT AS id, 'c' AS v", request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict) << r.status().ToString();
  EXPECT_EQ(Scan(), R({{"1", "a"}, {"2", "b"}}));

  request.reads_table = false;  // a blind append goes past it
  ASSERT_TRUE(Put("SELECT 3::BIGINT AS id, 'c' AS v", request).ok());
  EXPECT_EQ(Scan().size(), 3u);
}

TEST_F(TableOpsTest, DeleteRewritesOnlyTheFilesHoldingMatchingRows) {
  ASSERT_TRUE(Put("SELECT * FROM (VALUES (1::BIGINT, 'a'), (2, 'b')) t(id, v)").ok());
  ASSERT_TRUE(Put("SELECT 3::BIGINT AS id, 'c' AS v").ok());
  auto r = DeleteWhere(*ctx_, root_, "id = 1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files_removed, 1);
  EXPECT_EQ(r->files_added, 1);
  EXPECT_EQ(Scan(), R({{"2", "b"}, {"3", "c"}}));

  auto none = DeleteWhere(*ctx_, root_, "id = 42");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->files_removed, 0);
}

TEST_F(TableOpsTest, RestoreMakesAnOlderVersionCurrentInANewCommit) {
  ASSERT_TRUE(Put("SELECT 1::BIGINT AS id, 'a' AS v").ok());
  ASSERT_TRUE(Put("SELECT 2::BIGINT AS id, 'b' AS v").ok());
  auto r = Restore(*ctx_, root_, 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(Scan(), R({{"1", "a"}}));
  EXPECT_FALSE(Restore(*ctx_, root_, 7).ok());
}

TEST_F(TableOpsTest, OptimizeCompactsAndVacuumDeletesOnlyWhatNoVersionNeedsAnyMore) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Put("SELECT " + std::to_string(i) + "::BIGINT AS id, 'x' AS v").ok());
  }
  auto optimized = Optimize(*ctx_, root_, {});
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->files_removed, 3);
  EXPECT_EQ(optimized->files_added, 1);
  EXPECT_EQ(Snap()->files().size(), 1u);
  EXPECT_EQ(Scan(), R({{"0", "x"}, {"1", "x"}, {"2", "x"}}));
  auto again = Optimize(*ctx_, root_, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, -1);  // nothing left to compact

  // The default retention keeps the replaced files; a zero retention needs force.
  auto kept = Vacuum(*ctx_, root_, {.dry_run = true});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_TRUE(kept->files.empty());
  EXPECT_FALSE(Vacuum(*ctx_, root_, {.dry_run = true, .retention_hours = 0}).ok());
  auto listed = Vacuum(*ctx_, root_, {.dry_run = true, .retention_hours = 0, .force = true});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->files.size(), 3u);
  auto vacuumed = Vacuum(*ctx_, root_, {.retention_hours = 0, .force = true});
  ASSERT_TRUE(vacuumed.ok()) << vacuumed.status().ToString();
  EXPECT_EQ(vacuumed->files.size(), 3u);
  EXPECT_EQ(Scan(), R({{"0", "x"}, {"1", "x"}, {"2", "x"}}));
}

TEST_F(TableOpsTest, ATableIsNotCreatedInsideAnotherOrOverForeignFiles) {
  ASSERT_TRUE(Put("SELECT 1::BIGINT AS id, 'a' AS v").ok());
  Status nested = CheckNotNested(*fs_, root_ + "/inner");
  EXPECT_EQ(nested.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(nested.message(), HasSubstr(root_));
  EXPECT_TRUE(CheckNotNested(*fs_, dir_ / "other").ok());

  dl::testing::WriteFile(dir_ / "docs/readme.txt", "not a table");
  EXPECT_FALSE(CheckCanCreateAt(*fs_, dir_ / "docs").ok());
  EXPECT_TRUE(CheckCanCreateAt(*fs_, dir_ / "empty").ok());
}

}  // namespace
}  // namespace dl::table
