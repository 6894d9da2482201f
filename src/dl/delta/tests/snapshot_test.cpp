#include "dl/delta/snapshot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "dl/delta/tests/delta_test_util.hpp"

namespace dl::delta {
namespace {

using namespace dl::delta::testing;  // NOLINT

class SnapshotTest : public ::testing::Test {
 protected:
  const std::string& root() const { return dir_.path(); }
  void Create(Metadata m = MakeMetadata(), Protocol p = MakeProtocol()) {
    WriteCommit(root(), 0, {MakeCommitInfo(1000), p, m});
  }
  Result<std::shared_ptr<const Snapshot>> Load(std::optional<int64_t> v = {}) {
    return Snapshot::Load(*fs_, &parquet_, root(), v);
  }
  std::shared_ptr<const Snapshot> MustLoad(std::optional<int64_t> v = {}) {
    auto s = Load(v);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }
  static std::vector<std::string> Paths(const Snapshot& s) {
    std::vector<std::string> out;
    for (const auto& f : s.files()) out.push_back(f.path);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  JsonLinesParquet parquet_;
};

TEST_F(SnapshotTest, CreateAndAppend) {
  Create();
  WriteCommit(root(), 1, {MakeCommitInfo(2000), MakeAdd("b.parquet", 10), MakeAdd("a.parquet", 5)});
  WriteCommit(root(), 2, {MakeCommitInfo(3000), MakeAdd("c.parquet", 7)});
  auto s = MustLoad();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->version(), 2);
  EXPECT_EQ(s->timestamp_ms(), 3000);
  EXPECT_EQ(Paths(*s), (std::vector<std::string>{"a.parquet", "b.parquet", "c.parquet"}));
  EXPECT_EQ(s->TotalSize(), 22);
  EXPECT_EQ(s->schema().fields.size(), 2u);
  EXPECT_EQ(s->protocol(), MakeProtocol());
  EXPECT_EQ(s->metadata(), MakeMetadata());
  EXPECT_EQ(s->Property("delta.checkpointInterval", "10"), "10");
  EXPECT_EQ(s->log_segment().commits.size(), 3u);
}

TEST_F(SnapshotTest, AddRemoveReAdd) {
  Create();
  WriteCommit(root(), 1, {MakeAdd("a"), MakeAdd("b")});
  WriteCommit(root(), 2, {MakeRemove("a", 5)});
  WriteCommit(root(), 3, {MakeAdd("c")});
  WriteCommit(root(), 4, {MakeRemove("c", 6), MakeAdd("a", 42)});
  auto s2 = MustLoad(2);
  EXPECT_EQ(Paths(*s2), (std::vector<std::string>{"b"}));
  ASSERT_EQ(s2->tombstones().size(), 1u);
  EXPECT_EQ(s2->tombstones()[0].path, "a");
  auto s4 = MustLoad();
  EXPECT_EQ(Paths(*s4), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s4->files()[0].size, 42);
  ASSERT_EQ(s4->tombstones().size(), 1u);  // a's tombstone is gone once re-added
  EXPECT_EQ(s4->tombstones()[0].path, "c");
  EXPECT_EQ(s4->tombstones()[0].deletion_timestamp, 6);
}

TEST_F(SnapshotTest, DeletionVectorsArePartOfTheFileKey) {
  Create();
  AddFile plain = MakeAdd("f");
  AddFile with_dv = MakeAdd("f");
  with_dv.deletion_vector = DeletionVector{"u", "abc", 1, 10, 2, {}};
  WriteCommit(root(), 1, {plain});
  // Adding a DV: remove the plain file and add it back with its DV (same path).
  RemoveFile rm = MakeRemove("f");
  WriteCommit(root(), 2, {rm, with_dv});
  auto s = MustLoad();
  ASSERT_EQ(s->files().size(), 1u);
  EXPECT_TRUE(s->files()[0].deletion_vector);
  ASSERT_EQ(s->tombstones().size(), 1u);
  EXPECT_FALSE(s->tombstones()[0].deletion_vector);
  // A remove without the DV does not remove the DV'd file.
  WriteCommit(root(), 3, {MakeRemove("f")});
  EXPECT_EQ(MustLoad()->files().size(), 1u);
  RemoveFile rm_dv = MakeRemove("f");
  rm_dv.deletion_vector = with_dv.deletion_vector;
  WriteCommit(root(), 4, {rm_dv});
  EXPECT_TRUE(MustLoad()->files().empty());
}

TEST_F(SnapshotTest, ReplacingADeletionVectorLeavesOneFileWithTheNewDv) {
  Create();
  // Two DVs in one DV file differ only by offset: uniqueId "u<id>@<offset>" tells them apart.
  const DeletionVector dv1{"u", "vBn[lx{q8@P<9BNH/isA", 1, 36, 2, {}};
  const DeletionVector dv2{"u", "vBn[lx{q8@P<9BNH/isA", 45, 38, 3, {}};
  AddFile first = MakeAdd("a%20b.parquet");  // paths compare decoded
  first.deletion_vector = dv1;
  // The checkpoint holds the file with dv1; the next commit swaps in dv2 (DELETE again).
  WriteCheckpointFile(CheckpointPath(root(), 1), {MakeProtocol(), MakeMetadata(), first});
  RemoveFile old = MakeRemove("a b.parquet", 7000);
  old.deletion_vector = dv1;
  AddFile replaced = MakeAdd("a%20b.parquet");
  replaced.deletion_vector = dv2;
  WriteCommit(root(), 2, {MakeCommitInfo(7000), replaced, old});
  auto s = MustLoad();
  ASSERT_TRUE(s);
  ASSERT_EQ(s->files().size(), 1u);
  EXPECT_EQ(s->files()[0].deletion_vector, dv2);
  ASSERT_EQ(s->tombstones().size(), 1u);
  EXPECT_EQ(s->tombstones()[0].deletion_vector, dv1);
  // And once more from the commit log alone, the remove listed first.
  RemoveFile old2 = MakeRemove("a%20b.parquet", 8000);
  old2.deletion_vector = dv2;
  AddFile third = MakeAdd("a%20b.parquet");
  third.deletion_vector = DeletionVector{
      "i", "^Bg9^0rr910000000000iXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", std::nullopt, 44, 6, {}};
  WriteCommit(root(), 3, {old2, third});
  s = MustLoad();
  ASSERT_EQ(s->files().size(), 1u);
  EXPECT_EQ(s->files()[0].deletion_vector, third.deletion_vector);
  EXPECT_EQ(s->tombstones().size(), 2u);
}

TEST_F(SnapshotTest, ManySmallCommitsReconcile) {
  Create();
  for (int v = 1; v <= 500; ++v) {
    std::vector<Action> actions{MakeAdd(fmt::format("f{:04d}", v))};
    if (v > 2) actions.push_back(MakeRemove(fmt::format("f{:04d}", v - 2), v));
    if (v % 100 == 0) actions.push_back(MakeAdd("f0001"));  // re-added, then removed again
    if (v % 100 == 1 && v > 100) actions.push_back(MakeRemove("f0001", v));
    WriteCommit(root(), v, actions);
  }
  auto s = MustLoad();
  ASSERT_TRUE(s);
  EXPECT_EQ(Paths(*s), (std::vector<std::string>{"f0001", "f0499", "f0500"}));
  EXPECT_EQ(s->tombstones().size(), 497u);  // f0002..f0498
  EXPECT_EQ(s->tombstones().front().path, "f0002");
  auto s401 = MustLoad(401);
  EXPECT_EQ(Paths(*s401), (std::vector<std::string>{"f0400", "f0401"}));
}

TEST_F(SnapshotTest, SamePathWithTwoDeletionVectorsIsTwoFiles) {
  Create();
  AddFile a = MakeAdd("f"), b = MakeAdd("f"), c = MakeAdd("e");
  a.deletion_vector = DeletionVector{"u", "bbb", {}, 10, 1, {}};
  b.deletion_vector = DeletionVector{"u", "aaa", {}, 10, 2, {}};
  WriteCommit(root(), 1, {a, b, c, MakeAdd("f")});
  auto s = MustLoad();
  ASSERT_EQ(s->files().size(), 4u);
  EXPECT_EQ(s->files()[0].path, "e");
  EXPECT_FALSE(s->files()[1].deletion_vector);  // no DV sorts first
  EXPECT_EQ(s->files()[2].deletion_vector->path_or_inline_dv, "aaa");
  EXPECT_EQ(s->files()[3].deletion_vector->path_or_inline_dv, "bbb");
}

TEST_F(SnapshotTest, LastMetadataProtocolTxnAndDomainsWin) {
  Create();
  Metadata m2 = MakeMetadata({}, {{"delta.appendOnly", "true"}});
  SetTransaction t1{"app", 1, 10}, t2{"app", 5, 20}, other{"other", 3, {}};
  WriteCommit(
      root(), 1,
      {t1, other, DomainMetadata{"d1", "{\"a\":1}", false}, DomainMetadata{"d2", "{}", false}});
  WriteCommit(root(), 2,
              {m2, MakeProtocol(1, 3), t2, DomainMetadata{"d1", "{\"a\":2}", false},
               DomainMetadata{"d2", "{}", true}});
  auto s = MustLoad();
  EXPECT_EQ(s->metadata(), m2);
  EXPECT_EQ(s->Property("delta.appendOnly", "false"), "true");
  EXPECT_EQ(s->protocol().min_writer_version, 3);
  EXPECT_EQ(s->TxnVersion("app"), 5);
  EXPECT_EQ(s->TxnVersion("other"), 3);
  EXPECT_EQ(s->TxnVersion("nope"), std::nullopt);
  ASSERT_EQ(s->domains().size(), 1u);  // d2 is tombstoned
  EXPECT_EQ(s->domains().at("d1").configuration, "{\"a\":2}");
  auto s1 = MustLoad(1);
  EXPECT_EQ(s1->domains().size(), 2u);
  EXPECT_EQ(s1->TxnVersion("app"), 1);
}

TEST_F(SnapshotTest, CheckpointReplay) {
  Create();
  for (int v = 1; v <= 10; ++v) WriteCommit(root(), v, {MakeAdd(fmt::format("f{:02d}", v))});
  // The checkpoint at 10 holds the state; old commits are then cleaned up.
  std::vector<Action> cp{MakeProtocol(), MakeMetadata(), SetTransaction{"app", 7, {}},
                         DomainMetadata{"d", "{}", false}, MakeRemove("gone")};
  for (int v = 1; v <= 10; ++v) cp.push_back(MakeAdd(fmt::format("f{:02d}", v)));
  WriteCheckpointFile(CheckpointPath(root(), 10), cp);
  for (int v = 0; v < 10; ++v) std::filesystem::remove(CommitPath(root(), v));
  WriteCommit(root(), 11, {MakeCommitInfo(5000), MakeRemove("f01"), MakeAdd("f11")});
  auto s = MustLoad();
  ASSERT_TRUE(s);
  EXPECT_EQ(parquet_.reads, 1);
  EXPECT_EQ(s->version(), 11);
  EXPECT_EQ(s->files().size(), 10u);
  EXPECT_EQ(s->files().front().path, "f02");
  EXPECT_EQ(s->tombstones().size(), 2u);
  EXPECT_EQ(s->TxnVersion("app"), 7);
  EXPECT_EQ(s->domains().size(), 1u);
  EXPECT_EQ(s->timestamp_ms(), 5000);

  auto no_parquet = Snapshot::Load(*fs_, nullptr, root());
  EXPECT_EQ(no_parquet.status().code(), StatusCode::kInternal);
}

TEST_F(SnapshotTest, LoadWithoutFilesKeepsMetadataAndTxns) {
  Create();
  std::vector<Action> cp{MakeProtocol(), MakeMetadata(), SetTransaction{"app", 7, {}},
                         MakeAdd("f01"), MakeRemove("gone")};
  WriteCommit(root(), 1, {MakeAdd("f01")});
  WriteCheckpointFile(CheckpointPath(root(), 1), cp);
  Metadata changed = MakeMetadata({}, {{"delta.appendOnly", "true"}});
  WriteCommit(root(), 2,
              {MakeCommitInfo(5000), changed, SetTransaction{"app", 8, {}}, MakeAdd("f02")});
  auto s = Snapshot::LoadWithoutFiles(*fs_, &parquet_, root());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE((*s)->has_files());
  EXPECT_TRUE((*s)->files().empty());
  EXPECT_TRUE((*s)->tombstones().empty());
  EXPECT_EQ((*s)->version(), 2);
  EXPECT_EQ((*s)->metadata(), changed);
  EXPECT_EQ((*s)->TxnVersion("app"), 8);
  EXPECT_EQ((*s)->timestamp_ms(), 5000);
  EXPECT_TRUE(MustLoad()->has_files());
  EXPECT_EQ(MustLoad()->files().size(), 2u);
}

TEST_F(SnapshotTest, CorruptCheckpointNamesTheFile) {
  WriteFile(CheckpointPath(root(), 5),
            SerializeActions({MakeProtocol(), MakeMetadata()}) + R"({"add":{"path":1}})" + "\n");
  auto s = Load();
  ASSERT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(s.status().message(), "00000000000000000005.checkpoint.parquet action 3"))
      << s.status().message();
}

TEST_F(SnapshotTest, CheckpointOnlyVersionTimestamps) {
  WriteCheckpointFile(CheckpointPath(root(), 10), {MakeProtocol(), MakeMetadata(), MakeAdd("x")});
  SetMtimeMs(CheckpointPath(root(), 10), 123456000);
  auto s = MustLoad();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->version(), 10);
  EXPECT_EQ(s->timestamp_ms(), 123456000);  // no commit file left: the checkpoint's mtime
  WriteCommit(root(), 10, {MakeCommitInfo(777), MakeAdd("x")});
  EXPECT_EQ(MustLoad()->timestamp_ms(), 777);  // the commit file still exists
}

TEST_F(SnapshotTest, UuidJsonCheckpointNeedsNoParquet) {
  WriteFile(LogFile(root(),
                    "00000000000000000003.checkpoint.3a0d65cd-4056-49b8-937b-"
                    "95f9e3ee90e5.json"),
            std::string(R"({"checkpointMetadata":{"version":3}})") + "\n" +
                SerializeActions({MakeProtocol(), MakeMetadata(), MakeAdd("x")}));
  auto s = Snapshot::Load(*fs_, nullptr, root());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->files().size(), 1u);
}

TEST_F(SnapshotTest, TimestampPrefersInCommitTimestampThenCommitInfoThenMtime) {
  Create();
  WriteCommit(root(), 1, {MakeCommitInfo(2000, 2500), MakeAdd("a")});
  EXPECT_EQ(MustLoad()->timestamp_ms(), 2500);
  WriteCommit(root(), 2, {MakeAdd("b")});  // no commitInfo: file mtime
  SetMtimeMs(CommitPath(root(), 2), 99000);
  EXPECT_EQ(MustLoad()->timestamp_ms(), 99000);
}

TEST_F(SnapshotTest, TimeTravelByTimestamp) {
  Create();  // ts 1000
  WriteCommit(root(), 1, {MakeCommitInfo(2000), MakeAdd("a")});
  WriteCommit(root(), 2, {MakeCommitInfo(3000), MakeAdd("b")});
  WriteCommit(root(), 3, {MakeCommitInfo(4000, 4100), MakeAdd("c")});
  auto at = [&](int64_t ts) -> int64_t {
    auto s = Snapshot::LoadAtTimestamp(*fs_, &parquet_, root(), ts);
    EXPECT_TRUE(s.ok()) << ts << ": " << s.status().ToString();
    return s.ok() ? (*s)->version() : -1;
  };
  EXPECT_EQ(at(1000), 0);
  EXPECT_EQ(at(1999), 0);
  EXPECT_EQ(at(2000), 1);
  EXPECT_EQ(at(3500), 2);
  EXPECT_EQ(at(4050), 2);  // version 3's in-commit timestamp is 4100
  EXPECT_EQ(at(4100), 3);
  EXPECT_EQ(at(999999), 3);
  auto before = Snapshot::LoadAtTimestamp(*fs_, &parquet_, root(), 999);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(before.status().message(), "1970-01-01T00:00:01.000Z (1000)"))
      << before.status().message();
}

TEST_F(SnapshotTest, TimeTravelByTimestampAfterCleanup) {
  Create();
  for (int v = 1; v <= 4; ++v)
    WriteCommit(root(), v, {MakeCommitInfo(1000 + v * 1000), MakeAdd(std::to_string(v))});
  WriteCheckpointFile(CheckpointPath(root(), 2),
                      {MakeProtocol(), MakeMetadata(), MakeAdd("1"), MakeAdd("2")});
  std::filesystem::remove(CommitPath(root(), 0));
  std::filesystem::remove(CommitPath(root(), 1));
  auto s = Snapshot::LoadAtTimestamp(*fs_, &parquet_, root(), 4500);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->version(), 3);
  auto early = Snapshot::LoadAtTimestamp(*fs_, &parquet_, root(), 2500);
  ASSERT_FALSE(early.ok());
  EXPECT_TRUE(Contains(early.status().message(), "earliest available version 2"));
}

TEST_F(SnapshotTest, MissingProtocolOrMetadataIsCorrupt) {
  WriteCommit(root(), 0, {MakeCommitInfo(1), MakeMetadata()});
  auto s = Load();
  EXPECT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(s.status().message(), root()));
  EXPECT_TRUE(Contains(s.status().message(), "protocol"));
  WriteCommit(root(), 0, {MakeProtocol()});
  s = Load();
  EXPECT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(s.status().message(), "metaData"));
}

TEST_F(SnapshotTest, UnreadableTablesAreRejected) {
  Protocol vt{3, 7, std::vector<std::string>{"variantType"},
              std::vector<std::string>{"variantType"}};
  Create(MakeMetadata(), vt);
  auto s = Load();
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(s.status().message(), fmt::format("table {} uses reader feature variantType, "
                                              "which data_loader cannot read yet",
                                              root()));
  Create(MakeMetadata(), Protocol{3, 2, std::vector<std::string>{"timestampNtz"}, {}});
  EXPECT_EQ(Load().status().code(), StatusCode::kCorruptLog);  // (3, <7) is illegal
}

TEST_F(SnapshotTest, BadSchemaOrPartitionColumnIsCorrupt) {
  Create(MakeMetadata({"nope"}));
  auto s = Load();
  EXPECT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(s.status().message(), "nope"));
}

TEST_F(SnapshotTest, CorruptCommitNamesFileAndLine) {
  Create();
  WriteFile(CommitPath(root(), 1), SerializeAction(MakeAdd("a")) + "\n{\"add\":{\"pa");
  auto s = Load();
  ASSERT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(s.status().message(), "00000000000000000001.json line 2"))
      << s.status().message();
  EXPECT_TRUE(MustLoad(0));
}

TEST_F(SnapshotTest, EmptyCommitIsCorruptNotAnEmptyVersion) {
  Create();
  WriteCommit(root(), 1, {MakeCommitInfo(2000), MakeAdd("a")});
  WriteCommit(root(), 2, {MakeCommitInfo(3000), MakeAdd("b")});
  WriteFile(CommitPath(root(), 1), "");  // truncated to 0 bytes
  auto s = Load();
  ASSERT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(s.status().message(), CommitPath(root(), 1) + " is empty"))
      << s.status().message();
  EXPECT_EQ(Load(1).status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(MustLoad(0));
  // Time travel reads commit timestamps: an empty commit is no timestamp either.
  auto at = Snapshot::LoadAtTimestamp(*fs_, &parquet_, root(), 2500);
  EXPECT_EQ(at.status().code(), StatusCode::kCorruptLog) << at.status().ToString();
}

TEST_F(SnapshotTest, UnknownActionsAndFieldsAreIgnored) {
  Create();
  WriteFile(CommitPath(root(), 1),
            R"({"futureAction":{"x":1}})"
            "\n"
            R"({"add":{"path":"a","partitionValues":{},"size":1,"modificationTime":1,)"
            R"("dataChange":true,"futureField":[1,2,3]}})"
            "\n");
  EXPECT_EQ(MustLoad()->files().size(), 1u);
}

TEST_F(SnapshotTest, ReplayOf100kAddsIsFast) {
  Create(MakeMetadata({"part"}));
  std::string content = SerializeAction(MakeCommitInfo(2000)) + "\n";
  for (int i = 0; i < 100000; ++i) {
    AddFile a =
        MakeAdd(fmt::format("part={}/part-{:06d}-5f3e2a1b-0000-4000-8000-00000000abcd"
                            ".c000.snappy.parquet",
                            i % 10, i));
    a.partition_values["part"] = std::to_string(i % 10);
    a.stats = R"({"numRecords":100,"minValues":{"id":1},"maxValues":{"id":100},)"
              R"("nullCount":{"id":0}})";
    content += SerializeAction(a) + "\n";
  }
  WriteFile(CommitPath(root(), 1), content);
  auto start = std::chrono::steady_clock::now();
  std::clock_t cpu_start = std::clock();
  auto s = MustLoad();
  double cpu_ms = 1000.0 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->files().size(), 100000u);
  // CPU time, so a loaded machine does not fail it; generous enough for Debug builds while
  // still catching accidental quadratic replay. Typical: ~0.5 s optimised.
  EXPECT_LT(cpu_ms, 10000) << "replay of 100k adds took " << cpu_ms << " ms cpu";
  std::cout << "[ perf     ] replay of 100000 adds: " << ms << " ms wall, " << cpu_ms
            << " ms cpu\n";
}

}  // namespace
}  // namespace dl::delta
