// In-commit timestamps: written first in commitInfo, increasing across commits and lost races,
// enablement recorded on existing tables, required by readers, used by time travel.
#include "dl/delta/in_commit_timestamp.hpp"

#include <gtest/gtest.h>

#include "dl/delta/tests/txn_test_util.hpp"

namespace dl::delta {
namespace {

using test_util::CommitActions;
using test_util::LoadLatest;
using test_util::MakeAdd;
using test_util::MakeMetadata;
using test_util::NowMs;
using test_util::ReadCommitJson;
using test_util::TempDir;

constexpr int64_t kHourMs = 3600 * 1000;

Protocol IctProtocol() { return Protocol{1, 7, std::nullopt, std::vector<std::string>{"inCommitTimestamp"}}; }
StringMap IctConfig() { return {{kEnableInCommitTimestamps, "true"}}; }

class InCommitTimestampTest : public ::testing::Test {
 protected:
  void CreateIctTable() {
    Transaction txn(*fs_, nullptr, root_, nullptr);
    txn.Add(IctProtocol());
    txn.Add(MakeMetadata({}, IctConfig()));
    ASSERT_TRUE(txn.Commit().ok());
  }
  int64_t Ict(int64_t version) {
    auto lines = ReadCommitJson(*fs_, root_, version);
    EXPECT_FALSE(lines.empty());
    if (lines.empty()) return -1;
    const auto& ci = lines[0]["commitInfo"];
    EXPECT_TRUE(ci.is_object()) << "commitInfo is not the first action of " << version;
    // It leads commitInfo, as Spark writes it.
    EXPECT_TRUE(fs_->Read(CommitPath(root_, version))->starts_with(R"({"commitInfo":{"inCommitTimestamp":)"));
    return ci.value("inCommitTimestamp", int64_t{-1});
  }
  // A commit another writer made, with an in-commit timestamp of our choosing.
  void WriteForeignCommit(int64_t version, std::optional<int64_t> ict, const std::string& path) {
    CommitInfo ci;
    if (ict) ci.json["inCommitTimestamp"] = *ict;
    ci.json["timestamp"] = NowMs();
    ci.json["operation"] = "WRITE";
    test_util::WriteFile(CommitPath(root_, version), SerializeActions({ci, MakeAdd(path)}));
  }

  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  TempDir dir_;
  std::string root_ = dir_.path() + "/table";
};

TEST_F(InCommitTimestampTest, EveryCommitCarriesAnIncreasingTimestampFirst) {
  const int64_t before = NowMs();
  CreateIctTable();
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("a.parquet")}), 1);
  const int64_t t0 = Ict(0), t1 = Ict(1);
  EXPECT_GE(t0, before);
  EXPECT_GT(t1, t0);
  // A clock behind the last commit's timestamp still yields a later one.
  WriteForeignCommit(2, NowMs() + kHourMs, "b.parquet");
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("c.parquet")}), 3);
  EXPECT_EQ(Ict(3), Ict(2) + 1);
  EXPECT_EQ(LoadLatest(*fs_, root_)->timestamp_ms(), Ict(3));
  // Created with the feature: no enablement properties.
  EXPECT_FALSE(LoadLatest(*fs_, root_)->metadata().configuration.count(kIctEnablementVersion));
}

TEST_F(InCommitTimestampTest, LostRaceTakesTheWinnersTimestampPlusOne) {
  CreateIctTable();
  Transaction txn(*fs_, nullptr, root_, LoadLatest(*fs_, root_));
  txn.Add(MakeAdd("mine.parquet"));
  const int64_t future = NowMs() + kHourMs;
  WriteForeignCommit(1, future, "theirs.parquet");
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(Ict(2), future + 1);
}

TEST_F(InCommitTimestampTest, EnablingOnAnExistingTableRecordsVersionAndTimestamp) {
  test_util::CreateTable(*fs_, root_);
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("a.parquet")}), 1);
  auto snap = LoadLatest(*fs_, root_);
  Transaction txn(*fs_, nullptr, root_, snap);
  txn.Add(IctProtocol());
  txn.Add(MakeMetadata({}, IctConfig()));
  // Another writer takes version 2 first: the enablement is then version 3.
  WriteForeignCommit(2, std::nullopt, "theirs.parquet");
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->version, 3);
  FileEntry previous = *fs_->Stat(CommitPath(root_, 2));
  EXPECT_GT(Ict(3), previous.modification_time_ms);
  auto latest = LoadLatest(*fs_, root_);
  const StringMap& config = latest->metadata().configuration;
  EXPECT_EQ(config.at(kIctEnablementVersion), "3");
  EXPECT_EQ(config.at(kIctEnablementTimestamp), std::to_string(Ict(3)));
  // Later commits keep the properties and carry timestamps.
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("b.parquet")}), 4);
  EXPECT_GT(Ict(4), Ict(3));
  EXPECT_EQ(LoadLatest(*fs_, root_)->metadata().configuration.at(kIctEnablementVersion), "3");
}

TEST_F(InCommitTimestampTest, MissingOrDecreasingTimestampIsCorruptLog) {
  CreateIctTable();
  WriteForeignCommit(1, std::nullopt, "a.parquet");
  auto missing = Snapshot::Load(*fs_, nullptr, root_);
  ASSERT_EQ(missing.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(missing.status().message().find("table " + root_ + ": version 1 has no "
                                            "commitInfo.inCommitTimestamp"),
            std::string::npos)
      << missing.status().message();

  ASSERT_TRUE(fs_->Delete(CommitPath(root_, 1)).ok());
  WriteForeignCommit(1, Ict(0), "a.parquet");  // equal is not after
  auto same = Snapshot::Load(*fs_, nullptr, root_);
  ASSERT_EQ(same.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(same.status().message().find("version 1"), std::string::npos);
  EXPECT_NE(same.status().message().find("must increase"), std::string::npos);
}

TEST_F(InCommitTimestampTest, TimeTravelUsesTimestampsFromTheEnablementOn) {
  // Versions 0-1 without ICTs (their commitInfo.timestamp), 2 enables them, 3 follows. The
  // ICTs lie far after the wall-clock timestamps, so only a search by ICT finds 2 and 3.
  test_util::CreateTable(*fs_, root_);
  ASSERT_EQ(CommitActions(*fs_, root_, {MakeAdd("a.parquet")}), 1);
  const int64_t t1 = ReadCommitJson(*fs_, root_, 1)[0]["commitInfo"]["timestamp"].get<int64_t>();
  const int64_t base = NowMs() + 10 * kHourMs;
  Metadata md = MakeMetadata({}, IctConfig());
  SetIctEnablement(&md, 2, base);
  CommitInfo ci;
  ci.json["inCommitTimestamp"] = base;
  test_util::WriteFile(CommitPath(root_, 2), SerializeActions({ci, IctProtocol(), md}));
  WriteForeignCommit(3, base + 1000, "b.parquet");

  auto at = [&](int64_t ts) -> int64_t {
    auto s = Snapshot::LoadAtTimestamp(*fs_, nullptr, root_, ts);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? (*s)->version() : -1;
  };
  EXPECT_EQ(at(base), 2);
  EXPECT_EQ(at(base + 999), 2);
  EXPECT_EQ(at(base + 1000), 3);
  EXPECT_EQ(at(base - 1), 1);  // before the enablement: the versions before it
  EXPECT_EQ(at(t1), 1);
  auto s = Snapshot::LoadAtTimestamp(*fs_, nullptr, root_, 1000);
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
}

TEST(InCommitTimestamp, EnablementProperties) {
  Metadata m;
  EXPECT_EQ(IctEnablementOf(m, "t")->version, 0);
  m.configuration[kIctEnablementVersion] = "4";
  EXPECT_EQ(IctEnablementOf(m, "t").status().code(), StatusCode::kCorruptLog);
  m.configuration[kIctEnablementTimestamp] = "1700000000000";
  auto e = IctEnablementOf(m, "t");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->version, 4);
  EXPECT_EQ(e->timestamp_ms, 1700000000000);
  m.configuration[kIctEnablementTimestamp] = "soon";
  EXPECT_EQ(IctEnablementOf(m, "t").status().code(), StatusCode::kCorruptLog);
  Protocol p = IctProtocol();
  EXPECT_FALSE(InCommitTimestampsEnabled(p, m));
  m.configuration[kEnableInCommitTimestamps] = "TRUE";
  EXPECT_TRUE(InCommitTimestampsEnabled(p, m));
  EXPECT_FALSE(InCommitTimestampsEnabled(Protocol{1, 2, {}, {}}, m));  // feature not listed
}

}  // namespace
}  // namespace dl::delta
