#include "dl/tracker/file_tracker.hpp"

#include <gtest/gtest.h>

#include "dl/common/testing/temp_dir.hpp"

namespace dl::tracker {
namespace {

class FileTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = engine::MakeDuckDbEngine();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    fs_ = MakeLocalFileSystem();
    tracker_ = std::make_unique<FileTracker>(*fs_, *engine_, dir_ / "tracker");
  }

  void Add(int64_t size, int64_t mtime, FileStatus status, int64_t updated_at) {
    FileRecord r;
    r.file_path = "/raw/f.csv";
    r.file_size = size;
    r.file_modified_time_ms = mtime;
    r.table_name = "db.t";
    r.status = status;
    r.created_at_ms = 1000;
    r.updated_at_ms = updated_at;
    if (status == FileStatus::kCompleted) r.target_version = 5;
    tracker_->Record(std::move(r));
    ASSERT_TRUE(tracker_->Flush().ok());
  }

  FileRecord Current() {
    auto records = tracker_->Load("db.t");
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    EXPECT_EQ(records->size(), 1u);
    return records->begin()->second;
  }

  dl::testing::TempDir dir_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<FileTracker> tracker_;
};

// A loader that lost a commit race recorded the winner's files as failed after the winner
// recorded them completed (issue 11): the completed row of that file version must stay current,
// in Load and through Compact.
TEST_F(FileTrackerTest, ALoadedVersionStaysLoadedWhateverALaterRowSays) {
  Add(10, 2000, FileStatus::kCompleted, 100000);
  Add(10, 2000, FileStatus::kFailed, 200000);
  EXPECT_EQ(Current().status, FileStatus::kCompleted);
  EXPECT_EQ(Current().target_version, 5);
  ASSERT_TRUE(tracker_->Compact(1.0).ok());
  EXPECT_EQ(Current().status, FileStatus::kCompleted);
}

TEST_F(FileTrackerTest, ANewVersionOfTheFileIsCurrentOnceItHasARow) {
  Add(10, 2000, FileStatus::kCompleted, 100000);
  Add(20, 3000, FileStatus::kFailed, 200000);
  FileRecord r = Current();
  EXPECT_EQ(r.status, FileStatus::kFailed);
  EXPECT_EQ(r.file_size, 20);
  // A failed attempt, then a successful one, of the same version: loaded.
  Add(20, 3000, FileStatus::kCompleted, 300000);
  EXPECT_EQ(Current().status, FileStatus::kCompleted);
  EXPECT_EQ(Current().file_size, 20);
}

}  // namespace
}  // namespace dl::tracker
