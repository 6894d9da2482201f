#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "dl/strategy/companion.hpp"
#include "dl/engine/duckdb/scd2_sql.hpp"
#include "dl/strategy/tests/strategy_test_util.hpp"

namespace dl::strategy {
namespace {

using ::testing::HasSubstr;
namespace scd2_sql = engine::duck::scd2;

// A file system that runs `on_stat` when a given path is stat'ed: the loader stats a batch's
// source files right before committing, so this lets another writer commit in between.
class HookedFileSystem : public FileSystem {
 public:
  explicit HookedFileSystem(FileSystem& base) : base_(base) {}
  std::string trigger;
  std::function<void()> on_stat;

  Result<std::vector<FileEntry>> List(const std::string& d) override { return base_.List(d); }
  Result<std::vector<FileEntry>> ListRecursive(const std::string& d,
                                               const std::string& m) override {
    return base_.ListRecursive(d, m);
  }
  Result<FileEntry> Stat(const std::string& path) override {
    if (path == trigger && on_stat) on_stat();
    return base_.Stat(path);
  }
  Result<bool> Exists(const std::string& p) override { return base_.Exists(p); }
  Result<std::string> Read(const std::string& p) override { return base_.Read(p); }
  Status PutIfAbsent(const std::string& p, const std::string& c) override {
    return base_.PutIfAbsent(p, c);
  }
  Status WriteAtomic(const std::string& p, const std::string& c) override {
    return base_.WriteAtomic(p, c);
  }
  Status Rename(const std::string& f, const std::string& t) override { return base_.Rename(f, t); }
  Status Delete(const std::string& p) override { return base_.Delete(p); }
  Status CreateDirs(const std::string& d) override { return base_.CreateDirs(d); }

 private:
  FileSystem& base_;
};

class Scd2Test : public StrategyTest {
 protected:
  void SetUp() override {
    StrategyTest::SetUp();
    hooked_ = std::make_unique<HookedFileSystem>(*fs_);
    table_.loading_strategy = config::LoadingStrategy::kScd2;
    table_.primary_keys = {"id"};
    table_.sequence_column = "seq";
    table_.delete_condition = "op = 'D'";
  }
  FileSystem& load_fs() override { return *hooked_; }

  Rows Versions() {
    return Query(root(),
                 "SELECT id, a, effective_date, end_date, is_current FROM tbl ORDER BY id, "
                 "effective_date");
  }
  int64_t Version() {
    table::TableContext ctx{*fs_, *engine_};
    auto snap = table::LoadSnapshot(ctx, root());
    return snap.ok() ? (*snap)->version() : -1;
  }

  // Another writer (its own session) appends a current version of `id` to the table.
  void AppendOther(int id) {
    auto session = engine_->NewSession();
    ASSERT_TRUE(session.ok());
    table::TableContext ctx{*fs_, **session};
    table::WriteRequest req;
    req.source_sql = fmt::format(
        "SELECT CAST({} AS BIGINT) AS id, 'o' AS a, 'U' AS op, CAST(1 AS BIGINT) AS seq, "
        "CAST(1 AS BIGINT) AS effective_date, CAST(NULL AS BIGINT) AS end_date, true AS "
        "is_current",
        id);
    auto w = table::Write(ctx, root(), req);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
  }

  using R = std::vector<std::optional<std::string>>;
  static R V(const char* id, const char* a, const char* eff, std::optional<std::string> end,
             bool current) {
    return {id, a, eff, end, current ? "true" : "false"};
  }

  std::unique_ptr<HookedFileSystem> hooked_;
};

TEST_F(Scd2Test, TrackedChangeClosesAndOpensUntrackedUpdatesInPlace) {
  table_.tracking_columns = {"a"};
  ASSERT_TRUE(Load({Write("1.csv", "id,a,b,op,seq\n1,x,1,U,10\n2,p,1,U,10\n")}).ok());
  auto r = Load({Write("2.csv", "id,a,b,op,seq\n1,y,1,U,20\n2,p,5,U,20\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "10", "20", false), V("1", "y", "20", std::nullopt, true),
                              V("2", "p", "10", std::nullopt, true)}));
  EXPECT_EQ(Query(root(), "SELECT b, seq FROM tbl WHERE id = 2"), (Rows{{"5", "20"}}));
}

// Identity columns: a closed or updated version keeps its value, a new version (a new row)
// gets one above the high-water mark; a batch giving values is refused.
TEST_F(Scd2Test, VersionsKeepTheirIdentityValuesNewOnesGetNewValues) {
  table_.tracking_columns = {"a"};
  ASSERT_TRUE(Load({Write("1.csv", "id,a,b,k,op,seq\n1,x,1,1,U,10\n2,p,1,2,U,10\n")}).ok());
  MakeIdentity("k", 2);
  auto r = Load({Write("2.csv", "id,a,b,op,seq\n1,y,1,U,20\n2,p,5,U,20\n3,q,1,U,20\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query(root(), "SELECT id, a, k FROM tbl WHERE effective_date = 10 ORDER BY id"),
            (Rows{{"1", "x", "1"}, {"2", "p", "2"}}));
  EXPECT_EQ(Query(root(), "SELECT b FROM tbl WHERE id = 2"), (Rows{{"5"}}));  // in place
  // Which new row gets which value is the engine's choice.
  EXPECT_EQ(Query(root(), "SELECT string_agg(k, ',' ORDER BY k) FROM tbl WHERE effective_date = "
                          "20"),
            (Rows{{"3,4"}}));
  r = Load({Write("3.csv", "id,a,b,k,op,seq\n3,z,1,9,U,30\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("identity column k"));
}

TEST_F(Scd2Test, SeveralChangesInOneBatchFollowSequenceAndCollapseDuplicates) {
  auto r = Load({Write("1.csv", "id,a,op,seq\n1,y,U,4\n1,x,U,2\n1,z,U,3\n1,x,U,1\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "1", "3", false), V("1", "z", "3", "4", false),
                              V("1", "y", "4", std::nullopt, true)}));
}

TEST_F(Scd2Test, LateEventSplitsItsIntervalFromTheChangeStore) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,10\n1,z,U,30\n")}).ok());
  // A no-op re-delivery at 40 is an event too: the late change at 35 ends at it.
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,z,U,40\n")}).ok());
  auto r = Load({Write("3.csv", "id,a,op,seq\n1,y,U,20\n1,w,U,35\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(),
            (Rows{V("1", "x", "10", "20", false), V("1", "y", "20", "30", false),
                  V("1", "z", "30", "35", false), V("1", "w", "35", "40", false),
                  V("1", "z", "40", std::nullopt, true)}));
  EXPECT_EQ(Query(ChangeStoreRoot(root()), "SELECT count(*) FROM tbl"), (Rows{{"5"}}));
}

TEST_F(Scd2Test, DeleteClosesAndReinsertOpens) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n")}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,x,D,3\n9,q,D,3\n")}).ok());
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "1", "3", false)}));
  ASSERT_TRUE(Load({Write("3.csv", "id,a,op,seq\n1,x,U,5\n")}).ok());
  EXPECT_EQ(Versions(),
            (Rows{V("1", "x", "1", "3", false), V("1", "x", "5", std::nullopt, true)}));
}

TEST_F(Scd2Test, OnlyFilesHoldingTouchedKeysAreRewritten) {
  auto first = Write("1.csv", "id,a,op,seq\n1,x,U,1\n2,x,U,1\n");
  ASSERT_TRUE(Load({first}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n5,x,U,1\n6,x,U,1\n")}).ok());
  // Key 1 is re-delivered unchanged (touches nothing), key 6 changes.
  auto r = Load({Write("3.csv", "id,a,op,seq\n1,x,U,2\n6,y,U,2\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->write.files_removed, 1);
  auto files = Query(root(), "SELECT DISTINCT _source_file FROM tbl WHERE id IN (1, 2)");
  EXPECT_EQ(files, (Rows{{first}}));
  EXPECT_EQ(Query(root(), "SELECT count(*) FROM tbl WHERE id = 6"), (Rows{{"2"}}));
}

TEST_F(Scd2Test, WithoutSequenceTheLoadTimeIsTheEffectiveDate) {
  table_.sequence_column.reset();
  table_.scd2_open_end_value = "9999-12-31";
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op\n1,x,U\n")}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op\n1,y,U\n1,z,U\n")}).ok());
  auto rows = Query(root(),
                    "SELECT a, effective_date = _load_timestamp, CAST(end_date AS VARCHAR), "
                    "typeof(effective_date) FROM tbl ORDER BY effective_date, end_date");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "x");
  EXPECT_EQ(rows[1][0], "y");
  EXPECT_EQ(rows[2], (R{"z", "true", "9999-12-31 00:00:00+00", "TIMESTAMP WITH TIME ZONE"}));
  EXPECT_FALSE(std::filesystem::exists(ChangeStoreRoot(root())));
}

TEST_F(Scd2Test, RetireAbsentKeysClosesKeysMissingFromTheBatch) {
  table_.retire_absent_keys = true;
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n2,x,U,1\n")}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,x,U,5\n")}).ok());
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "1", std::nullopt, true), V("2", "x", "1", "5", false)}));
  // A full snapshot split into several commits would retire its own keys.
  EXPECT_TRUE(LoadsWholeRunAsOneBatch(table_));
  table_.retire_absent_keys = false;
  EXPECT_FALSE(LoadsWholeRunAsOneBatch(table_));
  EXPECT_FALSE(BatchesMayRunInParallel(table_));
}

TEST_F(Scd2Test, NullKeysFailTheFileNamingColumnAndCount) {
  auto bad = Write("1.csv", "id,a,op,seq\n1,x,U,1\n,y,U,1\n,z,U,2\n");
  auto r = Load({bad});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(bad + ": 2 rows with NULL in primary_keys column 'id'"));
  EXPECT_EQ(Version(), -1);
}

TEST_F(Scd2Test, QuarantineKeepsBadRowsAsideAndLoadsTheRest) {
  table_.on_bad_rows = config::OnBadRows::kQuarantine;
  auto r = Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n2,y,U,\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "1", std::nullopt, true)}));
  EXPECT_EQ(Query(QuarantineRoot(root()), "SELECT id, _quarantine_reason FROM tbl"),
            (Rows{{"2", "NULL in sequence_column column 'seq'"}}));
}

TEST_F(Scd2Test, DeleteConditionWithASubqueryFailsBeforeAnyCommit) {
  table_.delete_condition = "op IN (SELECT 'D')";
  auto r = Load({Write("1.csv", "id,a,op,seq\n1,x,D,1\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("delete_condition"));
  EXPECT_THAT(r.status().message(), HasSubstr("subquery"));
  EXPECT_EQ(Version(), -1);
}

// Files without the op column (a full snapshot among change files) have no deletes.
TEST_F(Scd2Test, DeleteConditionOverAColumnTheFilesLackIsNull) {
  auto r = Load({Write("1.csv", "id,a,seq\n1,x,1\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,x,D,2\n")}).ok());
  ASSERT_TRUE(Load({Write("3.csv", "id,a,seq\n1,x,3\n")}).ok());
  EXPECT_EQ(Versions(),
            (Rows{V("1", "x", "1", "2", false), V("1", "x", "3", std::nullopt, true)}));
}

TEST_F(Scd2Test, OpenEndValueMustFitTheSequenceType) {
  table_.scd2_open_end_value = "9999-12-31";
  auto r = Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("scd2_open_end_value"));
}

// Another writer commits between planning and committing: the batch is planned again
// against the new snapshot, and its result includes the other writer's row.
TEST_F(Scd2Test, AConcurrentCommitMakesTheBatchReplan) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n")}).ok());
  auto mine = Write("2.csv", "id,a,op,seq\n1,y,U,2\n");
  int fired = 0;
  hooked_->trigger = mine;
  hooked_->on_stat = [&] {
    if (fired++ == 0) AppendOther(7);
  };
  auto r = Load({mine});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(fired, 2);  // stat'ed again by the second plan
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "1", "2", false), V("1", "y", "2", std::nullopt, true),
                              V("7", "o", "1", std::nullopt, true)}));
}

TEST_F(Scd2Test, EndlessConflictsFailWithAConflictError) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n")}).ok());
  auto mine = Write("2.csv", "id,a,op,seq\n1,y,U,2\n");
  hooked_->trigger = mine;
  int fired = 0;
  hooked_->on_stat = [&] { AppendOther(100 + fired++); };
  auto r = Load({mine});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_THAT(r.status().message(), HasSubstr("re-planned"));
}

TEST_F(Scd2Test, ATableWithoutTheScd2ColumnsIsRefused) {
  table_.loading_strategy = config::LoadingStrategy::kAppend;
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n")}).ok());
  table_.loading_strategy = config::LoadingStrategy::kScd2;
  auto r = Load({Write("2.csv", "id,a,op,seq\n1,y,U,2\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("no column 'effective_date'"));
}

// A crash between the target commit and the change store's: the next batch commits the
// store's files first, so a late event still sees the whole history.
TEST_F(Scd2Test, ChangeStoreLeftBehindByACrashIsRolledForward) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,10\n")}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,z,U,30\n")}).ok());
  std::filesystem::remove(ChangeStoreRoot(root()) + "/_delta_log/00000000000000000001.json");
  EXPECT_EQ(Query(ChangeStoreRoot(root()), "SELECT count(*) FROM tbl"), (Rows{{"1"}}));
  auto r = Load({Write("3.csv", "id,a,op,seq\n1,y,U,20\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query(ChangeStoreRoot(root()), "SELECT count(*) FROM tbl"), (Rows{{"3"}}));
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "10", "20", false), V("1", "y", "20", "30", false),
                              V("1", "z", "30", std::nullopt, true)}));
}

// A table whose change store is gone gets one rebuilt from its versions; late events are
// placed in that history.
TEST_F(Scd2Test, AMissingChangeStoreIsRebuiltFromTheTable) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,10\n2,p,U,10\n")}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,z,U,30\n2,p,D,20\n")}).ok());
  std::filesystem::remove_all(ChangeStoreRoot(root()));
  auto r = Load({Write("3.csv", "id,a,op,seq\n1,y,U,20\n2,q,U,15\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "10", "20", false), V("1", "y", "20", "30", false),
                              V("1", "z", "30", std::nullopt, true),
                              V("2", "p", "10", "15", false), V("2", "q", "15", "20", false)}));
  // 3 versions and a delete rebuilt, then the batch's 2 events.
  EXPECT_EQ(Query(ChangeStoreRoot(root()), "SELECT count(*) FROM tbl"), (Rows{{"6"}}));
  ASSERT_TRUE(Load({Write("4.csv", "id,a,op,seq\n1,w,U,25\n")}).ok());
  EXPECT_EQ(Query(root(), "SELECT a, effective_date, end_date FROM tbl WHERE id = 1 ORDER BY 2"),
            (Rows{{"x", "10", "20"}, {"y", "20", "25"}, {"w", "25", "30"},
                  {"z", "30", std::nullopt}}));
}

// The change store lives inside the table's directory; VACUUM of the table leaves it alone.
TEST_F(Scd2Test, VacuumOfTheTableKeepsTheChangeStore) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,1\n")}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,y,U,2\n")}).ok());
  table::TableContext ctx{*fs_, *engine_};
  table::VacuumOptions options;
  options.retention_hours = 0;
  options.force = true;
  auto vacuumed = table::Vacuum(ctx, root(), options);
  ASSERT_TRUE(vacuumed.ok()) << vacuumed.status().ToString();
  EXPECT_EQ(vacuumed->files.size(), 1u);  // the file the second batch rewrote
  for (const auto& f : vacuumed->files) EXPECT_THAT(f, ::testing::Not(HasSubstr("_dl_scd2")));
  EXPECT_EQ(Query(ChangeStoreRoot(root()), "SELECT count(*) FROM tbl"), (Rows{{"2"}}));
  ASSERT_TRUE(Load({Write("3.csv", "id,a,op,seq\n1,w,U,0\n")}).ok());  // late: replayed
  EXPECT_EQ(Versions(), (Rows{V("1", "w", "0", "1", false), V("1", "x", "1", "2", false),
                              V("1", "y", "2", std::nullopt, true)}));
}

// The step SQL on its own: one key's events, hand-made.
TEST(Scd2SqlTest, StepsGiveOneVersionPerTrackedChange) {
  auto e = engine::MakeDuckDbEngine();
  ASSERT_TRUE(e.ok());
  auto& engine = **e;
  ASSERT_TRUE(engine
                  .Execute("CREATE TABLE ev AS SELECT * FROM (VALUES "
                           "(1, 'x', 'n1', 1, false), (1, 'x', 'n2', 2, false), "
                           "(1, 'x', 'n2', 3, false), (1, 'y', 'n2', 4, false), "
                           "(1, NULL, 'n2', 5, true), (1, NULL, 'n3', 6, true), "
                           "(1, 'y', 'n2', 7, false)) v(id, a, note, s, d)")
                  .ok());
  std::string events =
      "(SELECT row_number() OVER () AS __dl_id, id, a, note, s AS __dl_seq, s AS __dl_eff, "
      "d AS __dl_delete, false AS __dl_pseudo, "
      "0 AS __dl_batch, false AS __dl_late, 0 AS __dl_file_order, 0 AS __dl_row_order FROM ev)";
  scd2_sql::Columns c;
  c.keys = {"id"};
  c.tracked = {"a"};
  c.untracked = {"note"};
  c.values = {"a", "note"};
  c.columns = {"id", "a", "note"};
  c.effective = "eff";
  c.end = "end";
  c.current = "cur";
  c.event_id = "__dl_id";
  std::string steps = "(" + scd2_sql::StepsSql(c, events) + ")";
  std::string touched = "(" + scd2_sql::TouchedKeysSql(c, steps) + ")";
  auto rows = engine.Query("SELECT a, note, eff, \"end\", cur FROM (" +
                           scd2_sql::VersionsSql(c, steps, touched, events) + ") ORDER BY eff");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->rows, (Rows{{"x", "n2", "1", "4", "false"},
                              {"y", "n2", "4", "5", "false"},
                              {"y", "n2", "7", std::nullopt, "true"}}));
}

// With delta.enableDeletionVectors: the same history, and no data file is rewritten.
class Scd2DvTest : public Scd2Test {
 protected:
  void SetUp() override {
    Scd2Test::SetUp();
    table_.table_properties["delta.enableDeletionVectors"] = "true";
  }
  std::set<std::string> LivePaths() {
    std::set<std::string> out;
    auto snap = Snapshot();
    for (const auto& f : snap->files()) out.insert(f.path);
    return out;
  }
};

TEST_F(Scd2DvTest, TrackedChangeClosesAndOpensWithoutRewritingFiles) {
  table_.tracking_columns = {"a"};
  ASSERT_TRUE(Load({Write("1.csv", "id,a,b,op,seq\n1,x,1,U,10\n2,p,1,U,10\n3,q,1,U,10\n")}).ok());
  auto before = LivePaths();
  auto r = Load({Write("2.csv", "id,a,b,op,seq\n1,y,1,U,20\n2,p,5,U,20\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query(root(), "SELECT id, a, effective_date, end_date, is_current FROM tbl WHERE id "
                          "< 3 ORDER BY id, effective_date"),
            (Rows{V("1", "x", "10", "20", false), V("1", "y", "20", std::nullopt, true),
                  V("2", "p", "10", std::nullopt, true)}));
  EXPECT_EQ(Query(root(), "SELECT b, seq FROM tbl WHERE id = 2"), (Rows{{"5", "20"}}));
  auto after = LivePaths();
  for (const auto& p : before) EXPECT_TRUE(after.count(p)) << p << " was rewritten";
  auto snap = Snapshot();
  int64_t hidden = 0;
  for (const auto& f : snap->files()) {
    if (f.deletion_vector) hidden += f.deletion_vector->cardinality;
  }
  EXPECT_EQ(hidden, 2);  // the old current rows of 1 and 2
}

TEST_F(Scd2DvTest, LateEventsAndDeletesGiveTheSameHistory) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,10\n1,z,U,30\n2,k,U,10\n")}).ok());
  ASSERT_TRUE(Load({Write("2.csv", "id,a,op,seq\n1,z,U,40\n2,k,D,15\n")}).ok());
  auto r = Load({Write("3.csv", "id,a,op,seq\n1,y,U,20\n1,w,U,35\n2,m,U,50\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(),
            (Rows{V("1", "x", "10", "20", false), V("1", "y", "20", "30", false),
                  V("1", "z", "30", "35", false), V("1", "w", "35", "40", false),
                  V("1", "z", "40", std::nullopt, true), V("2", "k", "10", "15", false),
                  V("2", "m", "50", std::nullopt, true)}));
}

// Row tracking (delta.enableRowTracking): a version that is closed or updated keeps the row id
// of the row it replaces (and takes the batch's commit version), a new version gets a fresh
// id, other rows keep both; a late event's replay keeps the ids and, where a version did not
// change, its commit version. With deletion vectors and copy-on-write alike.
class Scd2RowIdsTest : public Scd2Test, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    Scd2Test::SetUp();
    table_.table_properties["delta.enableRowTracking"] = "true";
    if (GetParam()) table_.table_properties["delta.enableDeletionVectors"] = "true";
  }
  // "id:effective_date" -> "row id@row commit version", as the table's row tracking says.
  std::map<std::string, std::string> RowIds() {
    auto snap = Snapshot();
    EXPECT_TRUE(engine_->RegisterSnapshotWithFileColumn("rids", *snap, nullptr, true).ok());
    auto rows = engine_->Query(
        "SELECT id || ':' || effective_date, _dl_row_id, _dl_row_commit_version FROM rids");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::map<std::string, std::string> out;
    for (const auto& r : rows->rows) out[*r.at(0)] = *r.at(1) + "@" + *r.at(2);
    EXPECT_EQ(out.size(), rows->rows.size());
    return out;
  }
  static std::string Id(const std::string& rid) { return rid.substr(0, rid.find('@')); }
};

TEST_P(Scd2RowIdsTest, ClosedVersionsKeepTheirIdsNewOnesGetFreshIds) {
  ASSERT_TRUE(Load({Write("1.csv", "id,a,op,seq\n1,x,U,10\n2,p,U,10\n3,q,U,10\n")}).ok());
  EXPECT_EQ(RowIds(), (std::map<std::string, std::string>{
                          {"1:10", "0@0"}, {"2:10", "1@0"}, {"3:10", "2@0"}}));
  auto r = Load({Write("2.csv", "id,a,op,seq\n1,y,U,20\n2,p,U,20\n3,q,D,20\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = RowIds();
  EXPECT_EQ(ids["1:10"], "0@1");  // closed: same row, this commit's version
  EXPECT_EQ(ids["2:10"], "1@0");  // a no-op re-delivery changes nothing
  EXPECT_EQ(ids["3:10"], "2@1");  // closed by a delete
  EXPECT_GT(std::stoll(Id(ids["1:20"])), 2);
  EXPECT_EQ(ids["1:20"].substr(ids["1:20"].find('@')), "@1");
  // A late event at 15 splits key 1's first version: x keeps its id, w is new, y unchanged.
  r = Load({Write("3.csv", "id,a,op,seq\n1,w,U,15\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(), (Rows{V("1", "x", "10", "15", false), V("1", "w", "15", "20", false),
                              V("1", "y", "20", std::nullopt, true),
                              V("2", "p", "10", std::nullopt, true),
                              V("3", "q", "10", "20", false)}));
  auto late = RowIds();
  EXPECT_EQ(late["1:10"], "0@2");
  EXPECT_EQ(late["1:20"], ids["1:20"]);
  EXPECT_EQ(late["2:10"], "1@0");
  EXPECT_EQ(late["3:10"], "2@1");
  std::set<std::string> distinct;
  for (const auto& [k, v] : late) distinct.insert(Id(v));
  EXPECT_EQ(distinct.size(), late.size());
  EXPECT_GT(std::stoll(Id(late["1:15"])), std::stoll(Id(ids["1:20"])));
  EXPECT_EQ(late["1:15"].substr(late["1:15"].find('@')), "@2");
}

INSTANTIATE_TEST_SUITE_P(Modes, Scd2RowIdsTest, ::testing::Bool(), [](const auto& info) {
  return info.param ? "DeletionVectors" : "CopyOnWrite";
});

}  // namespace
}  // namespace dl::strategy
