// The DuckDB engine on object stores, against real servers on loopback: versitygw (S3) and
// Azurite (Azure Blob). Data files are written straight to their final keys and read back
// through DuckDB's httpfs / azure extensions; the lock-down keeps the engine to the
// configured prefixes.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "dl/common/testing/fault_proxy.hpp"
#include "dl/common/testing/test_servers.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/stats.hpp"
#include "dl/engine/tests/engine_test_util.hpp"
#include "dl/storage/object_store_settings.hpp"
#include "dl/storage/registry.hpp"

namespace dl::engine {
namespace {

namespace fs = std::filesystem;
using dl::testing::AzuriteServer;
using dl::testing::FaultProxy;
using dl::testing::VersitygwServer;
using testing::Scalar;

delta::Schema Schema(const std::string& fields_json) {
  auto s = delta::ParseSchemaString(R"({"type":"struct","fields":[)" + fields_json + "]}");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ValueOr({});
}

std::string Field(const std::string& name, const std::string& type) {
  return R"({"name":")" + name + R"(","type":)" + type + R"(,"nullable":true,"metadata":{}})";
}

StorageOptions S3Options(const VersitygwServer& server, const std::string& secret) {
  return {{"aws_access_key_id", VersitygwServer::kAccessKey},
          {"aws_secret_access_key", secret},
          {"aws_endpoint_url", server.endpoint()},
          {"aws_region", "us-east-1"}};
}

std::unique_ptr<Engine> S3Engine(const VersitygwServer& server, std::vector<std::string> locations,
                                 std::string secret = VersitygwServer::kSecretKey) {
  EngineOptions options;
  options.threads = 2;
  options.storage.global = S3Options(server, secret);
  options.object_store_locations = std::move(locations);
  auto engine = MakeDuckDbEngine(options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

// An engine reaching s3://lake/t of `server` through `proxy` (which injects faults).
Result<std::unique_ptr<Engine>> ProxiedS3Engine(const VersitygwServer& server,
                                                const FaultProxy& proxy) {
  EngineOptions options;
  options.threads = 1;
  options.storage.global = S3Options(server, VersitygwServer::kSecretKey);
  options.storage.global["aws_endpoint_url"] = "http://127.0.0.1:" + std::to_string(proxy.port());
  options.object_store_locations = {"s3://lake/t"};
  return MakeDuckDbEngine(options);
}

// Every file below `dir` (relative paths).
std::set<std::string> FilesBelow(const std::string& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), dir).string());
  }
  return out;
}

std::set<std::string> DecodedPaths(const std::vector<delta::AddFile>& adds) {
  std::set<std::string> out;
  for (const auto& a : adds) out.insert(delta::UriDecodePath(a.path));
  return out;
}

// read_parquet over the files of `adds` below `root`: "count,sum(id)".
std::string CountAndSum(Engine& engine, const std::string& root,
                        const std::vector<delta::AddFile>& adds) {
  std::string list;
  for (const auto& a : adds) {
    list += (list.empty() ? "" : ", ") + QuoteLiteral(delta::ResolveDataPath(root, a.path));
  }
  return Scalar(engine, "SELECT count(*) || ',' || sum(id) FROM read_parquet([" + list + "])")
      .value_or("NULL");
}

const char* kRows =
    "SELECT i AS id, (['a/b', 'x y', 'plain', NULL])[i % 4 + 1] AS p FROM range(1000) t(i)";

TEST(DuckDbObjectStore, S3WritesDataFilesToFinalKeysAndReadsThemBack) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  server->CreateBucket("lake");
  auto engine = S3Engine(*server, {"s3://lake/t"});
  ASSERT_TRUE(engine);
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("p", "\"string\""));

  auto adds = engine->WriteDataFiles(kRows, "s3://lake/t/plain", schema, {});
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  ASSERT_FALSE(adds->empty());
  // The objects are exactly the files the add actions name: no staging, no leftovers.
  EXPECT_EQ(FilesBelow(server->LocalPath("lake", "t/plain")), DecodedPaths(*adds));
  for (const auto& a : *adds) {
    EXPECT_EQ(a.size,
              static_cast<int64_t>(fs::file_size(server->LocalPath("lake", "t/plain/" + a.path))));
    EXPECT_GT(a.modification_time, 0);
    EXPECT_NE(a.path.find(".snappy.parquet"), std::string::npos) << a.path;
  }
  EXPECT_EQ(CountAndSum(*engine, "s3://lake/t/plain", *adds), "1000,499500");
}

// A store answering 503 beyond httpfs's own retries may answer the next time; one refusing
// access will not. Either way the error names the file.
TEST(DuckDbObjectStore, S3ErrorsSayWhetherRetryingMayHelp) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  server->CreateBucket("lake");
  auto engine = S3Engine(*server, {"s3://lake/t"});
  ASSERT_TRUE(engine);
  auto adds = engine->WriteDataFiles("SELECT i AS id FROM range(10) t(i)", "s3://lake/t",
                                     Schema(Field("id", "\"long\"")), {});
  ASSERT_TRUE(adds.ok() && !adds->empty()) << adds.status().ToString();
  const std::string file = delta::ResolveDataPath("s3://lake/t", adds->front().path);

  FaultProxy proxy(std::stoi(server->endpoint().substr(server->endpoint().rfind(':') + 1)));
  auto flaky = ProxiedS3Engine(*server, proxy);
  ASSERT_TRUE(flaky.ok()) << flaky.status().ToString();
  proxy.FailNext(1000);
  Status st = (*flaky)->RegisterFiles("s", {file}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail().cause, ErrorDetail::Cause::kTransient) << st.ToString();
  EXPECT_EQ(st.detail().files, std::vector<std::string>{file}) << st.ToString();

  proxy.FailNext(0);
  for (int i = 0; i < 100; ++i) {
    proxy.AnswerNextWith("403 Forbidden",
                         "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>");
  }
  st = (*flaky)->RegisterFiles("s", {file}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.detail().cause, ErrorDetail::Cause::kTransient) << st.ToString();
  EXPECT_EQ(st.detail().files, std::vector<std::string>{file}) << st.ToString();
}

// httpfs names an object by its %-encoded URL; the error still names the file as we did.
TEST(DuckDbObjectStore, S3ErrorsNameFilesWithSpacesAsTheCallerDid) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  server->CreateBucket("lake");
  auto engine = S3Engine(*server, {"s3://lake/t"});
  ASSERT_TRUE(engine);
  auto adds = engine->WriteDataFiles("SELECT i AS id FROM range(10) t(i)", "s3://lake/t",
                                     Schema(Field("id", "\"long\"")), {});
  ASSERT_TRUE(adds.ok() && !adds->empty()) << adds.status().ToString();
  const std::string key = "t/" + adds->front().path;
  fs::create_directories(server->LocalPath("lake", "t/in box"));
  fs::copy_file(server->LocalPath("lake", key), server->LocalPath("lake", "t/in box/a b+c.parquet"));
  const std::string file = "s3://lake/t/in box/a b+c.parquet";

  FaultProxy proxy(std::stoi(server->endpoint().substr(server->endpoint().rfind(':') + 1)));
  auto denied = ProxiedS3Engine(*server, proxy);
  ASSERT_TRUE(denied.ok()) << denied.status().ToString();
  for (int i = 0; i < 100; ++i) {
    proxy.AnswerNextWith("403 Forbidden",
                         "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>");
  }
  Status st = (*denied)->RegisterFiles("s", {file}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail().files, std::vector<std::string>{file}) << st.ToString();
}

TEST(DuckDbObjectStore, S3PartitionedWriteRecordsExactKeys) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  server->CreateBucket("lake");
  auto engine = S3Engine(*server, {"s3a://lake/t"});  // s3a is served by httpfs as well
  ASSERT_TRUE(engine);
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("p", "\"string\""));
  WriteOptions options;
  options.partition_columns = {"p"};
  std::string root = "s3a://lake/t/parted";
  auto adds = engine->WriteDataFiles(kRows, root, schema, options);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  EXPECT_EQ(FilesBelow(server->LocalPath("lake", "t/parted")), DecodedPaths(*adds));
  std::set<std::optional<std::string>> values;
  for (const auto& a : *adds) {
    ASSERT_EQ(a.partition_values.count("p"), 1u);
    values.insert(a.partition_values.at("p"));
    // Partition columns are not stored in the files; each file holds one partition's rows.
    EXPECT_EQ(*delta::ParseStats(a.stats).num_records, 250);
    EXPECT_EQ(delta::UriDecodePath(a.path).rfind("p=", 0), 0u) << a.path;
  }
  EXPECT_EQ(values, (std::set<std::optional<std::string>>{"a/b", "x y", "plain", std::nullopt}));
  EXPECT_EQ(CountAndSum(*engine, root, *adds), "1000,499500");
}

TEST(DuckDbObjectStore, S3OversizedFilesAreSplitInPlace) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  if (!FindBackend("s3")) {  // the split deletes the big file through the storage backend
    if (dl::testing::InCi()) FAIL() << "no S3 storage backend registered";
    GTEST_SKIP() << "no S3 storage backend registered (storage/registry.cpp)";
  }
  server->CreateBucket("lake");
  EngineOptions eo;
  eo.threads = 2;
  eo.storage.global = S3Options(*server, VersitygwServer::kSecretKey);
  eo.object_store_locations = {"s3://lake/t"};
  eo.file_system = MakeFileSystem(eo.storage);
  auto engine = MakeDuckDbEngine(eo);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("s", "\"string\""));
  WriteOptions options;
  options.target_file_size_bytes = 1 << 20;
  std::string sql =
      "SELECT i AS id, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS s FROM range(100000) t(i)";
  auto adds = (*engine)->WriteDataFiles(sql, "s3://lake/t/big", schema, options);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  EXPECT_GT(adds->size(), 2u);
  EXPECT_EQ(FilesBelow(server->LocalPath("lake", "t/big")), DecodedPaths(*adds));
  for (const auto& a : *adds) EXPECT_LT(a.size, 2 * options.target_file_size_bytes);
}

TEST(DuckDbObjectStore, S3CheckpointIsWrittenWholeToItsKey) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  server->CreateBucket("lake");
  testing::TempDir spill;
  EngineOptions eo;
  eo.storage.global = S3Options(*server, VersitygwServer::kSecretKey);
  eo.allowed_directories = std::vector<std::string>{"s3://lake/t/"};
  eo.temp_directory = spill / "duckdb";  // the NDJSON input goes here, locally
  auto made = MakeDuckDbEngine(eo);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto engine = std::move(made).value();
  std::vector<std::string> lines = {
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})",
      R"({"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{},"createdTime":1}})",
      R"({"add":{"path":"a.parquet","partitionValues":{},"size":1,"modificationTime":2,"dataChange":false}})"};
  std::string path = "s3://lake/t/_delta_log/00000000000000000003.checkpoint.parquet";
  Status st = engine->WriteCheckpoint(path, lines);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(FilesBelow(server->LocalPath("lake", "t/_delta_log")),
            (std::set<std::string>{"00000000000000000003.checkpoint.parquet"}));
  EXPECT_FALSE(fs::exists(spill / "duckdb"));  // the scratch file and its directory are gone
  auto read = engine->ReadCheckpointActions({path});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), 3u);
}

TEST(DuckDbObjectStore, S3CsvFilesAreGroupedByTheirHeaders) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  dl::testing::WriteFile(server->LocalPath("raw", "in/a.csv"), "id,name\n1,x\n2,y\n");
  dl::testing::WriteFile(server->LocalPath("raw", "in/b.csv"), "id,name\n3,z\n");
  dl::testing::WriteFile(server->LocalPath("raw", "in/c.csv"), "name,id,extra\nw,4,e\n");
  auto engine = S3Engine(*server, {"s3://raw/in/"});
  ASSERT_TRUE(engine);
  SourceOptions csv;
  csv.format = "csv";
  Status st = engine->RegisterFiles(
      "src", {"s3://raw/in/a.csv", "s3://raw/in/b.csv", "s3://raw/in/c.csv"}, csv);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Scalar(*engine,
                   "SELECT string_agg(id || name || coalesce(extra, '-'), ' ' ORDER BY "
                   "id) FROM src"),
            "1x- 2y- 3z- 4we");
}

// The headers are read by our storage client (a ranged GET per file, concurrently), not by a
// DuckDB query per file; a header line longer than the first read is read to its end.
TEST(DuckDbObjectStore, S3CsvHeadersAreReadWithOneRangedGetPerFile) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  std::string common;  // 12 KiB of column names, the same in both long headers
  size_t columns = 1;
  for (; common.size() < (12u << 10); ++columns) common += fmt::format("c{:05},", columns - 1);
  const std::string row = std::string(columns - 1, ',');
  dl::testing::WriteFile(server->LocalPath("raw", "in/long1.csv"),
                         common + "tail_a\n" + row + "a\n");
  dl::testing::WriteFile(server->LocalPath("raw", "in/long2.csv"),
                         common + "tail_b\n" + row + "b\n");
  dl::testing::WriteFile(server->LocalPath("raw", "in/short.csv"), "c00000,tail_a\n7,s\n");
  EngineOptions options;
  options.threads = 2;
  options.storage.global = S3Options(*server, VersitygwServer::kSecretKey);
  options.object_store_locations = {"s3://raw/in/"};
  options.file_system = MakeFileSystem(options.storage);
  auto engine = MakeDuckDbEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  SourceOptions csv;
  csv.format = "csv";
  const RequestCounts before = options.file_system->Requests();
  Status st = (*engine)->RegisterFiles(
      "src", {"s3://raw/in/long1.csv", "s3://raw/in/long2.csv", "s3://raw/in/short.csv"}, csv);
  ASSERT_TRUE(st.ok()) << st.ToString();
  // 3 first reads, and one more for each long header (no newline in its first 8 KiB).
  EXPECT_EQ(options.file_system->Requests().Since(before).get, 5);
  // Each long file keeps its own last column: the headers differ only after 12 KiB.
  EXPECT_EQ(Scalar(**engine,
                   "SELECT concat_ws(' ', string_agg(tail_a, '' ORDER BY tail_a), "
                   "string_agg(tail_b, '')) FROM src"),
            "as b");
}

TEST(DuckDbObjectStore, LockedEngineReachesOnlyTheConfiguredPrefixes) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  for (const char* key : {"t/x.csv", "t2/x.csv"}) {
    dl::testing::WriteFile(server->LocalPath("lake", key), "a\n1\n");
  }
  dl::testing::WriteFile(server->LocalPath("other", "t/x.csv"), "a\n1\n");
  EngineOptions options;
  options.threads = 2;
  options.storage.global = S3Options(*server, VersitygwServer::kSecretKey);
  options.allowed_directories = std::vector<std::string>{"s3://lake/t/"};
  auto engine = MakeDuckDbEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ(Scalar(**engine, "SELECT count(*) FROM read_csv('s3://lake/t/x.csv')"), "1");
  for (const char* refused : {"s3://other/t/x.csv", "s3://lake/t2/x.csv"}) {
    auto rows = (*engine)->Query(fmt::format("SELECT count(*) FROM read_csv('{}')", refused));
    ASSERT_FALSE(rows.ok()) << refused;
    EXPECT_NE(rows.status().message().find("disabled by configuration"), std::string::npos)
        << rows.status().ToString();
    Status write = (*engine)->Execute(fmt::format("COPY (SELECT 1) TO '{}.parquet'", refused));
    EXPECT_FALSE(write.ok()) << refused;
  }
  EXPECT_FALSE(fs::exists(server->LocalPath("other", "t/x.csv.parquet")));
  // No statement can add a store afterwards.
  EXPECT_FALSE((*engine)->Execute("SET allowed_directories = ['s3://other/']").ok());
}

TEST(DuckDbObjectStore, WrongSecretFailsWithoutShowingIt) {
  auto server = VersitygwServer::Start();
  DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
  server->CreateBucket("lake");
  const std::string wrong = "wrongSecretValue-7f3a9c";
  auto engine = S3Engine(*server, {"s3://lake/t"}, wrong);
  ASSERT_TRUE(engine);
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("p", "\"string\""));
  auto adds = engine->WriteDataFiles(kRows, "s3://lake/t", schema, {});
  ASSERT_FALSE(adds.ok());
  std::string message = adds.status().ToString();
  EXPECT_NE(message.find("403"), std::string::npos) << message;
  EXPECT_EQ(message.find(wrong), std::string::npos) << message;
  EXPECT_TRUE(FilesBelow(server->LocalPath("lake", "t")).empty());
  // What the engine knows about its secrets is redacted.
  auto secrets = engine->Query("SELECT secret_string FROM duckdb_secrets()");
  ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
  for (const auto& row : secrets->rows) {
    EXPECT_EQ(row.at(0).value_or("").find(wrong), std::string::npos);
  }
}

TEST(DuckDbObjectStore, MissingExtensionIsAClearError) {
  EngineOptions options;
  options.object_store_locations = {"s3://lake/t"};
  options.storage.global = {{"aws_access_key_id", "k"}, {"aws_secret_access_key", "s"}};
  options.extension_directory = "/nonexistent/extensions";
  if (std::getenv("DATA_LOADER_DUCKDB_EXTENSIONS")) GTEST_SKIP() << "overridden by environment";
  auto engine = MakeDuckDbEngine(options);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("httpfs"), std::string::npos)
      << engine.status().ToString();
  EXPECT_NE(engine.status().message().find("fetch_duckdb_extensions.sh"), std::string::npos);
}

TEST(DuckDbObjectStore, AzureWritesAndReadsThroughTheAzureExtension) {
  auto server = AzuriteServer::Start();
  DL_REQUIRE_SERVER(server, AzuriteServer::MissingReason());
  ASSERT_TRUE(server->CreateContainer("lake"));
  EngineOptions options;
  options.threads = 2;
  options.storage.global = {{"azure_storage_account_name", AzuriteServer::kAccount},
                            {"azure_storage_account_key", AzuriteServer::kKey},
                            {"azure_storage_endpoint", server->blob_endpoint()}};
  auto resolved = ResolveAzureSettings(options.storage.global);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  if (resolved->blob_endpoint.empty()) {  // the endpoint option comes with the Azure backend
    GTEST_SKIP() << "ResolveAzureSettings does not read azure_storage_endpoint yet";
  }
  options.allowed_directories = std::vector<std::string>{"az://lake/t/"};
  auto engine = MakeDuckDbEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("p", "\"string\""));
  WriteOptions wo;
  wo.partition_columns = {"p"};
  auto adds = (*engine)->WriteDataFiles(kRows, "az://lake/t", schema, wo);
  ASSERT_TRUE(adds.ok()) << adds.status().ToString();
  EXPECT_EQ(adds->size(), 4u);
  EXPECT_EQ(CountAndSum(**engine, "az://lake/t", *adds), "1000,499500");
  EXPECT_FALSE((*engine)->Query("SELECT count(*) FROM read_parquet('az://lake/u/*.parquet')").ok());
}

TEST(DuckDbObjectStore, AzureWrongSasFailsWithoutShowingIt) {
  auto server = AzuriteServer::Start();
  DL_REQUIRE_SERVER(server, AzuriteServer::MissingReason());
  ASSERT_TRUE(server->CreateContainer("lake"));
  const std::string sig = "wrongSignatureValue7f3a";
  EngineOptions options;
  options.storage.global = {{"azure_storage_account_name", AzuriteServer::kAccount},
                            {"azure_storage_sas_token",
                             "sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z"
                             "&spr=https,http&sig=" +
                                 sig},
                            {"azure_storage_endpoint", server->blob_endpoint()}};
  auto resolved = ResolveAzureSettings(options.storage.global);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  if (resolved->blob_endpoint.empty()) {
    GTEST_SKIP() << "ResolveAzureSettings does not read azure_storage_endpoint yet";
  }
  options.allowed_directories = std::vector<std::string>{"az://lake/t/"};
  auto engine = MakeDuckDbEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto schema = Schema(Field("id", "\"long\"") + "," + Field("p", "\"string\""));
  auto adds = (*engine)->WriteDataFiles(kRows, "az://lake/t", schema, {});
  ASSERT_FALSE(adds.ok());
  std::string message = adds.status().ToString();
  EXPECT_NE(message.find("AuthorizationFailure"), std::string::npos) << message;
  EXPECT_EQ(message.find(sig), std::string::npos) << message;
}

}  // namespace
}  // namespace dl::engine
