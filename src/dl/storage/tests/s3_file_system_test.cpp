// The S3 backend against real servers on loopback: versitygw (signatures, atomic conditional
// PUTs), moto (the conditional-write probe), and versitygw behind a fault-injecting proxy.
#include "dl/storage/s3_file_system.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "dl/common/http_client.hpp"
#include "dl/common/testing/fault_proxy.hpp"
#include "dl/common/testing/test_servers.hpp"
#include "dl/storage/registry.hpp"
#include "dl/storage/stat_many.hpp"
#include "dl/storage/tests/read_range_contract.hpp"

namespace dl {
namespace {

using testing::VersitygwServer;

constexpr char kBucket[] = "tables";

// One versitygw for the whole test binary: started by the first test that needs it (so the
// binary's other tests do not pay for it), stopped when the binary's tests end.
class VersityGw : public ::testing::Environment {
 public:
  static VersityGw* Get() { return instance_; }
  // The port, or -1 with `why` set when the server cannot run here.
  int Port(std::string* why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!server_ && !tried_) {
      tried_ = true;
      server_ = VersitygwServer::Start();
      if (server_) server_->CreateBucket(kBucket);
    }
    if (!server_) *why = VersitygwServer::MissingReason();
    return server_ ? server_->port() : -1;
  }
  void TearDown() override { server_.reset(); }

 private:
  std::mutex mu_;
  bool tried_ = false;
  std::unique_ptr<VersitygwServer> server_;
  static VersityGw* const instance_;
};

VersityGw* const VersityGw::instance_ =
    static_cast<VersityGw*>(::testing::AddGlobalTestEnvironment(new VersityGw));

StorageOptions Options(int port, const std::string& secret = VersitygwServer::kSecretKey) {
  return {{"aws_access_key_id", VersitygwServer::kAccessKey},
          {"aws_secret_access_key", secret},
          {"aws_region", "us-east-1"},
          {"aws_endpoint_url", "http://127.0.0.1:" + std::to_string(port)}};
}

std::string Unique(const std::string& name) {
  static std::atomic<int> n{0};
  return name + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

class S3FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    port_ = VersityGw::Get()->Port(&why);
    if (port_ < 0) {
      if (testing::InCi()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    S3Tuning tuning;
    tuning.list_page_size = 2;  // every listing below spans several pages
    tuning.first_backoff_ms = 5;
    auto fs = MakeS3FileSystemWith("s3", kBucket, Options(port_), tuning);
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(*fs);
    root_ = std::string("s3://") + kBucket + "/" + Unique("t");
  }
  std::string P(const std::string& rel) const { return root_ + "/" + rel; }
  void Put(const std::string& rel, const std::string& content = "x") {
    ASSERT_TRUE(fs_->WriteAtomic(P(rel), content).ok()) << rel;
  }
  std::vector<std::string> Names(const std::vector<FileEntry>& entries) const {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.path.substr(root_.size() + 1));
    return out;
  }

  int port_ = -1;
  std::unique_ptr<FileSystem> fs_;
  std::string root_;
};

TEST_F(S3FileSystemTest, PutReadStatAndPaginatedList) {
  for (const char* f : {"d/a.csv", "d/b.csv", "d/c.csv", "d/sub/x.csv", "d/sub2/y.csv"}) Put(f, f);
  EXPECT_EQ(*fs_->Read(P("d/b.csv")), "d/b.csv");
  auto st = fs_->Stat(P("d/a.csv"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size, 7);
  EXPECT_FALSE(st->is_dir);
  EXPECT_FALSE(st->etag.empty());
  EXPECT_GT(st->modification_time_ms, 1'600'000'000'000);
  auto dir = fs_->Stat(P("d/sub"));
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_TRUE(dir->is_dir);

  const RequestCounts before = fs_->Requests();
  auto listed = fs_->List(P("d"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(Names(*listed),
            (std::vector<std::string>{"d/a.csv", "d/b.csv", "d/c.csv", "d/sub", "d/sub2"}));
  EXPECT_TRUE((*listed)[3].is_dir);
  EXPECT_EQ((*listed)[0].etag, st->etag);
  EXPECT_EQ(fs_->Requests().list - before.list, 3);  // 5 entries, 2 per page
  EXPECT_TRUE(*fs_->Exists(P("d/sub")));
  EXPECT_FALSE(*fs_->Exists(P("d/nothing")));
}

TEST_F(S3FileSystemTest, ListRecursivePaginatesAndPrunesNestedTables) {
  for (const char* f : {"_delta_log/0.json", "a.parquet", "p=1/b.parquet", "p=1/q=2/c.parquet",
                        "nested/_delta_log/0.json", "nested/x.parquet", "deep/n2/_delta_log",
                        "deep/n2/y.parquet", "deep/z.parquet"}) {
    Put(f);
  }
  auto all = fs_->ListRecursive(root_, "_delta_log");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Names(*all),
            (std::vector<std::string>{"_delta_log/0.json", "a.parquet", "deep/z.parquet",
                                      "p=1/b.parquet", "p=1/q=2/c.parquet"}));
  auto unpruned = fs_->ListRecursive(P("p=1"), "");
  ASSERT_TRUE(unpruned.ok());
  EXPECT_EQ(Names(*unpruned), (std::vector<std::string>{"p=1/b.parquet", "p=1/q=2/c.parquet"}));
  EXPECT_EQ(fs_->ListRecursive(P("missing"), "").status().code(), StatusCode::kNotFound);
}

TEST_F(S3FileSystemTest, ListAfterStartsAfterTheName) {
  for (const char* f :
       {"_delta_log/00000000000000000000.json", "_delta_log/00000000000000000001.json",
        "_delta_log/00000000000000000002.checkpoint.parquet",
        "_delta_log/00000000000000000002.json", "_delta_log/00000000000000000003.json"}) {
    Put(f);
  }
  auto tail = fs_->ListAfter(P("_delta_log"), "00000000000000000002");
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(Names(*tail),
            (std::vector<std::string>{"_delta_log/00000000000000000002.checkpoint.parquet",
                                      "_delta_log/00000000000000000002.json",
                                      "_delta_log/00000000000000000003.json"}));
  EXPECT_TRUE(fs_->ListAfter(P("_delta_log"), "00000000000000000009")->empty());
}

TEST_F(S3FileSystemTest, PutIfAbsentLosesTheSecondTime) {
  const std::string commit = P("_delta_log/00000000000000000000.json");
  ASSERT_TRUE(fs_->PutIfAbsent(commit, "first").ok());
  Status second = fs_->PutIfAbsent(commit, "second");
  EXPECT_EQ(second.code(), StatusCode::kAlreadyExists) << second.ToString();
  EXPECT_EQ(*fs_->Read(commit), "first");
  // The probe ran once (2 PUTs + 1 DELETE) and left nothing behind.
  EXPECT_EQ(fs_->Requests().put, 4);
  EXPECT_EQ(Names(*fs_->List(P("_delta_log"))),
            std::vector<std::string>{"_delta_log/00000000000000000000.json"});
}

TEST_F(S3FileSystemTest, SixteenRacingWritersExactlyOneWins) {
  const std::string commit = P("_delta_log/00000000000000000001.json");
  std::vector<Status> results(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = fs_->PutIfAbsent(commit, "writer " + std::to_string(i)); });
  }
  for (auto& t : threads) t.join();
  int won = -1;
  for (int i = 0; i < 16; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(won, -1) << "two writers won";
      won = i;
    } else {
      EXPECT_EQ(results[i].code(), StatusCode::kAlreadyExists) << results[i].ToString();
    }
  }
  ASSERT_NE(won, -1);
  EXPECT_EQ(*fs_->Read(commit), "writer " + std::to_string(won));
}

TEST_F(S3FileSystemTest, DeleteManyAndDelete) {
  std::vector<std::string> paths;
  for (int i = 0; i < 5; ++i) {
    Put("v/f" + std::to_string(i));
    paths.push_back(P("v/f" + std::to_string(i)));
  }
  paths.push_back(P("v/never-existed"));
  const int64_t deletes = fs_->Requests().del;
  ASSERT_TRUE(fs_->DeleteMany(paths).ok());
  EXPECT_EQ(fs_->Requests().del - deletes, 1);  // one DeleteObjects request
  EXPECT_EQ(fs_->List(P("v")).status().code(), StatusCode::kNotFound);
  Put("w/one");
  ASSERT_TRUE(fs_->Delete(P("w/one")).ok());
  EXPECT_FALSE(*fs_->Exists(P("w/one")));
}

TEST_F(S3FileSystemTest, RenameCopiesThenDeletes) {
  Put("r/from", "payload");
  ASSERT_TRUE(fs_->Rename(P("r/from"), P("r/to")).ok());
  EXPECT_EQ(*fs_->Read(P("r/to")), "payload");
  EXPECT_FALSE(*fs_->Exists(P("r/from")));
}

TEST_F(S3FileSystemTest, StatManyAnswersInOrderWithOneHeadPerObject) {
  std::vector<std::string> paths;
  for (int i = 0; i < 40; ++i) {
    const std::string key = fmt::format("many/f{:02}.csv", i);
    Put(key, std::string(static_cast<size_t>(i), 'x'));
    paths.push_back(P(key));
  }
  paths.insert(paths.begin() + 7, P("many/missing.csv"));
  const RequestCounts before = fs_->Requests();
  auto stats = StatMany(*fs_, paths, 8);
  ASSERT_EQ(stats.size(), paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i == 7) {
      EXPECT_EQ(stats[i].status().code(), StatusCode::kNotFound);
      continue;
    }
    ASSERT_TRUE(stats[i].ok()) << stats[i].status().ToString();
    EXPECT_EQ(stats[i]->path, paths[i]);
    EXPECT_EQ(stats[i]->size, static_cast<int64_t>(i < 7 ? i : i - 1));
  }
  // A HEAD per path (the missing one also lists, to tell a "directory" from nothing).
  EXPECT_EQ(fs_->Requests().head - before.head, 41);
  EXPECT_EQ(fs_->Requests().list - before.list, 1);
}

TEST_F(S3FileSystemTest, ReadRangeSendsOneRangedGet) {
  Put("range/ten", "0123456789");
  Put("range/empty", "");
  testing::ExpectReadRangeContract(*fs_, P("range/ten"), P("range/empty"), P("range/missing"));
  // One request: a GET, no HEAD before it.
  const RequestCounts before = fs_->Requests();
  EXPECT_EQ(testing::Bytes(fs_->ReadRange(P("range/ten"), 2, 3)), "234");
  EXPECT_EQ(fs_->Requests().Since(before).get, 1);
  EXPECT_EQ(fs_->Requests().Since(before).total(), 1);
}

TEST_F(S3FileSystemTest, MissingKeyIsNotFound) {
  EXPECT_EQ(fs_->Read(P("no/such.json")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Stat(P("no/such.json")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->List(P("no")).status().code(), StatusCode::kNotFound);
}

TEST_F(S3FileSystemTest, WrongSecretIsAClearErrorWithoutTheSecret) {
  const std::string wrong = "wrong-secret-Zq81xv";
  auto fs = MakeS3FileSystem("s3", kBucket, Options(port_, wrong));
  ASSERT_TRUE(fs.ok());
  for (const Status& st : {(*fs)->List(root_).status(), (*fs)->Read(P("k")).status(),
                           (*fs)->PutIfAbsent(P("_delta_log/0.json"), "x")}) {
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("access denied"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(kBucket), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find(wrong), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find(VersitygwServer::kSecretKey), std::string::npos) << st.message();
  }
}

TEST_F(S3FileSystemTest, MissingBucketIsAClearError) {
  auto fs = MakeS3FileSystem("s3", "no-such-bucket", Options(port_));
  ASSERT_TRUE(fs.ok());
  Status st = (*fs)->List("s3://no-such-bucket/t").status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bucket 'no-such-bucket' does not exist"), std::string::npos)
      << st.message();
  EXPECT_NE((*fs)->Stat("s3://no-such-bucket/t/x").status().message().find("does not exist"),
            std::string::npos);
}

TEST_F(S3FileSystemTest, TheRegistryRoutesS3AndS3a) {
  StorageConfig config;
  config.global = Options(port_);
  auto fs = MakeFileSystem(config);
  const std::string s3a = "s3a://" + root_.substr(5);
  ASSERT_TRUE(fs->WriteAtomic(P("x.json"), "via s3").ok());
  EXPECT_EQ(*fs->Read(s3a + "/x.json"), "via s3");
  auto listed = fs->List(s3a);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->at(0).path, s3a + "/x.json");
  EXPECT_GE(fs->Requests().get, 1);
  EXPECT_GE(fs->Requests().put, 1);
}

// Faults injected by a loopback proxy in front of versitygw.
class S3FaultTest : public S3FileSystemTest {
 protected:
  void SetUp() override {
    S3FileSystemTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    proxy_ = std::make_unique<testing::FaultProxy>(port_);
  }
  std::unique_ptr<FileSystem> Through(StorageOptions extra = {}) {
    StorageOptions options = Options(proxy_->port());
    for (auto& [k, v] : extra) options[k] = v;
    S3Tuning tuning;
    tuning.first_backoff_ms = 5;
    auto fs = MakeS3FileSystemWith("s3", kBucket, options, tuning);
    EXPECT_TRUE(fs.ok()) << fs.status().ToString();
    return fs.ok() ? std::move(*fs) : nullptr;
  }
  std::unique_ptr<testing::FaultProxy> proxy_;
};

TEST_F(S3FaultTest, SlowDownIsRetriedWithBackoff) {
  Put("k", "v");
  auto fs = Through();
  proxy_->FailNext(3);
  auto read = fs->Read(P("k"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "v");
  EXPECT_EQ(fs->Requests().get, 4);
  proxy_->FailNext(5);  // as many as the attempts: the error says what the store answered
  Status st = fs->Read(P("k")).status();
  EXPECT_EQ(st.code(), StatusCode::kIo);
  EXPECT_NE(st.message().find("SlowDown"), std::string::npos) << st.message();
}

TEST_F(S3FaultTest, ACommitWhoseAnswerWasLostIsStillOurs) {
  auto fs = Through();
  ASSERT_TRUE(fs->PutIfAbsent(P("_delta_log/00000000000000000000.json"), "zero").ok());  // probe
  // Our PUT lands but its answer is lost; the retry gets 412 for our own object.
  const std::string commit = P("_delta_log/00000000000000000001.json");
  proxy_->DropNextAnswers(1);
  Status ours = fs->PutIfAbsent(commit, "ours");
  EXPECT_TRUE(ours.ok()) << ours.ToString();
  EXPECT_EQ(*fs_->Read(commit), "ours");
  // Someone else's object after a lost answer is still a lost race.
  ASSERT_TRUE(fs_->PutIfAbsent(P("_delta_log/00000000000000000002.json"), "theirs").ok());
  proxy_->FailNext(1);
  EXPECT_EQ(fs->PutIfAbsent(P("_delta_log/00000000000000000002.json"), "ours").code(),
            StatusCode::kAlreadyExists);
}

TEST_F(S3FaultTest, AProbeWhoseAnswerWasLostStillFindsConditionalWrites) {
  // The probe's first PUT lands but its answer is lost; the retry's 412 on a fresh random key
  // shows the store honours the condition (not an error that fails the commit).
  auto fs = Through();
  proxy_->DropNextAnswers(1);
  const std::string commit = P("_delta_log/00000000000000000000.json");
  Status st = fs->PutIfAbsent(commit, "zero");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(*fs_->Read(commit), "zero");
  auto log = fs_->List(P("_delta_log"));
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->size(), 1u);  // no probe left behind
  EXPECT_EQ(log->at(0).path, commit);
}

TEST_F(S3FaultTest, AStoreWithoutConditionalWritesIsRefused) {
  proxy_->IgnoreConditionalWrites(true);
  auto fs = Through();
  Status st = fs->PutIfAbsent(P("_delta_log/00000000000000000000.json"), "c");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'tables' does not honour conditional writes"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("aws_conditional_put: disabled"), std::string::npos);
  EXPECT_FALSE(*fs_->Exists(P("_delta_log/00000000000000000000.json")));
  EXPECT_EQ(fs_->List(P("_delta_log")).status().code(), StatusCode::kNotFound);  // no probe left
}

TEST_F(S3FaultTest, AProxyThatDropsIfNoneMatchIsRefusedAsWithoutConditionalWrites) {
  // The dropped header breaks the conditional PUT's signature while plain requests pass: that
  // is a store without conditional writes, not a credentials problem.
  proxy_->StripIfNoneMatch(true);
  auto fs = Through();
  Status st = fs->PutIfAbsent(P("_delta_log/00000000000000000000.json"), "c");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("does not honour conditional writes"), std::string::npos)
      << st.message();
  auto single = Through({{"aws_conditional_put", "disabled"}});
  ASSERT_TRUE(single->PutIfAbsent(P("_delta_log/00000000000000000000.json"), "c").ok());
  EXPECT_EQ(*fs_->Read(P("_delta_log/00000000000000000000.json")), "c");
}

TEST_F(S3FaultTest, SingleWriterModeChecksBeforeWriting) {
  proxy_->IgnoreConditionalWrites(true);
  auto fs = Through({{"aws_conditional_put", "disabled"}});
  const std::string commit = P("_delta_log/00000000000000000000.json");
  ASSERT_TRUE(fs->PutIfAbsent(commit, "one").ok());
  EXPECT_EQ(fs->PutIfAbsent(commit, "two").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*fs_->Read(commit), "one");
}

// An error answer may echo what the request was signed with: AWS's SignatureDoesNotMatch
// carries <StringToSign>, <CanonicalRequest>, <SignatureProvided> and <AWSAccessKeyId>, and a
// gateway's message may quote a presigned URL or SAS token. Our message keeps the code, the
// useful part of the message, bucket and key, and none of those.
TEST_F(S3FaultTest, ServerErrorTextNeverCarriesSignaturesOrCredentials) {
  auto fs = Through();
  const std::vector<std::string> secrets = {"AKIAIOSFODNN7EXAMPLE", "9f86d081884c7d659a",
                                            "5d672d79c15b13162d", "c2VjcmV0c2ln", "aws4_request"};
  auto check = [&](const Status& st, std::vector<std::string> kept) {
    ASSERT_FALSE(st.ok());
    kept.push_back(kBucket);
    kept.push_back("k.json");
    for (const auto& k : kept) EXPECT_NE(st.message().find(k), std::string::npos) << st.message();
    for (const auto& s : secrets)
      EXPECT_EQ(st.message().find(s), std::string::npos) << st.message();
  };
  proxy_->AnswerNextWith(
      "403 Forbidden",
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code>"
      "<Message>The request signature we calculated does not match the signature you provided. "
      "Check your key and signing method.</Message><AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE"
      "</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20261204T200000Z\n20261204/us-east-1/"
      "s3/aws4_request\n9f86d081884c7d659a2feaa0c55ad015</StringToSign><SignatureProvided>"
      "5d672d79c15b13162d9279b0855cfba6</SignatureProvided><CanonicalRequest>GET\n/tables/"
      "k.json\nX-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261204%2Fus-east-1%2Fs3%2Faws4_request"
      "</CanonicalRequest></Error>");
  check(fs->Read(P("k.json")).status(),
        {"SignatureDoesNotMatch", "The request signature we calculated"});
  proxy_->AnswerNextWith(
      "400 Bad Request",
      "<Error><Code>InvalidRequest</Code><Message>Gateway refused GET /tables/k.json?"
      "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261204%2Fus-east-1%2Fs3%2Faws4_request&"
      "X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6&sig=c2VjcmV0c2ln%3D (key "
      "AKIAIOSFODNN7EXAMPLE)"
      "</Message></Error>");
  check(fs->Read(P("k.json")).status(), {"InvalidRequest", "Gateway refused GET /tables/"});
  proxy_->AnswerNextWith("400 Bad Request",
                         "<Error><Code>Bad string to sign: AWS4-HMAC-SHA256 9f86d081884c7d659a"
                         "</Code><Message>Canonical request was GET /tables/k.json "
                         "9f86d081884c7d659a</Message></Error>");
  check(fs->Read(P("k.json")).status(), {"HTTP 400"});
}

// moto, with the bucket "motobucket": it keeps every key as written (versitygw's posix
// backend maps keys to files, so "a//b" and "a/b" are one object there).
class S3MotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* env = std::getenv("DL_MOTO_SERVER");
    const std::string bin =
        testing::FirstExecutable({env ? env : "", testing::RepoRoot() + "/.venv/bin/moto_server"});
    if (bin.empty()) {
      if (testing::InCi()) FAIL() << "moto_server not installed (.venv, tests/requirements.txt)";
      GTEST_SKIP() << "moto_server not installed (scripts/setup_python.sh or DL_MOTO_SERVER)";
    }
    const int port = testing::FreeLoopbackPort();
    server_ = testing::ServerProcess::Start({bin, "-H", "127.0.0.1", "-p", std::to_string(port)},
                                            dir_ / "moto.log", port);
    ASSERT_NE(server_, nullptr) << "moto_server did not start; see " << (dir_ / "moto.log");
    http::Request create;
    create.method = "PUT";
    create.url = "http://127.0.0.1:" + std::to_string(port) + "/motobucket";
    auto created = http::Send(create);
    ASSERT_TRUE(created.ok() && created->ok()) << "cannot create the bucket";
    auto fs = MakeS3FileSystem("s3", "motobucket", Options(port));
    ASSERT_TRUE(fs.ok());
    fs_ = std::move(*fs);
  }
  testing::TempDir dir_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<FileSystem> fs_;
};

// Keys are used as written, as DuckDB addresses them: "//", "." and ".." segments name their
// own objects (never folded onto another key), a listed key reads back as itself, and a ".."
// that climbs above the bucket is refused.
TEST_F(S3MotoTest, KeysWithDoubledSlashesAndDotSegmentsAreTheirOwnObjects) {
  const std::vector<std::string> keys = {"k/a/b.csv", "k/a//b.csv", "k/a/./b.csv", "k/a/x/../b.csv",
                                         "k//c.csv"};
  for (const auto& key : keys) {
    ASSERT_TRUE(fs_->WriteAtomic("s3://motobucket/" + key, key).ok()) << key;
  }
  for (const auto& key : keys) EXPECT_EQ(*fs_->Read("s3://motobucket/" + key), key);
  auto listed = fs_->ListRecursive("s3://motobucket/k", "");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), keys.size());
  for (const auto& e : *listed) {
    EXPECT_EQ("s3://motobucket/" + *fs_->Read(e.path), e.path);
    EXPECT_EQ(fs_->Stat(e.path)->size, static_cast<int64_t>(e.path.size() - 16)) << e.path;
  }
  EXPECT_EQ(*fs_->Read("s3://motobucket/k/a/b.csv/"), "k/a/b.csv");  // a trailing '/' goes
  for (const char* outside :
       {"s3://motobucket/../other/x", "s3://motobucket/k/../../x", "s3://motobucket//../x"}) {
    Status st = fs_->WriteAtomic(outside, "x");
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << outside;
    EXPECT_NE(st.message().find(outside), std::string::npos) << st.message();
    EXPECT_EQ(fs_->Read(outside).status().code(), StatusCode::kInvalidArgument) << outside;
  }
}

// moto answers 412 to a second conditional PUT but does not check signatures.
TEST_F(S3MotoTest, TheProbeFindsConditionalWritesHonoured) {
  auto& fs = fs_;
  const std::string commit = "s3://motobucket/t/_delta_log/00000000000000000000.json";
  ASSERT_TRUE(fs->PutIfAbsent(commit, "first").ok());
  EXPECT_EQ(fs->PutIfAbsent(commit, "second").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*fs->Read(commit), "first");
  EXPECT_EQ(fs->ListRecursive("s3://motobucket/t", "")->size(), 1u);  // the probe is gone
}

}  // namespace
}  // namespace dl
