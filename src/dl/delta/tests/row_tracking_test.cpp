// Row tracking and domain metadata in commits: fresh row ids from the high-water mark, row
// commit versions, rebasing after a lost race, and the domainMetadata feature check.
#include "dl/delta/row_tracking.hpp"

#include <gtest/gtest.h>

#include "dl/delta/conflict_checker.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/tests/txn_test_util.hpp"
#include "dl/delta/transaction.hpp"

namespace dl::delta {
namespace {

using test_util::LoadLatest;
using test_util::MakeAdd;
using test_util::MakeMetadata;
using test_util::ReadCommitJson;
using test_util::TempDir;

Protocol RowTrackingProtocol() {
  return Protocol{1, 7, std::nullopt, std::vector<std::string>{"domainMetadata", "rowTracking"}};
}

AddFile AddWithRows(const std::string& path, int64_t rows) {
  AddFile a = MakeAdd(path);
  a.stats = fmt::format(R"({{"numRecords":{}}})", rows);
  return a;
}

class RowTrackingTest : public ::testing::Test {
 protected:
  void Create(StringMap config = {{"delta.enableRowTracking", "true"}},
              std::vector<AddFile> files = {}) {
    Transaction txn(*fs_, nullptr, root_, nullptr);
    txn.Add(RowTrackingProtocol());
    txn.Add(MakeMetadata({}, std::move(config)));
    for (auto& f : files) txn.Add(std::move(f));
    auto r = txn.Commit();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  Result<CommitResult> Append(std::shared_ptr<const Snapshot> read, std::vector<AddFile> files) {
    Transaction txn(*fs_, nullptr, root_, std::move(read));
    for (auto& f : files) txn.Add(std::move(f));
    CommitOptions options;
    options.base_backoff_ms = 0;
    return txn.Commit(options);
  }
  const AddFile& File(const Snapshot& s, const std::string& path) {
    for (const auto& f : s.files()) {
      if (f.path == path) return f;
    }
    ADD_FAILURE() << "no file " << path;
    return s.files().front();
  }

  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
  TempDir dir_;
  std::string root_ = dir_.path() + "/table";
};

TEST_F(RowTrackingTest, AddsGetConsecutiveRowIdsAndTheCommitVersion) {
  Create({{"delta.enableRowTracking", "true"}}, {AddWithRows("a", 3), AddWithRows("b", 2)});
  auto s0 = LoadLatest(*fs_, root_);
  EXPECT_EQ(File(*s0, "a").base_row_id, 0);
  EXPECT_EQ(File(*s0, "b").base_row_id, 3);
  EXPECT_EQ(File(*s0, "a").default_row_commit_version, 0);
  ASSERT_EQ(RowIdHighWaterMark(s0->domains(), root_).value(), 4);

  ASSERT_TRUE(Append(s0, {AddWithRows("c", 5)}).ok());
  auto s1 = LoadLatest(*fs_, root_);
  EXPECT_EQ(File(*s1, "c").base_row_id, 5);
  EXPECT_EQ(File(*s1, "c").default_row_commit_version, 1);
  EXPECT_EQ(File(*s1, "a").base_row_id, 0);  // untouched files keep theirs
  EXPECT_EQ(RowIdHighWaterMark(s1->domains(), root_).value(), 9);
  // The domain is written as the protocol spells it, and the commit says ids were preserved.
  bool domain = false;
  for (const auto& line : ReadCommitJson(*fs_, root_, 1)) {
    if (line.contains("domainMetadata")) {
      EXPECT_EQ(line["domainMetadata"]["domain"], "delta.rowTracking");
      EXPECT_EQ(line["domainMetadata"]["configuration"], R"({"rowIdHighWaterMark":9})");
      domain = true;
    }
    if (line.contains("commitInfo")) {
      EXPECT_EQ(line["commitInfo"]["tags"]["delta.rowTracking.preserved"], "true");
    }
  }
  EXPECT_TRUE(domain);
}

TEST_F(RowTrackingTest, LostRaceReassignsIdsAboveTheWinner) {
  Create({{"delta.enableRowTracking", "true"}}, {AddWithRows("a", 3)});
  auto read = LoadLatest(*fs_, root_);
  ASSERT_TRUE(Append(read, {AddWithRows("winner", 10)}).ok());  // version 1, ids 3..12
  auto r = Append(read, {AddWithRows("loser", 2)});              // read version 0
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(r->attempts, 2);
  auto s = LoadLatest(*fs_, root_);
  EXPECT_EQ(File(*s, "winner").base_row_id, 3);
  EXPECT_EQ(File(*s, "loser").base_row_id, 13);
  EXPECT_EQ(File(*s, "loser").default_row_commit_version, 2);
  EXPECT_EQ(RowIdHighWaterMark(s->domains(), root_).value(), 14);
}

TEST_F(RowTrackingTest, SupportedButNotEnabledStillAssignsAndSuspendedDoesNot) {
  Create({}, {AddWithRows("a", 2)});
  EXPECT_EQ(File(*LoadLatest(*fs_, root_), "a").base_row_id, 0);
  TempDir other;
  root_ = other.path() + "/t";
  Create({{"delta.rowTrackingSuspended", "true"}}, {AddWithRows("a", 2)});
  auto s = LoadLatest(*fs_, root_);
  EXPECT_FALSE(File(*s, "a").base_row_id.has_value());
  EXPECT_TRUE(s->domains().empty());
}

TEST_F(RowTrackingTest, RecommittedFilesKeepTheirIds) {
  Create({{"delta.enableRowTracking", "true"}}, {AddWithRows("a", 3)});
  auto s0 = LoadLatest(*fs_, root_);
  AddFile again = File(*s0, "a");  // e.g. the same file with a deletion vector
  again.deletion_vector = DeletionVector{"i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=", {},
                                         34, 1, std::nullopt};
  Transaction txn(*fs_, nullptr, root_, s0);
  RemoveFile rm = test_util::MakeRemove(File(*s0, "a"));
  txn.Add(rm);
  txn.Add(again);
  ASSERT_TRUE(txn.Commit().ok());
  auto s1 = LoadLatest(*fs_, root_);
  EXPECT_EQ(File(*s1, "a").base_row_id, 0);
  EXPECT_EQ(File(*s1, "a").default_row_commit_version, 0);
  EXPECT_EQ(RowIdHighWaterMark(s1->domains(), root_).value(), 2);  // no new ids
}

TEST_F(RowTrackingTest, AddWithoutRecordCountIsRefused) {
  Create();
  AddFile a = MakeAdd("nostats");
  a.stats.reset();
  auto r = Append(LoadLatest(*fs_, root_), {a});
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("nostats"), std::string::npos);
  EXPECT_NE(r.status().message().find("numRecords"), std::string::npos);
}

TEST_F(RowTrackingTest, BadHighWaterMarkIsCorruptLog) {
  std::map<std::string, DomainMetadata> domains{
      {"delta.rowTracking", DomainMetadata{"delta.rowTracking", R"({"x":1})", false}}};
  EXPECT_EQ(RowIdHighWaterMark(domains, "t").status().code(), StatusCode::kCorruptLog);
  domains.clear();
  EXPECT_EQ(RowIdHighWaterMark(domains, "t").value(), -1);
}

TEST_F(RowTrackingTest, DomainsNeedTheDomainMetadataFeature) {
  test_util::CreateTable(*fs_, root_);  // protocol (1,2)
  Transaction txn(*fs_, nullptr, root_, LoadLatest(*fs_, root_));
  txn.Add(DomainMetadata{"app.x", "{}", false});
  auto r = txn.Commit();
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("domainMetadata"), std::string::npos);
}

TEST_F(RowTrackingTest, OtherDomainsAreCarriedAndStillConflict) {
  Create();
  auto read = LoadLatest(*fs_, root_);
  {
    Transaction txn(*fs_, nullptr, root_, read);
    txn.Add(DomainMetadata{"app.x", R"({"v":1})", false});
    ASSERT_TRUE(txn.Commit().ok());
  }
  ASSERT_TRUE(Append(LoadLatest(*fs_, root_), {AddWithRows("b", 1)}).ok());
  EXPECT_EQ(LoadLatest(*fs_, root_)->domains().at("app.x").configuration, R"({"v":1})");
  Transaction txn(*fs_, nullptr, root_, read);
  txn.Add(DomainMetadata{"app.x", R"({"v":2})", false});
  auto r = txn.Commit();
  ASSERT_EQ(r.status().code(), StatusCode::kCommitConflict);
  EXPECT_NE(r.status().message().find("app.x"), std::string::npos);
}

TEST(RowTrackingProtocolTest, NewTablesGetTheFeatures) {
  Schema schema = ParseSchemaString(test_util::kSchema).value();
  Protocol rt = RequiredProtocol(schema, {{"delta.enableRowTracking", "true"}});
  EXPECT_EQ(rt.min_writer_version, 7);
  EXPECT_EQ(*rt.writer_features, (std::vector<std::string>{"domainMetadata", "rowTracking"}));
  Protocol cl = RequiredProtocol(schema, {}, /*clustered=*/true);
  EXPECT_EQ(*cl.writer_features, (std::vector<std::string>{"domainMetadata", "clustering"}));
  Metadata m = MakeMetadata();
  EXPECT_TRUE(CheckCanWrite(rt, m, "t").ok());
  EXPECT_TRUE(CheckCanWrite(cl, m, "t").ok());
  Status st = CheckCanWrite(Protocol{1, 7, std::nullopt, std::vector<std::string>{"rowTracking"}},
                            m, "/t");
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("without domainMetadata"), std::string::npos);
}

}  // namespace
}  // namespace dl::delta
