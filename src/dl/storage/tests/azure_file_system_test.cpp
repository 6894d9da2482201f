// The Azure Blob backend against a real Azurite (one per test binary, started on a free
// loopback port on first use, stopped at the end). Without Azurite installed
// (scripts/install_test_servers.sh) the tests are skipped, and fail under CI=true.
#include "dl/storage/azure_file_system.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "dl/common/testing/fault_proxy.hpp"
#include "dl/common/testing/test_servers.hpp"
#include "dl/storage/azure_blob_client.hpp"
#include "dl/storage/registry.hpp"
#include "dl/storage/tests/read_range_contract.hpp"

namespace dl {
namespace {

using testing::AzuriteServer;
using testing::FaultProxy;

constexpr const char* kAccount = AzuriteServer::kAccount;
constexpr const char* kKey = AzuriteServer::kKey;

// One Azurite for the whole test binary: started by the first test that needs it, stopped by
// the environment's TearDown at the end.
class AzuriteEnvironment : public ::testing::Environment {
 public:
  static AzuriteEnvironment* instance;

  // The account's Blob endpoint, or "" when Azurite cannot run here.
  std::string Endpoint() {
    if (!server_ && !tried_) {
      tried_ = true;
      server_ = AzuriteServer::Start();
    }
    return server_ ? server_->blob_endpoint() : "";
  }
  void TearDown() override { server_.reset(); }

 private:
  bool tried_ = false;
  std::unique_ptr<AzuriteServer> server_;
};

AzuriteEnvironment* AzuriteEnvironment::instance =
    static_cast<AzuriteEnvironment*>(::testing::AddGlobalTestEnvironment(new AzuriteEnvironment));

class AzureFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = AzuriteEnvironment::instance->Endpoint();
    DL_REQUIRE_SERVER(!endpoint_.empty(), AzuriteServer::MissingReason());
    static std::atomic<int> counter{0};
    container_ = "c" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    auto client = AzureBlobClient::Make({kAccount, kKey, "", endpoint_});
    ASSERT_TRUE(client.ok());
    auto made = client->Send(AzureRequest("PUT", container_, "", {{"restype", "container"}}));
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    ASSERT_EQ(made->status, 201) << made->body;
  }

  StorageOptions KeyOptions(const std::string& key = kKey) const {
    return {{"azure_storage_account_name", kAccount},
            {"azure_storage_account_key", key},
            {"azure_storage_endpoint", endpoint_}};
  }

  std::unique_ptr<FileSystem> Fs(const StorageOptions& options, int page_size = 5000) {
    auto fs = MakeAzureFileSystemPaged("az", container_, options, page_size);
    EXPECT_TRUE(fs.ok()) << fs.status().ToString();
    return fs.ok() ? std::move(fs).value() : nullptr;
  }

  std::string Path(const std::string& key) const { return "az://" + container_ + "/" + key; }

  int Port() const { return std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1)); }

  // A FileSystem on the container whose requests go through `proxy`.
  std::unique_ptr<FileSystem> Through(const FaultProxy& proxy) {
    StorageOptions options = KeyOptions();
    options["azure_storage_endpoint"] =
        "http://127.0.0.1:" + std::to_string(proxy.port()) + "/" + kAccount;
    return Fs(options);
  }

  std::vector<std::string> Paths(const Result<std::vector<FileEntry>>& entries) const {
    std::vector<std::string> out;
    if (!entries.ok()) {
      ADD_FAILURE() << entries.status().ToString();
      return out;
    }
    for (const auto& e : *entries) out.push_back(e.path + (e.is_dir ? "/" : ""));
    return out;
  }

  std::string endpoint_;
  std::string container_;
};

TEST_F(AzureFileSystemTest, ReadRangeSendsOneRangedGet) {
  auto fs = Fs(KeyOptions());
  ASSERT_TRUE(fs->WriteAtomic(Path("range/ten"), "0123456789").ok());
  ASSERT_TRUE(fs->WriteAtomic(Path("range/empty"), "").ok());
  testing::ExpectReadRangeContract(*fs, Path("range/ten"), Path("range/empty"),
                                   Path("range/missing"));
  const RequestCounts before = fs->Requests();
  EXPECT_EQ(testing::Bytes(fs->ReadRange(Path("range/ten"), 2, 3)), "234");
  EXPECT_EQ(fs->Requests().Since(before).get, 1);
  EXPECT_EQ(fs->Requests().Since(before).total(), 1);
}

TEST_F(AzureFileSystemTest, PutReadStatAndPaginatedListings) {
  auto fs = Fs(KeyOptions(), /*page_size=*/2);
  for (const char* key : {"t/a.json", "t/b.json", "t/c.json", "t/d/e.json", "t/f/g/h.json",
                          "t/with space/ü+x=y.json", "u.json"}) {
    ASSERT_TRUE(fs->PutIfAbsent(Path(key), std::string("content of ") + key).ok()) << key;
  }
  auto read = fs->Read(Path("t/with space/ü+x=y.json"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "content of t/with space/ü+x=y.json");

  auto stat = fs->Stat(Path("t/a.json"));
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->size, static_cast<int64_t>(std::string("content of t/a.json").size()));
  EXPECT_FALSE(stat->is_dir);
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  EXPECT_LT(std::abs(stat->modification_time_ms - now_ms), 300000);
  auto dir = fs->Stat(Path("t/f"));
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_TRUE(dir->is_dir);
  EXPECT_TRUE(*fs->Exists(Path("t/d")));
  EXPECT_TRUE(fs->Stat("az://" + container_)->is_dir);

  EXPECT_EQ(Paths(fs->List(Path("t"))),
            (std::vector<std::string>{Path("t/a.json"), Path("t/b.json"), Path("t/c.json"),
                                      Path("t/d/"), Path("t/f/"), Path("t/with space/")}));
  EXPECT_EQ(Paths(fs->List("az://" + container_)),
            (std::vector<std::string>{Path("t/"), Path("u.json")}));
  EXPECT_EQ(Paths(fs->ListRecursive(Path("t/"), "")),
            (std::vector<std::string>{Path("t/a.json"), Path("t/b.json"), Path("t/c.json"),
                                      Path("t/d/e.json"), Path("t/f/g/h.json"),
                                      Path("t/with space/ü+x=y.json")}));
  auto sized = fs->ListRecursive(Path("t/d"), "");
  ASSERT_TRUE(sized.ok());
  ASSERT_EQ(sized->size(), 1u);
  EXPECT_EQ((*sized)[0].size, static_cast<int64_t>(std::string("content of t/d/e.json").size()));
  EXPECT_GT((*sized)[0].modification_time_ms, 0);
}

TEST_F(AzureFileSystemTest, EtagsIdentifyBlobContentsAndRequestsAreCounted) {
  auto fs = Fs(KeyOptions(), /*page_size=*/2);
  ASSERT_TRUE(fs->WriteAtomic(Path("e/a.json"), "one").ok());
  auto first = fs->Stat(Path("e/a.json"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->etag.empty());
  EXPECT_EQ(first->etag.find('"'), std::string::npos) << first->etag;  // bare, as on S3
  auto listed = fs->List(Path("e"));
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].etag, first->etag);  // listing and HEAD agree
  ASSERT_TRUE(fs->WriteAtomic(Path("e/a.json"), "two").ok());
  EXPECT_NE(fs->Stat(Path("e/a.json"))->etag, first->etag);  // new content, new tag
  ASSERT_TRUE(fs->WriteAtomic(Path("e/b.json"), "b").ok());
  ASSERT_TRUE(fs->WriteAtomic(Path("e/c/d.json"), "d").ok());
  ASSERT_EQ(fs->ListRecursive(Path("e"), "")->size(), 3u);  // two pages of two
  EXPECT_EQ(*fs->Read(Path("e/b.json")), "b");
  ASSERT_TRUE(fs->Delete(Path("e/b.json")).ok());
  RequestCounts n = fs->Requests();
  EXPECT_EQ(n.put, 4);
  EXPECT_EQ(n.head, 2);
  EXPECT_EQ(n.list, 3);
  EXPECT_EQ(n.get, 1);
  EXPECT_EQ(n.del, 1);
  // Every attempt counts: two 503 answers, then the read.
  FaultProxy proxy(Port());
  proxy.FailNext(2);
  auto through = Through(proxy);
  ASSERT_TRUE(through->Read(Path("e/a.json")).ok());
  EXPECT_EQ(through->Requests().get, 3);
}

TEST_F(AzureFileSystemTest, ListRecursiveSkipsDirectoriesHoldingThePruneMarker) {
  auto fs = Fs(KeyOptions(), /*page_size=*/2);
  for (const char* key : {"t/x.parquet", "t/_delta_log/0.json", "t/nested/_delta_log/0.json",
                          "t/nested/p.parquet", "t/nested/deep/q.parquet", "t/a/y.parquet",
                          "t/a/b/_delta_log/0.json", "t/a/b/z.parquet", "t/other/q.parquet"}) {
    ASSERT_TRUE(fs->PutIfAbsent(Path(key), "x").ok()) << key;
  }
  EXPECT_EQ(Paths(fs->ListRecursive(Path("t"), "_delta_log")),
            (std::vector<std::string>{Path("t/_delta_log/0.json"), Path("t/a/y.parquet"),
                                      Path("t/other/q.parquet"), Path("t/x.parquet")}));
  EXPECT_EQ(Paths(fs->ListRecursive(Path("t"), "")).size(), 9u);
}

TEST_F(AzureFileSystemTest, PutIfAbsentNeverOverwritesAndMissingBlobsAreNotFound) {
  auto fs = Fs(KeyOptions());
  const std::string commit = Path("t/_delta_log/00000000000000000000.json");
  ASSERT_TRUE(fs->PutIfAbsent(commit, "first").ok());
  Status again = fs->PutIfAbsent(commit, "second");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(*fs->Read(commit), "first");

  ASSERT_TRUE(fs->WriteAtomic(Path("t/_delta_log/_last_checkpoint"), "v1").ok());
  ASSERT_TRUE(fs->WriteAtomic(Path("t/_delta_log/_last_checkpoint"), "v2").ok());
  EXPECT_EQ(*fs->Read(Path("t/_delta_log/_last_checkpoint")), "v2");

  ASSERT_TRUE(fs->Rename(Path("t/_delta_log/_last_checkpoint"), Path("t/moved")).ok());
  EXPECT_EQ(*fs->Read(Path("t/moved")), "v2");
  EXPECT_FALSE(*fs->Exists(Path("t/_delta_log/_last_checkpoint")));

  ASSERT_TRUE(fs->Delete(commit).ok());
  for (const Status& st :
       {fs->Read(commit).status(), fs->Stat(commit).status(), fs->Delete(commit),
        fs->List(Path("nosuch")).status(), fs->Rename(commit, Path("t/other"))}) {
    EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  }
  EXPECT_FALSE(*fs->Exists(commit));
  EXPECT_TRUE(fs->CreateDirs(Path("t/new/dir")).ok());
}

TEST_F(AzureFileSystemTest, ExactlyOneOfSixteenRacingWritersWins) {
  auto fs = Fs(KeyOptions());
  const std::string commit = Path("race/_delta_log/00000000000000000001.json");
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < 16; ++i) {
    writers.emplace_back([&, i] {
      Status st = fs->PutIfAbsent(commit, "writer " + std::to_string(i));
      if (st.ok()) ++won;
      if (st.code() == StatusCode::kAlreadyExists) ++lost;
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 15);
  EXPECT_EQ(fs->Read(commit)->rfind("writer ", 0), 0u);
}

TEST_F(AzureFileSystemTest, WrongKeyAndMissingContainerAreClearErrorsWithoutSecrets) {
  // A valid base64 key of the right length that is not the account's.
  const std::string wrong =
      "AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
      "K1SZFPTOtr/KBHBeksoGMGw==";
  auto fs = Fs(KeyOptions(wrong));
  for (const Status& st : {fs->List(Path("t")).status(), fs->PutIfAbsent(Path("t/x"), "x"),
                           fs->Read(Path("t/x")).status(), fs->Stat(Path("t/x")).status()}) {
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find("authentication failed for Azure account devstoreaccount1"),
              std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find(container_), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find(wrong), std::string::npos);
    EXPECT_EQ(st.message().find("SharedKey"), std::string::npos) << st.message();
  }
  auto bad = MakeAzureFileSystem("az", container_, KeyOptions("not base64!"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("not base64!"), std::string::npos);

  auto missing = MakeAzureFileSystem("az", "nosuchcontainer", KeyOptions());
  ASSERT_TRUE(missing.ok());
  for (const Status& st : {(*missing)->List("az://nosuchcontainer/t").status(),
                           (*missing)->Exists("az://nosuchcontainer/t/x").status(),
                           (*missing)->Read("az://nosuchcontainer/t/x").status(),
                           (*missing)->PutIfAbsent("az://nosuchcontainer/t/x", "x")}) {
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find("container nosuchcontainer does not exist"), std::string::npos)
        << st.message();
  }
}

// An error answer may quote the request's signature: Azure's <AuthenticationErrorDetail>
// holds the string to sign, and a gateway's message may echo an Authorization header or a
// SAS. Our message keeps the code, the useful part of the message and the blob, none of those.
TEST_F(AzureFileSystemTest, ServerErrorTextNeverCarriesSignaturesOrStringsToSign) {
  FaultProxy proxy(Port());
  auto fs = Through(proxy);
  proxy.AnswerNextWith(
      "400 Bad Request",
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidHeaderValue</Code>"
      "<Message>Refused Authorization: SharedKey devstoreaccount1:ZmFrZXNpZ25hdHVyZQ== with "
      "Signature=c2lnbmF0dXJlZWNobw string to sign: 'GET\nx-ms-date:Fri'\nRequestId:1"
      "</Message><AuthenticationErrorDetail>Server used following string to sign: "
      "'GET\n\n/devstoreaccount1/c/t/x'</AuthenticationErrorDetail></Error>");
  Status st = fs->Read(Path("t/x")).status();
  ASSERT_FALSE(st.ok());
  for (const char* kept : {"InvalidHeaderValue", "Refused Authorization", "t/x"}) {
    EXPECT_NE(st.message().find(kept), std::string::npos) << st.message();
  }
  for (const char* secret : {"ZmFrZXNpZ25hdHVyZQ", "c2lnbmF0dXJlZWNobw", "x-ms-date",
                             "/devstoreaccount1/c/t/x", "RequestId"}) {
    EXPECT_EQ(st.message().find(secret), std::string::npos) << st.message();
  }
  // A ".." above the container is refused before any request (keys are used as written).
  EXPECT_EQ(fs->Read(Path("../other/x")).status().code(), StatusCode::kInvalidArgument);
}

// An account SAS (version 2019-12-12 string-to-sign), signed with OpenSSL's HMAC-SHA256.
std::string AccountSas(const std::string& key_base64) {
  const std::string sv = "2019-12-12", ss = "b", srt = "sco", sp = "rwdlac",
                    se = "2099-01-01T00:00:00Z", spr = "https,http";
  const std::string to_sign = std::string(kAccount) + "\n" + sp + "\n" + ss + "\n" + srt + "\n\n" +
                              se + "\n\n" + spr + "\n" + sv + "\n";
  unsigned char key[64];
  int key_len = EVP_DecodeBlock(key, reinterpret_cast<const unsigned char*>(key_base64.data()),
                                static_cast<int>(key_base64.size())) -
                2;  // the key ends in "=="
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key, key_len, reinterpret_cast<const unsigned char*>(to_sign.data()),
       to_sign.size(), mac, &mac_len);
  char sig[128];
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(sig), mac, static_cast<int>(mac_len));
  std::string encoded;
  for (int i = 0; i < n; ++i) {
    if (sig[i] == '+')
      encoded += "%2B";
    else if (sig[i] == '/')
      encoded += "%2F";
    else if (sig[i] == '=')
      encoded += "%3D";
    else
      encoded += sig[i];
  }
  return "sv=" + sv + "&ss=" + ss + "&srt=" + srt + "&sp=" + sp +
         "&se=" + "2099-01-01T00%3A00%3A00Z" + "&spr=" + "https%2Chttp" + "&sig=" + encoded;
}

TEST_F(AzureFileSystemTest, SasTokenAuthenticatesAndAWrongOneIsAClearError) {
  const std::string sas = AccountSas(kKey);
  auto fs = Fs({{"azure_storage_account_name", kAccount},
                {"azure_storage_sas_token", "?" + sas},
                {"azure_storage_endpoint", endpoint_}},
               /*page_size=*/1);
  ASSERT_TRUE(fs->PutIfAbsent(Path("s/a"), "a").ok());
  ASSERT_TRUE(fs->PutIfAbsent(Path("s/b"), "b").ok());
  EXPECT_EQ(fs->PutIfAbsent(Path("s/a"), "again").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*fs->Read(Path("s/b")), "b");
  EXPECT_EQ(Paths(fs->List(Path("s"))), (std::vector<std::string>{Path("s/a"), Path("s/b")}));
  ASSERT_TRUE(fs->Rename(Path("s/b"), Path("s/c")).ok());
  EXPECT_EQ(*fs->Read(Path("s/c")), "b");

  const std::string forged = sas.substr(0, sas.size() - 8) + "AAAA%3D";
  auto bad = Fs({{"azure_storage_account_name", kAccount},
                 {"azure_storage_sas_key", forged},
                 {"azure_storage_endpoint", endpoint_}});
  Status st = bad->Read(Path("s/a")).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("authentication failed"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("sig="), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find(forged.substr(forged.find("sig=") + 4)), std::string::npos);
}

TEST_F(AzureFileSystemTest, ConnectionStringAndAbfssUrisThroughTheRegistry) {
  StorageConfig config;
  config.global = {{"azure_storage_connection_string",
                    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
                        std::string(kKey) + ";BlobEndpoint=" + endpoint_ + ";"}};
  auto fs = MakeFileSystem(config);
  ASSERT_TRUE(fs->PutIfAbsent(Path("cs/one.json"), "1").ok());
  // The same blob through the Hadoop-style URI: the account comes from the host, the calls
  // go to the Blob endpoint (Azurite serves no DFS endpoint).
  const std::string abfss =
      "abfss://" + container_ + "@devstoreaccount1.dfs.core.windows.net/cs/one.json";
  auto read = fs->Read(abfss);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "1");
  auto listed = fs->List("abfss://" + container_ + "@devstoreaccount1.dfs.core.windows.net/cs");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].path, abfss);
  EXPECT_EQ(*fs->Read("azure://" + container_ + "/cs/one.json"), "1");
}

TEST_F(AzureFileSystemTest, RetriesServerErrorsAndLostAnswersButNotPreconditionFailures) {
  {
    FaultProxy proxy(Port());
    proxy.FailNext(2);
    auto fs = Through(proxy);
    Status put = fs->PutIfAbsent(Path("r/a.json"), "a");
    EXPECT_TRUE(put.ok()) << put.ToString();
    EXPECT_EQ(proxy.forwarded(), 1);  // two 503 answers, then the put
  }
  {
    // Our put is stored but its answer lost: the retry meets our own blob, which is a win.
    FaultProxy proxy(Port());
    proxy.DropNextAnswers(1);
    auto fs = Through(proxy);
    Status put = fs->PutIfAbsent(Path("r/b.json"), "ours");
    EXPECT_TRUE(put.ok()) << put.ToString();
    EXPECT_EQ(proxy.forwarded(), 3);  // the put, its retry (409), the read of our content
    // Another writer's blob stays a lost race, retried or not.
    FaultProxy again(Port());
    again.FailNext(1);
    auto fs2 = Through(again);
    EXPECT_EQ(fs2->PutIfAbsent(Path("r/b.json"), "theirs").code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(*fs2->Read(Path("r/b.json")), "ours");
  }
  {
    // A lost race (409) is answered at once: one request, no retry.
    FaultProxy proxy(Port());
    auto fs = Through(proxy);
    EXPECT_EQ(fs->PutIfAbsent(Path("r/a.json"), "late").code(), StatusCode::kAlreadyExists);
    EXPECT_EQ(proxy.forwarded(), 1);
  }
}

TEST_F(AzureFileSystemTest, AProxyThatDropsIfNoneMatchIsRefusedAsWithoutConditionalWrites) {
  // If-None-Match is signed (SharedKey): a proxy that drops it breaks conditional writes only.
  // That is a store without conditional writes, not a wrong key.
  FaultProxy proxy(Port());
  proxy.StripIfNoneMatch(true);
  auto fs = Through(proxy);
  ASSERT_TRUE(fs->WriteAtomic(Path("t/a.json"), "plain").ok());
  Status st = fs->PutIfAbsent(Path("t/_delta_log/00000000000000000000.json"), "c");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("does not honour conditional writes (If-None-Match: *)"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(st.message().find("account key"), std::string::npos) << st.message();
  EXPECT_FALSE(*Fs(KeyOptions())->Exists(Path("t/_delta_log/00000000000000000000.json")));
}

TEST(AzureAuthorityTest, ContainerAndAccountFromTheAuthority) {
  auto plain = ParseAzureAuthority("data");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->container, "data");
  EXPECT_EQ(plain->account, "");
  auto dfs = ParseAzureAuthority("data@acct.dfs.core.windows.net");
  ASSERT_TRUE(dfs.ok());
  EXPECT_EQ(dfs->container, "data");
  EXPECT_EQ(dfs->account, "acct");
  EXPECT_EQ(ParseAzureAuthority("data@acct.blob.core.windows.net")->account, "acct");
  EXPECT_FALSE(ParseAzureAuthority("data@acct.example.com").ok());
  EXPECT_FALSE(ParseAzureAuthority("").ok());
}

TEST(AzureAuthorityTest, ContainerAtAccountOnlyWithAbfs) {
  // DuckDB and delta-rs read az://a.b/... as account a.b: refused, naming the forms that work.
  const StorageOptions options = {{"azure_storage_use_emulator", "true"}};
  for (const char* scheme : {"az", "azure"}) {
    auto fs = MakeAzureFileSystem(scheme, "data@acct.blob.core.windows.net", options);
    ASSERT_FALSE(fs.ok()) << scheme;
    EXPECT_EQ(fs.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(fs.status().message().find(std::string(scheme) + "://data/..."), std::string::npos)
        << fs.status().message();
    EXPECT_NE(fs.status().message().find("abfss://data@acct.blob.core.windows.net"),
              std::string::npos)
        << fs.status().message();
    EXPECT_TRUE(MakeAzureFileSystem(scheme, "data", options).ok()) << scheme;
  }
  for (const char* scheme : {"abfs", "abfss"}) {
    EXPECT_TRUE(MakeAzureFileSystem(scheme, "data@acct.dfs.core.windows.net", options).ok())
        << scheme;
  }
}

}  // namespace
}  // namespace dl
