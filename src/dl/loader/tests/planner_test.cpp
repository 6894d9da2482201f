#include "dl/loader/planner.hpp"

#include <gtest/gtest.h>

#include "dl/delta/loader_commit_info.hpp"

namespace dl::loader {
namespace {

discovery::DiscoveredFile File(const std::string& path, int64_t size, int64_t mtime = 1000) {
  return {path, size, mtime};
}

tracker::FileRecord Record(const std::string& path, int64_t size, tracker::FileStatus status,
                           int retries = 0, int64_t mtime = 1000) {
  tracker::FileRecord r;
  r.file_path = path;
  r.file_size = size;
  r.file_modified_time_ms = mtime;
  r.status = status;
  r.retry_count = retries;
  r.error_message = "boom";
  return r;
}

TEST(PlannerTest, CutsBatchesByFilesAndBytes) {
  config::TableConfig t;
  t.max_files_per_batch = 3;
  t.max_bytes_per_batch = 100;
  std::vector<discovery::DiscoveredFile> files;
  for (int i = 0; i < 7; ++i) files.push_back(File("f" + std::to_string(i), 10));
  files.push_back(File("big", 500));  // over the byte cap alone: a batch of its own
  files.push_back(File("last", 10));
  auto plan = PlanTable(t, 3, files, {});
  ASSERT_EQ(plan.batches.size(), 5u);
  EXPECT_EQ(plan.batches[0].size(), 3u);
  EXPECT_EQ(plan.batches[1].size(), 3u);
  EXPECT_EQ(plan.batches[2].size(), 1u);
  EXPECT_EQ(plan.batches[3][0].file.path, "big");
  EXPECT_EQ(plan.batches[4][0].file.path, "last");
  EXPECT_EQ(plan.files_planned(), 9);
  EXPECT_EQ(plan.bytes_planned, 580);
}

TEST(PlannerTest, SkipsWhatTheTableHolds) {
  config::TableConfig t;
  LoadState state;
  state.records["a"] = Record("a", 10, tracker::FileStatus::kCompleted);
  state.committed["b"] = RecordedLoad{{"b", 20, 1000}, 4};
  // The log beats the tracker: "c" failed per the tracker but a commit loaded it.
  state.records["c"] = Record("c", 30, tracker::FileStatus::kFailed);
  state.committed["c"] = RecordedLoad{{"c", 30, 1000}, 5};
  state.loaded_paths.insert("d");
  auto plan = PlanTable(t, 3, {File("a", 10), File("b", 20), File("c", 30), File("d", 1), File("e", 5)},
                        state);
  EXPECT_EQ(plan.already_loaded, 4);
  ASSERT_EQ(plan.batches.size(), 1u);
  ASSERT_EQ(plan.batches[0].size(), 1u);
  EXPECT_EQ(plan.batches[0][0].file.path, "e");
}

// Older versions recorded files as the pattern spelled them ("raw/./x.csv", a symlinked base):
// after the switch to canonical paths those files are still known, in all three records.
TEST(PlannerTest, KnowsFilesRecordedUnderTheirOldSpelling) {
  config::TableConfig t;
  LoadState state;
  state.records["raw/./a"] = Record("raw/./a", 10, tracker::FileStatus::kCompleted);
  state.committed["link/b"] = RecordedLoad{{"link/b", 20, 1000}, 4};
  state.loaded_paths.insert("raw//c");
  auto spelled = [](std::string path, std::string old_spelling, int64_t size) {
    discovery::DiscoveredFile f = File(path, size);
    f.spelled_path = std::move(old_spelling);
    return f;
  };
  auto plan = PlanTable(t, 3,
                        {spelled("raw/a", "raw/./a", 10), spelled("raw/b", "link/b", 20),
                         spelled("raw/c", "raw//c", 1), spelled("raw/d", "raw/./d", 2)},
                        state);
  EXPECT_EQ(plan.already_loaded, 3);
  ASSERT_EQ(plan.batches.size(), 1u);
  ASSERT_EQ(plan.batches[0].size(), 1u);
  EXPECT_EQ(plan.batches[0][0].file.path, "raw/d");  // new files go by their canonical path
  // A changed file found under its old spelling is a new version, as under its new one.
  plan = PlanTable(t, 3, {spelled("raw/a", "raw/./a", 11)}, state);
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kModifiedAfterLoad);
}

TEST(PlannerTest, ModifiedFilesFollowAllowOverwrites) {
  config::TableConfig t;
  LoadState state;
  state.records["a"] = Record("a", 10, tracker::FileStatus::kCompleted);
  auto plan = PlanTable(t, 3, {File("a", 12, 2000)}, state);
  EXPECT_TRUE(plan.batches.empty());
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kModifiedAfterLoad);
  EXPECT_NE(plan.skipped[0].detail.find("allow_overwrites"), std::string::npos);

  t.allow_overwrites = true;
  plan = PlanTable(t, 3, {File("a", 12, 2000)}, state);
  ASSERT_EQ(plan.batches.size(), 1u);
  EXPECT_TRUE(plan.batches[0][0].reload);
}

// An object overwritten in place with the same size within the same second differs only by
// its ETag: a new version, in the tracker's records and in the log's. Loads recorded before
// ETags were (none recorded) still count as this version.
TEST(PlannerTest, AnObjectWithTheSameSizeAndMtimeButAnotherEtagIsANewVersion) {
  config::TableConfig t;
  LoadState state;
  auto with_etag = [](discovery::DiscoveredFile f, std::string etag) {
    f.etag = std::move(etag);
    return f;
  };
  auto tracked = [](tracker::FileRecord r, std::string etag) {
    r.file_etag = std::move(etag);
    return r;
  };
  state.records["s3://b/a"] =
      tracked(Record("s3://b/a", 10, tracker::FileStatus::kCompleted), "e1");
  state.committed["s3://b/c"] = RecordedLoad{{"s3://b/c", 10, 1000, "e1"}, 4};
  state.records["s3://b/old"] = Record("s3://b/old", 10, tracker::FileStatus::kCompleted);
  state.records["s3://b/f"] =
      tracked(Record("s3://b/f", 10, tracker::FileStatus::kFailed, 9), "e1");
  std::vector<discovery::DiscoveredFile> files = {
      with_etag(File("s3://b/a", 10), "e2"), with_etag(File("s3://b/c", 10), "e2"),
      with_etag(File("s3://b/old", 10), "e2"), with_etag(File("s3://b/f", 10), "e2")};
  auto plan = PlanTable(t, 3, files, state);
  EXPECT_EQ(plan.already_loaded, 1);  // "old": recorded without an ETag
  ASSERT_EQ(plan.skipped.size(), 2u);
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kModifiedAfterLoad);
  EXPECT_NE(plan.skipped[0].detail.find("ETag e1 -> e2"), std::string::npos)
      << plan.skipped[0].detail;
  EXPECT_EQ(plan.skipped[1].file.path, "s3://b/c");
  // A failed version whose attempts are used up does not hold back a new one.
  ASSERT_EQ(plan.batches.size(), 1u);
  EXPECT_EQ(plan.batches[0][0].file.path, "s3://b/f");
  EXPECT_EQ(plan.batches[0][0].file.etag, "e2");
  EXPECT_EQ(plan.batches[0][0].retry_count, 0);

  t.allow_overwrites = true;
  plan = PlanTable(t, 3, files, state);
  ASSERT_EQ(plan.batches.size(), 1u);
  ASSERT_EQ(plan.batches[0].size(), 3u);
  EXPECT_TRUE(plan.batches[0][0].reload);
  EXPECT_TRUE(plan.batches[0][1].reload);
  // The same ETag is the same version.
  plan = PlanTable(t, 3, {with_etag(File("s3://b/a", 10), "e1")}, state);
  EXPECT_EQ(plan.already_loaded, 1);
}

TEST(PlannerTest, FailedFilesAreRetriedUntilAttemptsAreUsedUp) {
  config::TableConfig t;
  LoadState state;
  state.records["a"] = Record("a", 10, tracker::FileStatus::kFailed, 2);
  state.records["b"] = Record("b", 10, tracker::FileStatus::kFailed, 4);
  state.records["c"] = Record("c", 10, tracker::FileStatus::kFailed, 4);
  // "c" changed since it failed: a new version starts afresh.
  auto plan = PlanTable(t, 3, {File("a", 10), File("b", 10), File("c", 11, 5000)}, state);
  ASSERT_EQ(plan.batches.size(), 1u);
  ASSERT_EQ(plan.batches[0].size(), 2u);
  EXPECT_EQ(plan.batches[0][0].file.path, "a");
  EXPECT_EQ(plan.batches[0][0].retry_count, 2);
  EXPECT_EQ(plan.batches[0][1].file.path, "c");
  EXPECT_EQ(plan.batches[0][1].retry_count, 0);
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kRetriesExhausted);
  EXPECT_NE(plan.skipped[0].detail.find("boom"), std::string::npos);
}

// The product promise: a file is loaded once whatever scheme spells its store. Trackers and
// commits keep the spelling of the run that wrote them (s3a://), the config now says s3://
// (and back): the records are found by identity, not text.
TEST(PlannerTest, AFileRecordedUnderAnotherSchemeOfItsStoreIsAlreadyLoaded) {
  config::TableConfig t;
  LoadState state;
  std::map<std::string, tracker::FileRecord> tracked = {
      {"s3a://bkt3/land/f0.csv",
       Record("s3a://bkt3/land/f0.csv", 10, tracker::FileStatus::kCompleted)},
      {"s3://bkt3/land/f2.csv",
       Record("s3://bkt3/land/f2.csv", 10, tracker::FileStatus::kFailed, 4)}};
  state.records = RecordsByKey(tracked, state.identity);
  state.committed[state.Key("s3a://bkt3/land/f1.csv")] =
      RecordedLoad{{"s3a://bkt3/land/f1.csv", 20, 1000}, 4};
  state.loaded_paths.insert(state.Key("azure://c/land/g.csv"));
  auto plan = PlanTable(t, 3,
                        {File("s3://bkt3/land/f0.csv", 10), File("s3://bkt3/land/f1.csv", 20),
                         File("s3a://bkt3/land/f2.csv", 10), File("az://c/land/g.csv", 5),
                         File("s3://bkt3/land/F0.csv", 10)},
                        state);
  EXPECT_EQ(plan.already_loaded, 3);
  ASSERT_EQ(plan.batches.size(), 1u);
  ASSERT_EQ(plan.batches[0].size(), 1u);
  EXPECT_EQ(plan.batches[0][0].file.path, "s3://bkt3/land/F0.csv");  // keys are case-sensitive
  ASSERT_EQ(plan.skipped.size(), 1u);  // its attempts were used up under the other spelling
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kRetriesExhausted);
  // A new version found under the other spelling is a modified file, as under its own.
  plan = PlanTable(t, 3, {File("s3://bkt3/land/f0.csv", 11)}, state);
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].reason, SkipReason::kModifiedAfterLoad);
}

// A tracker that already holds both spellings of a file (loaded twice before the fix) is one
// record per file: the completed one of a version, else the newest.
TEST(PlannerTest, RecordsOfOneFileUnderTwoSpellingsAreOne) {
  auto at = [](tracker::FileRecord r, int64_t updated) {
    r.updated_at_ms = updated;
    return r;
  };
  LocationIdentity identity;
  auto merged = RecordsByKey(
      {{"s3://b/x", at(Record("s3://b/x", 10, tracker::FileStatus::kCompleted), 100)},
       {"s3a://b/x", at(Record("s3a://b/x", 10, tracker::FileStatus::kFailed), 200)},
       {"s3://b/y", at(Record("s3://b/y", 10, tracker::FileStatus::kCompleted), 100)},
       {"s3a://b/y", at(Record("s3a://b/y", 12, tracker::FileStatus::kFailed, 0, 2000), 200)},
       {"s3://b/z", at(Record("s3://b/z", 10, tracker::FileStatus::kCompleted), 100)}},
      identity);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged.at("s3://b/x").status, tracker::FileStatus::kCompleted);  // same version
  EXPECT_EQ(merged.at("s3://b/y").status, tracker::FileStatus::kFailed);     // newer version
  EXPECT_EQ(merged.at("s3://b/y").file_path, "s3a://b/y");  // records keep their spelling
  EXPECT_EQ(merged.at("s3://b/z").file_path, "s3://b/z");
}

// A concurrent loader whose config spells the bucket s3a:// commits a file this batch holds as
// s3://: the same file, so this commit is refused (and the batch planned again without it).
TEST(PlannerTest, ACommitOfTheSameFileUnderAnotherSchemeWinsTheRace) {
  delta::LoaderCommitInfo info;
  info.source_files = {{"s3a://bkt3/land/f0.csv", 10, 1000, "\"e1\""}};
  delta::CommitInfo commit_info;
  commit_info.json[delta::kLoaderCommitInfoKey] = info.ToJson();
  const std::vector<delta::Action> winning = {commit_info};
  auto check = RefuseFilesLoadedBy({{"s3://bkt3/land/f0.csv", 10, 1000, "\"e1\""}}, "db.t");
  Status st = check(3, winning);
  EXPECT_EQ(st.code(), StatusCode::kCommitConflict) << st.ToString();
  EXPECT_NE(st.message().find("s3://bkt3/land/f0.csv"), std::string::npos) << st.message();
  // Another version (ETag), or another key, is not the same file.
  EXPECT_TRUE(
      RefuseFilesLoadedBy({{"s3://bkt3/land/f0.csv", 10, 1000, "\"e2\""}}, "db.t")(3, winning)
          .ok());
  EXPECT_TRUE(
      RefuseFilesLoadedBy({{"s3://bkt3/Land/f0.csv", 10, 1000, "\"e1\""}}, "db.t")(3, winning)
          .ok());
  EXPECT_TRUE(SameVersion({"azure://c/x", 1, 2, ""}, {"az://c/x", 1, 2, "e"}, LocationIdentity()));
  EXPECT_FALSE(SameVersion({"azure://c/x", 1, 2, ""}, {"az://c/x", 1, 2, "e"}));
  // Another name below the same spelling, or another key with the same name, is another file.
  EXPECT_FALSE(
      SameVersion({"s3a://b/d/x", 1, 2, ""}, {"s3://b/d/y", 1, 2, ""}, LocationIdentity()));
  EXPECT_FALSE(
      SameVersion({"s3a://b/d/x", 1, 2, ""}, {"s3://b/e/x", 1, 2, ""}, LocationIdentity()));
  EXPECT_TRUE(SameVersion({"s3a://b/d/x", 1, 2, ""}, {"s3://b/d/x", 1, 2, ""}, LocationIdentity()));
}

TEST(PlannerTest, AnOverwriteTakesTheWholeRunInOneBatch) {
  config::TableConfig t;
  t.loading_strategy = config::LoadingStrategy::kOverwrite;
  t.max_files_per_batch = 1;
  auto plan = PlanTable(t, 3, {File("a", 10), File("b", 10), File("c", 10)}, {});
  ASSERT_EQ(plan.batches.size(), 1u);
  EXPECT_EQ(plan.batches[0].size(), 3u);
}

}  // namespace
}  // namespace dl::loader
