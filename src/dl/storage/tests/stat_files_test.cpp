// StatFiles against real object stores (versitygw for S3, Azurite for Azure Blob, on loopback)
// and the local disk: the answers are StatMany's, a directory's files come from one bounded
// listing, and what the listing does not show is stat'ed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/common/testing/test_servers.hpp"
#include "dl/storage/azure_file_system.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"
#include "dl/storage/s3_file_system.hpp"
#include "dl/storage/stat_many.hpp"

namespace dl {
namespace {

using testing::AzuriteServer;
using testing::VersitygwServer;

constexpr char kBucket[] = "files";

// One server of each kind per test binary, started by the first test that needs it.
class Servers : public ::testing::Environment {
 public:
  static Servers* Get() { return instance_; }
  VersitygwServer* S3() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!s3_tried_) {
      s3_tried_ = true;
      s3_ = VersitygwServer::Start();
      if (s3_) s3_->CreateBucket(kBucket);
    }
    return s3_.get();
  }
  AzuriteServer* Azure() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!azure_tried_) {
      azure_tried_ = true;
      azure_ = AzuriteServer::Start();
    }
    return azure_.get();
  }
  void TearDown() override {
    s3_.reset();
    azure_.reset();
  }

 private:
  std::mutex mu_;
  bool s3_tried_ = false, azure_tried_ = false;
  std::unique_ptr<VersitygwServer> s3_;
  std::unique_ptr<AzuriteServer> azure_;
  static Servers* const instance_;
};

Servers* const Servers::instance_ =
    static_cast<Servers*>(::testing::AddGlobalTestEnvironment(new Servers));

std::string Unique(const std::string& name) {
  static std::atomic<int> n{0};
  return name + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// Each test runs on S3 and on Azure Blob.
class StatFilesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "s3") {
      VersitygwServer* server = Servers::Get()->S3();
      DL_REQUIRE_SERVER(server, VersitygwServer::MissingReason());
      options_ = {{"aws_access_key_id", VersitygwServer::kAccessKey},
                  {"aws_secret_access_key", VersitygwServer::kSecretKey},
                  {"aws_region", "us-east-1"},
                  {"aws_endpoint_url", server->endpoint()}};
      root_ = std::string("s3://") + kBucket + "/" + Unique("t");
    } else {
      AzuriteServer* server = Servers::Get()->Azure();
      DL_REQUIRE_SERVER(server, AzuriteServer::MissingReason());
      const std::string container = Unique("c");
      options_ = {{"azure_storage_account_name", AzuriteServer::kAccount},
                  {"azure_storage_account_key", AzuriteServer::kKey},
                  {"azure_storage_endpoint", server->blob_endpoint()}};
      ASSERT_TRUE(server->CreateContainer(container)) << container;
      root_ = "az://" + container;
    }
    fs_ = Paged(1000);
  }

  // A FileSystem on the bucket whose listings answer `page_size` entries per request.
  std::unique_ptr<FileSystem> Paged(int page_size) {
    const std::string authority = UriAuthority(root_);
    Result<std::unique_ptr<FileSystem>> fs =
        GetParam() == "s3"
            ? MakeS3FileSystemWith("s3", authority, options_, S3Tuning{page_size, 2, 5, 50})
            : MakeAzureFileSystemPaged("az", authority, options_, page_size);
    EXPECT_TRUE(fs.ok()) << fs.status().ToString();
    return fs.ok() ? std::move(*fs) : nullptr;
  }

  std::string P(const std::string& rel) const { return root_ + "/" + rel; }
  // Puts rel (content: its name, or `content`) and returns its path.
  std::string Put(const std::string& rel, const std::string& content = "") {
    EXPECT_TRUE(fs_->WriteAtomic(P(rel), content.empty() ? rel : content).ok()) << rel;
    return P(rel);
  }

  // StatFiles answers exactly what StatMany does, path by path.
  void ExpectSameAsStat(const std::vector<Result<FileEntry>>& got,
                        const std::vector<std::string>& paths) {
    std::vector<Result<FileEntry>> want = StatMany(*fs_, paths);
    ASSERT_EQ(got.size(), paths.size());
    for (size_t i = 0; i < paths.size(); ++i) {
      SCOPED_TRACE(paths[i]);
      ASSERT_EQ(got[i].ok(), want[i].ok()) << got[i].status().ToString();
      if (!want[i].ok()) {
        EXPECT_EQ(got[i].status().code(), want[i].status().code());
        continue;
      }
      EXPECT_EQ(got[i]->path, paths[i]);
      EXPECT_EQ(got[i]->size, want[i]->size);
      // A listing's time and tag are a HEAD's: the pre-commit check compares them with what
      // discovery recorded, from a listing or a HEAD.
      EXPECT_EQ(got[i]->modification_time_ms, want[i]->modification_time_ms);
      EXPECT_EQ(got[i]->etag, want[i]->etag);
      EXPECT_FALSE(got[i]->is_dir);
    }
  }

  StorageOptions options_;
  std::string root_;
  std::unique_ptr<FileSystem> fs_;
};

INSTANTIATE_TEST_SUITE_P(Stores, StatFilesTest, ::testing::Values("s3", "azure"),
                         [](const auto& info) { return info.param; });

TEST_P(StatFilesTest, ADirectorysFilesComeFromOneListing) {
  for (int i = 0; i < 30; ++i) Put(fmt::format("d/a{:02}.csv", i));  // before the batch's names
  std::vector<std::string> paths;
  for (int i = 0; i < 40; ++i) {
    paths.push_back(
        Put(fmt::format("d/f{:02}.csv", i), std::string(static_cast<size_t>(i + 1), 'x')));
  }
  Put("d/sub/x.csv");
  Put("d/z.csv");
  // Through the registry, as the loader calls it: the routing FileSystem passes it on.
  StorageConfig config;
  config.global = options_;
  auto routed = MakeFileSystem(config);
  std::reverse(paths.begin(), paths.end());  // answers follow the order asked
  const RequestCounts before = routed->Requests();
  auto got = StatFiles(*routed, paths);
  const RequestCounts sent = routed->Requests().Since(before);
  EXPECT_EQ(sent.list, 1);
  EXPECT_EQ(sent.total(), 1);
  ExpectSameAsStat(got, paths);
  EXPECT_EQ(got[0]->size, 40);
}

TEST_P(StatFilesTest, AChangedOrDeletedFileIsSeenThroughTheListing) {
  std::vector<std::string> paths;
  for (int i = 0; i < 10; ++i) paths.push_back(Put(fmt::format("c/f{}.csv", i)));
  const std::vector<Result<FileEntry>> discovered = StatMany(*fs_, paths);
  Put("c/f3.csv", "rewritten, longer");
  ASSERT_TRUE(fs_->Delete(paths[6]).ok());
  const RequestCounts before = fs_->Requests();
  auto got = StatFiles(*fs_, paths);
  const RequestCounts sent = fs_->Requests().Since(before);
  ExpectSameAsStat(got, paths);
  ASSERT_TRUE(got[3].ok());
  EXPECT_EQ(got[3]->size, 17);
  EXPECT_NE(got[3]->etag, discovered[3]->etag);
  EXPECT_EQ(got[6].status().code(), StatusCode::kNotFound) << got[6].status().ToString();
  // One listing; the file it did not show is stat'ed (a HEAD, and a listing that tells a
  // "directory" from nothing).
  EXPECT_EQ(sent.head, 1);
  EXPECT_EQ(sent.list, 2);
  EXPECT_EQ(sent.total(), 3);
}

TEST_P(StatFilesTest, ADirectoryFullOfOtherFilesStopsListingAtTheBound) {
  // 8 of 120 files, spread over the directory after 30 others; 10 entries per request.
  for (int i = 0; i < 30; ++i) Put(fmt::format("many/a{:02}", i));
  std::vector<std::string> paths;
  for (int i = 0; i < 120; ++i) {
    std::string path = Put(fmt::format("many/k{:03}", i));
    if (i % 15 == 0) paths.push_back(path);
  }
  auto fs = Paged(10);
  StatFilesOptions options;
  options.min_listed = 16;  // so the bound is 4 x 8 entries
  const RequestCounts before = fs->Requests();
  auto got = StatFiles(*fs, paths, options);
  const RequestCounts sent = fs->Requests().Since(before);
  ExpectSameAsStat(got, paths);
  // The listing stops after 32 entries (4 requests, where the whole directory takes 15); the
  // files it has not met are stat'ed. S3 starts it at k000: k000, k015 and k030 are met.
  // Azure's List Blobs cannot start at a name: the 30 names before count, only k000 is met.
  EXPECT_EQ(sent.list, 4);
  EXPECT_EQ(sent.head, GetParam() == "s3" ? 5 : 7);
}

TEST_P(StatFilesTest, SmallGroupsAreStatedAndBigOnesListed) {
  std::vector<std::string> paths;
  for (int i = 0; i < 9; ++i) paths.push_back(Put(fmt::format("big/f{}.csv", i)));
  for (int i = 0; i < 3; ++i) paths.push_back(Put(fmt::format("small/f{}.csv", i)));
  paths.push_back(Put("top.csv"));
  paths.push_back(P("big/missing.csv"));
  paths.push_back(paths[2]);  // asked twice, answered twice
  const RequestCounts before = fs_->Requests();
  auto got = StatFiles(*fs_, paths);
  const RequestCounts sent = fs_->Requests().Since(before);
  ExpectSameAsStat(got, paths);
  EXPECT_EQ(got.back()->path, paths[2]);
  // One listing of big/ (to its end: a file is missing), a HEAD for each of the 4 others and
  // for the missing one, which then lists to tell a "directory" from nothing.
  EXPECT_EQ(sent.list, 2);
  EXPECT_EQ(sent.head, 5);
  EXPECT_EQ(sent.total(), 7);
}

TEST(StatFilesLocalTest, LocalFilesAreStated) {
  testing::TempDir dir;
  auto fs = MakeLocalFileSystem();
  std::vector<std::string> paths;
  for (int i = 0; i < 10; ++i) {
    paths.push_back(dir / fmt::format("f{}.csv", i));
    std::ofstream(paths.back()) << std::string(static_cast<size_t>(i), 'x');
  }
  paths.push_back(dir / "missing.csv");
  EXPECT_EQ(fs->ListPageSize(dir.path()), 0);  // a stat is cheaper than a listing here
  auto got = StatFiles(*fs, paths);
  auto want = StatMany(*fs, paths);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i + 1 < paths.size(); ++i) {
    ASSERT_TRUE(got[i].ok()) << got[i].status().ToString();
    EXPECT_EQ(got[i]->size, want[i]->size);
    EXPECT_EQ(got[i]->modification_time_ms, want[i]->modification_time_ms);
  }
  EXPECT_EQ(got.back().status().code(), StatusCode::kNotFound);
}

TEST(SameModificationTimeTest, AWholeSecondMatchesItsSecondOnObjectStoresOnly) {
  const std::string object = "s3://b/x.csv", local = "/data/x.csv";
  EXPECT_TRUE(SameModificationTime(object, 1'700'000'000'123, 1'700'000'000'123));
  // Listed with milliseconds (MinIO), a HEAD's whole second, either way round.
  EXPECT_TRUE(SameModificationTime(object, 1'700'000'000'123, 1'700'000'000'000));
  EXPECT_TRUE(SameModificationTime(object, 1'700'000'000'000, 1'700'000'000'999));
  EXPECT_FALSE(SameModificationTime(object, 1'700'000'000'123, 1'700'000'000'456));
  EXPECT_FALSE(SameModificationTime(object, 1'700'000'000'123, 1'700'000'001'000));
  EXPECT_FALSE(SameModificationTime(local, 1'700'000'000'123, 1'700'000'000'000));
}

}  // namespace
}  // namespace dl
