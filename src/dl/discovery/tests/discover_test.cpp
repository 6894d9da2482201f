#include "dl/discovery/discover.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "dl/common/testing/temp_dir.hpp"

namespace dl::discovery {
namespace {

namespace stdfs = std::filesystem;

constexpr int64_t kBaseMs = 1'700'000'000'000;  // a fixed "old" mtime

// Counts List calls so tests can check which directories were walked.
class CountingFileSystem : public FileSystem {
 public:
  explicit CountingFileSystem(std::unique_ptr<FileSystem> inner) : inner_(std::move(inner)) {}
  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    listed.insert(dir);
    return inner_->List(dir);
  }
  Result<std::vector<FileEntry>> ListRecursive(const std::string& d,
                                               const std::string& m) override {
    return inner_->ListRecursive(d, m);
  }
  Result<FileEntry> Stat(const std::string& p) override { return inner_->Stat(p); }
  Result<bool> Exists(const std::string& p) override { return inner_->Exists(p); }
  Result<std::string> Read(const std::string& p) override { return inner_->Read(p); }
  Status PutIfAbsent(const std::string& p, const std::string& c) override {
    return inner_->PutIfAbsent(p, c);
  }
  Status WriteAtomic(const std::string& p, const std::string& c) override {
    return inner_->WriteAtomic(p, c);
  }
  Status Rename(const std::string& a, const std::string& b) override {
    return inner_->Rename(a, b);
  }
  Status Delete(const std::string& p) override { return inner_->Delete(p); }
  Status CreateDirs(const std::string& d) override { return inner_->CreateDirs(d); }

  std::set<std::string> listed;

 private:
  std::unique_ptr<FileSystem> inner_;
};

class DiscoverTest : public ::testing::Test {
 protected:
  // Create root/rel with `bytes` bytes and the given mtime (ms since the epoch).
  void Touch(const std::string& rel, int64_t mtime_ms = kBaseMs, size_t bytes = 1) {
    std::string p = P(rel);
    dl::testing::WriteFile(p, std::string(bytes, 'x'));
    ASSERT_TRUE(dl::testing::SetMtimeMs(p, mtime_ms)) << p;
  }

  std::vector<std::string> Paths(const std::string& pattern, DiscoverOptions opts = {}) {
    auto r = Discover(*fs_, pattern, opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& f : *r) out.push_back(f.path.substr(root_.size() + 1));
    return out;
  }

  std::string P(const std::string& rel) const { return root_ + "/" + rel; }

  dl::testing::TempDir dir_;
  const std::string root_ = dir_.path();
  std::unique_ptr<FileSystem> fs_ = MakeLocalFileSystem();
};

using Names = std::vector<std::string>;

TEST_F(DiscoverTest, StarInOneDirectory) {
  Touch("raw/customers/a.parquet", kBaseMs + 2);
  Touch("raw/customers/b.parquet", kBaseMs + 1);
  Touch("raw/customers/c.csv");
  Touch("raw/customers/sub/d.parquet");
  EXPECT_EQ(Paths(P("raw/customers/*.parquet")),
            (Names{"raw/customers/b.parquet", "raw/customers/a.parquet"}));
}

TEST_F(DiscoverTest, ReturnsSizeAndMtime) {
  Touch("d/a.csv", kBaseMs + 1234, 42);
  auto r = Discover(*fs_, P("d/*.csv"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], (DiscoveredFile{P("d/a.csv"), 42, kBaseMs + 1234}));
}

TEST_F(DiscoverTest, OrderIsMtimeThenPath) {
  Touch("d/c.csv", kBaseMs);
  Touch("d/a.csv", kBaseMs + 5);
  Touch("d/b.csv", kBaseMs);  // ties with c.csv: path decides
  EXPECT_EQ(Paths(P("d/*.csv")), (Names{"d/b.csv", "d/c.csv", "d/a.csv"}));
}

TEST_F(DiscoverTest, GlobStarMatchesZeroOrMoreDirectories) {
  Touch("d/top.csv");
  Touch("d/x/mid.csv");
  Touch("d/x/y/deep.csv");
  Touch("d/x/y/deep.json");
  EXPECT_EQ(Paths(P("d/**/*.csv")), (Names{"d/top.csv", "d/x/mid.csv", "d/x/y/deep.csv"}));
  EXPECT_EQ(Paths(P("d/**/deep.*")), (Names{"d/x/y/deep.csv", "d/x/y/deep.json"}));
}

TEST_F(DiscoverTest, SkipsHiddenAndUnderscoreEntries) {
  Touch("t/part-0.parquet");
  Touch("t/_SUCCESS");
  Touch("t/.part-0.parquet.crc");
  Touch("t/_delta_log/00000000000000000000.json");
  Touch("t/.tmp/part-9.parquet");
  Touch("t/_staging/part-8.parquet");
  Touch("t/p=1/part-1.parquet");
  EXPECT_EQ(Paths(P("t/**")), (Names{"t/p=1/part-1.parquet", "t/part-0.parquet"}));
  EXPECT_EQ(Paths(P("t/*")), (Names{"t/part-0.parquet"}));
}

TEST_F(DiscoverTest, HiddenNamesAllowedWhenExplicit) {
  Touch("_landing/.hidden/a.csv");
  Touch("_landing/.hidden/_b.csv");
  Touch("_landing/c.csv");
  // Inside the literal prefix nothing is filtered.
  EXPECT_EQ(Paths(P("_landing/.hidden/*.csv")), (Names{"_landing/.hidden/a.csv"}));
  // A pattern segment starting with the literal '_' selects '_' names.
  EXPECT_EQ(Paths(P("_landing/.hidden/_*.csv")), (Names{"_landing/.hidden/_b.csv"}));
  EXPECT_EQ(Paths(P("_landing/*.csv")), (Names{"_landing/c.csv"}));
}

TEST_F(DiscoverTest, ClassesAndEscapes) {
  Touch("d/a1.csv");
  Touch("d/b1.csv");
  Touch("d/d1.csv");
  Touch("d/star*.csv");
  Touch("d/starx.csv");
  EXPECT_EQ(Paths(P("d/[a-c]1.csv")), (Names{"d/a1.csv", "d/b1.csv"}));
  EXPECT_EQ(Paths(P("d/[!a-c]1.csv")), (Names{"d/d1.csv"}));
  EXPECT_EQ(Paths(P("d/star\\*.csv")), (Names{"d/star*.csv"}));
  EXPECT_EQ(Paths(P("d/star?.csv")), (Names{"d/star*.csv", "d/starx.csv"}));
}

TEST_F(DiscoverTest, EscapedWildcardInLiteralPrefix) {
  Touch("we*ird/a.csv");
  Touch("weXird/b.csv");
  EXPECT_EQ(Paths(P("we\\*ird/*.csv")), (Names{"we*ird/a.csv"}));
}

TEST_F(DiscoverTest, MinFileAge) {
  const int64_t now = kBaseMs + 3'600'000;
  Touch("d/old.csv", now - 120'000);
  Touch("d/edge.csv", now - 60'000);  // exactly the minimum age: old enough
  Touch("d/new.csv", now - 10'000);
  Touch("d/future.csv", now + 10'000);
  DiscoverOptions opts;
  opts.min_file_age_seconds = 60;
  opts.now_ms = now;
  EXPECT_EQ(Paths(P("d/*.csv"), opts), (Names{"d/old.csv", "d/edge.csv"}));
  DiscoverStats stats;
  ASSERT_TRUE(Discover(*fs_, P("d/*.csv"), opts, &stats).ok());
  EXPECT_EQ(stats.files_matched, 4);
  EXPECT_EQ(stats.skipped_too_young, 1);
  EXPECT_EQ(stats.skipped_future, 1);
  opts.min_file_age_seconds = 0;
  EXPECT_EQ(Paths(P("d/*.csv"), opts).size(), 4u);
}

TEST_F(DiscoverTest, MissingBaseIsEmpty) {
  auto r = Discover(*fs_, P("nope/*.csv"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = Discover(*fs_, P("nope.csv"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST_F(DiscoverTest, LiteralFileAndDirectory) {
  Touch("d/one.csv");
  Touch("d/p=1/two.csv");
  Touch("d/_SUCCESS");
  EXPECT_EQ(Paths(P("d/one.csv")), (Names{"d/one.csv"}));
  EXPECT_EQ(Paths(P("d")), (Names{"d/one.csv", "d/p=1/two.csv"}));
  EXPECT_EQ(Paths(P("d/")), (Names{"d/one.csv", "d/p=1/two.csv"}));
}

TEST_F(DiscoverTest, BaseIsAFileMatchingTheGlob) {
  Touch("d/one.csv");
  EXPECT_EQ(Paths(P("d/one.csv/**")), (Names{"d/one.csv"}));
  EXPECT_TRUE(Paths(P("d/one.csv/*.csv")).empty());
}

TEST_F(DiscoverTest, WalksOnlyTheLiteralPrefixAndPrunes) {
  Touch("raw/customers/2024-01/a.csv");
  Touch("raw/customers/2023-12/b.csv");
  Touch("raw/transactions/c.csv");
  Touch("other/d.csv");
  CountingFileSystem fs(MakeLocalFileSystem());
  auto r = Discover(fs, P("raw/customers/2024-*/*.csv"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(fs.listed, (std::set<std::string>{P("raw/customers"), P("raw/customers/2024-01")}));
}

TEST_F(DiscoverTest, RelativePattern) {
  Touch("rel/a.csv");
  std::error_code ec;
  stdfs::path old = stdfs::current_path();
  stdfs::current_path(root_);
  auto r = Discover(*fs_, "rel/*.csv");
  auto r2 = Discover(*fs_, "*/a.csv");
  stdfs::current_path(old);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].path, "rel/a.csv");
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->size(), 1u);
  EXPECT_EQ((*r2)[0].path, "rel/a.csv");
}

TEST_F(DiscoverTest, BadPatternIsInvalidArgument) {
  auto r = Discover(*fs_, P("d/[ab.csv"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DiscoverTest, SymlinkLoopIsAnError) {
  Touch("d/a.csv");
  stdfs::create_directory_symlink(P("d"), P("d/loop"));
  DiscoverOptions opts;
  opts.max_depth = 8;
  auto r = Discover(*fs_, P("d/**/*.csv"), opts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("symlink loop"), std::string::npos);
  // Without `**` the walk is bounded by the pattern; the symlinked base is resolved.
  EXPECT_EQ(Paths(P("d/loop/*.csv")), (Names{"d/a.csv"}));
}

// Issue 11 item 4: with raw_data_path above processed_data_path, `**/*.parquet` loaded the
// tables' own data files and the tracker's.
TEST_F(DiscoverTest, NeverLooksInsideDeltaTablesBelowTheBase) {
  Touch("root/raw/a.parquet");
  Touch("root/processed/d/t/part-0.parquet");
  Touch("root/processed/d/t/_delta_log/00000000000000000000.json");
  Touch("root/processed/d/t/p=1/part-1.parquet");
  Touch("root/processed/metadata/tracker/part-2.parquet");
  Touch("root/processed/metadata/tracker/_delta_log/00000000000000000000.json");
  Touch("root/processed/not_a_table/x.parquet");
  DiscoverStats stats;
  auto r = Discover(*fs_, P("root/**/*.parquet"), {}, &stats);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> got;
  for (const auto& f : *r) got.push_back(f.path.substr(root_.size() + 1));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (Names{"root/processed/not_a_table/x.parquet", "root/raw/a.parquet"}));
  EXPECT_EQ(stats.delta_tables_skipped,
            (Names{P("root/processed/d/t"), P("root/processed/metadata/tracker")}));
  // A pattern that names the table directory itself still reads it (validation refuses that
  // for the config's own tables).
  EXPECT_EQ(Paths(P("root/processed/d/t/*.parquet")), (Names{"root/processed/d/t/part-0.parquet"}));
}

TEST_F(DiscoverTest, ExcludedDirectoriesAreNotWalked) {
  Touch("root/a.json");
  Touch("root/checkpoints/metrics/run-1.json");
  DiscoverOptions opts;
  opts.excluded_dirs = {P("root/checkpoints")};
  EXPECT_EQ(Paths(P("root/**/*.json"), opts), (Names{"root/a.json"}));
}

// Issue 11 item 5: `*.csv` then `./*.csv`, or the base through a symlink, gave one file two
// identities and loaded it twice.
TEST_F(DiscoverTest, PathsAreCanonicalAndKeepTheirOldSpelling) {
  Touch("raw/sub/x.csv");
  stdfs::create_directory_symlink(P("raw"), P("rawlink"));
  for (const std::string pattern :
       {P("raw/sub/*.csv"), P("raw/./sub/*.csv"), P("raw//sub/../sub/*.csv"),
        P("rawlink/sub/*.csv"), P("raw/sub/x.csv"), P("rawlink/sub/x.csv"), P("rawlink/**")}) {
    auto r = Discover(*fs_, pattern);
    ASSERT_TRUE(r.ok()) << pattern << ": " << r.status().ToString();
    ASSERT_EQ(r->size(), 1u) << pattern;
    EXPECT_EQ((*r)[0].path, P("raw/sub/x.csv")) << pattern;
  }
  auto r = Discover(*fs_, P("raw/./sub/*.csv"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].spelled_path, P("raw/./sub/x.csv"));
  r = Discover(*fs_, P("rawlink/sub/*.csv"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].spelled_path, P("rawlink/sub/x.csv"));
  r = Discover(*fs_, P("raw/sub/*.csv"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].spelled_path, "");
}

TEST_F(DiscoverTest, MissingBaseAndFutureFilesAreReported) {
  DiscoverStats stats;
  ASSERT_TRUE(Discover(*fs_, P("nope/*.csv"), {}, &stats).ok());
  EXPECT_TRUE(stats.base_missing);
  const int64_t now = kBaseMs + 3'600'000;
  Touch("d/future.csv", now + 3'600'000);
  Touch("d/young.csv", now - 1'000);
  DiscoverOptions opts;
  opts.min_file_age_seconds = 60;
  opts.now_ms = now;
  ASSERT_TRUE(Discover(*fs_, P("d/*.csv"), opts, &stats).ok());
  EXPECT_FALSE(stats.base_missing);
  ASSERT_EQ(stats.waiting.size(), 2u);
  std::map<std::string, std::string> why;
  for (const auto& w : stats.waiting) why[w.path.substr(root_.size() + 1)] = w.reason;
  EXPECT_EQ(why["d/future.csv"],
            "modified in the future (3600 s ahead of this machine's clock; clock skew?)");
  EXPECT_EQ(why["d/young.csv"], "younger than min_file_age_seconds");
}

// A bucket as an object store shows it: "s3://bucket/<key>" are the files below a local
// directory (the real local filesystem does the listing). It has no directories to List:
// discovery on a URI must list the prefix once, recursively. Objects have ETags (here the
// hash of their content, as a store's are of theirs).
class BucketFileSystem : public FileSystem {
 public:
  explicit BucketFileSystem(std::string root) : root_(std::move(root)) {}
  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    return Status::Internal("List({}) on an object store", dir);
  }
  Result<std::vector<FileEntry>> ListRecursive(const std::string& d,
                                               const std::string& m) override {
    ++recursive_listings;
    auto r = local_->ListRecursive(Local(d), m);
    if (!r.ok()) return r;
    for (auto& e : *r) {
      e.path = kBucket + e.path.substr(root_.size());
      if (!e.is_dir) e.etag = Etag(e.path);
    }
    return r;
  }
  // One page of a prefix (a missing prefix visits nothing), as a store answers it.
  Status ListEach(const std::string& d, const std::string& after,
                  const std::function<bool(const FileEntry&)>& visit) override {
    auto entry = local_->Stat(Local(d));
    if (entry.ok() && !entry->is_dir) return Status::OK();  // an object is no prefix
    return local_->ListEach(Local(d), after, [&](FileEntry e) {
      e.path = kBucket + e.path.substr(root_.size());
      return visit(e);
    });
  }
  Result<FileEntry> Stat(const std::string& p) override {
    auto r = local_->Stat(Local(p));
    if (r.ok()) r->path = p;
    if (r.ok() && !r->is_dir) r->etag = Etag(p);
    return r;
  }
  std::string Etag(const std::string& uri) {
    auto content = local_->Read(Local(uri));
    return content.ok() ? std::to_string(std::hash<std::string>{}(*content)) : "";
  }
  Result<bool> Exists(const std::string& p) override { return local_->Exists(Local(p)); }
  Result<std::string> Read(const std::string& p) override { return local_->Read(Local(p)); }
  Status PutIfAbsent(const std::string& p, const std::string& c) override {
    return local_->PutIfAbsent(Local(p), c);
  }
  Status WriteAtomic(const std::string& p, const std::string& c) override {
    return local_->WriteAtomic(Local(p), c);
  }
  Status Rename(const std::string& a, const std::string& b) override {
    return local_->Rename(Local(a), Local(b));
  }
  Status Delete(const std::string& p) override { return local_->Delete(Local(p)); }
  Status CreateDirs(const std::string& d) override { return local_->CreateDirs(Local(d)); }

  static constexpr char kBucket[] = "s3://bucket";
  int recursive_listings = 0;

 private:
  std::string Local(const std::string& uri) const {
    EXPECT_EQ(uri.rfind(kBucket, 0), 0u) << uri;
    return root_ + uri.substr(std::string(kBucket).size());
  }
  std::string root_;
  std::unique_ptr<FileSystem> local_ = MakeLocalFileSystem();
};

TEST_F(DiscoverTest, ObjectStorePatternsListThePrefixOnceAndMatchTheUri) {
  Touch("raw/t/a.parquet", kBaseMs + 1);
  Touch("raw/t/2026/01/b.parquet", kBaseMs + 2);
  Touch("raw/t/2026/01/b.csv");
  Touch("raw/t/_tmp/c.parquet");         // hidden: `**` never enters it
  Touch("raw/t/tbl/_delta_log/0.json");  // a Delta table below the base: never source files
  Touch("raw/t/tbl/part-0.parquet");
  Touch("raw/t/state/x.parquet");  // an excluded directory (checkpoint_path)
  BucketFileSystem bucket(root_);
  DiscoverOptions opts;
  opts.excluded_dirs = {"s3://bucket/raw/t/state"};
  auto r = Discover(bucket, "s3://bucket/raw/t/**/*.parquet", opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> paths;
  for (const auto& f : *r) paths.push_back(f.path);
  EXPECT_EQ(paths, (Names{"s3://bucket/raw/t/a.parquet", "s3://bucket/raw/t/2026/01/b.parquet"}));
  EXPECT_EQ(bucket.recursive_listings, 1);
  EXPECT_EQ((*r)[0].modification_time_ms, kBaseMs + 1);

  // One level only, a literal object, a literal prefix ("every visible file below it").
  auto one = Discover(bucket, "s3://bucket/raw/t/*.parquet");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].path, "s3://bucket/raw/t/a.parquet");
  auto file = Discover(bucket, "s3://bucket/raw/t/2026/01/b.csv");
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file->size(), 1u);
  EXPECT_EQ((*file)[0].path, "s3://bucket/raw/t/2026/01/b.csv");
  auto prefix = Discover(bucket, "s3://bucket/raw/t/2026/");
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(prefix->size(), 2u);
}

// checkpoint_path spelled with another scheme of the same store (s3a:// for s3://) is still
// the loader's own directory: its metrics and state are never source files.
TEST_F(DiscoverTest, AnExcludedDirectoryIsExcludedUnderEverySpelling) {
  Touch("raw/a.json");
  Touch("ckpt/metrics/run-1.json");
  Touch("ckpt/orchestration/last_run.json");
  BucketFileSystem bucket(root_);
  for (const char* excluded : {"s3://bucket/ckpt", "s3a://bucket/ckpt", "S3A://bucket/ckpt"}) {
    DiscoverOptions opts;
    opts.excluded_dirs = {excluded};
    auto r = Discover(bucket, "s3://bucket/**/*.json", opts);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u) << excluded;
    EXPECT_EQ((*r)[0].path, "s3://bucket/raw/a.json");
  }
  // Keys are case-sensitive: another prefix is not the excluded one.
  DiscoverOptions opts;
  opts.excluded_dirs = {"s3a://bucket/CKPT"};
  auto r = Discover(bucket, "s3://bucket/**/*.json", opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 3u);
}

// The ETag is part of an object's identity (an overwrite in place may keep size and mtime).
TEST_F(DiscoverTest, ObjectsCarryTheirEtag) {
  Touch("raw/t/a.parquet", kBaseMs);
  BucketFileSystem bucket(root_);
  for (const char* pattern : {"s3://bucket/raw/t/*.parquet", "s3://bucket/raw/t/a.parquet"}) {
    auto r = Discover(bucket, pattern);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u) << pattern;
    EXPECT_EQ((*r)[0].etag, bucket.Etag("s3://bucket/raw/t/a.parquet")) << pattern;
    EXPECT_FALSE((*r)[0].etag.empty());
  }
}

TEST_F(DiscoverTest, AMissingObjectStorePrefixIsAMissingBase) {
  Touch("raw/t/a.parquet");
  BucketFileSystem bucket(root_);
  DiscoverStats stats;
  auto r = Discover(bucket, "s3://bucket/raw/nothing-here/**/*.parquet", {}, &stats);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(stats.base_missing);
}

// `status` warns about a missing base as a run does, without discovering the files.
TEST_F(DiscoverTest, PatternBaseExistsAgreesWithDiscoversMissingBase) {
  Touch("raw/t/a.parquet");
  BucketFileSystem bucket(root_);
  for (const auto& [pattern, want] :
       std::vector<std::pair<std::string, bool>>{{"s3://bucket/raw/t/*.parquet", true},
                                                 {"s3://bucket/raw/**/*.parquet", true},
                                                 {"s3://bucket/raw/t/a.parquet", true},
                                                 {"s3://bucket/raw/nothing-here/*.parquet", false},
                                                 {"s3://bucket/raw/t/b.parquet", false}}) {
    auto exists = PatternBaseExists(bucket, pattern);
    ASSERT_TRUE(exists.ok()) << exists.status().ToString();
    EXPECT_EQ(*exists, want) << pattern;
  }
  for (const auto& [pattern, want] : std::vector<std::pair<std::string, bool>>{
           {P("raw/t/*.parquet"), true}, {P("raw/t/a.parquet"), true}, {P("nope/*.csv"), false}}) {
    auto exists = PatternBaseExists(*fs_, pattern);
    ASSERT_TRUE(exists.ok()) << exists.status().ToString();
    EXPECT_EQ(*exists, want) << pattern;
  }
}

// Run with --gtest_also_run_disabled_tests: lists 100,000 files and prints the time.
TEST_F(DiscoverTest, DISABLED_Benchmark100kFiles) {
  for (int d = 0; d < 10; ++d) {
    for (int i = 0; i < 10'000; ++i) Touch(fmt::format("big/d{}/f{:05}.csv", d, i), kBaseMs + i);
  }
  for (int rep = 0; rep < 3; ++rep) {  // the first run may pay for a cold cache
    auto t0 = std::chrono::steady_clock::now();
    auto r = Discover(*fs_, P("big/**/*.csv"));
    auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 100'000u);
    double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    std::printf("discovered %zu files in %.1f ms\n", r->size(), ms);
    EXPECT_LT(ms, 1000.0);
  }
}

}  // namespace
}  // namespace dl::discovery
