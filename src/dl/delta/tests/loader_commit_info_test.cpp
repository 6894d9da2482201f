#include "dl/delta/loader_commit_info.hpp"

#include <gtest/gtest.h>

#include "dl/delta/tests/delta_test_util.hpp"

namespace dl::delta {
namespace {

using namespace dl::delta::testing;  // NOLINT
using Json = nlohmann::ordered_json;

LoaderCommitInfo Full() {
  LoaderCommitInfo info;
  info.source_files = {{"s3://b/in/a.csv", 10, 1700000000000, "\"e1\""},
                       {"/data/in/b.csv", 20, 1700000001000, ""}};
  info.batch_id = "batch-1";
  info.merge = MergeStats{.source_rows = 9,
                          .collapsed_duplicates = 1,
                          .inserted = 2,
                          .updated = 3,
                          .deleted = 4,
                          .unchanged = 5,
                          .candidate_files = 6,
                          .rewritten_files = 7,
                          .deletion_vector_files = 8};
  info.replace_where = ReplaceWhereStats{"day = '2024-01-01'", 11, 12, 13};
  info.change_store = CompanionRecord{kSimpleSchema, {MakeAdd("c1.parquet", 5)}};
  info.quarantine = CompanionRecord{kSimpleSchema, {MakeAdd("q1.parquet"), MakeAdd("q2.parquet")}};
  info.delta_source = DeltaSourceVersion{"data_loader/source/abc", 7};
  return info;
}

void ExpectSame(const LoaderCommitInfo& a, const LoaderCommitInfo& b) {
  EXPECT_EQ(a.source_files, b.source_files);
  EXPECT_EQ(a.batch_id, b.batch_id);
  EXPECT_EQ(a.merge, b.merge);
  EXPECT_EQ(a.replace_where, b.replace_where);
  EXPECT_EQ(a.delta_source, b.delta_source);
  for (const char* role : {"changeStore", "quarantine"}) {
    const auto& x = *a.companion(role);
    const auto& y = *b.companion(role);
    ASSERT_EQ(x.has_value(), y.has_value()) << role;
    if (!x) continue;
    EXPECT_EQ(x->schema_string, y->schema_string);
    ASSERT_EQ(x->adds.size(), y->adds.size());
    for (size_t i = 0; i < x->adds.size(); ++i) {
      EXPECT_EQ(SerializeAction(x->adds[i]), SerializeAction(y->adds[i]));
    }
  }
}

CommitInfo WithField(const std::string& key, Json value) {
  CommitInfo ci = MakeCommitInfo(1000);
  ci.json[key] = std::move(value);
  return ci;
}

TEST(LoaderCommitInfoTest, RoundTripsThroughJson) {
  LoaderCommitInfo info = Full();
  auto back = LoaderCommitInfo::FromJson(info.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSame(info, *back);
  // The field names and the one in the log before this struct existed: older commits read.
  Json j = info.ToJson();
  EXPECT_EQ(j["sourceFiles"][0]["path"], "s3://b/in/a.csv");
  EXPECT_EQ(j["sourceFiles"][0]["modificationTime"], 1700000000000);
  EXPECT_EQ(j["sourceFiles"][0]["etag"], "\"e1\"");
  EXPECT_FALSE(j["sourceFiles"][1].contains("etag"));
  EXPECT_EQ(j["merge"]["collapsedDuplicates"], 1);
  EXPECT_EQ(j["replaceWhere"]["replacedRows"], 11);
  EXPECT_EQ(j["quarantine"]["adds"][1]["add"]["path"], "q2.parquet");  // as in the log
  EXPECT_EQ(j["changeStore"]["schemaString"], kSimpleSchema);
  EXPECT_EQ(j["deltaSource"], (Json{{"appId", "data_loader/source/abc"}, {"version", 7}}));

  LoaderCommitInfo empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.ToJson(), Json::object());
  EXPECT_FALSE(info.empty());
}

TEST(LoaderCommitInfoTest, ReadsOurCommitInfoField) {
  auto ours = LoaderCommitInfo::Of(WithField("dataLoader", Full().ToJson()));
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  ASSERT_TRUE(*ours);
  ExpectSame(Full(), **ours);
  // As a commit's actions: its commitInfo.
  std::vector<Action> actions{WithField("dataLoader", Full().ToJson()), MakeAdd("x.parquet")};
  auto from_actions = LoaderCommitInfo::Of(actions);
  ASSERT_TRUE(from_actions.ok() && *from_actions);
  EXPECT_EQ((*from_actions)->source_files.size(), 2u);

  auto none = LoaderCommitInfo::Of(MakeCommitInfo(1000));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  auto no_commit_info = LoaderCommitInfo::Of(std::vector<Action>{MakeAdd("x.parquet")});
  ASSERT_TRUE(no_commit_info.ok());
  EXPECT_FALSE(*no_commit_info);
}

// Commits Spark makes for us carry the same object in commitInfo.userMetadata.
TEST(LoaderCommitInfoTest, RecognisesOurJsonInUserMetadata) {
  std::string text = Full().ToUserMetadata();
  EXPECT_EQ(Json::parse(text)["dataLoader"], Full().ToJson());
  auto ours = LoaderCommitInfo::Of(WithField("userMetadata", text));
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  ASSERT_TRUE(*ours);
  ExpectSame(Full(), **ours);
}

// Users set userMetadata for their own reasons: never ours, never an error.
TEST(LoaderCommitInfoTest, IgnoresForeignUserMetadata) {
  for (const std::string text :
       {"nightly backfill by ops", "", "{not json", "[1,2]", "42", R"({"ticket":"OPS-1"})",
        R"({"sourceFiles":[{"path":"a.csv"}]})", R"({"dataLoader":"text"})",
        R"({"dataLoader":{"sourceFiles":"a.csv"}})"}) {
    auto info = LoaderCommitInfo::Of(WithField("userMetadata", text));
    ASSERT_TRUE(info.ok()) << text << ": " << info.status().ToString();
    EXPECT_FALSE(*info) << text;
  }
  auto not_a_string = LoaderCommitInfo::Of(WithField("userMetadata", Json{{"a", 1}}));
  ASSERT_TRUE(not_a_string.ok());
  EXPECT_FALSE(*not_a_string);
}

// Our own field wins over a userMetadata the user set on the same commit.
TEST(LoaderCommitInfoTest, OurFieldWinsOverUserMetadata) {
  CommitInfo ci = WithField("dataLoader", Full().ToJson());
  LoaderCommitInfo other;
  other.source_files = {{"other.csv", 1, 2, ""}};
  ci.json["userMetadata"] = other.ToUserMetadata();
  auto info = LoaderCommitInfo::Of(ci);
  ASSERT_TRUE(info.ok() && *info);
  EXPECT_EQ((*info)->source_files, Full().source_files);
}

TEST(LoaderCommitInfoTest, AMalformedFieldOfOursIsCorruptLogNamingIt) {
  struct Case {
    Json value;
    std::string names;
  };
  for (const auto& c : std::vector<Case>{
           {Json("text"), "commitInfo.dataLoader is not an object"},
           {Json{{"sourceFiles", Json{{"path", "a"}}}}, "commitInfo.dataLoader.sourceFiles"},
           {Json{{"sourceFiles", Json::array({Json{{"size", 1}}})}},
            "commitInfo.dataLoader.sourceFiles[0] has no path"},
           {Json{{"sourceFiles", Json::array({Json{{"path", "a"}, {"size", "1"}}})}},
            "commitInfo.dataLoader.sourceFiles[0].size is not an integer"},
           {Json{{"merge", Json{{"inserted", "2"}}}}, "commitInfo.dataLoader.merge.inserted"},
           {Json{{"quarantine", Json{{"adds", Json::array()}}}},
            "commitInfo.dataLoader.quarantine is malformed"},
           {Json{{"deltaSource", Json{{"appId", "a"}}}},
            "commitInfo.dataLoader.deltaSource is malformed"},
           {Json{{"deltaSource", Json{{"appId", "a"}, {"version", "7"}}}},
            "commitInfo.dataLoader.deltaSource.version is not an integer"},
           {Json{{"changeStore",
                  Json{{"schemaString", kSimpleSchema},
                       {"adds",
                        Json::array({Json{{"txn", Json{{"appId", "a"}, {"version", 1}}}}})}}}},
            "commitInfo.dataLoader.changeStore holds a non-add"}}) {
    auto info = LoaderCommitInfo::Of(WithField("dataLoader", c.value));
    ASSERT_FALSE(info.ok()) << c.value.dump();
    EXPECT_EQ(info.status().code(), StatusCode::kCorruptLog);
    EXPECT_TRUE(Contains(info.status().message(), c.names)) << info.status().message();
  }
}

TEST(LoaderCommitInfoTest, UnknownFieldsAndMissingCountersAreTolerated) {
  Json j = {{"sourceFiles", Json::array({Json{{"path", "a.csv"}}})},
            {"merge", Json{{"inserted", 3}}},
            {"futureField", Json{{"x", 1}}}};
  auto info = LoaderCommitInfo::FromJson(j);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_EQ(info->source_files.size(), 1u);
  EXPECT_EQ(info->source_files[0], (SourceFile{"a.csv", 0, 0, ""}));
  ASSERT_TRUE(info->merge);
  EXPECT_EQ(info->merge->inserted, 3);
  EXPECT_EQ(info->merge->updated, 0);
}

// Real logs on local disk: commits of other writers, and of ours as we and Spark write them.
class LatestLoaderCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = dir_.path() + "/t"; }

  // Commit v of another writer (OPTIMIZE, a txn-only commit): no metadata of ours.
  void WriteOther(int64_t v) {
    std::vector<Action> actions = CommitStart(v);
    actions.push_back(SetTransaction{"data_loader/source/other", v, 1000 + v});
    WriteCommit(root_, v, actions);
  }
  void WriteOthers(int64_t first, int64_t last) {
    for (int64_t v = first; v <= last; ++v) WriteOther(v);
  }
  // Commit v of ours naming batch `batch`: our field, or Spark's userMetadata.
  void WriteOurs(int64_t v, const std::string& batch, bool as_spark = false) {
    LoaderCommitInfo info;
    info.batch_id = batch;
    info.delta_source = DeltaSourceVersion{"data_loader/source/abc", v * 10};
    CommitInfo ci = as_spark ? WithField("userMetadata", info.ToUserMetadata())
                             : WithField(kLoaderCommitInfoKey, info.ToJson());
    WriteCommit(root_, v, {ci, MakeAdd(batch + ".parquet")});
  }
  Result<std::optional<LoaderCommit>> Latest(int64_t version, bool known = false) {
    auto seg = LogSegment::Build(*fs_, root_);
    if (!seg.ok()) return seg.status();
    return LatestLoaderCommit(*fs_, root_, version, known ? &*seg : nullptr);
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
};

// More commits of others than the old walk's cap (100) since ours: still found.
TEST_F(LatestLoaderCommitTest, TheNewestOfOursIsFoundBehindAnyNumberOfOtherCommits) {
  WriteOther(0);
  WriteOurs(1, "a");
  WriteOurs(2, "b", true);
  WriteOthers(3, 152);
  for (bool known : {false, true}) {
    auto latest = Latest(152, known);
    ASSERT_TRUE(latest.ok()) << latest.status().ToString();
    ASSERT_TRUE(*latest);
    EXPECT_EQ((*latest)->version, 2);
    EXPECT_EQ((*latest)->info.batch_id, "b");
    EXPECT_EQ((*latest)->info.delta_source, (DeltaSourceVersion{"data_loader/source/abc", 20}));
  }
  // At or below the version asked for.
  auto older = Latest(1);
  ASSERT_TRUE(older.ok()) << older.status().ToString();
  ASSERT_TRUE(*older);
  EXPECT_EQ((*older)->version, 1);
  EXPECT_EQ((*older)->info.batch_id, "a");
}

TEST_F(LatestLoaderCommitTest, ALogWithoutCommitsOfOursHasNone) {
  WriteOthers(0, 40);
  auto latest = Latest(40, true);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_FALSE(*latest);
}

// Log cleanup removed the commits below a checkpoint: the search ends at the oldest commit
// kept, without error; one of ours among those kept is found.
TEST_F(LatestLoaderCommitTest, TheSearchEndsAtTheOldestCommitLogCleanupLeft) {
  WriteOurs(0, "gone");
  WriteOthers(1, 150);
  CleanUpLogBelow(root_, 120, {MakeProtocol(), MakeMetadata()});
  for (bool known : {false, true}) {
    auto latest = Latest(150, known);
    ASSERT_TRUE(latest.ok()) << latest.status().ToString();
    EXPECT_FALSE(*latest);
  }
  WriteOurs(121, "kept");
  WriteOthers(122, 150);
  auto kept = Latest(150, true);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_TRUE(*kept);
  EXPECT_EQ((*kept)->version, 121);
}

TEST_F(LatestLoaderCommitTest, AMalformedCommitOfOursIsCorruptLogNamingItsFile) {
  WriteOther(0);
  WriteCommit(root_, 1, {WithField(kLoaderCommitInfoKey, Json{{"batchId", 5}})});
  WriteOthers(2, 3);
  auto latest = Latest(3);
  ASSERT_FALSE(latest.ok());
  EXPECT_EQ(latest.status().code(), StatusCode::kCorruptLog);
  EXPECT_TRUE(Contains(latest.status().message(), CommitPath(root_, 1)))
      << latest.status().message();
}

}  // namespace
}  // namespace dl::delta
