#include "dl/delta/transaction.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "dl/delta/tests/txn_test_util.hpp"

namespace dl::delta {
namespace {

using test_util::CommitActions;
using test_util::CreateTable;
using test_util::LoadLatest;
using test_util::MakeAdd;
using test_util::MakeMetadata;
using test_util::MakeRemove;
using test_util::ReadCommitJson;
using test_util::TempDir;

class TransactionTest : public ::testing::Test {
 protected:
  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  TempDir dir_;
  std::string root_ = dir_.path() + "/table";
};

TEST_F(TransactionTest, CreateWritesCommitInfoFirstThenProtocolAndMetadata) {
  Transaction txn(*fs_, nullptr, root_, nullptr);
  txn.SetOperation("CREATE TABLE", {{"partitionBy", "[\"k\"]"}, {"mode", "ErrorIfExists"}});
  txn.SetOperationMetrics({{"numFiles", "1"}, {"numOutputRows", "3"}});
  txn.SetCommitInfoField("dataLoader", {{"sourceFiles", {"a.csv"}}});
  txn.Add(MakeAdd("k=a/f1.parquet", {{"k", "a"}}));  // before metaData on purpose
  txn.Add(MakeMetadata({"k"}));
  txn.Add(Protocol{});
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 0);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_FALSE(r->checkpoint_written);

  auto lines = ReadCommitJson(*fs_, root_, 0);
  ASSERT_EQ(lines.size(), 4u);
  ASSERT_TRUE(lines[0].contains("commitInfo"));
  EXPECT_TRUE(lines[1].contains("protocol"));
  EXPECT_TRUE(lines[2].contains("metaData"));
  EXPECT_TRUE(lines[3].contains("add"));
  const auto& ci = lines[0]["commitInfo"];
  EXPECT_TRUE(ci["timestamp"].is_number_integer());
  EXPECT_NEAR(ci["timestamp"].get<double>(), test_util::NowMs(), 60000);
  EXPECT_EQ(ci["operation"], "CREATE TABLE");
  EXPECT_FALSE(ci.contains("readVersion"));
  EXPECT_EQ(ci["isolationLevel"], "Serializable");
  EXPECT_EQ(ci["isBlindAppend"], true);
  EXPECT_EQ(ci["engineInfo"], EngineInfo());
  EXPECT_EQ(EngineInfo(), "data_loader/0.1.0");
  EXPECT_TRUE(std::regex_match(ci["txnId"].get<std::string>(),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")));
  EXPECT_EQ(ci["dataLoader"]["sourceFiles"][0], "a.csv");
  // Spark readers expect string->string maps here (delta-io/delta #2419).
  for (const char* map : {"operationParameters", "operationMetrics"}) {
    ASSERT_TRUE(ci[map].is_object()) << map;
    for (const auto& [k, v] : ci[map].items()) EXPECT_TRUE(v.is_string()) << map << "." << k;
  }
  EXPECT_EQ(ci["operationParameters"]["partitionBy"], "[\"k\"]");
  EXPECT_EQ(ci["operationMetrics"]["numOutputRows"], "3");

  auto snap = LoadLatest(*fs_, root_);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->version(), 0);
  ASSERT_EQ(snap->files().size(), 1u);
  EXPECT_EQ(snap->partition_columns(), std::vector<std::string>{"k"});
}

TEST_F(TransactionTest, CreateNeedsProtocolAndMetadata) {
  Transaction txn(*fs_, nullptr, root_, nullptr);
  txn.Add(MakeMetadata());
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(root_), std::string::npos);
  EXPECT_FALSE(*fs_->Exists(CommitPath(root_, 0)));
}

TEST_F(TransactionTest, CreateLosingTheRaceReportsConcurrentCreation) {
  CreateTable(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, nullptr);
  txn.Add(Protocol{});
  txn.Add(MakeMetadata());
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_NE(r.status().message().find("table was created concurrently"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("version 0"), std::string::npos);
}

TEST_F(TransactionTest, BlindAppendCommitsAtNextVersion) {
  CreateTable(*fs_, root_);
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.SetOperation("WRITE", {{"mode", "Append"}});
  txn.Add(MakeAdd("f1.parquet"));
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 1);
  auto lines = ReadCommitJson(*fs_, root_, 1);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["commitInfo"]["readVersion"], 0);
  EXPECT_EQ(lines[0]["commitInfo"]["isBlindAppend"], true);
  EXPECT_EQ(lines[0]["commitInfo"]["operationParameters"]["mode"], "Append");
  EXPECT_EQ(LoadLatest(*fs_, root_)->files().size(), 1u);
}

TEST_F(TransactionTest, CommittingTwiceIsRejected) {
  CreateTable(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, LoadLatest(*fs_, root_));
  txn.Add(MakeAdd("f1.parquet"));
  ASSERT_TRUE(txn.Commit().ok());
  auto again = txn.Commit();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(*fs_->Exists(CommitPath(root_, 2)));
}

TEST_F(TransactionTest, RejectsMalformedCommits) {
  CreateTable(*fs_, root_, {"k"});
  auto snap = LoadLatest(*fs_, root_);
  auto expect_invalid = [&](std::vector<Action> actions, const std::string& needle) {
    Transaction txn(*fs_, nullptr, root_, snap);
    txn.AddAll(std::move(actions));
    auto r = txn.Commit();
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  AddFile a = MakeAdd("k=a/f.parquet", {{"k", "a"}});
  expect_invalid({a, a}, "two actions for file k=a/f.parquet");
  expect_invalid({a, MakeRemove(a)}, "two actions for file");
  expect_invalid({MakeMetadata({"k"}), MakeMetadata({"k"})}, "metaData");
  expect_invalid({Protocol{}, Protocol{}}, "protocol");
  expect_invalid({SetTransaction{"app", 1, 0}, SetTransaction{"app", 2, 0}}, "app id app");
  expect_invalid({MakeAdd("f.parquet")}, "partitioned by [k]");
  expect_invalid({MakeAdd("f.parquet", {{"k", "a"}, {"x", "1"}})}, "partition values");
  EXPECT_FALSE(*fs_->Exists(CommitPath(root_, 1)));
}

TEST_F(TransactionTest, SameFileWithDifferentDeletionVectorsIsAllowed) {
  CreateTable(*fs_, root_, {}, {}, {MakeAdd("f.parquet")});
  auto snap = LoadLatest(*fs_, root_);
  // Removing the old version of a file and adding it back with a DV is one logical update;
  // we only check the commit shape here, so the DV protocol feature is not involved.
  AddFile with_dv = MakeAdd("f.parquet");
  with_dv.deletion_vector = DeletionVector{"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 2, {}};
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.AddAll({MakeRemove(snap->files()[0]), with_dv});
  auto r = txn.Commit();
  // Either committed or refused for the DV feature; never a duplicate-path error.
  if (!r.ok()) {
    EXPECT_EQ(r.status().message().find("two actions"), std::string::npos) << r.status().message();
  }
}

TEST_F(TransactionTest, AppendOnlyTableRefusesDataChangeRemoves) {
  CreateTable(*fs_, root_, {}, {{"delta.appendOnly", "true"}}, {MakeAdd("f.parquet")});
  auto snap = LoadLatest(*fs_, root_);
  {
    Transaction txn(*fs_, nullptr, root_, snap);
    txn.read_set().whole_table = true;
    txn.Add(MakeRemove(snap->files()[0]));
    auto r = txn.Commit();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(r.status().message().find(root_), std::string::npos);
    EXPECT_NE(r.status().message().find("delta.appendOnly"), std::string::npos);
  }
  // Compaction (dataChange=false) keeps the data and is allowed.
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.SetOperation("OPTIMIZE", {});
  txn.read_set().whole_table = true;
  txn.Add(MakeRemove(snap->files()[0], /*data_change=*/false));
  txn.Add(MakeAdd("g.parquet", {}, /*data_change=*/false));
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ci = ReadCommitJson(*fs_, root_, r->version)[0]["commitInfo"];
  EXPECT_EQ(ci["isBlindAppend"], false);
}

TEST_F(TransactionTest, TurningAppendOnlyOffInTheSameCommitDoesNotAllowRemoves) {
  CreateTable(*fs_, root_, {}, {{"delta.appendOnly", "true"}}, {MakeAdd("f.parquet")});
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.Add(MakeMetadata({}, {{"delta.appendOnly", "false"}}));
  txn.Add(MakeRemove(snap->files()[0]));
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
}

TEST_F(TransactionTest, LostRaceRetriesBlindAppend) {
  CreateTable(*fs_, root_);
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.Add(MakeAdd("mine.parquet"));
  // Another writer commits versions 1 and 2 after we read version 0.
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("theirs1.parquet")}), 1);
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("theirs2.parquet")}), 2);
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->attempts, 2);
  // readVersion stays the version we actually read.
  EXPECT_EQ(ReadCommitJson(*fs_, root_, 3)[0]["commitInfo"]["readVersion"], 0);
  EXPECT_EQ(LoadLatest(*fs_, root_)->files().size(), 3u);
}

TEST_F(TransactionTest, CheckWinnerSeesEachWinningCommitAndCanRefuse) {
  CreateTable(*fs_, root_);
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.Add(MakeAdd("mine.parquet"));
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("theirs1.parquet")}), 1);
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("theirs2.parquet")}), 2);
  CommitOptions opts;
  std::vector<int64_t> seen;
  opts.check_winner = [&](int64_t version, const std::vector<Action>& winning) {
    seen.push_back(version);
    bool theirs2 = std::any_of(winning.begin(), winning.end(), [](const Action& a) {
      const auto* add = std::get_if<AddFile>(&a);
      return add && add->path == "theirs2.parquet";
    });
    return theirs2 ? Status::CommitConflict("theirs2 loaded my file") : Status::OK();
  };
  auto r = txn.Commit(opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_EQ(r.status().message(), "theirs2 loaded my file");
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(LoadLatest(*fs_, root_)->version(), 2);
}

TEST_F(TransactionTest, LostRaceConflictsWhenTheWholeTableWasRead) {
  CreateTable(*fs_, root_, {}, {}, {MakeAdd("old.parquet")});
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.SetOperation("WRITE", {{"mode", "Overwrite"}});
  txn.read_set().whole_table = true;
  txn.Add(MakeRemove(snap->files()[0]));
  txn.Add(MakeAdd("new.parquet"));
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("theirs.parquet")}, "STREAMING UPDATE"), 1);
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_EQ(r.status().message(),
            "commit to " + root_ +
                " conflicts with version 1 (concurrent append: file theirs.parquet added to the "
                "table, by STREAMING UPDATE); re-plan against the new snapshot");
  EXPECT_FALSE(*fs_->Exists(CommitPath(root_, 2)));
}

TEST_F(TransactionTest, LostRaceConflictsOnlyForTheReadPartition) {
  CreateTable(*fs_, root_, {"k"}, {}, {MakeAdd("k=a/f.parquet", {{"k", "a"}})});
  auto snap = LoadLatest(*fs_, root_);
  // Rewrites the first file of partition k=a (read from `snap`) into `output`.
  auto merge_into_a = [&](const std::string& output) {
    auto txn = std::make_unique<Transaction>(*fs_, nullptr, root_, snap);
    txn->SetOperation("MERGE", {});
    txn->read_set().partitions.push_back({{"k", "a"}});
    txn->Add(MakeRemove(snap->files()[0]));
    txn->Add(MakeAdd(output, {{"k", "a"}}));
    return txn;
  };
  auto first = merge_into_a("k=a/g.parquet");
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("k=b/x.parquet", {{"k", "b"}})}), 1);
  auto r = first->Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 2);

  snap = LoadLatest(*fs_, root_);
  ASSERT_EQ(snap->files()[0].path, "k=a/g.parquet");
  auto second = merge_into_a("k=a/h.parquet");
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("k=a/y.parquet", {{"k", "a"}})}), 3);
  auto lost = second->Commit();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kCommitConflict);
  EXPECT_NE(lost.status().message().find("version 3 (concurrent append: file k=a/y.parquet "
                                         "added to partition {k=a}, by WRITE)"),
            std::string::npos)
      << lost.status().message();
}

TEST_F(TransactionTest, DeleteDeleteConflict) {
  CreateTable(*fs_, root_, {}, {}, {MakeAdd("f.parquet"), MakeAdd("g.parquet")});
  auto snap = LoadLatest(*fs_, root_);
  AddFile f = snap->files()[0];
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.SetOperation("DELETE", {});
  txn.Add(MakeRemove(f));
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeRemove(f)}, "DELETE"), 1);
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_NE(r.status().message().find("concurrent delete of a file we delete: f.parquet"),
            std::string::npos)
      << r.status().message();
}

TEST_F(TransactionTest, ConcurrentCompactionConflictsWithAReader) {
  CreateTable(*fs_, root_, {"k"}, {},
              {MakeAdd("k=a/f.parquet", {{"k", "a"}}), MakeAdd("k=b/g.parquet", {{"k", "b"}})});
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.read_set().partitions.push_back({{"k", "a"}});
  txn.Add(MakeAdd("k=a/h.parquet", {{"k", "a"}}));
  const AddFile& f = snap->files()[0];
  ASSERT_EQ(f.path, "k=a/f.parquet");
  ASSERT_EQ(CommitActions(*fs_, root_,
                          {MakeRemove(f, false), MakeAdd("k=a/c.parquet", {{"k", "a"}}, false)},
                          "OPTIMIZE"),
            1);
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("concurrent delete of a file we read: k=a/f.parquet, by "
                                      "OPTIMIZE"),
            std::string::npos)
      << r.status().message();
}

TEST_F(TransactionTest, ConcurrentTransactionForTheSameAppId) {
  CreateTable(*fs_, root_);
  auto snap = LoadLatest(*fs_, root_);
  // Idempotent write: we checked TxnVersion("loader-1") and write version 7.
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.read_set().app_ids.insert("loader-1");
  txn.Add(SetTransaction{"loader-1", 7, test_util::NowMs()});
  txn.Add(MakeAdd("mine.parquet"));
  ASSERT_EQ(
      CommitActions(*fs_, root_, {SetTransaction{"loader-2", 1, 0}, MakeAdd("other.parquet")}), 1);
  ASSERT_EQ(CommitActions(*fs_, root_, {SetTransaction{"loader-1", 7, 0}, MakeAdd("dup.parquet")}),
            2);
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version 2 (concurrent transaction for the same app id: "
                                      "loader-1"),
            std::string::npos)
      << r.status().message();
}

TEST_F(TransactionTest, MetadataChangeConflictsEvenWithABlindAppend) {
  CreateTable(*fs_, root_);
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.Add(MakeAdd("mine.parquet"));
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeMetadata({}, {{"delta.appendOnly", "true"}})},
                          "SET TBLPROPERTIES"),
            1);
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_NE(r.status().message().find("metadata"), std::string::npos);
  EXPECT_NE(r.status().message().find("by SET TBLPROPERTIES"), std::string::npos);
}

TEST_F(TransactionTest, ProtocolChangeConflicts) {
  CreateTable(*fs_, root_);
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.Add(MakeAdd("mine.parquet"));
  ASSERT_EQ(CommitActions(*fs_, root_, {Protocol{1, 3, {}, {}}}, "UPGRADE PROTOCOL"), 1);
  auto r = txn.Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("protocol changed"), std::string::npos);
}

TEST_F(TransactionTest, GivesUpAfterMaxRetries) {
  CreateTable(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, LoadLatest(*fs_, root_));
  txn.Add(MakeAdd("mine.parquet"));
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("theirs.parquet")}), 1);
  CommitOptions options;
  options.max_retries = 0;
  auto r = txn.Commit(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_NE(r.status().message().find("gave up after 1 attempts"), std::string::npos);
}

TEST_F(TransactionTest, WriteSerializableTableLetsBlindAppendsThrough) {
  CreateTable(*fs_, root_, {}, {{"delta.isolationLevel", "WriteSerializable"}});
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.read_set().whole_table = true;
  txn.Add(MakeAdd("mine.parquet"));
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("theirs.parquet")}), 1);
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadCommitJson(*fs_, root_, 2)[0]["commitInfo"]["isolationLevel"], "WriteSerializable");
}

}  // namespace
}  // namespace dl::delta
