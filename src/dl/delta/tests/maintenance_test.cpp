#include "dl/delta/maintenance.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "dl/delta/deletion_vector.hpp"
#include "dl/delta/tests/txn_test_util.hpp"

namespace dl::delta {
namespace {

using test_util::JsonLinesParquet;
using test_util::kDayMs;
using test_util::MakeAdd;
using test_util::MakeMetadata;
using test_util::SetMtime;
using test_util::TempDir;
using test_util::WriteFile;

constexpr int64_t kHourMs = 3600 * 1000;

struct TableState {
  int64_t version = 0;
  std::vector<std::string> partition_columns;
  StringMap configuration;
  std::vector<AddFile> files;
  std::vector<RemoveFile> tombstones;
  std::map<std::string, SetTransaction> txns;
  std::map<std::string, DomainMetadata> domains;
};

// A snapshot built in memory: maintenance only needs the replayed state and the root.
Snapshot MakeSnapshot(const std::string& root, TableState s) {
  return Snapshot(root, LogSegment{}, s.version, 0, Protocol{},
                  MakeMetadata(s.partition_columns, s.configuration), Schema{}, s.files,
                  s.tombstones, s.txns, s.domains);
}

RemoveFile Tombstone(const std::string& path, int64_t deleted_at) {
  RemoveFile r;
  r.path = path;
  r.deletion_timestamp = deleted_at;
  r.data_change = true;
  r.size = 1;
  return r;
}

TEST(MaintenanceTest, ParseIntervalAcceptsDeltaForms) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"interval 30 days", 30 * kDayMs},
      {"30 days", 30 * kDayMs},
      {"1 week", 7 * kDayMs},
      {"interval 1 weeks", 7 * kDayMs},
      {"168 hours", 7 * kDayMs},
      {"INTERVAL 2 Days", 2 * kDayMs},
      {"  interval  1  hour ", kHourMs},
      {"15 minutes", 15 * 60 * 1000},
      {"1 minute", 60 * 1000},
      {"90 seconds", 90 * 1000},
      {"500 milliseconds", 500},
      {"1 millisecond", 1},
      {"2000 microseconds", 2},
      {"1 day 12 hours", 36 * kHourMs},
      {"interval 0 days", 0},
  };
  for (const auto& [text, ms] : cases) {
    auto r = ParseIntervalMs(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(*r, ms) << text;
  }
}

TEST(MaintenanceTest, ParseIntervalRejectsNamingTheText) {
  for (std::string text :
       {"", "interval", "30", "days", "thirty days", "1 month", "1 year", "-1 days", "1.5 days",
        "7 dayz", "interval 1 day 3", "99999999999999999 weeks"}) {
    auto r = ParseIntervalMs(text);
    ASSERT_FALSE(r.ok()) << "'" << text << "'";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("'" + text + "'"), std::string::npos)
        << r.status().message();
  }
}

class MaintenanceFsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_->CreateDirs(LogDir(root_)).ok()); }

  std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
    std::vector<nlohmann::json> out;
    auto lines = parquet_.ReadCheckpointActions({path});
    EXPECT_TRUE(lines.ok());
    for (const auto& l : *lines) out.push_back(nlohmann::json::parse(l));
    return out;
  }

  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  JsonLinesParquet parquet_;
  TempDir dir_;
  std::string root_ = dir_.path() + "/table";
  int64_t now_ = test_util::NowMs();
};

TEST_F(MaintenanceFsTest, RemovesTempFilesOfDecidedVersionsOnly) {
  const std::string log = LogDir(root_);
  for (const char* name :
       {".00000000000000000001.json.1a2b.tmp", ".00000000000000000003.json.ff.tmp",
        ".00000000000000000004.json.ee.tmp", ".00000000000000000002.checkpoint.parquet.aa.tmp",
        ".00000000000000000003.checkpoint.parquet.bb.tmp", ".something.tmp",
        "00000000000000000000.json"}) {
    WriteFile(log + "/" + name, "x");
  }
  auto removed = RemoveStaleLogTemps(*fs_, root_, 3);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  std::sort(removed->begin(), removed->end());
  EXPECT_EQ(*removed, (std::vector<std::string>{".00000000000000000001.json.1a2b.tmp",
                                                ".00000000000000000002.checkpoint.parquet.aa.tmp",
                                                ".00000000000000000003.json.ff.tmp"}));
  // Version 4 may still be published; the checkpoint of 3 may still be being written.
  EXPECT_TRUE(*fs_->Exists(log + "/.00000000000000000004.json.ee.tmp"));
  EXPECT_TRUE(*fs_->Exists(log + "/.00000000000000000003.checkpoint.parquet.bb.tmp"));
  EXPECT_TRUE(*fs_->Exists(log + "/00000000000000000000.json"));
}

TEST_F(MaintenanceFsTest, CheckpointHoldsStateAndUnexpiredTombstonesWithoutStats) {
  TableState s;
  s.version = 7;
  s.files = {MakeAdd("a.parquet"), MakeAdd("b.parquet")};
  RemoveFile fresh = Tombstone("c.parquet", now_ - kDayMs);
  fresh.stats = R"({"numRecords":3})";
  fresh.tags = StringMap{{"t", "v"}};
  s.tombstones = {fresh, Tombstone("old.parquet", now_ - 8 * kDayMs),
                  Tombstone("no-timestamp.parquet", 0)};
  s.tombstones.back().deletion_timestamp.reset();
  s.txns["app"] = SetTransaction{"app", 4, now_};
  s.domains["d"] = DomainMetadata{"d", "{}", false};
  Snapshot snap = MakeSnapshot(root_, s);
  ASSERT_TRUE(WriteCheckpoint(*fs_, parquet_, snap, now_).ok());

  auto lines = ReadJsonLines(CheckpointPath(root_, 7));
  std::map<std::string, int> kinds;
  for (const auto& j : lines) {
    ASSERT_EQ(j.size(), 1u);
    kinds[j.begin().key()]++;
    EXPECT_NE(j.begin().key(), "commitInfo");
    if (j.contains("add")) EXPECT_TRUE(j["add"].contains("stats"));
    if (j.contains("remove")) {
      EXPECT_EQ(j["remove"]["path"], "c.parquet");
      EXPECT_FALSE(j["remove"].contains("stats"));
      EXPECT_FALSE(j["remove"].contains("tags"));
    }
  }
  EXPECT_EQ(kinds, (std::map<std::string, int>{{"protocol", 1},
                                               {"metaData", 1},
                                               {"txn", 1},
                                               {"domainMetadata", 1},
                                               {"add", 2},
                                               {"remove", 1}}));
  auto last = nlohmann::json::parse(*fs_->Read(LastCheckpointPath(root_)));
  auto size = fs_->Stat(CheckpointPath(root_, 7))->size;
  EXPECT_EQ(last, nlohmann::json(
                      {{"version", 7}, {"size", 7}, {"sizeInBytes", size}, {"numOfAddFiles", 2}}));
}

TEST_F(MaintenanceFsTest, CheckpointHonoursTableTombstoneRetention) {
  TableState s;
  s.version = 2;
  s.configuration = {{"delta.deletedFileRetentionDuration", "interval 1 hours"}};
  s.tombstones = {Tombstone("x.parquet", now_ - 2 * kHourMs)};
  ASSERT_TRUE(WriteCheckpoint(*fs_, parquet_, MakeSnapshot(root_, s), now_).ok());
  EXPECT_EQ(ReadJsonLines(CheckpointPath(root_, 2)).size(), 2u);  // protocol + metaData
}

TEST_F(MaintenanceFsTest, LastCheckpointNeverMovesBackwards) {
  ASSERT_TRUE(fs_->WriteAtomic(LastCheckpointPath(root_), R"({"version":20,"size":2})").ok());
  TableState s;
  s.version = 10;
  ASSERT_TRUE(WriteCheckpoint(*fs_, parquet_, MakeSnapshot(root_, s), now_).ok());
  EXPECT_TRUE(*fs_->Exists(CheckpointPath(root_, 10)));
  EXPECT_EQ(nlohmann::json::parse(*fs_->Read(LastCheckpointPath(root_)))["version"], 20);
}

TEST_F(MaintenanceFsTest, CheckpointWriterErrorsPropagate) {
  parquet_.fail_writes = true;
  TableState s;
  s.version = 10;
  Status st = WriteCheckpoint(*fs_, parquet_, MakeSnapshot(root_, s), now_);
  EXPECT_EQ(st.code(), StatusCode::kEngine);
  EXPECT_FALSE(*fs_->Exists(LastCheckpointPath(root_)));
}

class MaintenanceLogCleanupTest : public MaintenanceFsTest {
 protected:
  // Commits 0..last with .crc files; checkpoints at `checkpoints`; mtime by version.
  void MakeLog(int64_t last, std::vector<int64_t> checkpoints,
               const std::function<int64_t(int64_t)>& mtime) {
    for (int64_t v = 0; v <= last; ++v) {
      WriteFile(CommitPath(root_, v), "{}");
      SetMtime(CommitPath(root_, v), mtime(v));
      std::string crc = JoinPath(LogDir(root_), fmt::format("{:020d}.crc", v));
      WriteFile(crc, "{}");
      SetMtime(crc, mtime(v));
    }
    for (int64_t v : checkpoints) {
      WriteFile(CheckpointPath(root_, v), "{}");
      SetMtime(CheckpointPath(root_, v), mtime(v));
    }
  }

  std::set<std::string> Remaining() {
    std::set<std::string> names;
    auto listing = fs_->List(LogDir(root_));
    EXPECT_TRUE(listing.ok());
    if (!listing.ok()) return names;
    for (const auto& e : *listing) {
      names.insert(std::filesystem::path(e.path).filename().string());
    }
    return names;
  }

  static std::string Commit(int64_t v) { return fmt::format("{:020d}.json", v); }
  static std::string Checkpoint(int64_t v) { return fmt::format("{:020d}.checkpoint.parquet", v); }
  static std::string Crc(int64_t v) { return fmt::format("{:020d}.crc", v); }
};

TEST_F(MaintenanceLogCleanupTest, KeepsNewestCheckpointBeforeCutoffAndEverythingAfter) {
  // 0..15 are 40 days old, 16..25 are fresh; checkpoints at 5, 10 (old) and 20 (fresh).
  MakeLog(25, {5, 10, 20}, [&](int64_t v) { return v <= 15 ? now_ - 40 * kDayMs : now_; });
  TableState s;
  s.version = 25;
  auto deleted = CleanupExpiredLogs(*fs_, MakeSnapshot(root_, s), now_);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->size(), 10u * 2 + 1);  // commits + crc of 0..9, checkpoint 5
  auto left = Remaining();
  for (int64_t v = 0; v < 10; ++v) {
    EXPECT_EQ(left.count(Commit(v)), 0u) << v;
    EXPECT_EQ(left.count(Crc(v)), 0u) << v;
  }
  EXPECT_EQ(left.count(Checkpoint(5)), 0u);
  for (int64_t v = 10; v <= 25; ++v) EXPECT_EQ(left.count(Commit(v)), 1u) << v;
  EXPECT_EQ(left.count(Checkpoint(10)), 1u);
  EXPECT_EQ(left.count(Checkpoint(20)), 1u);
  // The table still loads from checkpoint 10 on.
  auto segment = LogSegment::Build(*fs_, root_);
  ASSERT_TRUE(segment.ok()) << segment.status().ToString();
  EXPECT_EQ(segment->version, 25);
}

TEST_F(MaintenanceLogCleanupTest, NothingExpiresWithoutAnOldEnoughCheckpoint) {
  MakeLog(12, {10}, [&](int64_t v) { return v < 10 ? now_ - 40 * kDayMs : now_; });
  TableState s;
  s.version = 12;
  auto deleted = CleanupExpiredLogs(*fs_, MakeSnapshot(root_, s), now_);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->empty());
  EXPECT_EQ(Remaining().size(), 13u * 2 + 1);
}

TEST_F(MaintenanceLogCleanupTest, MultiPartCheckpointCountsOnlyWhenComplete) {
  const int64_t old = now_ - 40 * kDayMs;
  MakeLog(12, {}, [&](int64_t) { return old; });
  auto part = [&](int p) {
    std::string path = JoinPath(
        LogDir(root_), fmt::format("{:020d}.checkpoint.{:010d}.{:010d}.parquet", 10, p, 2));
    WriteFile(path, "{}");
    SetMtime(path, old);
  };
  part(1);
  TableState s;
  s.version = 12;
  auto deleted = CleanupExpiredLogs(*fs_, MakeSnapshot(root_, s), now_);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->empty());
  part(2);
  deleted = CleanupExpiredLogs(*fs_, MakeSnapshot(root_, s), now_);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->size(), 10u * 2);
  EXPECT_EQ(Remaining().count(Commit(10)), 1u);
}

TEST_F(MaintenanceLogCleanupTest, NeverDeletesFilesNewerThanTheCutoff) {
  // Commit 5 was touched recently: checkpoint 10 cannot be the boundary, checkpoint 3 can.
  MakeLog(12, {3, 10}, [&](int64_t v) { return v == 5 ? now_ : now_ - 40 * kDayMs; });
  TableState s;
  s.version = 12;
  auto deleted = CleanupExpiredLogs(*fs_, MakeSnapshot(root_, s), now_);
  ASSERT_TRUE(deleted.ok());
  auto left = Remaining();
  for (int64_t v = 0; v < 3; ++v) EXPECT_EQ(left.count(Commit(v)), 0u) << v;
  for (int64_t v = 3; v <= 12; ++v) EXPECT_EQ(left.count(Commit(v)), 1u) << v;
  EXPECT_EQ(left.count(Checkpoint(3)), 1u);
}

TEST_F(MaintenanceLogCleanupTest, IgnoresCheckpointsAfterTheSnapshotAndHonoursRetentionProperty) {
  MakeLog(20, {10, 20}, [&](int64_t v) { return now_ - 3 * kDayMs; });
  TableState s;
  s.version = 15;  // checkpoint 20 is not part of this snapshot
  s.configuration = {{"delta.logRetentionDuration", "interval 2 days"}};
  auto deleted = CleanupExpiredLogs(*fs_, MakeSnapshot(root_, s), now_);
  ASSERT_TRUE(deleted.ok());
  auto left = Remaining();
  EXPECT_EQ(left.count(Commit(9)), 0u);
  EXPECT_EQ(left.count(Commit(10)), 1u);
  EXPECT_EQ(left.count("_last_checkpoint"), 0u);

  s.configuration = {{"delta.logRetentionDuration", "a while"}};
  auto bad = CleanupExpiredLogs(*fs_, MakeSnapshot(root_, s), now_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("delta.logRetentionDuration"), std::string::npos);
}

class MaintenanceVacuumTest : public MaintenanceFsTest {
 protected:
  std::string P(const std::string& rel) { return JoinPath(root_, rel); }

  std::set<std::string> Planned(const Result<VacuumPlan>& plan) {
    std::set<std::string> rel;
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (!plan.ok()) return rel;
    for (const auto& f : plan->files) {
      rel.insert(std::filesystem::path(f.path).lexically_relative(root_).string());
    }
    return rel;
  }
};

TEST_F(MaintenanceVacuumTest, PlansUnreferencedFilesPastRetention) {
  const int64_t old = now_ - 30 * kDayMs;
  for (const char* f :
       {"k=a/live.parquet", "k=a/gone.parquet", "k=a/just-removed.parquet", "k=b/orphan.parquet",
        "k=b/.orphan.parquet.crc", "_delta_log/x.json", "_change_data/cdc.parquet",
        ".hidden/h.parquet", "_tmp/t.parquet", "top.parquet",
        "ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin",
        "deletion_vector_00000000-0000-0000-0000-000000000000.bin"}) {
    WriteFile(P(f));
    SetMtime(P(f), old);
  }
  WriteFile(P("k=b/new-orphan.parquet"));  // a running writer's file: too young
  WriteFile(P("_change_data/new-cdc.parquet"));  // change data of a recent commit
  WriteFile(P("_change_data/_dl_staging_x/data.parquet"));  // hidden below it too
  SetMtime(P("_change_data/_dl_staging_x/data.parquet"), old);
  TableState s;
  s.partition_columns = {"k"};
  AddFile live = MakeAdd("k=a/live.parquet", {{"k", "a"}});
  live.deletion_vector = DeletionVector{"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 2, {}};
  s.files = {live, MakeAdd("top.parquet", {{"k", std::nullopt}})};
  s.tombstones = {Tombstone("k=a/gone.parquet", now_ - 8 * kDayMs),
                  Tombstone("k=a/just-removed.parquet", now_ - kHourMs)};
  auto plan = PlanVacuum(*fs_, MakeSnapshot(root_, s), now_, std::nullopt, false);
  EXPECT_EQ(Planned(plan),
            (std::set<std::string>{"k=a/gone.parquet", "k=b/orphan.parquet",
                                   "_change_data/cdc.parquet",
                                   "deletion_vector_00000000-0000-0000-0000-000000000000.bin"}));
  EXPECT_EQ(plan->retention_ms, 7 * kDayMs);
  EXPECT_EQ(plan->bytes, 4);
  for (const auto& f : plan->files) EXPECT_EQ(f.path.front(), '/');
}

TEST_F(MaintenanceVacuumTest, KeepsDeletionVectorFilesOfLiveFilesAndRetainedTombstones) {
  const int64_t old = now_ - 30 * kDayMs;
  // A 'u' descriptor (optional random prefix) whose UUID is 16 copies of `b`.
  auto dv = [](char b, const std::string& prefix = "") {
    return DeletionVector{"u", prefix + Z85Encode(std::string(16, b)), 1, 36, 2, {}};
  };
  auto file_of = [&](const DeletionVector& d) {
    std::string path = DeletionVectorPath(root_, d).value();
    WriteFile(path);
    SetMtime(path, old);
    return std::filesystem::path(path).lexically_relative(root_).string();
  };
  DeletionVector absolute{"p", "file://" + P("dvs/abs.bin"), 1, 36, 2, {}};
  WriteFile(P("dvs/abs.bin"));
  SetMtime(P("dvs/abs.bin"), old);
  const std::string live_dv = file_of(dv('\x01', "xy"));
  file_of(dv('\x02'));  // of a recent tombstone: kept
  const std::string expired_rm_dv = file_of(dv('\x03'));
  file_of(dv('\x04'));  // of an expired tombstone and a live add: kept
  const std::string orphan_dv = file_of(dv('\x05'));
  SetMtime(P(file_of(dv('\x06'))), now_ - kHourMs);  // a running writer's DV: too young
  for (const char* f : {"a.parquet", "b.parquet", "c.parquet", "d.parquet"}) {
    WriteFile(P(f));
    SetMtime(P(f), old);
  }

  TableState s;
  AddFile a = MakeAdd("a.parquet", {});
  a.deletion_vector = dv('\x01', "xy");
  AddFile d = MakeAdd("d.parquet", {});
  d.deletion_vector = dv('\x04');
  AddFile abs = MakeAdd("c.parquet", {});
  abs.deletion_vector = absolute;
  s.files = {a, d, abs};
  RemoveFile recent = Tombstone("b.parquet", now_ - kHourMs);  // b with its old DV
  recent.deletion_vector = dv('\x02');
  RemoveFile expired = Tombstone("b.parquet", now_ - 8 * kDayMs);
  expired.deletion_vector = dv('\x03');
  RemoveFile expired_shared = Tombstone("d.parquet", now_ - 8 * kDayMs);
  expired_shared.deletion_vector = dv('\x04');  // its DV file still serves a live add
  s.tombstones = {recent, expired, expired_shared};

  auto plan = PlanVacuum(*fs_, MakeSnapshot(root_, s), now_, std::nullopt, false);
  EXPECT_EQ(Planned(plan), (std::set<std::string>{expired_rm_dv, orphan_dv}));
  EXPECT_EQ(live_dv.rfind("xy/deletion_vector_01010101-", 0), 0u) << live_dv;
}

TEST_F(MaintenanceVacuumTest, EncodedPathsAndUnderscorePartitionColumns) {
  const int64_t old = now_ - 30 * kDayMs;
  for (const char* f : {"k=a b/f%.parquet", "_p=1/x.parquet", "_p=1/live.parquet"}) {
    WriteFile(P(f));
    SetMtime(P(f), old);
  }
  TableState s;
  s.partition_columns = {"_p"};
  s.files = {MakeAdd("k=a%20b/f%25.parquet", {{"_p", "0"}}),
             MakeAdd("_p=1/live.parquet", {{"_p", "1"}})};
  auto plan = PlanVacuum(*fs_, MakeSnapshot(root_, s), now_, std::nullopt, false);
  EXPECT_EQ(Planned(plan), (std::set<std::string>{"_p=1/x.parquet"}));
}

TEST_F(MaintenanceVacuumTest, RefusesShortRetentionUnlessForced) {
  WriteFile(P("orphan.parquet"));
  SetMtime(P("orphan.parquet"), now_ - 2 * kHourMs);
  Snapshot snap = MakeSnapshot(root_, TableState{});
  auto refused = PlanVacuum(*fs_, snap, now_, kHourMs, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "retention of 1h is below the table's delta.deletedFileRetentionDuration (168h); pass "
            "--force to vacuum anyway (files still needed by readers of older versions or by "
            "running writers may be deleted)");
  auto forced = PlanVacuum(*fs_, snap, now_, kHourMs, true);
  EXPECT_EQ(Planned(forced), (std::set<std::string>{"orphan.parquet"}));
  EXPECT_EQ(forced->retention_ms, kHourMs);
  // A longer retention than the table's needs no force; a negative one is never valid.
  EXPECT_TRUE(Planned(PlanVacuum(*fs_, snap, now_, 30 * kDayMs, false)).empty());
  EXPECT_FALSE(PlanVacuum(*fs_, snap, now_, -1, true).ok());
}

TEST_F(MaintenanceVacuumTest, TableRetentionPropertyApplies) {
  WriteFile(P("orphan.parquet"));
  SetMtime(P("orphan.parquet"), now_ - 2 * kHourMs);
  TableState s;
  s.configuration = {{"delta.deletedFileRetentionDuration", "interval 1 hours"}};
  auto plan = PlanVacuum(*fs_, MakeSnapshot(root_, s), now_, std::nullopt, false);
  EXPECT_EQ(Planned(plan), (std::set<std::string>{"orphan.parquet"}));
  EXPECT_EQ(plan->retention_ms, kHourMs);
  auto refused = PlanVacuum(*fs_, MakeSnapshot(root_, s), now_, 30 * 60 * 1000, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("retention of 0.5h"), std::string::npos);
  EXPECT_NE(refused.status().message().find("(1h)"), std::string::npos);
}

}  // namespace
}  // namespace dl::delta
