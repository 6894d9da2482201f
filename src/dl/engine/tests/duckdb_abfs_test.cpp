// The DuckDB engine on abfs(s):// locations (ADLS Gen2 URIs), against Azurite, which serves
// only the Blob API. The engine hands DuckDB the az://container/... spelling with a secret
// carrying the URI's account (as delta-rs uses the Blob endpoint for every Azure URL), and
// reports every path back in the user's spelling: add paths stay relative to the table root.
#include <gtest/gtest.h>

#include <set>

#include "dl/common/testing/fault_proxy.hpp"
#include "dl/common/testing/test_servers.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/engine/tests/engine_test_util.hpp"
#include "dl/storage/registry.hpp"

namespace dl::engine {
namespace {

using dl::testing::AzuriteServer;
using dl::testing::FaultProxy;
using testing::Scalar;

constexpr char kRows[] =
    "SELECT i AS id, (['a/b', 'x y', 'plain', NULL])[i % 4 + 1] AS p FROM range(1000) t(i)";

const std::string kAbfss = "abfss://lake@devstoreaccount1.dfs.core.windows.net";

delta::Schema IdAndP() {
  auto s = delta::ParseSchemaString(
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"p","type":"string","nullable":true,"metadata":{}}]})");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ValueOr({});
}

// A locked engine that may reach `locations` only, with `storage` as the config's options.
Result<std::unique_ptr<Engine>> LockedEngine(const StorageOptions& storage,
                                             std::vector<std::string> locations) {
  EngineOptions options;
  options.threads = 2;
  options.storage.global = storage;
  options.allowed_directories = std::move(locations);
  options.file_system = MakeFileSystem(options.storage);
  return MakeDuckDbEngine(options);
}

// The blobs below `root` as our storage layer lists them, relative to `root`.
std::set<std::string> BlobsBelow(const StorageOptions& storage, const std::string& root) {
  std::set<std::string> out;
  auto listed = MakeFileSystem(StorageConfig{storage, {}})->ListRecursive(root, "");
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
  if (!listed.ok()) return out;
  for (const auto& e : *listed) {
    if (!e.is_dir) out.insert(e.path.substr(root.size() + 1));
  }
  return out;
}

std::set<std::string> DecodedPaths(const std::vector<delta::AddFile>& adds) {
  std::set<std::string> out;
  for (const auto& a : adds) out.insert(delta::UriDecodePath(a.path));
  return out;
}

delta::Snapshot SnapshotOf(const std::string& root, std::vector<delta::AddFile> files) {
  delta::Metadata md;
  md.id = "abfs-table";
  md.schema_string = delta::SerializeSchema(IdAndP());
  md.partition_columns = {"p"};
  return delta::Snapshot(root, delta::LogSegment{}, 1, 0, delta::Protocol{}, md, IdAndP(),
                         std::move(files), {}, {}, {});
}

TEST(DuckDbAbfs, DataFilesAreWrittenAndReadThroughTheBlobApi) {
  auto server = AzuriteServer::Start();
  DL_REQUIRE_SERVER(server, AzuriteServer::MissingReason());
  ASSERT_TRUE(server->CreateContainer("lake"));
  // No account in the options: the URI's authority names it.
  const StorageOptions storage = {{"azure_storage_account_key", AzuriteServer::kKey},
                                  {"azure_storage_endpoint", server->blob_endpoint()}};
  const std::string root = kAbfss + "/t";
  auto made = LockedEngine(storage, {root + "/"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Engine& engine = **made;

  WriteOptions wo;
  wo.partition_columns = {"p"};
  auto adds = engine.WriteDataFiles(kRows, root, IdAndP(), wo);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  ASSERT_EQ(adds->size(), 4u);
  for (const auto& a : *adds) {
    // Relative to the table root: no scheme, container or account leaks into the log.
    EXPECT_EQ(a.path.rfind("p=", 0), 0u) << a.path;
    EXPECT_EQ(a.path.find(':'), std::string::npos) << a.path;
  }
  // The blobs are exactly the files the add actions name.
  EXPECT_EQ(BlobsBelow(storage, root), DecodedPaths(*adds));

  // Read back as a table (partition values from the log, _dl_file as add.path).
  ASSERT_TRUE(engine.RegisterSnapshotWithFileColumn("t", SnapshotOf(root, *adds), nullptr).ok());
  EXPECT_EQ(Scalar(engine, "SELECT count(*) || ',' || sum(id) || ',' || count(DISTINCT p) FROM t"),
            "1000,499500,3");
  std::set<std::string> logged, scanned;
  for (const auto& a : *adds) logged.insert(a.path);
  auto files = engine.Query("SELECT DISTINCT _dl_file FROM t");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  for (const auto& r : files->rows) scanned.insert(r[0].value_or(""));
  EXPECT_EQ(scanned, logged);

  // Read back as source files: the file name column shows them as the caller named them.
  std::vector<std::string> paths;
  for (const auto& a : *adds) paths.push_back(delta::ResolveDataPath(root, a.path));
  SourceOptions parquet;
  parquet.options["filename"] = "src";
  ASSERT_TRUE(engine.RegisterFiles("s", paths, parquet).ok());
  auto names = engine.Query("SELECT DISTINCT src FROM s ORDER BY 1");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  std::set<std::string> got;
  for (const auto& r : names->rows) got.insert(r[0].value_or(""));
  EXPECT_EQ(got, std::set<std::string>(paths.begin(), paths.end()));
  EXPECT_EQ(Scalar(engine, "SELECT count(*) FROM s"), "1000");
}

// DuckDB reads az://lake/t/...: its errors must still name the file as the caller did, and
// say whether retrying may help.
TEST(DuckDbAbfs, ErrorsNameTheSourceFileAsGivenAndWhetherItMayPass) {
  auto server = AzuriteServer::Start();
  DL_REQUIRE_SERVER(server, AzuriteServer::MissingReason());
  ASSERT_TRUE(server->CreateContainer("lake"));
  const StorageOptions storage = {{"azure_storage_account_key", AzuriteServer::kKey},
                                  {"azure_storage_endpoint", server->blob_endpoint()}};
  const std::string root = kAbfss + "/t";
  auto made = LockedEngine(storage, {root + "/"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Engine& engine = **made;
  auto adds = engine.WriteDataFiles(kRows, root, IdAndP(), {});
  ASSERT_TRUE(adds.ok() && !adds->empty()) << adds.status().ToString();
  const std::string good = delta::ResolveDataPath(root, adds->front().path);
  const std::string bad = root + "/raw/bad.parquet";
  auto fs = MakeFileSystem(StorageConfig{storage, {}});
  ASSERT_TRUE(fs->WriteAtomic(bad, "PAR1 not a parquet file PAR1").ok());

  Status st = engine.RegisterFiles("s", {good, bad}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail().files, std::vector<std::string>{bad}) << st.ToString();
  EXPECT_EQ(st.detail().cause, ErrorDetail::Cause::kData) << st.ToString();
  // DuckDB's words name it so too.
  EXPECT_NE(st.message().find("in file '" + bad + "'"), std::string::npos) << st.message();

  // The store answering 503 Server Busy (as Azure does, no body to a HEAD) to every request,
  // beyond DuckDB's own retries: transient.
  FaultProxy proxy(
      std::stoi(server->blob_endpoint().substr(server->blob_endpoint().rfind(':') + 1)));
  StorageOptions through = storage;
  through["azure_storage_endpoint"] =
      "http://127.0.0.1:" + std::to_string(proxy.port()) + "/" + AzuriteServer::kAccount;
  auto flaky = LockedEngine(through, {root + "/"});
  ASSERT_TRUE(flaky.ok()) << flaky.status().ToString();
  for (int i = 0; i < 100; ++i) proxy.AnswerNextWith("503 Server Busy", "");
  st = (*flaky)->RegisterFiles("s", {good}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail().cause, ErrorDetail::Cause::kTransient) << st.ToString();
  EXPECT_EQ(st.detail().files, std::vector<std::string>{good}) << st.ToString();
}

TEST(DuckDbAbfs, CheckpointsAndSplitFilesUnderTheirAbfssKeys) {
  auto server = AzuriteServer::Start();
  DL_REQUIRE_SERVER(server, AzuriteServer::MissingReason());
  ASSERT_TRUE(server->CreateContainer("lake"));
  const StorageOptions storage = {{"azure_storage_account_key", AzuriteServer::kKey},
                                  {"azure_storage_endpoint", server->blob_endpoint()}};
  const std::string root = kAbfss + "/big";
  auto made = LockedEngine(storage, {root + "/"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  Engine& engine = **made;
  // Oversized files are split beside themselves and deleted through our storage layer.
  auto schema = delta::ParseSchemaString(
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"s","type":"string","nullable":true,"metadata":{}}]})");
  WriteOptions wo;
  wo.target_file_size_bytes = 1 << 20;
  auto adds = engine.WriteDataFiles(
      "SELECT i AS id, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS s FROM range(100000) t(i)", root,
      *schema, wo);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  EXPECT_GT(adds->size(), 2u);
  EXPECT_EQ(BlobsBelow(storage, root), DecodedPaths(*adds));

  std::vector<std::string> lines = {
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})",
      R"({"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{},"createdTime":1}})",
      R"({"add":{"path":"a.parquet","partitionValues":{},"size":1,"modificationTime":2,"dataChange":false}})"};
  const std::string checkpoint = root + "/_delta_log/00000000000000000003.checkpoint.parquet";
  Status st = engine.WriteCheckpoint(checkpoint, lines);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto fs = MakeFileSystem(StorageConfig{storage, {}});
  EXPECT_TRUE(*fs->Exists(checkpoint));
  auto read = engine.ReadCheckpointActions({checkpoint});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), 3u);
}

TEST(DuckDbAbfs, ShortFormTakesTheAccountFromTheOptions) {
  auto server = AzuriteServer::Start();
  DL_REQUIRE_SERVER(server, AzuriteServer::MissingReason());
  ASSERT_TRUE(server->CreateContainer("lake"));
  const StorageOptions storage = {{"azure_storage_account_name", AzuriteServer::kAccount},
                                  {"azure_storage_account_key", AzuriteServer::kKey},
                                  {"azure_storage_endpoint", server->blob_endpoint()}};
  auto made = LockedEngine(storage, {"abfs://lake/short/"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto adds = (*made)->WriteDataFiles(kRows, "abfs://lake/short", IdAndP(), {});
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  EXPECT_EQ(BlobsBelow(storage, "abfs://lake/short"), DecodedPaths(*adds));
  // The same blobs through the full URI.
  EXPECT_EQ(BlobsBelow(storage, kAbfss + "/short"), DecodedPaths(*adds));
}

TEST(DuckDbAbfs, AnotherAccountInTheOptionsIsAnErrorNamingBoth) {
  const std::string key = "c2VjcmV0LWtleS1zaG93bi1uZXZlcg==";
  auto made =
      LockedEngine({{"azure_storage_account_name", "other"}, {"azure_storage_account_key", key}},
                   {kAbfss + "/t/"});
  ASSERT_FALSE(made.ok());
  const std::string message = made.status().message();
  for (const char* part : {"devstoreaccount1", "azure_storage_account_name", "'other'"}) {
    EXPECT_NE(message.find(part), std::string::npos) << message;
  }
  EXPECT_EQ(message.find(key), std::string::npos) << message;
}

TEST(DuckDbAbfs, TwoAccountsBehindOneEnginePrefixAreRefused) {
  // DuckDB reads both as az://lake/t: it could not tell which account a file is in.
  auto made = LockedEngine(
      {{"azure_storage_account_key", "a2V5"}},
      {"abfss://lake@one.dfs.core.windows.net/t/", "abfss://lake@two.dfs.core.windows.net/t/x/"});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kConfig) << made.status().ToString();
  EXPECT_NE(made.status().message().find("'one'"), std::string::npos) << made.status().message();
  EXPECT_NE(made.status().message().find("'two'"), std::string::npos) << made.status().message();
  // Different containers, or one account, are fine.
  EXPECT_TRUE(LockedEngine({{"azure_storage_account_key", "a2V5"}},
                           {"abfss://lake@one.dfs.core.windows.net/t/",
                            "abfss://sea@two.dfs.core.windows.net/t/",
                            "abfss://lake@one.dfs.core.windows.net/t/x/"})
                  .ok());
}

}  // namespace
}  // namespace dl::engine
