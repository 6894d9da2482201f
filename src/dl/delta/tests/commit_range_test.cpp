#include "dl/delta/commit_range.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "dl/delta/tests/delta_test_util.hpp"

namespace dl::delta {
namespace {

using namespace dl::delta::testing;  // NOLINT

// Counts listings and reads (reads run on several threads).
class CountingFileSystem : public FileSystem {
 public:
  explicit CountingFileSystem(FileSystem& fs) : fs_(fs) {}
  std::atomic<int> lists{0}, reads{0};

  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    ++lists;
    return fs_.List(dir);
  }
  Result<std::vector<FileEntry>> ListAfter(const std::string& dir,
                                           const std::string& start_after) override {
    ++lists;
    return fs_.ListAfter(dir, start_after);
  }
  Result<std::vector<FileEntry>> ListRecursive(const std::string& d,
                                               const std::string& m) override {
    return fs_.ListRecursive(d, m);
  }
  Result<FileEntry> Stat(const std::string& p) override { return fs_.Stat(p); }
  Result<bool> Exists(const std::string& p) override { return fs_.Exists(p); }
  Result<std::string> Read(const std::string& p) override {
    ++reads;
    return fs_.Read(p);
  }
  Status PutIfAbsent(const std::string& p, const std::string& c) override {
    return fs_.PutIfAbsent(p, c);
  }
  Status WriteAtomic(const std::string& p, const std::string& c) override {
    return fs_.WriteAtomic(p, c);
  }
  Status Rename(const std::string& f, const std::string& t) override { return fs_.Rename(f, t); }
  Status Delete(const std::string& p) override { return fs_.Delete(p); }
  Status CreateDirs(const std::string& d) override { return fs_.CreateDirs(d); }

 private:
  FileSystem& fs_;
};

class CommitRangeTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = dir_.path() + "/t"; }

  // Commit v: its commitInfo (timestamp 1000 + v) first, then an add of "v.parquet".
  void WriteVersion(int64_t v) {
    std::vector<Action> actions = CommitStart(v);
    actions.push_back(MakeAdd(std::to_string(v) + ".parquet"));
    WriteCommit(root_, v, actions);
  }
  void WriteVersions(int64_t first, int64_t last) {
    for (int64_t v = first; v <= last; ++v) WriteVersion(v);
  }
  // Log cleanup: commits below `version` removed, a checkpoint at `version` kept.
  void CleanUpBelow(int64_t version) {
    CleanUpLogBelow(root_, version, {MakeProtocol(), MakeMetadata(), MakeAdd("cp.parquet")});
  }

  static std::vector<int64_t> Versions(const CommitRange& range) {
    std::vector<int64_t> out;
    for (const auto& c : range.commits) out.push_back(c.version);
    return out;
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<FileSystem> local_ = MakeLocalFileSystem();
  CountingFileSystem fs_{*local_};
};

TEST_F(CommitRangeTest, ReadsTheVersionsAfterUntilInOrder) {
  WriteVersions(0, 4);
  SetMtimeMs(CommitPath(root_, 3), 1700000003000);
  auto range = ReadCommitRange(fs_, root_, 1, 3);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(Versions(*range), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(range->info.until, 3);
  EXPECT_FALSE(range->info.expired);
  const auto& three = range->commits[1];
  EXPECT_EQ(three.path, CommitPath(root_, 3));
  EXPECT_EQ(three.modification_time_ms, 1700000003000);  // from the listing
  ASSERT_EQ(three.actions.size(), 2u);
  ASSERT_NE(three.commit_info(), nullptr);
  EXPECT_EQ(three.commit_info()->timestamp(), 1003);
  EXPECT_EQ(std::get<AddFile>(three.actions[1]).path, "3.parquet");

  // Without `until`: up to the newest commit; from -1: from the first.
  auto all = ReadCommitRange(fs_, root_, -1, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Versions(*all), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(all->info.until, 4);
}

TEST_F(CommitRangeTest, AnEmptyRangeReadsNothing) {
  WriteVersions(0, 2);
  auto same = ReadCommitRange(fs_, root_, 2, 2);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(same->commits.empty());
  EXPECT_EQ(same->info.until, 2);
  EXPECT_EQ(fs_.lists + fs_.reads.load(), 0);  // a known empty range costs no request

  auto none_newer = ReadCommitRange(fs_, root_, 2, std::nullopt);
  ASSERT_TRUE(none_newer.ok()) << none_newer.status().ToString();
  EXPECT_TRUE(none_newer->commits.empty());
  EXPECT_EQ(none_newer->info.until, 2);
  EXPECT_FALSE(none_newer->info.expired);
}

TEST_F(CommitRangeTest, AnUntilPastTheNewestCommitIsNotFound) {
  WriteVersions(0, 2);
  auto range = ReadCommitRange(fs_, root_, 0, 5);
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(range.status().message(), "version 5")) << range.status().message();
  auto no_table = ReadCommitRange(fs_, dir_.path() + "/none", -1, std::nullopt);
  ASSERT_FALSE(no_table.ok());
  EXPECT_EQ(no_table.status().code(), StatusCode::kNotFound);
}

TEST_F(CommitRangeTest, AMissingVersionIsCorruptLogNamingTableAndVersion) {
  WriteVersions(0, 5);
  std::filesystem::remove(CommitPath(root_, 3));
  for (int64_t after : {-1, 0, 2}) {
    auto range = ReadCommitRange(fs_, root_, after, 5);
    ASSERT_FALSE(range.ok()) << after;
    EXPECT_EQ(range.status().code(), StatusCode::kCorruptLog) << after;
    EXPECT_TRUE(Contains(range.status().message(), "missing version 3 of table " + root_))
        << range.status().message();
  }
}

// The range starts inside the hole: only the whole log tells a hole from cleanup.
TEST_F(CommitRangeTest, AHoleIsNotMistakenForCleanupWhenTheRangeStartsInIt) {
  WriteVersions(0, 5);
  std::filesystem::remove(CommitPath(root_, 2));
  std::filesystem::remove(CommitPath(root_, 3));
  auto range = ReadCommitRange(fs_, root_, 2, 5);
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(range.status().message(), "missing version 3")) << range.status().message();
}

TEST_F(CommitRangeTest, VersionsBelowTheOldestRetainedCommitAreReportedAsExpired) {
  WriteVersions(0, 6);
  CleanUpBelow(3);
  auto all = ReadCommitRange(fs_, root_, -1, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Versions(*all), (std::vector<int64_t>{3, 4, 5, 6}));
  ASSERT_TRUE(all->info.expired);
  EXPECT_EQ(all->info.expired->first, 0);
  EXPECT_EQ(all->info.expired->last, 2);

  auto from_one = ReadCommitRange(fs_, root_, 0, 4);  // commit 0 itself is gone too
  ASSERT_TRUE(from_one.ok()) << from_one.status().ToString();
  EXPECT_EQ(Versions(*from_one), (std::vector<int64_t>{3, 4}));
  ASSERT_TRUE(from_one->info.expired);
  EXPECT_EQ(from_one->info.expired->first, 1);
  EXPECT_EQ(from_one->info.expired->last, 2);

  auto all_gone = ReadCommitRange(fs_, root_, 0, 2);
  ASSERT_TRUE(all_gone.ok()) << all_gone.status().ToString();
  EXPECT_TRUE(all_gone->commits.empty());
  ASSERT_TRUE(all_gone->info.expired);
  EXPECT_EQ(all_gone->info.expired->first, 1);
  EXPECT_EQ(all_gone->info.expired->last, 2);

  // A gap above the oldest retained commit is still one.
  std::filesystem::remove(CommitPath(root_, 5));
  auto gap = ReadCommitRange(fs_, root_, -1, std::nullopt);
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(gap.status().message(), "missing version 5")) << gap.status().message();
}

TEST_F(CommitRangeTest, KnownCommitsAreReadWithoutListingTheLog) {
  WriteVersions(0, 6);
  CleanUpBelow(3);
  auto seg = LogSegment::Build(*local_, root_);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  ASSERT_EQ(seg->checkpoint_version, 3);
  CommitRangeOptions options;
  options.known = &*seg;

  auto tail = ReadCommitRange(fs_, root_, 4, 6, options);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(Versions(*tail), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(fs_.lists.load(), 0);
  EXPECT_EQ(fs_.reads.load(), 2);
  EXPECT_GT(tail->commits[0].modification_time_ms, 0);  // the segment's listing

  // Below the segment's commits, versions are read by path (3 is the checkpoint's commit,
  // kept); 1 and 2 are gone, and one listing tells they are below the oldest commit.
  fs_.reads = 0;
  auto older = ReadCommitRange(fs_, root_, 0, 6, options);
  ASSERT_TRUE(older.ok()) << older.status().ToString();
  EXPECT_EQ(Versions(*older), (std::vector<int64_t>{3, 4, 5, 6}));
  ASSERT_TRUE(older->info.expired);
  EXPECT_EQ(older->info.expired->first, 1);
  EXPECT_EQ(older->info.expired->last, 2);
  EXPECT_EQ(fs_.lists.load(), 1);
  EXPECT_EQ(fs_.reads.load(), 6);

  // A version missing after one that was found is a gap: no listing needed to tell.
  fs_.lists = 0;
  std::filesystem::remove(CommitPath(root_, 5));
  auto gap = ReadCommitRange(fs_, root_, 3, 6, options);
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(gap.status().message(), "missing version 5")) << gap.status().message();
  EXPECT_EQ(fs_.lists.load(), 0);
}

TEST_F(CommitRangeTest, TheListingStartsAtAfter) {
  WriteVersions(0, 5);
  struct Recorder : CountingFileSystem {
    using CountingFileSystem::CountingFileSystem;
    std::string start_after;
    Result<std::vector<FileEntry>> ListAfter(const std::string& dir,
                                             const std::string& s) override {
      start_after = s;
      return CountingFileSystem::ListAfter(dir, s);
    }
  } fs(*local_);
  auto range = ReadCommitRange(fs, root_, 3, std::nullopt);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(Versions(*range), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(fs.start_after, "00000000000000000003");
  EXPECT_EQ(fs.lists.load(), 1);
  EXPECT_EQ(fs.reads.load(), 2);
}

TEST_F(CommitRangeTest, CommitInfoOnlyParsesTheFirstLineWhenItIsTheCommitInfo) {
  WriteVersions(0, 1);
  // A commit whose commitInfo is not first is parsed whole.
  WriteCommit(root_, 2, {MakeAdd("2.parquet"), MakeCommitInfo(1002)});
  CommitRangeOptions options;
  options.commit_info_only = true;
  auto range = ReadCommitRange(fs_, root_, 0, 2, options);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  ASSERT_EQ(range->commits.size(), 2u);
  EXPECT_EQ(range->commits[0].actions.size(), 1u);
  EXPECT_EQ(range->commits[0].commit_info()->timestamp(), 1001);
  EXPECT_EQ(range->commits[1].actions.size(), 2u);
  EXPECT_EQ(range->commits[1].commit_info()->timestamp(), 1002);
}

TEST_F(CommitRangeTest, ManyCommitsArriveInOrderAndTheCallbackCanStop) {
  WriteVersions(0, 40);
  CommitRangeOptions options;
  options.parallel = 4;
  std::vector<int64_t> seen;
  auto all = ForEachCommit(fs_, root_, -1, std::nullopt, options, [&](Commit&& c) {
    seen.push_back(c.version);
    return Status::OK();
  });
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(seen.size(), 41u);
  for (int64_t v = 0; v <= 40; ++v) EXPECT_EQ(seen[static_cast<size_t>(v)], v);

  seen.clear();
  auto stopped = ForEachCommit(fs_, root_, -1, std::nullopt, options, [&](Commit&& c) {
    seen.push_back(c.version);
    return c.version == 5 ? Status::InvalidArgument("stop at {}", c.version) : Status::OK();
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().message(), "stop at 5");
  EXPECT_EQ(seen.back(), 5);
}

TEST_F(CommitRangeTest, NewestFirstReadsGrowingRangesUntilTheCallbackStops) {
  WriteVersions(0, 40);
  auto seg = LogSegment::Build(*local_, root_);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  CommitRangeOptions options;
  options.known = &*seg;
  options.parallel = 4;
  std::vector<int64_t> seen;
  auto upto = [&](int64_t stop_at) {
    return [&seen, stop_at](const Commit& c) -> Result<bool> {
      seen.push_back(c.version);
      return c.version == stop_at;
    };
  };
  // The newest commit wanted: one read, no listing.
  auto newest = ForEachCommitNewestFirst(fs_, root_, 40, options, upto(40));
  ASSERT_TRUE(newest.ok()) << newest.status().ToString();
  EXPECT_TRUE(*newest);
  EXPECT_EQ(seen, (std::vector<int64_t>{40}));
  EXPECT_EQ(fs_.reads.load(), 1);
  EXPECT_EQ(fs_.lists.load(), 0);

  // Ranges of 1, 2, 4, 4, ... versions: 40 | 39 38 | 37..34 | 33..30.
  seen.clear();
  fs_.reads = 0;
  auto deeper = ForEachCommitNewestFirst(fs_, root_, 40, options, upto(31));
  ASSERT_TRUE(deeper.ok()) << deeper.status().ToString();
  EXPECT_TRUE(*deeper);
  EXPECT_EQ(seen.front(), 40);
  EXPECT_EQ(seen.back(), 31);
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(fs_.reads.load(), 11);

  // Not found: every version once, newest first, down to 0.
  seen.clear();
  auto none = ForEachCommitNewestFirst(fs_, root_, 40, options, upto(-1));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(*none);
  ASSERT_EQ(seen.size(), 41u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 40 - static_cast<int64_t>(i));

  // An error from the callback stops the walk.
  auto failed = ForEachCommitNewestFirst(fs_, root_, 40, options, [](const Commit& c) {
    return Result<bool>(Status::InvalidArgument("stop at {}", c.version));
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "stop at 40");
}

TEST_F(CommitRangeTest, NewestFirstEndsAtTheOldestCommitLogCleanupLeft) {
  WriteVersions(0, 30);
  CleanUpBelow(20);
  auto seg = LogSegment::Build(*local_, root_);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  const LogSegment* segment = &*seg;
  for (const LogSegment* known : {static_cast<const LogSegment*>(nullptr), segment}) {
    CommitRangeOptions options;
    options.known = known;
    std::vector<int64_t> seen;
    auto walked = ForEachCommitNewestFirst(fs_, root_, 30, options, [&](const Commit& c) {
      seen.push_back(c.version);
      return Result<bool>(false);
    });
    ASSERT_TRUE(walked.ok()) << walked.status().ToString();
    EXPECT_FALSE(*walked);
    ASSERT_EQ(seen.size(), 11u);
    EXPECT_EQ(seen.back(), 20);
  }
  // A gap above the oldest retained commit is not taken for cleanup.
  std::filesystem::remove(CommitPath(root_, 25));
  auto gap = ForEachCommitNewestFirst(fs_, root_, 30, {}, [](const Commit&) {
    return Result<bool>(false);
  });
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(gap.status().message(), "missing version 25")) << gap.status().message();
}

TEST_F(CommitRangeTest, AnUnreadableCommitNamesItsFile) {
  WriteVersions(0, 2);
  WriteFile(CommitPath(root_, 1), "{not json\n");
  auto range = ReadCommitRange(fs_, root_, -1, std::nullopt);
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(range.status().message(), CommitPath(root_, 1))) << range.status().message();
}

}  // namespace
}  // namespace dl::delta
