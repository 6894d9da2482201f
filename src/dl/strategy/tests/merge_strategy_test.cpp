// Merge (upsert) and overwrite's replace_where against real DuckDB and real Delta tables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "dl/delta/commit_range.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/strategy/bad_rows.hpp"
#include "dl/strategy/merge_strategy.hpp"
#include "dl/strategy/tests/strategy_test_util.hpp"

namespace dl::strategy {
namespace {

using ::testing::HasSubstr;

class MergeTest : public StrategyTest {
 protected:
  void SetUp() override {
    StrategyTest::SetUp();
    table_.loading_strategy = config::LoadingStrategy::kMerge;
    table_.primary_keys = {"id"};
    table_.audit_columns.enabled = false;
  }

  // Load one csv file as its own batch; the test fails if it does not load.
  BatchOutcome MustLoad(const std::string& name, const std::string& content) {
    auto r = Load({Write(name, content)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : BatchOutcome{};
  }

  // "id:name" per row, by id.
  std::vector<std::string> Table(const std::string& cols = "id || ':' || name") {
    std::vector<std::string> out;
    for (const auto& r : Query("SELECT " + cols + " FROM tbl ORDER BY id")) {
      out.push_back(r.at(0).value_or("NULL"));
    }
    return out;
  }

  // `attempt()` again while it loses a commit race (at most 20 times); its last result.
  template <typename F>
  static auto UntilNoConflict(F attempt) {
    auto r = attempt();
    for (int i = 1; i < 20 && !r.ok() && r.status().code() == StatusCode::kCommitConflict; ++i) {
      r = attempt();
    }
    return r;
  }

  std::set<std::string> LivePaths() {
    std::set<std::string> out;
    auto snap = Snapshot();  // keeps the file list alive through the loop
    for (const auto& f : snap->files()) out.insert(f.path);
    return out;
  }

  // Commit `version` as the loader reads it back.
  delta::Commit ReadCommit(int64_t version) {
    auto range = delta::ReadCommitRange(*fs_, root(), version - 1, version);
    EXPECT_TRUE(range.ok()) << range.status().ToString();
    return range.ok() && !range->commits.empty() ? std::move(range->commits[0]) : delta::Commit{};
  }
  delta::LoaderCommitInfo Loaded(int64_t version) {
    auto info = delta::LoaderCommitInfo::Of(ReadCommit(version).actions);
    EXPECT_TRUE(info.ok() && *info) << version;
    return info.ok() && *info ? std::move(**info) : delta::LoaderCommitInfo{};
  }
  delta::MergeStats Merged(int64_t version) {
    auto merge = Loaded(version).merge;
    EXPECT_TRUE(merge) << version;
    return merge.value_or(delta::MergeStats{});
  }
};

TEST_F(MergeTest, InsertsNewKeysAndUpdatesMatchedOnes) {
  MustLoad("a.csv", "id,name\n1,a\n2,b\n");
  auto r = MustLoad("b.csv", "id,name\n2,B\n3,c\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "2:B", "3:c"));
  EXPECT_EQ(r.write.rows_written, 2);  // one update, one insert
  EXPECT_EQ(ReadCommit(1).commit_info()->operation(), "MERGE");
  EXPECT_EQ(Merged(1).inserted, 1);
  EXPECT_EQ(Merged(1).updated, 1);
}

TEST_F(MergeTest, RewritesOnlyTheFilesHoldingChangedKeys) {
  MustLoad("a.csv", "id,name\n1,a\n2,b\n");
  MustLoad("b.csv", "id,name\n10,x\n11,y\n");
  auto before = LivePaths();
  ASSERT_EQ(before.size(), 2u);
  auto r = MustLoad("c.csv", "id,name\n11,Y\n20,z\n");
  auto after = LivePaths();
  // The file of ids 1, 2 is untouched; the one holding 11 was replaced.
  std::vector<std::string> kept;
  for (const auto& p : before) {
    if (after.count(p)) kept.push_back(p);
  }
  EXPECT_EQ(kept.size(), 1u);
  EXPECT_EQ(r.write.files_removed, 1);
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "2:b", "10:x", "11:Y", "20:z"));
  EXPECT_EQ(Merged(2).rewritten_files, 1);
}

TEST_F(MergeTest, UnchangedTableFilesAreNotRewrittenForInsertsOnly) {
  MustLoad("a.csv", "id,name\n1,a\n");
  auto r = MustLoad("b.csv", "id,name\n2,b\n");
  EXPECT_EQ(r.write.files_removed, 0);
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "2:b"));
}

TEST_F(MergeTest, SeveralRowsPerKeyLastDeliveredWins) {
  MustLoad("a.csv", "id,name\n1,a\n");
  auto f1 = Write("b1.csv", "id,name\n1,first\n2,x1\n2,x2\n");
  auto f2 = Write("b2.csv", "id,name\n1,second\n");
  auto r = Load({f1, f2});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:second", "2:x2"));
  EXPECT_EQ(Merged(1).collapsed_duplicates, 2);
}

TEST_F(MergeTest, SequenceColumnPicksTheLatestOfSeveralRows) {
  table_.sequence_column = "seq";
  auto f1 = Write("b1.csv", "id,name,seq\n1,new,5\n");
  auto f2 = Write("b2.csv", "id,name,seq\n1,old,3\n");
  ASSERT_TRUE(Load({f1, f2}).ok());
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:new"));
}

TEST_F(MergeTest, DeleteConditionDeletesMatchedRowsAndInsertsNothing) {
  table_.delete_condition = "op = 'D'";
  MustLoad("a.csv", "id,name,op\n1,a,U\n2,b,U\n");
  MustLoad("b.csv", "id,name,op\n1,a,D\n3,c,D\n4,d,U\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("2:b", "4:d"));
  auto merge = Merged(1);
  EXPECT_EQ(merge.deleted, 1);
  EXPECT_EQ(merge.inserted, 1);
}

TEST_F(MergeTest, MergeConditionGuardsUpdatesAndDeletes) {
  table_.merge_condition = "source.ts > target.ts";
  table_.delete_condition = "source.op = 'D'";
  MustLoad("a.csv", "id,name,ts,op\n1,a,10,U\n2,b,10,U\n3,c,10,U\n");
  MustLoad("b.csv", "id,name,ts,op\n1,stale,5,U\n2,fresh,20,U\n3,gone,5,D\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "2:fresh", "3:c"));
  EXPECT_EQ(Merged(1).unchanged, 2);
}

TEST_F(MergeTest, UpdateColumnsAndExceptColumnsLimitWhatAnUpdateWrites) {
  table_.update_columns = {"name"};
  MustLoad("a.csv", "id,name,city\n1,a,x\n");
  MustLoad("b.csv", "id,name,city\n1,b,y\n");
  EXPECT_THAT(Table("id || name || city"), ::testing::ElementsAre("1bx"));
  table_.update_columns.clear();
  table_.except_columns = {"name"};
  MustLoad("c.csv", "id,name,city\n1,c,z\n2,n,w\n");
  EXPECT_THAT(Table("id || name || city"), ::testing::ElementsAre("1bz", "2nw"));
}

TEST_F(MergeTest, WhenNotMatchedBySourceDeleteKeepsOnlyTheBatchKeys) {
  MustLoad("a.csv", "id,name\n1,a\n2,b\n3,c\n");
  table_.when_not_matched_by_source = config::WhenNotMatchedBySource::kDelete;
  auto r = MustLoad("b.csv", "id,name\n2,B\n4,d\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("2:B", "4:d"));
  EXPECT_EQ(Merged(1).deleted, 2);
  EXPECT_EQ(r.write.files_removed, 1);
}

TEST_F(MergeTest, NewSourceColumnsAreAddedToTheTable) {
  MustLoad("a.csv", "id,name,amount\n1,a,1.5\n2,b,2.5\n");
  MustLoad("b.csv", "id,name,amount,extra\n2,B,3.25,e\n");
  table_.except_columns = {"extra"};  // the inserted row has it, the updated one does not
  MustLoad("c.csv", "id,name,amount,extra\n1,A,1.5,x\n3,c,1.5,y\n");
  EXPECT_THAT(Table("id || name || amount || coalesce(extra, '-')"),
              ::testing::ElementsAre("1A1.5-", "2B3.25e", "3c1.5y"));
}

TEST_F(MergeTest, PartitionedTableRewritesOnlyTheChangedPartitionsFiles) {
  table_.partition_columns = {"region"};
  MustLoad("a.csv", "id,name,region\n1,a,eu\n2,b,us\n3,c,us\n");
  auto r = MustLoad("b.csv", "id,name,region\n1,A,eu\n");
  EXPECT_EQ(r.write.files_removed, 1);
  EXPECT_EQ(r.write.files_added, 1);
  // An update may move a row to another partition.
  r = MustLoad("c.csv", "id,name,region\n2,B,eu\n");
  EXPECT_EQ(r.write.files_removed, 1);
  EXPECT_THAT(Table("id || name || region"), ::testing::ElementsAre("1Aeu", "2Beu", "3cus"));
}

TEST_F(MergeTest, BatchThatChangesNothingStillCommitsItsSourceFiles) {
  table_.delete_condition = "op = 'D'";
  MustLoad("a.csv", "id,name,op\n1,a,U\n");
  auto r = MustLoad("b.csv", "id,name,op\n5,x,D\n");  // deletes a key the table lacks
  EXPECT_EQ(r.write.files_removed, 0);
  EXPECT_EQ(r.write.files_added, 0);
  EXPECT_EQ(r.write.rows_written, 0);
  EXPECT_EQ(r.write.version, 1);  // the commit records b.csv as loaded
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a"));
}

TEST_F(MergeTest, NullKeysFailTheBatchNamingColumnAndCount) {
  MustLoad("a.csv", "id,name\n1,a\n");
  auto bad = Write("b.csv", "id,name\n,x\n,y\n2,b\n");
  auto r = Load({bad});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("2 rows with NULL in primary_keys column 'id'"));
  EXPECT_THAT(r.status().message(), HasSubstr(bad));
  EXPECT_EQ(Snapshot()->version(), 0);
}

TEST_F(MergeTest, QuarantinedRowsGoToTheQuarantineTable) {
  table_.on_bad_rows = config::OnBadRows::kQuarantine;
  MustLoad("a.csv", "id,name\n1,a\n,x\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a"));
  table::TableContext ctx{*fs_, *engine_};
  auto q = table::LoadSnapshot(ctx, root() + "_quarantine");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_TRUE(engine_->RegisterSnapshot("q", **q).ok());
  auto rows = engine_->Query("SELECT name, _quarantine_reason FROM q");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0], "x");
}

// On an engine that commits the target itself (Spark): the strategy gives it the quarantine
// table's column types, and refuses files that hold a narrower one than the table records
// (readers without type widening refuse or misread them) rather than committing them.
TEST_F(MergeTest, RemoteQuarantineHasTheTableTypesAndRefusesNarrowerFiles) {
  table_.on_bad_rows = config::OnBadRows::kQuarantine;
  MustLoad("a.csv", "id,name\n1,a\n,x\n");  // the quarantine table: id long (csv integers)
  table::TableContext ctx{*fs_, *engine_};
  Target target{table_, root(), "db.t"};
  auto q = RemoteQuarantine(ctx, target, delta::LoaderCommitInfo{});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_TRUE(q->has_value());
  const auto& columns = (*q)->columns;
  auto id = std::find_if(columns.begin(), columns.end(), [](auto& f) { return f.name == "id"; });
  ASSERT_NE(id, columns.end());
  EXPECT_EQ(id->type->ToString(), "long");

  // The engine's files as an uncast Spark would write them: id as int32.
  std::filesystem::create_directories((*q)->dir);
  const std::string file = (*q)->dir + "/part-0.parquet";
  auto copy = [&](const char* type) {
    return engine_->Query("COPY (SELECT CAST(NULL AS " + std::string(type) +
                          ") AS id, 'y' AS name) TO " + engine::QuoteLiteral(file) +
                          " (FORMAT parquet)");
  };
  ASSERT_TRUE(copy("INTEGER").ok());
  auto recorded = (*q)->record();
  ASSERT_FALSE(recorded.ok());
  EXPECT_EQ(recorded.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(recorded.status().message(), HasSubstr("column id of quarantine table"));
  EXPECT_THAT(recorded.status().message(),
              HasSubstr("t_quarantine as integer where the table has long"));
  // Cast up, as the engine must: recorded with the table's schema.
  ASSERT_TRUE(copy("BIGINT").ok());
  recorded = (*q)->record();
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_THAT(*recorded, HasSubstr("part-0.parquet"));
}

TEST_F(MergeTest, ConditionNamingAnUnknownColumnFailsBeforeAnythingIsWritten) {
  MustLoad("a.csv", "id,name\n1,a\n");
  table_.merge_condition = "source.nope > target.name";
  auto r = Load({Write("b.csv", "id,name\n1,b\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfig);
  EXPECT_THAT(r.status().message(), HasSubstr("merge_condition of db.t"));
  EXPECT_THAT(r.status().message(), HasSubstr("nope"));
  table_.merge_condition.reset();
  table_.delete_condition = "missing = 1";
  r = Load({Write("c.csv", "id,name\n1,b\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("delete_condition of db.t"));
  EXPECT_EQ(Snapshot()->version(), 0);
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a"));
}

TEST_F(MergeTest, RowsPerFileCountWhatEachFileBroughtIn) {
  table_.audit_columns.enabled = true;
  MustLoad("a.csv", "id,name\n1,a\n2,b\n");
  auto f = Write("b.csv", "id,name\n2,B\n3,c\n3,c2\n");
  auto r = Load({f});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_per_file.at(f), 2);
  EXPECT_THAT(Table("id || ':' || name || ':' || (_source_file = '" + f + "')"),
              ::testing::ElementsAre("1:a:false", "2:B:true", "3:c2:true"));
}

// Blind appends commit while merges run: a merge that loses the race is planned again against
// the new snapshot (or, past its bound, fails with CommitConflict and is retried here as the
// loader would). Nothing either writer committed may be lost.
TEST_F(MergeTest, ConcurrentCommitsNeverLoseRows) {
  MustLoad("a.csv", "id,name\n0,v0\n1,v0\n2,v0\n");
  std::thread appender([this] {
    auto fs = MakeLocalFileSystem();
    auto engine = engine::MakeDuckDbEngine();
    ASSERT_TRUE(engine.ok());
    table::TableContext ctx{*fs, **engine};
    for (int i = 0; i < 8; ++i) {
      table::WriteRequest req;
      req.source_sql = fmt::format("SELECT {}::BIGINT AS id, 'b' AS name", 100 + i);
      auto w = table::Write(ctx, root(), req);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
    }
  });
  for (int j = 1; j <= 8; ++j) {
    auto file = Write(fmt::format("m{}.csv", j), fmt::format("id,name\n{},v{}\n", j % 3, j));
    auto r = UntilNoConflict([&] { return Load({file}); });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  appender.join();
  EXPECT_THAT(Table(), ::testing::ElementsAre("0:v6", "1:v7", "2:v8", "100:b", "101:b", "102:b",
                                              "103:b", "104:b", "105:b", "106:b", "107:b"));
}

TEST_F(MergeTest, ReplanningIsBoundedAndNamesTheTable) {
  Target target{table_, root(), "db.t"};
  int calls = 0;
  auto r = internal::Replanning("merge", target, [&](bool* lost_race) -> Result<BatchOutcome> {
    ++calls;
    *lost_race = true;
    return Status::CommitConflict("commit conflicts with version {}", calls);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_THAT(r.status().message(), HasSubstr("merge into db.t conflicted"));
  EXPECT_EQ(calls, 4);
  // Other errors are not retried.
  calls = 0;
  r = internal::Replanning("merge", target, [&](bool*) -> Result<BatchOutcome> {
    ++calls;
    return Status::CommitConflict("txn taken");
  });
  EXPECT_EQ(calls, 1);
}

class ReplaceWhereTest : public MergeTest {
 protected:
  void SetUp() override {
    MergeTest::SetUp();
    table_.loading_strategy = config::LoadingStrategy::kAppend;  // to set the table up
    table_.primary_keys.clear();
  }

  void ReplaceWhere(const std::string& predicate) {
    table_.loading_strategy = config::LoadingStrategy::kOverwrite;
    table_.replace_where = predicate;
  }
};

TEST_F(ReplaceWhereTest, ReplacesMatchingRowsAndKeepsTheRest) {
  MustLoad("a.csv", "id,name,day\n1,a,1\n2,b,2\n");  // one file holding both days
  MustLoad("b.csv", "id,name,day\n3,c,3\n");          // a file no day-2 row is in
  auto untouched = LivePaths();
  ReplaceWhere("day = 2");
  auto r = MustLoad("c.csv", "id,name,day\n20,x,2\n21,y,2\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "3:c", "20:x", "21:y"));
  EXPECT_EQ(r.write.files_removed, 1);  // only the file holding day 2
  EXPECT_EQ(r.write.rows_written, 2);
  size_t still = 0;
  for (const auto& p : LivePaths()) still += untouched.count(p);
  EXPECT_EQ(still, 1u);
  auto replaced = Loaded(2).replace_where;
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->replaced_rows, 1);
  // Time travel to the previous version still sees the replaced rows.
  table::TableContext ctx{*fs_, *engine_};
  auto v1 = table::LoadSnapshot(ctx, root(), 1);
  ASSERT_TRUE(v1.ok());
  ASSERT_TRUE(engine_->RegisterSnapshot("v1", **v1).ok());
  auto old = engine_->Query("SELECT count(*) FROM v1 WHERE day = 2");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->rows[0][0], "1");
}

TEST_F(ReplaceWhereTest, RowsViolatingThePredicateFailTheBatch) {
  MustLoad("a.csv", "id,name,day\n1,a,1\n");
  ReplaceWhere("day = 2");
  auto r = Load({Write("b.csv", "id,name,day\n5,x,2\n6,y,3\n7,z,\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("2 of the batch's 3 rows"));
  EXPECT_THAT(r.status().message(), HasSubstr("day = 2"));
  EXPECT_EQ(Snapshot()->version(), 0);
}

TEST_F(ReplaceWhereTest, UnknownColumnIsAConfigError) {
  MustLoad("a.csv", "id,name,day\n1,a,1\n");
  ReplaceWhere("nope = 2");
  auto r = Load({Write("b.csv", "id,name,day\n5,x,2\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfig);
  EXPECT_THAT(r.status().message(), HasSubstr("replace_where of db.t"));
}

// With delta.enableDeletionVectors the table's files stay: changed rows are marked deleted
// and only their new versions are written.
class MergeDvTest : public MergeTest {
 protected:
  void SetUp() override {
    MergeTest::SetUp();
    table_.table_properties["delta.enableDeletionVectors"] = "true";
  }
  // The deletion vector cardinality of each live file that has one.
  std::vector<int64_t> DvCardinalities() {
    std::vector<int64_t> out;
    auto snap = Snapshot();
    for (const auto& f : snap->files()) {
      if (f.deletion_vector) out.push_back(f.deletion_vector->cardinality);
    }
    return out;
  }
};

TEST_F(MergeDvTest, UpdatesAndDeletesMarkRowsDeletedWithoutRewritingFiles) {
  table_.delete_condition = "op = 'D'";
  MustLoad("a.csv", "id,name,op\n1,a,U\n2,b,U\n3,c,U\n");
  auto before = LivePaths();
  auto r = MustLoad("b.csv", "id,name,op\n2,B,U\n3,c,D\n4,d,U\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "2:B", "4:d"));
  auto after = LivePaths();
  for (const auto& p : before) EXPECT_TRUE(after.count(p)) << p << " was rewritten";
  EXPECT_THAT(DvCardinalities(), ::testing::ElementsAre(2));
  auto merge = Merged(1);
  EXPECT_EQ(merge.rewritten_files, 0);
  EXPECT_EQ(merge.deletion_vector_files, 1);
  EXPECT_EQ(r.write.rows_written, 2);  // the update and the insert
}

TEST_F(MergeDvTest, LaterChangesGrowTheDeletionVectorAndKeepEarlierDeletes) {
  MustLoad("a.csv", "id,name\n1,a\n2,b\n3,c\n");
  MustLoad("b.csv", "id,name\n1,A\n");
  MustLoad("c.csv", "id,name\n2,B\n1,AA\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:AA", "2:B", "3:c"));
  // The first file hides 1 and 2; the second file (1:A) hides its only row, so it is gone.
  EXPECT_THAT(DvCardinalities(), ::testing::ElementsAre(2));
  EXPECT_EQ(LivePaths().size(), 2u);
}

TEST_F(MergeDvTest, MergeConditionThatFailsLeavesTheRowInPlace) {
  table_.merge_condition = "source.ts > target.ts";
  MustLoad("a.csv", "id,name,ts\n1,a,10\n2,b,10\n");
  MustLoad("b.csv", "id,name,ts\n1,stale,5\n2,fresh,20\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "2:fresh"));
  EXPECT_THAT(DvCardinalities(), ::testing::ElementsAre(1));
}

TEST_F(MergeDvTest, PropertyAddedToAnExistingTableTakesEffectFromTheNextBatch) {
  table_.table_properties.clear();
  MustLoad("a.csv", "id,name\n1,a\n2,b\n");
  table_.table_properties["delta.enableDeletionVectors"] = "true";
  MustLoad("b.csv", "id,name\n1,A\n");  // sets the property (this batch still rewrites)
  auto snap = Snapshot();
  EXPECT_TRUE(table::UsesDeletionVectors(*snap));
  EXPECT_EQ(snap->protocol().min_reader_version, 3);
  MustLoad("c.csv", "id,name\n2,B\n");
  EXPECT_THAT(DvCardinalities(), ::testing::ElementsAre(1));
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:A", "2:B"));
}

TEST_F(MergeDvTest, ConcurrentDeletionVectorWritersNeverLoseADelete) {
  MustLoad("a.csv", "id,name\n0,v0\n1,v0\n2,v0\n100,b\n101,b\n102,b\n103,b\n104,b\n105,b\n");
  // Another writer deletes rows of the same file in place while merges update it.
  std::thread deleter([this] {
    auto fs = MakeLocalFileSystem();
    auto engine = engine::MakeDuckDbEngine();
    ASSERT_TRUE(engine.ok());
    table::TableContext ctx{*fs, **engine};
    for (int i = 0; i < 4; ++i) {
      auto w = UntilNoConflict(
          [&] { return table::DeleteWhere(ctx, root(), fmt::format("id = {}", 100 + i)); });
      ASSERT_TRUE(w.ok()) << w.status().ToString();
    }
  });
  for (int j = 1; j <= 6; ++j) {
    auto file = Write(fmt::format("m{}.csv", j), fmt::format("id,name\n{},v{}\n", j % 3, j));
    auto r = UntilNoConflict([&] { return Load({file}); });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  deleter.join();
  EXPECT_THAT(Table(), ::testing::ElementsAre("0:v6", "1:v4", "2:v5", "104:b", "105:b"));
  EXPECT_FALSE(DvCardinalities().empty());
}

TEST_F(MergeDvTest, PartitionedTableUpdatesMayMoveRowsBetweenPartitions) {
  table_.partition_columns = {"region"};
  MustLoad("a.csv", "id,name,region\n1,a,eu\n2,b,us\n3,c,us\n4,d,us\n");
  auto before = LivePaths();
  MustLoad("b.csv", "id,name,region\n2,B,eu\n3,C,us\n");
  EXPECT_THAT(Table("id || name || region"),
              ::testing::ElementsAre("1aeu", "2Beu", "3Cus", "4dus"));
  auto after = LivePaths();
  for (const auto& p : before) EXPECT_TRUE(after.count(p)) << p << " was rewritten";
  EXPECT_THAT(DvCardinalities(), ::testing::ElementsAre(2));  // 2 and 3 in the us file
  EXPECT_EQ(Query("SELECT count(*) FROM tbl WHERE region = 'us'"), (Rows{{"2"}}));
  // Every row of the eu file updated: the file goes, no deletion vector hides it all.
  MustLoad("c.csv", "id,name,region\n1,A,eu\n");
  EXPECT_THAT(DvCardinalities(), ::testing::UnorderedElementsAre(2));
  EXPECT_THAT(Table("id || name || region"),
              ::testing::ElementsAre("1Aeu", "2Beu", "3Cus", "4dus"));
}

}  // namespace
}  // namespace dl::strategy

namespace dl::strategy {
namespace {

// Row tracking (delta.enableRowTracking): rows a merge copies or updates keep their row ids
// (updated ones take the merge's commit version), inserts get fresh ones; with deletion
// vectors and copy-on-write alike.
class MergeRowIdsTest : public MergeTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    MergeTest::SetUp();
    table_.table_properties["delta.enableRowTracking"] = "true";
    if (GetParam()) table_.table_properties["delta.enableDeletionVectors"] = "true";
  }
  // id -> "row id@row commit version", as the table's row tracking says.
  std::map<std::string, std::string> RowIds() {
    auto snap = Snapshot();
    EXPECT_TRUE(engine_->RegisterSnapshotWithFileColumn("rids", *snap, nullptr, true).ok());
    auto rows = engine_->Query("SELECT id, _dl_row_id, _dl_row_commit_version FROM rids");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::map<std::string, std::string> out;
    for (const auto& r : rows->rows) out[*r.at(0)] = *r.at(1) + "@" + *r.at(2);
    return out;
  }
};

TEST_P(MergeRowIdsTest, CopiedAndUpdatedRowsKeepTheirIds) {
  MustLoad("a.csv", "id,name\n1,a\n2,b\n3,c\n");
  EXPECT_EQ(RowIds(),
            (std::map<std::string, std::string>{{"1", "0@0"}, {"2", "1@0"}, {"3", "2@0"}}));
  MustLoad("b.csv", "id,name\n2,B\n4,d\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "2:B", "3:c", "4:d"));
  auto ids = RowIds();
  EXPECT_EQ(ids["1"], "0@0");
  EXPECT_EQ(ids["2"], "1@1");  // updated: same id, this commit's version
  EXPECT_EQ(ids["3"], "2@0");
  EXPECT_EQ(ids["4"].substr(ids["4"].find('@')), "@1");
  EXPECT_GT(std::stoll(ids["4"]), 2);
  // Rows the first merge wrote (their ids materialized) are updated again.
  MustLoad("c.csv", "id,name\n2,BB\n4,D\n");
  auto again = RowIds();
  EXPECT_EQ(again["2"], "1@2");
  EXPECT_EQ(again["4"], ids["4"].substr(0, ids["4"].find('@')) + "@2");
  EXPECT_EQ(again["1"], "0@0");
  EXPECT_EQ(again["3"], "2@0");
}

// Identity columns: matched rows keep their values, inserts get values above the high-water
// mark; a batch giving values the table allocates is refused before anything is written.
TEST_F(MergeTest, RewritesKeepIdentityValuesInsertsGetNewOnes) {
  MustLoad("a.csv", "id,k,name\n1,1,a\n2,2,b\n3,3,c\n");
  MakeIdentity("k", 3);
  MustLoad("b.csv", "id,name\n2,B\n9,n\n");
  EXPECT_THAT(Table("id || ':' || k || ':' || name"),
              ::testing::ElementsAre("1:1:a", "2:2:B", "3:3:c", "9:4:n"));
  auto by_hand = Load({Write("c.csv", "id,k,name\n2,7,x\n")});
  ASSERT_FALSE(by_hand.ok());
  EXPECT_THAT(by_hand.status().message(), HasSubstr("identity column k"));
  EXPECT_THAT(by_hand.status().message(), HasSubstr("db/t"));
  EXPECT_THAT(Table("id || ':' || k || ':' || name"),
              ::testing::ElementsAre("1:1:a", "2:2:B", "3:3:c", "9:4:n"));
}

// replace_where copies the rows of partly replaced files the predicate does not match: they
// keep their ids and commit versions; the batch's rows are new rows.
TEST_P(MergeRowIdsTest, ReplaceWhereKeepsTheIdsOfTheRowsItCopies) {
  table_.loading_strategy = config::LoadingStrategy::kAppend;
  table_.primary_keys.clear();
  MustLoad("a.csv", "id,name,day\n1,a,1\n2,b,2\n3,c,1\n");
  MustLoad("b.csv", "id,name,day\n4,d,2\n");  // a file all of whose rows are replaced
  table_.loading_strategy = config::LoadingStrategy::kOverwrite;
  table_.replace_where = "day = 2";
  MustLoad("c.csv", "id,name,day\n20,x,2\n");
  EXPECT_THAT(Table(), ::testing::ElementsAre("1:a", "3:c", "20:x"));
  auto ids = RowIds();
  EXPECT_EQ(ids["1"], "0@0");
  EXPECT_EQ(ids["3"], "2@0");
  EXPECT_GT(std::stoll(ids["20"]), 3);
  EXPECT_EQ(ids["20"].substr(ids["20"].find('@')), "@2");
}

INSTANTIATE_TEST_SUITE_P(Modes, MergeRowIdsTest, ::testing::Bool(), [](const auto& info) {
  return info.param ? "DeletionVectors" : "CopyOnWrite";
});

}  // namespace
}  // namespace dl::strategy
