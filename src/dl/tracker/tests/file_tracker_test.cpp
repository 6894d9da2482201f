#include "dl/tracker/file_tracker.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/table/table.hpp"

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

  void Add(int64_t size, int64_t mtime, FileStatus status, int64_t updated_at,
           std::string etag = "", std::optional<int64_t> rows = std::nullopt) {
    FileRecord r;
    r.file_path = "/raw/f.csv";
    r.file_size = size;
    r.file_modified_time_ms = mtime;
    r.table_name = "db.t";
    r.status = status;
    r.created_at_ms = 1000;
    r.updated_at_ms = updated_at;
    r.file_etag = std::move(etag);
    r.rows_loaded = rows;
    if (status == FileStatus::kCompleted) r.target_version = 5;
    tracker_->Record(std::move(r));
    Status flushed = tracker_->Flush();
    ASSERT_TRUE(flushed.ok()) << flushed.ToString();
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

// Two loaders overlapped: the one that lost the race reconciled the winner's load from the log
// (rows unknown) after the winner recorded it with its rows; status counts the rows.
TEST_F(FileTrackerTest, OfTwoCompletedRowsOfAVersionTheOneWithItsRowsIsCurrent) {
  Add(10, 2000, FileStatus::kCompleted, 100000, "", 200);
  Add(10, 2000, FileStatus::kCompleted, 200000);
  EXPECT_EQ(Current().rows_loaded, 200);
  ASSERT_TRUE(tracker_->Compact(1.0).ok());
  EXPECT_EQ(Current().rows_loaded, 200);
  // A newer version of the file is current even though its rows are unknown.
  Add(20, 3000, FileStatus::kCompleted, 300000);
  EXPECT_EQ(Current().file_size, 20);
  EXPECT_EQ(Current().rows_loaded, std::nullopt);
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

// An object overwritten in place with the same size and mtime is a new version by its ETag:
// the new version's failed row is current, not the old version's completed one.
TEST_F(FileTrackerTest, TheEtagIsPartOfTheFilesVersion) {
  Add(10, 2000, FileStatus::kCompleted, 100000, "e1");
  EXPECT_EQ(Current().file_etag, "e1");
  Add(10, 2000, FileStatus::kFailed, 200000, "e2");
  EXPECT_EQ(Current().status, FileStatus::kFailed);
  EXPECT_EQ(Current().file_etag, "e2");
  ASSERT_TRUE(tracker_->Compact(1.0).ok());
  EXPECT_EQ(Current().status, FileStatus::kFailed);
  EXPECT_EQ(Current().file_etag, "e2");
  Add(10, 2000, FileStatus::kSkipped, 300000);  // a local file: no ETag, stored as NULL
  EXPECT_EQ(Current().file_etag, "");
}

// A tracker written before the file_etag column (the same columns, as that code wrote them)
// still loads, and the first append adds the column.
TEST_F(FileTrackerTest, ATrackerWithoutTheEtagColumnLoadsAndGainsIt) {
  engine::Engine& engine = *engine_;
  table::TableContext ctx{*fs_, engine};
  table::WriteRequest old;
  old.source_sql =
      "SELECT '/raw/f.csv' AS file_path, 10::BIGINT AS file_size, "
      "epoch_ms(2000::BIGINT)::TIMESTAMPTZ AS file_modified_time, 'db.t' AS table_name, "
      "'completed' AS status, NULL::TIMESTAMPTZ AS processing_start_time, "
      "NULL::TIMESTAMPTZ AS processing_end_time, NULL::VARCHAR AS error_message, "
      "0 AS retry_count, epoch_ms(1000::BIGINT)::TIMESTAMPTZ AS created_at, "
      "epoch_ms(100000::BIGINT)::TIMESTAMPTZ AS updated_at, NULL::VARCHAR AS batch_id, "
      "3::BIGINT AS rows_loaded, 5::BIGINT AS target_version";
  old.partition_by = {"table_name"};
  auto written = table::Write(ctx, tracker_->path(), old);
  ASSERT_TRUE(written.ok()) << written.status().ToString();

  FileRecord r = Current();
  EXPECT_EQ(r.status, FileStatus::kCompleted);
  EXPECT_EQ(r.file_size, 10);
  EXPECT_EQ(r.target_version, 5);
  EXPECT_EQ(r.file_etag, "");
  ASSERT_TRUE(tracker_->Compact(0.5).ok());  // rewriting it keeps it loadable too
  EXPECT_EQ(Current().status, FileStatus::kCompleted);

  Add(10, 2000, FileStatus::kFailed, 200000, "e2");
  auto snapshot = table::LoadSnapshot(ctx, tracker_->path());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_NE((*snapshot)->schema().Find("file_etag"), nullptr);
  EXPECT_EQ(Current().status, FileStatus::kFailed);
  EXPECT_EQ(Current().file_etag, "e2");
}

}  // namespace
}  // namespace dl::tracker
