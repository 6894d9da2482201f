// V2 checkpoints: UUID-named and classic-named v2 spec checkpoints with checkpointMetadata and
// sidecars are read; tables with the feature get UUID-named v2 checkpoints from us; log
// cleanup and VACUUM leave sidecars alone.
#include <gtest/gtest.h>

#include "dl/delta/maintenance.hpp"
#include "dl/delta/tests/txn_test_util.hpp"

namespace dl::delta {
namespace {

using test_util::JsonLinesParquet;
using test_util::MakeAdd;
using test_util::MakeMetadata;
using test_util::NowMs;
using test_util::TempDir;
using test_util::WriteFile;

constexpr char kUuid[] = "80a083e8-7026-4e79-81be-64bd76c43a11";

Protocol V2Protocol() {
  return Protocol{3, 7, std::vector<std::string>{"v2Checkpoint"},
                  std::vector<std::string>{"v2Checkpoint"}};
}

std::string Line(const nlohmann::json& j) { return j.dump() + "\n"; }

class V2CheckpointTest : public ::testing::Test {
 protected:
  std::string Log(const std::string& name) const { return JoinPath(LogDir(root_), name); }
  std::string UuidCheckpoint(int64_t v, const std::string& ext) const {
    return Log(fmt::format("{:020d}.checkpoint.{}.{}", v, kUuid, ext));
  }
  // Protocol, metaData and a txn, as a v2 checkpoint of version 5 holds them itself.
  std::string NonFileActions(int64_t version = 5) const {
    return Line({{"checkpointMetadata", {{"version", version}, {"tags", nlohmann::json::object()}}}}) +
           SerializeActions({V2Protocol(), MakeMetadata(), SetTransaction{"app", 3, 1}});
  }
  std::string Sidecar(const std::string& name) const {
    return Line({{"sidecar", {{"path", name}, {"sizeInBytes", 10}, {"modificationTime", 1}}}});
  }
  std::vector<std::string> Paths(const Snapshot& s) const {
    std::vector<std::string> out;
    for (const auto& f : s.files()) out.push_back(f.path);
    return out;
  }
  // Commit 6 after the checkpoint of 5: one more file.
  void CommitSix() {
    WriteFile(CommitPath(root_, 6), SerializeActions({MakeAdd("f.parquet")}));
  }

  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  JsonLinesParquet parquet_;  // a sidecar ".parquet" here is JSON lines, as checkpoints are
  TempDir dir_;
  std::string root_ = dir_.path() + "/table";
};

TEST_F(V2CheckpointTest, UuidJsonCheckpointWithSidecars) {
  WriteFile(Log("_sidecars/a%20b.parquet"),
            SerializeActions({MakeAdd("a.parquet"), MakeAdd("gone.parquet")}));
  WriteFile(Log("_sidecars/c.parquet"),
            SerializeActions({MakeAdd("c.parquet"), test_util::MakeRemove(MakeAdd("r.parquet"))}));
  WriteFile(UuidCheckpoint(5, "json"),
            NonFileActions() + Sidecar("a%2520b.parquet") + Sidecar("c.parquet"));
  WriteFile(CommitPath(root_, 6),
            SerializeActions({MakeAdd("f.parquet"), test_util::MakeRemove(MakeAdd("gone.parquet"))}));
  auto s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->log_segment().checkpoint_version, 5);
  EXPECT_EQ(Paths(**s), (std::vector<std::string>{"a.parquet", "c.parquet", "f.parquet"}));
  EXPECT_EQ((*s)->tombstones().size(), 2u);  // r.parquet from the sidecar, gone.parquet
  EXPECT_EQ((*s)->TxnVersion("app"), 3);
  EXPECT_EQ(parquet_.reads, 1);  // both sidecars in one read
  // Metadata only: the sidecars are not read.
  auto meta = Snapshot::LoadWithoutFiles(*fs_, &parquet_, root_);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(parquet_.reads, 1);
  EXPECT_EQ((*meta)->TxnVersion("app"), 3);
}

TEST_F(V2CheckpointTest, UuidParquetAndClassicNamedV2SpecCheckpoints) {
  WriteFile(Log("_sidecars/s.parquet"), SerializeActions({MakeAdd("a.parquet")}));
  WriteFile(UuidCheckpoint(5, "parquet"), NonFileActions() + Sidecar("s.parquet"));
  CommitSix();
  auto s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Paths(**s), (std::vector<std::string>{"a.parquet", "f.parquet"}));

  std::filesystem::remove(UuidCheckpoint(5, "parquet"));
  WriteFile(CheckpointPath(root_, 5), NonFileActions() + Sidecar("s.parquet"));
  auto classic = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_TRUE(classic.ok()) << classic.status().ToString();
  EXPECT_EQ(Paths(**classic), (std::vector<std::string>{"a.parquet", "f.parquet"}));
}

TEST_F(V2CheckpointTest, SpecViolationsAreCorruptLogNamingTheFile) {
  // A UUID-named checkpoint without checkpointMetadata.
  WriteFile(UuidCheckpoint(5, "json"),
            SerializeActions({V2Protocol(), MakeMetadata(), MakeAdd("a.parquet")}));
  CommitSix();
  auto s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(s.status().message().find(UuidCheckpoint(5, "json") + " has no checkpointMetadata"),
            std::string::npos)
      << s.status().message();
  // checkpointMetadata of another version.
  WriteFile(UuidCheckpoint(5, "json"), NonFileActions(4));
  s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(s.status().message().find("version 4"), std::string::npos) << s.status().message();
  // A sidecar that is missing, or lacks a required field.
  WriteFile(UuidCheckpoint(5, "json"), NonFileActions() + Sidecar("missing.parquet"));
  s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(s.status().message().find("_sidecars/missing.parquet"), std::string::npos)
      << s.status().message();
  WriteFile(UuidCheckpoint(5, "json"),
            NonFileActions() + Line({{"sidecar", {{"path", "x.parquet"}}}}));
  s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(s.status().message().find("sizeInBytes"), std::string::npos) << s.status().message();
}

TEST_F(V2CheckpointTest, LogSegmentPrefersTheNewestCheckpointWhateverItsName) {
  for (int64_t v = 0; v <= 12; ++v) WriteFile(CommitPath(root_, v), "{}\n");
  WriteFile(CheckpointPath(root_, 5), "x");
  WriteFile(UuidCheckpoint(10, "json"), "x");
  // _last_checkpoint as Spark writes it for a v2 checkpoint.
  WriteFile(LastCheckpointPath(root_),
            Line({{"version", 10},
                  {"size", 4},
                  {"v2Checkpoint",
                   {{"path", fmt::format("00000000000000000010.checkpoint.{}.json", kUuid)},
                    {"sizeInBytes", 1},
                    {"modificationTime", 1},
                    {"nonFileActions", nlohmann::json::array()},
                    {"sidecarFiles", nlohmann::json::array()}}}}));
  auto seg = LogSegment::Build(*fs_, root_);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ(seg->checkpoint_version, 10);
  ASSERT_EQ(seg->checkpoint_parts.size(), 1u);
  EXPECT_EQ(seg->checkpoint_parts[0].kind, LogPath::Kind::kUuidCheckpoint);
  // A classic checkpoint of the same version is as good (same content, older readers).
  WriteFile(CheckpointPath(root_, 10), "x");
  seg = LogSegment::Build(*fs_, root_);
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ(seg->checkpoint_version, 10);
  auto at7 = LogSegment::Build(*fs_, root_, 7);
  ASSERT_TRUE(at7.ok());
  EXPECT_EQ(at7->checkpoint_version, 5);
}

TEST_F(V2CheckpointTest, TablesWithTheFeatureGetUuidNamedV2Checkpoints) {
  test_util::CreateTable(*fs_, root_, {}, {{"delta.checkpointInterval", "2"}});
  // Upgrade to v2Checkpoint, then commit to the interval: the automatic checkpoint is v2.
  ASSERT_EQ(test_util::CommitActions(*fs_, root_,
                                     {V2Protocol(), MakeMetadata({}, {{"delta.checkpointInterval", "2"}})}),
            1);
  Transaction txn(*fs_, &parquet_, root_, test_util::LoadLatest(*fs_, root_));
  txn.Add(MakeAdd("a.parquet"));
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->version, 2);
  EXPECT_TRUE(r->checkpoint_written);
  EXPECT_FALSE(*fs_->Exists(CheckpointPath(root_, 2)));  // never classic without metadata
  auto files = ListLogFiles(*fs_, root_);
  ASSERT_TRUE(files.ok());
  const LogPath* cp = nullptr;
  for (const auto& f : *files) {
    if (f.kind == LogPath::Kind::kUuidCheckpoint) cp = &f;
  }
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->version, 2);
  EXPECT_TRUE(cp->path.ends_with(".parquet"));
  auto lines = parquet_.ReadCheckpointActions({cp->path});
  ASSERT_TRUE(lines.ok());
  auto first = nlohmann::json::parse(lines->front());
  EXPECT_EQ(first["checkpointMetadata"]["version"], 2);
  EXPECT_EQ(nlohmann::json::parse(*fs_->Read(LastCheckpointPath(root_)))["version"], 2);
  // Read back from the checkpoint alone.
  ASSERT_TRUE(fs_->Delete(CommitPath(root_, 0)).ok());
  ASSERT_TRUE(fs_->Delete(CommitPath(root_, 1)).ok());
  auto s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Paths(**s), std::vector<std::string>{"a.parquet"});
  EXPECT_EQ((*s)->log_segment().checkpoint_parts[0].path, cp->path);
}

TEST_F(V2CheckpointTest, CleanupAndVacuumKeepSidecars) {
  WriteFile(Log("_sidecars/s.parquet"), SerializeActions({MakeAdd("a.parquet")}));
  WriteFile(JoinPath(root_, "a.parquet"), "data");
  for (int64_t v = 0; v <= 4; ++v) {
    WriteFile(CommitPath(root_, v), SerializeActions({test_util::MakeAdd("x" + std::to_string(v))}));
  }
  WriteFile(UuidCheckpoint(5, "json"), NonFileActions() + Sidecar("s.parquet"));
  CommitSix();
  const int64_t old = NowMs() - 60 * test_util::kDayMs;
  auto log_files = fs_->List(LogDir(root_));
  ASSERT_TRUE(log_files.ok());
  for (const auto& f : *log_files) {
    if (!f.is_dir) test_util::SetMtime(f.path, old);
  }
  test_util::SetMtime(Log("_sidecars/s.parquet"), old);
  auto s = Snapshot::Load(*fs_, &parquet_, root_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto deleted = CleanupExpiredLogs(*fs_, **s, NowMs());
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->size(), 5u);  // commits 0-4
  EXPECT_TRUE(*fs_->Exists(Log("_sidecars/s.parquet")));
  EXPECT_TRUE(*fs_->Exists(UuidCheckpoint(5, "json")));
  auto plan = PlanVacuum(*fs_, **s, NowMs(), 0, /*force=*/true);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  for (const auto& f : plan->files) EXPECT_EQ(f.path.find("_sidecars"), std::string::npos) << f.path;
  EXPECT_TRUE(Snapshot::Load(*fs_, &parquet_, root_).ok());
}

}  // namespace
}  // namespace dl::delta
