// SparkSession against a live Spark Connect server with Delta: SPARK_REMOTE names it. Run by
// tests/spark_connect/test_spark_session.py, whose fixture starts the server; a missing
// SPARK_REMOTE fails every test (nothing is skipped).
#include "dl/engine/spark/spark_session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/engine/spark/server_tests/server_session.hpp"
#include "dl/storage/file_system.hpp"
#include "spark/connect/base.pb.h"

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Row = std::vector<std::optional<std::string>>;

QueryRows MustSql(SparkSession& s, const std::string& sql) {
  auto rows = s.Sql(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
  return rows.ok() ? std::move(*rows) : QueryRows{};
}

TEST(SparkSessionTest, SqlRoundTripWithTypedValuesAndNulls) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  QueryRows rows = MustSql(
      *s,
      "SELECT * FROM VALUES "
      "(1, CAST(9007199254740993 AS BIGINT), 'it''s', true, CAST(2.5 AS DOUBLE), "
      " TIMESTAMP'2024-01-02 03:04:05.123456', CAST(-12.34 AS DECIMAL(10,2)), DATE'2024-02-29'),"
      "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL) "
      "AS t(k, big, s, b, d, ts, dec, day) ORDER BY k");
  EXPECT_EQ(rows.columns,
            (std::vector<std::string>{"k", "big", "s", "b", "d", "ts", "dec", "day"}));
  ASSERT_EQ(rows.rows.size(), 2u);
  // The server's session time zone is UTC (tests/spark_connect/server.py).
  EXPECT_EQ(rows.rows[0], (Row{"1", "9007199254740993", "it's", "true", "2.5",
                               "2024-01-02 03:04:05.123456", "-12.34", "2024-02-29"}));
  EXPECT_EQ(rows.rows[1], (Row{"2", std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                               std::nullopt, std::nullopt, std::nullopt}));
}

TEST(SparkSessionTest, CommandsReturnTheirRows) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  MustSql(*s, "CREATE OR REPLACE TEMPORARY VIEW dl_v AS SELECT id FROM range(5)");
  QueryRows rows = MustSql(*s, "SELECT count(*) AS n, sum(id) AS total FROM dl_v");
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0], (Row{"5", "10"}));
}

TEST(SparkSessionTest, ConfSetGetUnset) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->SetConf("dl.test.key", "v1").ok());
  auto got = s->GetConf("dl.test.key");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, std::optional<std::string>("v1"));
  // The same session's SQL sees it.
  QueryRows rows = MustSql(*s, "SET dl.test.key");
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0], (Row{"dl.test.key", "v1"}));
  ASSERT_TRUE(s->UnsetConf("dl.test.key").ok());
  got = s->GetConf("dl.test.key");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::nullopt);
  // Another session does not share it.
  ASSERT_TRUE(s->SetConf("dl.test.key", "mine").ok());
  auto other = ServerSession();
  ASSERT_TRUE(other);
  EXPECT_NE(other->session_id(), s->session_id());
  auto theirs = other->GetConf("dl.test.key");
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(*theirs, std::nullopt);
}

TEST(SparkSessionTest, SparkVersion) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  auto version = s->SparkVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, "4.1.0");
}

TEST(SparkSessionTest, ErrorsCarrySparksErrorClass) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  auto missing = s->Sql("SELECT * FROM dl_no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kEngine);
  EXPECT_THAT(missing.status().message(), StartsWith("Spark: [TABLE_OR_VIEW_NOT_FOUND]"));
  EXPECT_EQ(missing.status().detail().error_class, "TABLE_OR_VIEW_NOT_FOUND");
  EXPECT_THAT(missing.status().message(), HasSubstr("dl_no_such_table"));
  auto syntax = s->Sql("SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(syntax.status().message(), StartsWith("Spark: [PARSE_SYNTAX_ERROR]"));
  EXPECT_EQ(syntax.status().detail().error_class, "PARSE_SYNTAX_ERROR");
  // The session still works after errors.
  EXPECT_EQ(MustSql(*s, "SELECT 1 AS one").rows.size(), 1u);
}

// The test server requires its bearer token (tests/spark_connect/server.py).
TEST(SparkSessionTest, MissingOrWrongTokenIsRefused) {
  auto remote = ResolveRemote("", [](const char* name) { return std::getenv(name); });
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  ASSERT_FALSE(remote->token.empty()) << "the test server's SPARK_REMOTE carries a token";
  const std::string right = remote->token;
  for (const std::string& token : {std::string(), std::string("wrong-") + right}) {
    SparkRemote bad = *remote;
    bad.token = token;
    auto session = SparkSession::Connect(bad);
    ASSERT_TRUE(session.ok());
    auto version = (*session)->SparkVersion();
    ASSERT_FALSE(version.ok()) << "token '" << token << "' was accepted";
    EXPECT_EQ(version.status().code(), StatusCode::kInvalidArgument) << version.status().ToString();
    EXPECT_THAT(version.status().message(), HasSubstr("refused the credentials"));
    EXPECT_THAT(version.status().message(), ::testing::Not(HasSubstr(right)));
  }
}

// The writes the Spark engine relies on: Delta skips a second write with the same txn
// (txnAppId, txnVersion), and userMetadata lands in commitInfo, which our own log reader sees.
TEST(SparkSessionTest, DeltaTxnWriteIsIdempotentAndCarriesUserMetadata) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  const char* tmp = std::getenv("DL_SPARK_TEST_DIR");
  ASSERT_TRUE(tmp) << "DL_SPARK_TEST_DIR must name a scratch directory";
  std::string root = std::string(tmp) + "/txn_table";
  std::filesystem::remove_all(root);
  MustSql(*s, "CREATE TABLE delta.`" + root + "` (id INT, s STRING) USING delta");
  const std::string metadata = R"({"dataLoader":{"batchId":"b-1","sourceFiles":["a.csv"]}})";
  ASSERT_TRUE(s->SetConf("spark.databricks.delta.write.txnAppId", "dl-test-app").ok());
  ASSERT_TRUE(s->SetConf("spark.databricks.delta.write.txnVersion", "7").ok());
  ASSERT_TRUE(s->SetConf("spark.databricks.delta.commitInfo.userMetadata", metadata).ok());
  const std::string insert = "INSERT INTO delta.`" + root + "` VALUES (1, 'a'), (2, 'b')";
  MustSql(*s, insert);
  MustSql(*s, insert);  // same txn: Delta skips it
  for (const char* key :
       {"spark.databricks.delta.write.txnAppId", "spark.databricks.delta.write.txnVersion",
        "spark.databricks.delta.commitInfo.userMetadata"}) {
    ASSERT_TRUE(s->UnsetConf(key).ok());
  }
  QueryRows count = MustSql(*s, "SELECT count(*) FROM delta.`" + root + "`");
  ASSERT_EQ(count.rows.size(), 1u);
  EXPECT_EQ(count.rows[0][0], "2");

  // Our Delta module reads Spark's log: version 0 creates, version 1 appends, no version 2.
  std::unique_ptr<FileSystem> fs = MakeLocalFileSystem();
  auto files = delta::ListLogFiles(*fs, root);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  int64_t latest = -1;
  for (const delta::LogPath& f : *files) {
    if (f.kind == delta::LogPath::Kind::kCommit) latest = std::max(latest, f.version);
  }
  EXPECT_EQ(latest, 1) << "the second write with the same txn was not skipped";
  auto commit = fs->Read(delta::CommitPath(root, 1));
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  auto actions = delta::ParseActions(*commit, "commit 1");
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  std::optional<std::string> user_metadata;
  std::optional<int64_t> txn_version;
  for (const delta::Action& a : *actions) {
    if (auto* ci = std::get_if<delta::CommitInfo>(&a); ci && ci->json.contains("userMetadata")) {
      user_metadata = ci->json["userMetadata"].get<std::string>();
    }
    if (auto* txn = std::get_if<delta::SetTransaction>(&a); txn && txn->app_id == "dl-test-app") {
      txn_version = txn->version;
    }
  }
  EXPECT_EQ(user_metadata, metadata);
  EXPECT_EQ(txn_version, 7);
}

// A local checkpoint is its rows as computed, read through a view: a write to the table it
// read changes nothing in it, where a cached table's plan is re-planned and shows the new row
// (Scd2Plan::Materialize). Releasing it drops the session's reference (the server frees its
// blocks when its JVM collects them).
TEST(SparkSessionTest, LocalCheckpointKeepsItsRowsWhereACachedTableIsReplanned) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  const char* tmp = std::getenv("DL_SPARK_TEST_DIR");
  ASSERT_TRUE(tmp) << "DL_SPARK_TEST_DIR must name a scratch directory";
  const std::string table = "delta.`" + std::string(tmp) + "/checkpointed`";
  std::filesystem::remove_all(std::string(tmp) + "/checkpointed");
  MustSql(*s, "CREATE TABLE " + table + " USING delta AS SELECT id FROM range(3)");
  const std::string query = "SELECT sum(id) AS total, count(1) AS n FROM " + table;
  ::spark::connect::Relation relation;
  relation.mutable_sql()->set_query(query);
  auto checkpoint = s->LocalCheckpoint(relation);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  ASSERT_TRUE(checkpoint->has_value()) << "a Spark 4.1 server has local checkpoints";
  ::spark::connect::Plan view;
  auto* create = view.mutable_command()->mutable_create_dataframe_view();
  *create->mutable_input() = **checkpoint;
  create->set_name("dl_checkpointed");
  create->set_replace(true);
  ASSERT_TRUE(s->Execute(view).ok());
  MustSql(*s, "CACHE TABLE dl_cached AS " + query);

  MustSql(*s, "INSERT INTO " + table + " VALUES (10)");
  EXPECT_EQ(MustSql(*s, "SELECT * FROM dl_checkpointed").rows, (std::vector<Row>{{"3", "3"}}));
  EXPECT_EQ(MustSql(*s, "SELECT * FROM dl_cached").rows, (std::vector<Row>{{"13", "4"}}));
  MustSql(*s, "UNCACHE TABLE dl_cached");
  EXPECT_TRUE(s->ReleaseCheckpoint(**checkpoint).ok());
  MustSql(*s, "DROP VIEW dl_checkpointed");
}

// The block files of the server's block manager under its spark.local.dir.
std::set<std::string> RddBlockFiles(const std::string& local_dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(local_dir)) {
    if (e.is_regular_file() && e.path().filename().string().rfind("rdd_", 0) == 0) {
      out.insert(e.path().string());
    }
  }
  return out;
}

// What an executor's death does to a local checkpoint on a cluster, done on the local server
// by deleting the checkpoint's block files: reading it fails, and the failure is transient
// (the loader's batch runner retries the batch, which checkpoints anew).
TEST(SparkSessionTest, ALostCheckpointBlockIsTransient) {
  auto s = ServerSession();
  ASSERT_TRUE(s);
  const char* local_dir = std::getenv("DL_SPARK_LOCAL_DIR");
  ASSERT_TRUE(local_dir) << "DL_SPARK_LOCAL_DIR must name the server's spark.local.dir";
  const std::set<std::string> before = RddBlockFiles(local_dir);
  ::spark::connect::Relation relation;
  relation.mutable_sql()->set_query("SELECT id, id * 2 AS v FROM range(1000)");
  ::spark::connect::StorageLevel disk_only;
  disk_only.set_use_disk(true);
  disk_only.set_replication(1);
  auto checkpoint = s->LocalCheckpoint(relation, &disk_only);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  ASSERT_TRUE(checkpoint->has_value());
  int removed = 0;
  for (const auto& file : RddBlockFiles(local_dir)) {
    if (!before.count(file)) removed += std::filesystem::remove(file) ? 1 : 0;
  }
  ASSERT_GT(removed, 0) << "no block file of the checkpoint under " << local_dir;

  ::spark::connect::Plan read;
  auto* agg = read.mutable_root()->mutable_aggregate();
  *agg->mutable_input() = **checkpoint;
  agg->set_group_type(::spark::connect::Aggregate::GROUP_TYPE_GROUPBY);
  auto* sum = agg->add_aggregate_expressions()->mutable_unresolved_function();
  sum->set_function_name("sum");
  sum->add_arguments()->mutable_unresolved_attribute()->set_unparsed_identifier("v");
  // The first read finds the block's file gone (the block manager then forgets the block);
  // from then on the checkpoint's block is missing, as after its executor's death.
  Status lost;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto rows = s->Execute(read);
    ASSERT_FALSE(rows.ok()) << "read a checkpoint whose blocks were deleted";
    lost = rows.status();
    if (lost.detail().error_class == "CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND") break;
  }
  EXPECT_EQ(lost.detail().error_class, "CHECKPOINT_RDD_BLOCK_ID_NOT_FOUND") << lost.ToString();
  EXPECT_EQ(lost.detail().cause, ErrorDetail::Cause::kTransient) << lost.ToString();
  EXPECT_THAT(lost.message(), HasSubstr("lost with the executor"));
  EXPECT_TRUE(s->ReleaseCheckpoint(**checkpoint).ok());
  // The session goes on.
  EXPECT_EQ(MustSql(*s, "SELECT 1").rows, (std::vector<Row>{{"1"}}));
}

}  // namespace
}  // namespace dl::engine::spark
