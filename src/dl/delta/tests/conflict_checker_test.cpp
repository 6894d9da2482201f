#include "dl/delta/conflict_checker.hpp"

#include <gtest/gtest.h>

#include "dl/delta/tests/txn_test_util.hpp"

namespace dl::delta {
namespace {

using test_util::MakeAdd;
using test_util::MakeMetadata;
using test_util::MakeRemove;
using Kind = Conflict::Kind;

CommitInfo Info(const std::string& operation, bool blind_append) {
  CommitInfo ci;
  ci.json["operation"] = operation;
  ci.json["isBlindAppend"] = blind_append;
  return ci;
}

// A snapshot built in memory: partitioned by k, files a1, a2 in k=a and b1 in k=b.
std::shared_ptr<const Snapshot> ReadSnapshot() {
  std::vector<AddFile> files = {MakeAdd("k=a/a1.parquet", {{"k", "a"}}),
                                MakeAdd("k=a/a2.parquet", {{"k", "a"}}),
                                MakeAdd("k=b/b1.parquet", {{"k", "b"}})};
  return std::make_shared<Snapshot>("/t", LogSegment{}, 5, 0, Protocol{}, MakeMetadata({"k"}),
                                    Schema{}, files, std::vector<RemoveFile>{},
                                    std::map<std::string, SetTransaction>{},
                                    std::map<std::string, DomainMetadata>{});
}

ConflictChecker Checker(const ReadSet& read_set, const std::vector<Action>& ours = {},
                        IsolationLevel level = IsolationLevel::kSerializable) {
  auto snap = ReadSnapshot();
  return ConflictChecker(MakeTransactionInfo(snap.get(), read_set, ours, level));
}

ReadSet Partitions(std::vector<PartitionValues> p) {
  ReadSet rs;
  rs.partitions = std::move(p);
  return rs;
}

ReadSet WholeTable() {
  ReadSet rs;
  rs.whole_table = true;
  return rs;
}

std::optional<Kind> KindOf(const std::optional<Conflict>& c) {
  if (!c) return std::nullopt;
  return c->kind;
}

TEST(ConflictCheckerTest, PartitionMatchingTreatsEmptyAsNull) {
  EXPECT_TRUE(PartitionMatches({{"k", "a"}}, {{"k", "a"}, {"j", "1"}}));
  EXPECT_FALSE(PartitionMatches({{"k", "a"}}, {{"k", "b"}}));
  EXPECT_TRUE(PartitionMatches({{"k", std::nullopt}}, {{"k", ""}}));
  EXPECT_TRUE(PartitionMatches({{"k", ""}}, {{"k", std::nullopt}}));
  EXPECT_TRUE(PartitionMatches({{"k", std::nullopt}}, {}));
  EXPECT_FALSE(PartitionMatches({{"k", std::nullopt}}, {{"k", "a"}}));
  EXPECT_TRUE(PartitionMatches({}, {{"k", "a"}}));
}

TEST(ConflictCheckerTest, ReadPathsFollowTheReadSet) {
  auto snap = ReadSnapshot();
  auto info = MakeTransactionInfo(snap.get(), Partitions({{{"k", "a"}}}), {},
                                  IsolationLevel::kSerializable);
  EXPECT_EQ(info.read_paths, (std::set<std::string>{"k=a/a1.parquet", "k=a/a2.parquet"}));
  EXPECT_EQ(info.partition_columns, std::vector<std::string>{"k"});
  info = MakeTransactionInfo(snap.get(), WholeTable(), {}, IsolationLevel::kSerializable);
  EXPECT_EQ(info.read_paths.size(), 3u);
  info = MakeTransactionInfo(snap.get(), ReadSet{}, {}, IsolationLevel::kSerializable);
  EXPECT_TRUE(info.read_paths.empty());
  // Creating a table: nothing read.
  info = MakeTransactionInfo(nullptr, WholeTable(), {}, IsolationLevel::kSerializable);
  EXPECT_TRUE(info.read_paths.empty());
}

TEST(ConflictCheckerTest, SnapshotWithoutFilesAssumesEverythingWasRead) {
  auto files_less = std::make_shared<Snapshot>(
      "/t", LogSegment{}, 5, 0, Protocol{}, MakeMetadata({"k"}), Schema{}, std::vector<AddFile>{},
      std::vector<RemoveFile>{}, std::map<std::string, SetTransaction>{},
      std::map<std::string, DomainMetadata>{}, /*has_files=*/false);
  auto info = MakeTransactionInfo(files_less.get(), Partitions({{{"k", "a"}}}), {},
                                  IsolationLevel::kSerializable);
  EXPECT_TRUE(info.read_set.whole_table);  // conservative: conflicts are never missed
  info = MakeTransactionInfo(files_less.get(), ReadSet{}, {}, IsolationLevel::kSerializable);
  EXPECT_TRUE(info.read_set.is_blind_append());
}

TEST(ConflictCheckerTest, BlindAppendNeverConflictsWithAppends) {
  auto checker = Checker(ReadSet{});
  EXPECT_FALSE(checker.Check({Info("WRITE", true), MakeAdd("k=a/new.parquet", {{"k", "a"}})}));
  EXPECT_FALSE(checker.Check({Info("MERGE", false), MakeAdd("k=a/new.parquet", {{"k", "a"}})}));
}

TEST(ConflictCheckerTest, AppendIntoWhatWeReadConflicts) {
  std::vector<Action> winner = {Info("WRITE", true), MakeAdd("k=a/new.parquet", {{"k", "a"}})};
  EXPECT_EQ(KindOf(Checker(WholeTable()).Check(winner)), Kind::kConcurrentAppend);
  auto c = Checker(Partitions({{{"k", "a"}}})).Check(winner);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->Reason(), "concurrent append: file k=a/new.parquet added to partition {k=a}");
  EXPECT_FALSE(Checker(Partitions({{{"k", "b"}}})).Check(winner));
  // Compaction output (dataChange=false) adds no rows.
  EXPECT_FALSE(Checker(WholeTable()).Check({MakeAdd("k=a/c.parquet", {{"k", "a"}}, false)}));
}

TEST(ConflictCheckerTest, NullPartitionReadSeesNullAppends) {
  std::vector<Action> winner = {MakeAdd("k=__HIVE_DEFAULT_PARTITION__/n.parquet", {{"k", ""}})};
  EXPECT_EQ(KindOf(Checker(Partitions({{{"k", std::nullopt}}})).Check(winner)),
            Kind::kConcurrentAppend);
}

TEST(ConflictCheckerTest, WriteSerializableExemptsBlindAppendWinners) {
  auto checker = Checker(WholeTable(), {}, IsolationLevel::kWriteSerializable);
  EXPECT_FALSE(checker.Check({Info("WRITE", true), MakeAdd("n.parquet", {{"k", "a"}})}));
  EXPECT_EQ(KindOf(checker.Check({Info("MERGE", false), MakeAdd("n.parquet", {{"k", "a"}})})),
            Kind::kConcurrentAppend);
}

TEST(ConflictCheckerTest, DeleteOfAFileWeReadConflicts) {
  AddFile a1 = MakeAdd("k=a/a1.parquet", {{"k", "a"}});
  AddFile b1 = MakeAdd("k=b/b1.parquet", {{"k", "b"}});
  auto part_a = Checker(Partitions({{{"k", "a"}}}));
  EXPECT_EQ(KindOf(part_a.Check({MakeRemove(a1, false)})), Kind::kConcurrentDeleteRead);
  EXPECT_FALSE(part_a.Check({MakeRemove(b1)}));
  // Without partition values in the remove, the path still identifies a read file.
  RemoveFile bare = MakeRemove(a1);
  bare.partition_values.reset();
  EXPECT_EQ(KindOf(part_a.Check({bare})), Kind::kConcurrentDeleteRead);
  EXPECT_EQ(KindOf(Checker(WholeTable()).Check({MakeRemove(b1)})), Kind::kConcurrentDeleteRead);
  // A blind append read nothing.
  EXPECT_FALSE(Checker(ReadSet{}).Check({MakeRemove(a1)}));
}

TEST(ConflictCheckerTest, DeleteOfAFileWeDeleteConflicts) {
  AddFile b1 = MakeAdd("k=b/b1.parquet", {{"k", "b"}});
  auto checker = Checker(ReadSet{}, {MakeRemove(b1)});
  auto c = checker.Check({Info("DELETE", false), MakeRemove(b1)});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Kind::kConcurrentDeleteDelete);
  EXPECT_EQ(c->detail, "k=b/b1.parquet");
  EXPECT_FALSE(checker.Check({MakeRemove(MakeAdd("k=a/a1.parquet", {{"k", "a"}}))}));
}

TEST(ConflictCheckerTest, RemovesOfTheSameFileWithDeletionVectorsConflict) {
  // Both transactions replace the DV of the same file: each removes (path, old DV).
  const DeletionVector old_dv{"u", "vBn[lx{q8@P<9BNH/isA", 1, 36, 2, {}};
  const DeletionVector ours_dv{"u", "5<w-%>:JjlQ/G/]6C<1m", 1, 40, 3, {}};
  const DeletionVector theirs_dv{"u", "rsTVZ&*Sl-RXRWjryu/!", 1, 40, 3, {}};
  auto rm = [&](const std::string& path) {
    RemoveFile r = MakeRemove(MakeAdd(path, {{"k", "b"}}));
    r.deletion_vector = old_dv;
    return r;
  };
  auto add = [&](const std::string& path, const DeletionVector& dv) {
    AddFile a = MakeAdd(path, {{"k", "b"}});
    a.deletion_vector = dv;
    return a;
  };
  auto checker = Checker(ReadSet{}, {rm("k=b/b 1.parquet"), add("k=b/b 1.parquet", ours_dv)});
  auto c = checker.Check(
      {Info("DELETE", false), rm("k=b/b%201.parquet"), add("k=b/b%201.parquet", theirs_dv)});
  ASSERT_TRUE(c);  // the same (path, DV), whichever way the writer encoded the path
  EXPECT_EQ(c->kind, Kind::kConcurrentDeleteDelete);
  EXPECT_EQ(c->detail, "k=b/b%201.parquet");
  EXPECT_FALSE(checker.Check({Info("DELETE", false), rm("k=b/other.parquet")}));
  // A file we read (k=a) whose DV a winner replaced was deleted from under us.
  auto reader = Checker(Partitions({{{"k", "a"}}}));
  RemoveFile a1 = MakeRemove(MakeAdd("k=a/a1.parquet", {{"k", "a"}}));
  a1.partition_values.reset();
  a1.path = "k%3Da/a1.parquet";
  EXPECT_EQ(KindOf(reader.Check({a1})), Kind::kConcurrentDeleteRead);
}

TEST(ConflictCheckerTest, ProtocolAndMetadataChangesAlwaysConflict) {
  auto checker = Checker(ReadSet{});
  EXPECT_EQ(KindOf(checker.Check({Protocol{1, 3, {}, {}}})), Kind::kProtocolChanged);
  EXPECT_EQ(KindOf(checker.Check({MakeMetadata({"k"})})), Kind::kMetadataChanged);
}

TEST(ConflictCheckerTest, TxnAppIdsWeReadOrWriteConflict) {
  auto reader = Checker([] {
    ReadSet rs;
    rs.app_ids.insert("app-1");
    return rs;
  }());
  EXPECT_EQ(KindOf(reader.Check({SetTransaction{"app-1", 3, 0}})), Kind::kConcurrentTransaction);
  EXPECT_FALSE(reader.Check({SetTransaction{"app-2", 3, 0}}));
  auto writer = Checker(ReadSet{}, {SetTransaction{"app-2", 4, 0}});
  EXPECT_EQ(KindOf(writer.Check({SetTransaction{"app-2", 4, 0}})), Kind::kConcurrentTransaction);
}

TEST(ConflictCheckerTest, SameDomainConflicts) {
  auto checker = Checker(ReadSet{}, {DomainMetadata{"delta.clustering", "{}", false}});
  EXPECT_EQ(KindOf(checker.Check({DomainMetadata{"delta.clustering", "{\"a\":1}", false}})),
            Kind::kConcurrentDomainMetadata);
  EXPECT_FALSE(checker.Check({DomainMetadata{"other", "{}", false}}));
}

TEST(ConflictCheckerTest, CommitInfoAloneDoesNotConflict) {
  EXPECT_FALSE(Checker(WholeTable()).Check({Info("VACUUM START", false)}));
  EXPECT_FALSE(Checker(WholeTable()).Check({}));
}

TEST(ConflictCheckerTest, StatusNamesVersionReasonAndOperation) {
  Conflict c{Kind::kConcurrentDeleteDelete, "f.parquet"};
  Status st = ConflictStatus("/data/t", 12, c, WinningOperation({Info("DELETE", false)}));
  EXPECT_EQ(st.code(), StatusCode::kCommitConflict);
  EXPECT_EQ(st.message(),
            "commit to /data/t conflicts with version 12 (concurrent delete of a file we delete: "
            "f.parquet, by DELETE); re-plan against the new snapshot");
  EXPECT_EQ(WinningOperation({}), "an unknown operation");
}

TEST(ConflictCheckerTest, TableIsolationLevel) {
  EXPECT_EQ(TableIsolationLevel(MakeMetadata()), IsolationLevel::kSerializable);
  EXPECT_EQ(TableIsolationLevel(MakeMetadata({}, {{"delta.isolationLevel", "WriteSerializable"}})),
            IsolationLevel::kWriteSerializable);
  EXPECT_STREQ(IsolationLevelName(IsolationLevel::kSerializable), "Serializable");
}

}  // namespace
}  // namespace dl::delta
