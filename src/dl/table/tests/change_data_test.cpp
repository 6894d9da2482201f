// The change data feed on real local Delta tables with the real DuckDB engine: which commits
// get cdc files and what they hold (writes with rewrites, deletes with and without deletion
// vectors), and ChangeFeed reading them back, with the bad ranges refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/delta/commit_range.hpp"
#include "dl/table/table.hpp"
#include "dl/table/tests/table_test_base.hpp"

namespace dl::table {
namespace {

using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::optional<std::string>>>;

class ChangeDataTest : public TableTestBase {
 protected:
  // Creates the table with the change data feed on (and deletion vectors when asked).
  void Create(const std::string& sql, bool deletion_vectors = false,
              std::vector<std::string> partition_by = {}) {
    WriteRequest req;
    req.source_sql = sql;
    req.configuration = {{"delta.enableChangeDataFeed", "true"}};
    if (deletion_vectors) req.configuration["delta.enableDeletionVectors"] = "true";
    req.partition_by = std::move(partition_by);
    auto w = Write(*ctx_, root_, req);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
  }

  std::shared_ptr<const delta::Snapshot> Snap() {
    auto s = LoadSnapshot(*ctx_, root_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  // A copy-on-write update, as merge does it: the files holding `where` are rewritten with
  // `set` applied to those rows.
  Result<WriteResult> Update(const std::string& set, const std::string& where,
                             std::vector<std::string> keys = {"id"}) {
    auto snapshot = Snap();
    DL_RETURN_IF_ERROR(engine_->RegisterSnapshot("cur", *snapshot));
    WriteRequest req;
    req.source_sql = fmt::format(
        "SELECT id, CASE WHEN {0} THEN {1} ELSE v END AS v FROM cur", where, set);
    req.read_snapshot = snapshot;
    req.reads_table = true;
    req.rewritten_files = snapshot->files();
    req.change_keys = std::move(keys);
    req.operation = "MERGE";
    return Write(*ctx_, root_, req);
  }

  // The cdc actions of commit `version`.
  std::vector<delta::AddCdcFile> CdcOf(int64_t version) {
    auto range = delta::ReadCommitRange(*fs_, root_, version - 1, version);
    EXPECT_TRUE(range.ok()) << range.status().ToString();
    std::vector<delta::AddCdcFile> out;
    if (!range.ok()) return out;
    for (const auto& a : range->commits.at(0).actions) {
      if (const auto* c = std::get_if<delta::AddCdcFile>(&a)) out.push_back(*c);
    }
    return out;
  }

  // ChangeFeed's rows as (version, change type, id, v), ordered.
  Result<Rows> Changes(int64_t from, std::optional<int64_t> to = {}) {
    DL_ASSIGN_OR_RETURN(std::string sql, ChangeFeed(*ctx_, root_, from, to));
    DL_ASSIGN_OR_RETURN(auto rows, engine_->Query(fmt::format(
                                       "SELECT _commit_version, _change_type, id, v FROM ({}) "
                                       "ORDER BY ALL",
                                       sql)));
    return rows.rows;
  }
};

TEST_F(ChangeDataTest, ANewTableWithTheFeedGetsTheChangeDataFeedFeature) {
  Create("SELECT 1::BIGINT AS id, 'a' AS v");
  auto snapshot = Snap();
  ASSERT_TRUE(snapshot);
  EXPECT_GE(snapshot->protocol().min_writer_version, 4);
  EXPECT_TRUE(CdcOf(0).empty());  // inserts only: readers take the adds
}

TEST_F(ChangeDataTest, ARewriteRecordsUpdatesAndLeavesCopiedRowsOut) {
  Create("SELECT i::BIGINT AS id, 'v' || i AS v FROM range(1, 4) t(i)");
  auto w = Update("'new'", "id = 2");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto cdc = CdcOf(1);
  ASSERT_FALSE(cdc.empty());
  EXPECT_THAT(cdc.at(0).path, ::testing::StartsWith("_change_data/"));
  EXPECT_FALSE(cdc.at(0).data_change);
  auto rows = Changes(1);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{{"1", "update_postimage", "2", "new"}, {"1", "update_preimage", "2", "v2"}}));
}

TEST_F(ChangeDataTest, WithoutKeysARewriteIsDeletesAndInserts) {
  Create("SELECT i::BIGINT AS id, 'v' || i AS v FROM range(1, 3) t(i)");
  auto w = Update("'x'", "id = 1", {});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto rows = Changes(1, 1);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{{"1", "delete", "1", "v1"}, {"1", "insert", "1", "x"}}));
}

TEST_F(ChangeDataTest, ARewriteThatChangesNothingIsNoDataChange) {
  Create("SELECT i::BIGINT AS id, 'v' || i AS v FROM range(1, 3) t(i)");
  auto w = Update("v", "id = 1");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(CdcOf(1).empty());
  auto rows = Changes(1);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_TRUE(rows->empty());
}

TEST_F(ChangeDataTest, DeletesWithAndWithoutDeletionVectorsRecordTheDeletedRows) {
  for (bool dv : {false, true}) {
    SCOPED_TRACE(dv ? "deletion vectors" : "copy-on-write");
    root_ = dir_ / (dv ? "dv" : "cow");
    Create("SELECT i::BIGINT AS id, 'v' || i AS v FROM range(1, 5) t(i)", dv);
    auto d = DeleteWhere(*ctx_, root_, "id IN (2, 3)");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_FALSE(CdcOf(1).empty());
    auto rows = Changes(0);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(*rows, (Rows{{"0", "insert", "1", "v1"},
                           {"0", "insert", "2", "v2"},
                           {"0", "insert", "3", "v3"},
                           {"0", "insert", "4", "v4"},
                           {"1", "delete", "2", "v2"},
                           {"1", "delete", "3", "v3"}}));
  }
}

TEST_F(ChangeDataTest, AnOverwriteIsReadFromItsAddsAndRemoves) {
  Create("SELECT i::BIGINT AS id, 'v' || i AS v, i % 2 AS p FROM range(1, 5) t(i)", false, {"p"});
  WriteRequest req;
  req.source_sql = "SELECT 9::BIGINT AS id, 'nine' AS v, 1::BIGINT AS p";
  req.mode = WriteMode::kOverwrite;
  req.dynamic_partition_overwrite = true;
  auto w = Write(*ctx_, root_, req);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE(CdcOf(1).empty());
  auto rows = Changes(1);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (Rows{{"1", "delete", "1", "v1"},
                         {"1", "delete", "3", "v3"},
                         {"1", "insert", "9", "nine"}}));
}

TEST_F(ChangeDataTest, RangesOutsideTheTableOrTheFeedAreRefusedNamingTheVersion) {
  Create("SELECT 1::BIGINT AS id, 'a' AS v");
  auto past = Changes(3);
  EXPECT_EQ(past.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(past.status().message(), HasSubstr("no version 3"));
  EXPECT_EQ(Changes(0, 5).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Changes(-1).status().code(), StatusCode::kInvalidArgument);

  root_ = dir_ / "plain";
  WriteRequest req;
  req.source_sql = "SELECT 1::BIGINT AS id, 'a' AS v";
  ASSERT_TRUE(Write(*ctx_, root_, req).ok());
  auto off = Changes(0);
  EXPECT_EQ(off.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(off.status().message(), HasSubstr("not enabled at version 0"));
  EXPECT_THAT(off.status().message(), HasSubstr(root_));
}

}  // namespace
}  // namespace dl::table
