#include "dl/delta/log_segment.hpp"

#include <gtest/gtest.h>

#include "dl/delta/tests/delta_test_util.hpp"

namespace dl::delta {
namespace {

using namespace dl::delta::testing;  // NOLINT

constexpr const char* kUuid = "3a0d65cd-4056-49b8-937b-95f9e3ee90e5";

TEST(LogPathTest, ParsesEveryKind) {
  auto c = LogPath::Parse("/t/_delta_log/00000000000000000007.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, LogPath::Kind::kCommit);
  EXPECT_EQ(c->version, 7);
  EXPECT_EQ(c->path, "/t/_delta_log/00000000000000000007.json");

  auto cp = LogPath::Parse("00000000000000000010.checkpoint.parquet");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->kind, LogPath::Kind::kCheckpoint);
  EXPECT_EQ(cp->version, 10);

  auto mp = LogPath::Parse("00000000000000000010.checkpoint.0000000002.0000000003.parquet");
  ASSERT_TRUE(mp);
  EXPECT_EQ(mp->kind, LogPath::Kind::kMultiPartCheckpoint);
  EXPECT_EQ(mp->part, 2);
  EXPECT_EQ(mp->num_parts, 3);

  for (const char* ext : {"json", "parquet"}) {
    auto u = LogPath::Parse(fmt::format("00000000000000000010.checkpoint.{}.{}", kUuid, ext));
    ASSERT_TRUE(u) << ext;
    EXPECT_EQ(u->kind, LogPath::Kind::kUuidCheckpoint);
  }

  auto comp = LogPath::Parse("00000000000000000001.00000000000000000009.compacted.json");
  ASSERT_TRUE(comp);
  EXPECT_EQ(comp->kind, LogPath::Kind::kCompacted);
  EXPECT_EQ(comp->version, 1);
  EXPECT_EQ(comp->end_version, 9);
}

TEST(LogPathTest, IgnoresEverythingElse) {
  const char* junk[] = {
      "00000000000000000001.crc",
      ".00000000000000000001.json.crc",
      "00000000000000000001.json.tmp",
      ".00000000000000000001.json.1a2b.tmp",
      "_last_checkpoint",
      "1.json",
      "0000000000000000001.json",    // 19 digits
      "000000000000000000001.json",  // 21 digits
      "0000000000000000000a.json",
      "00000000000000000001.JSON",
      "00000000000000000001.checkpoint.0000000004.0000000003.parquet",  // part > parts
      "00000000000000000001.checkpoint.0000000000.0000000003.parquet",  // part 0
      "00000000000000000001.checkpoint.000000001.0000000003.parquet",   // 9 digits
      "00000000000000000001.checkpoint.not-a-uuid.json",
      "00000000000000000001.checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.avro",
      "00000000000000000001.checkpoint",
      "00000000000000000002.00000000000000000001.compacted.json",  // end < start
      "00000000000000000001.00000000000000000009.compacted.parquet",
      "99999999999999999999.json",  // overflows int64
      "",
  };
  for (const char* name : junk) EXPECT_FALSE(LogPath::Parse(name)) << name;
}

TEST(LogPathTest, PathHelpers) {
  EXPECT_EQ(LogDir("/t"), "/t/_delta_log");
  EXPECT_EQ(CommitPath("/t", 3), "/t/_delta_log/00000000000000000003.json");
  EXPECT_EQ(CheckpointPath("/t/", 10), "/t/_delta_log/00000000000000000010.checkpoint.parquet");
  EXPECT_EQ(LastCheckpointPath("/t"), "/t/_delta_log/_last_checkpoint");
}

class LogSegmentTest : public ::testing::Test {
 protected:
  void Touch(const std::string& name, const std::string& content = "{}\n") {
    WriteFile(LogFile(dir_.path(), name), content);
  }
  void Commits(int64_t from, int64_t to) {
    for (int64_t v = from; v <= to; ++v) Touch(fmt::format("{:020d}.json", v));
  }
  Result<LogSegment> Build(std::optional<int64_t> version = {}) {
    return LogSegment::Build(*fs_, dir_.path(), version);
  }
  static std::vector<int64_t> Versions(const LogSegment& s) {
    std::vector<int64_t> out;
    for (const auto& c : s.commits) out.push_back(c.version);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
};

TEST_F(LogSegmentTest, CommitsOnly) {
  Commits(0, 3);
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, 3);
  EXPECT_FALSE(s->checkpoint_version);
  EXPECT_EQ(Versions(*s), (std::vector<int64_t>{0, 1, 2, 3}));
  auto at1 = Build(1);
  ASSERT_TRUE(at1.ok());
  EXPECT_EQ(Versions(*at1), (std::vector<int64_t>{0, 1}));
}

TEST_F(LogSegmentTest, EveryFileKindPlusJunk) {
  Commits(0, 12);
  Touch("00000000000000000005.checkpoint.parquet");
  Touch("00000000000000000010.checkpoint.parquet");
  Touch("00000000000000000010.crc");
  Touch(".00000000000000000013.json.5f3e.tmp");
  Touch("00000000000000000013.json.tmp");
  Touch("00000000000000000000.00000000000000000004.compacted.json");
  Touch("_staged_commits/00000000000000000013.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.json");
  Touch("_last_checkpoint", R"({"version":10,"size":3})");
  Touch("random.txt");
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, 12);
  EXPECT_EQ(s->checkpoint_version, 10);
  ASSERT_EQ(s->checkpoint_parts.size(), 1u);
  EXPECT_TRUE(Contains(s->checkpoint_parts[0].path, "00000000000000000010.checkpoint.parquet"));
  ASSERT_TRUE(s->checkpoint_commit);
  EXPECT_EQ(s->checkpoint_commit->version, 10);
  EXPECT_EQ(Versions(*s), (std::vector<int64_t>{11, 12}));
  auto at7 = Build(7);
  ASSERT_TRUE(at7.ok());
  EXPECT_EQ(at7->checkpoint_version, 5);
  EXPECT_EQ(Versions(*at7), (std::vector<int64_t>{6, 7}));
}

TEST_F(LogSegmentTest, MultiPartCheckpointMissingAPartIsIgnored) {
  Commits(0, 21);
  Touch("00000000000000000010.checkpoint.0000000001.0000000002.parquet");
  Touch("00000000000000000010.checkpoint.0000000002.0000000002.parquet");
  Touch("00000000000000000020.checkpoint.0000000001.0000000003.parquet");
  Touch("00000000000000000020.checkpoint.0000000003.0000000003.parquet");
  Touch("_last_checkpoint", R"({"version":20,"size":9,"parts":3})");
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->checkpoint_version, 10);
  ASSERT_EQ(s->checkpoint_parts.size(), 2u);
  EXPECT_EQ(s->checkpoint_parts[0].part, 1);
  EXPECT_EQ(s->checkpoint_parts[1].part, 2);
  EXPECT_EQ(Versions(*s).front(), 11);
  EXPECT_EQ(Versions(*s).back(), 21);
}

TEST_F(LogSegmentTest, StaleCorruptOrDanglingLastCheckpointFallsBackToListing) {
  Commits(0, 25);
  Touch("00000000000000000010.checkpoint.parquet");
  Touch("00000000000000000020.checkpoint.parquet");
  for (const char* hint : {R"({"version":10,"size":3})",  // stale
                           "{not json",                   // corrupt
                           R"({"version":30,"size":3})",  // dangling
                           R"({"version":"x"})"}) {
    Touch("_last_checkpoint", hint);
    auto s = Build();
    ASSERT_TRUE(s.ok()) << hint << ": " << s.status().ToString();
    EXPECT_EQ(s->checkpoint_version, 20) << hint;
  }
  std::filesystem::remove(LogFile(dir_.path(), "_last_checkpoint"));
  auto s = Build();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->checkpoint_version, 20);
}

TEST_F(LogSegmentTest, HintBreaksTiesBetweenCheckpointsOfOneVersion) {
  Commits(0, 10);
  Touch("00000000000000000010.checkpoint.parquet");
  Touch("00000000000000000010.checkpoint.0000000001.0000000002.parquet");
  Touch("00000000000000000010.checkpoint.0000000002.0000000002.parquet");
  auto classic = Build();
  ASSERT_TRUE(classic.ok());
  EXPECT_EQ(classic->checkpoint_parts.size(), 1u);
  Touch("_last_checkpoint", R"({"version":10,"size":3,"parts":2})");
  auto multi = Build();
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->checkpoint_parts.size(), 2u);
}

// The local filesystem, noting which listings the log segment asks for.
class ListingRecorder final : public FileSystem {
 public:
  explicit ListingRecorder(FileSystem& fs) : fs_(fs) {}
  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    calls.push_back("List");
    return fs_.List(dir);
  }
  Result<std::vector<FileEntry>> ListAfter(const std::string& dir,
                                           const std::string& start_after) override {
    calls.push_back("ListAfter " + start_after);
    return fs_.ListAfter(dir, start_after);
  }
  Result<std::vector<FileEntry>> ListRecursive(const std::string& d,
                                               const std::string& m) override {
    return fs_.ListRecursive(d, m);
  }
  Result<FileEntry> Stat(const std::string& p) override { return fs_.Stat(p); }
  Result<bool> Exists(const std::string& p) override { return fs_.Exists(p); }
  Result<std::string> Read(const std::string& p) override { return fs_.Read(p); }
  Status PutIfAbsent(const std::string& p, const std::string& c) override {
    return fs_.PutIfAbsent(p, c);
  }
  Status WriteAtomic(const std::string& p, const std::string& c) override {
    return fs_.WriteAtomic(p, c);
  }
  Status Rename(const std::string& f, const std::string& t) override { return fs_.Rename(f, t); }
  Status Delete(const std::string& p) override { return fs_.Delete(p); }
  Status CreateDirs(const std::string& d) override { return fs_.CreateDirs(d); }
  std::vector<std::string> calls;

 private:
  FileSystem& fs_;
};

TEST_F(LogSegmentTest, ListsOnlyFromTheHintedCheckpoint) {
  Commits(0, 12);
  Touch("00000000000000000010.checkpoint.parquet");
  Touch("_last_checkpoint", R"({"version":10,"size":3})");
  ListingRecorder fs(*fs_);
  auto s = LogSegment::Build(fs, dir_.path(), std::nullopt);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->checkpoint_version, 10);
  ASSERT_TRUE(s->checkpoint_commit);
  EXPECT_EQ(Versions(*s), (std::vector<int64_t>{11, 12}));
  EXPECT_EQ(fs.calls, std::vector<std::string>{"ListAfter 00000000000000000010"});
  // Older versions need the whole log; so does a hint whose checkpoint is gone.
  fs.calls.clear();
  ASSERT_TRUE(LogSegment::Build(fs, dir_.path(), 7).ok());
  EXPECT_EQ(fs.calls, std::vector<std::string>{"List"});
  std::filesystem::remove(LogFile(dir_.path(), "00000000000000000010.checkpoint.parquet"));
  fs.calls.clear();
  auto full = LogSegment::Build(fs, dir_.path(), std::nullopt);
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->checkpoint_version);
  EXPECT_EQ(fs.calls, (std::vector<std::string>{"ListAfter 00000000000000000010", "List"}));
}

TEST_F(LogSegmentTest, GapIsCorrupt) {
  Commits(0, 2);
  Commits(4, 5);
  auto s = Build();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_EQ(s.status().message(), fmt::format("missing version 3 in {}/_delta_log", dir_.path()));
  EXPECT_TRUE(Build(2).ok());  // versions before the gap are fine
}

TEST_F(LogSegmentTest, GapBeforeCheckpointIsFine) {
  Commits(8, 12);  // 0..7 cleaned up
  Touch("00000000000000000010.checkpoint.parquet");
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Versions(*s), (std::vector<int64_t>{11, 12}));
  auto old = Build(9);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(old.status().message(), "earliest available version is 10"));
}

TEST_F(LogSegmentTest, MissingCommitZeroWithoutCheckpointIsCorrupt) {
  Commits(1, 3);
  auto s = Build();
  EXPECT_EQ(s.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(s.status().message(), "missing version 0"));
}

TEST_F(LogSegmentTest, VersionBeyondLatestNamesLatest) {
  Commits(0, 4);
  auto s = Build(9);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s.status().message(), "latest version is 4")) << s.status().message();
}

TEST_F(LogSegmentTest, CheckpointOnlyVersion) {
  Touch("00000000000000000010.checkpoint.parquet");
  auto s = Build();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->version, 10);
  EXPECT_TRUE(s->commits.empty());
  EXPECT_FALSE(s->checkpoint_commit);
}

TEST_F(LogSegmentTest, NotADeltaTable) {
  auto missing = Build();
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            fmt::format("{} is not a Delta table (no _delta_log)", dir_.path()));
  Touch("00000000000000000000.crc");
  auto junk_only = Build();
  EXPECT_EQ(junk_only.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(junk_only.status().message(), "not a Delta table"));
}

TEST_F(LogSegmentTest, EarliestRecoverableVersion) {
  Commits(5, 12);
  Touch("00000000000000000007.checkpoint.0000000001.0000000002.parquet");  // incomplete
  Touch("00000000000000000008.checkpoint.parquet");
  auto files = ListLogFiles(*fs_, dir_.path());
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(EarliestRecoverableVersion(*files), 8);
  Commits(0, 4);
  files = ListLogFiles(*fs_, dir_.path());
  EXPECT_EQ(EarliestRecoverableVersion(*files), 0);
}

}  // namespace
}  // namespace dl::delta
