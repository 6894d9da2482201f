// S3 implementation of FileSystem.
#include "dl/storage/s3_file_system.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include "dl/common/logging.hpp"
#include "dl/storage/object_store_settings.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/s3_client.hpp"
#include "dl/storage/s3_xml.hpp"

namespace dl {
namespace {

constexpr size_t kDeleteBatch = 1000;  // the DeleteObjects limit

std::string RandomHex() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

// The directory part of a key ("a/b" of "a/b/c"), empty at the top.
std::string KeyDir(const std::string& key) {
  auto slash = key.rfind('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

class S3FileSystem final : public FileSystem {
 public:
  S3FileSystem(std::string scheme, S3Settings settings, std::string bucket, S3Tuning tuning)
      : root_(scheme + "://" + bucket),
        single_writer_(settings.single_writer),
        tuning_(tuning),
        client_(std::move(settings), std::move(bucket),
                s3::RetryPolicy{tuning.attempts, tuning.first_backoff_ms, tuning.max_backoff_ms}) {}

  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    return ListAfter(dir, "");
  }

  Result<std::vector<FileEntry>> ListAfter(const std::string& dir,
                                           const std::string& start_after) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(dir));
    const std::string prefix = key.empty() ? key : key + "/";
    std::vector<FileEntry> out;
    bool any = false;
    DL_RETURN_IF_ERROR(ListPages(prefix, "/", start_after.empty() ? "" : prefix + start_after,
                                 [&](const s3::ListPage& page) {
                                   any |= !page.objects.empty() || !page.common_prefixes.empty();
                                   for (auto& e : PageEntries(page, prefix))
                                     out.push_back(std::move(e));
                                   return true;
                                 }));
    // Object stores have no empty directories: nothing at all below the prefix is "missing",
    // like a missing local directory (but only when listing from the start).
    if (!any && start_after.empty()) return Status::NotFound("{}: no such directory", dir);
    SortByPath(out);
    return out;
  }

  Status ListEach(const std::string& dir, const std::string& start_after,
                  const std::function<bool(const FileEntry&)>& visit) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(dir));
    const std::string prefix = key.empty() ? key : key + "/";
    return ListPages(prefix, "/", start_after.empty() ? "" : prefix + start_after,
                     [&](const s3::ListPage& page) {
                       for (const auto& e : PageEntries(page, prefix)) {
                         if (!visit(e)) return false;
                       }
                       return true;
                     });
  }

  int ListPageSize(const std::string&) override { return tuning_.list_page_size; }

  Result<std::vector<FileEntry>> ListRecursive(const std::string& dir,
                                               const std::string& prune_marker) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(dir));
    const std::string prefix = key.empty() ? key : key + "/";
    std::vector<s3::ListedObject> objects;
    DL_RETURN_IF_ERROR(ListPages(prefix, "", "", [&](const s3::ListPage& page) {
      for (const auto& o : page.objects) {
        if (o.key.empty() || o.key.back() == '/') continue;  // "directory" markers
        objects.push_back(o);
      }
      return true;
    }));
    if (objects.empty()) {
      DL_ASSIGN_OR_RETURN(bool exists, Exists(dir));
      if (!exists) return Status::NotFound("{}: no such directory", dir);
    }
    std::set<std::string> pruned = PrunedDirs(objects, prefix, prune_marker);
    std::vector<FileEntry> out;
    for (const auto& o : objects) {
      if (!UnderPruned(o.key.substr(prefix.size()), pruned)) out.push_back(Entry(o));
    }
    SortByPath(out);
    return out;
  }

  Result<FileEntry> Stat(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    if (!key.empty()) {
      DL_ASSIGN_OR_RETURN(auto r, client_.Send({s3::Kind::kHead, "HEAD", key, {}, {}, {}}));
      if (r.ok()) {
        FileEntry e;
        e.path = Path(key);
        e.size = std::atoll(r.Header("content-length").c_str());
        e.modification_time_ms =
            static_cast<int64_t>(curl_getdate(r.Header("last-modified").c_str(), nullptr)) * 1000;
        e.etag = s3::Unquote(r.Header("etag"));
        return e;
      }
      if (r.status != 404) return s3::ErrorStatus(r, "HEAD", client_.bucket(), key);
    }
    // No object: a "directory" if any key lies below it (this also reports a missing bucket).
    bool below = false;
    DL_RETURN_IF_ERROR(ListOnePage(key.empty() ? key : key + "/", &below));
    if (!below && !key.empty()) return Status::NotFound("{}: not found", path);
    FileEntry e;
    e.path = key.empty() ? root_ : Path(key);
    e.is_dir = true;
    return e;
  }

  Result<bool> Exists(const std::string& path) override {
    auto st = Stat(path);
    if (st.ok()) return true;
    if (st.status().code() == StatusCode::kNotFound) return false;
    return st.status();
  }

  Result<std::string> Read(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    DL_ASSIGN_OR_RETURN(auto r, client_.Send({s3::Kind::kGet, "GET", key, {}, {}, {}}));
    if (!r.ok()) return s3::ErrorStatus(r, "GET", client_.bucket(), key);
    return std::move(r.body);
  }

  Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) override {
    DL_RETURN_IF_ERROR(CheckReadRange(path, offset, length));
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    if (length == 0) {  // no range means zero bytes: just check that the object exists
      DL_ASSIGN_OR_RETURN(auto r, client_.Send({s3::Kind::kHead, "HEAD", key, {}, {}, {}}));
      if (!r.ok()) return s3::ErrorStatus(r, "HEAD", client_.bucket(), key);
      return std::string();
    }
    DL_ASSIGN_OR_RETURN(
        auto r,
        client_.Send(
            {s3::Kind::kGet, "GET", key, {}, {{"Range", HttpByteRange(offset, length)}}, {}}));
    if (r.status == 416) return std::string();  // the object ends before offset
    if (!r.ok()) return s3::ErrorStatus(r, "GET", client_.bucket(), key);
    if (r.status == 206) return std::move(r.body);
    // 200: a store that ignores Range sent the whole object.
    if (static_cast<uint64_t>(offset) >= r.body.size()) return std::string();
    return r.body.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  }

  Status PutIfAbsent(const std::string& path, const std::string& content) override;

  Status WriteAtomic(const std::string& path, const std::string& content) override {
    // A PUT replaces the object in one step: readers see the old or the new whole object.
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    return Put(key, content, {});
  }

  Status Rename(const std::string& from, const std::string& to) override {
    // CopyObject + DELETE: not atomic (a reader may see both names for a moment). Only for
    // files nobody reads by name while they move; never for commits.
    DL_ASSIGN_OR_RETURN(std::string src, Key(from));
    DL_ASSIGN_OR_RETURN(std::string dst, Key(to));
    const std::string copy_source = "/" + client_.bucket() + "/" + s3::EncodeKey(src);
    DL_ASSIGN_OR_RETURN(
        auto r,
        client_.Send({s3::Kind::kPut, "PUT", dst, {}, {{"x-amz-copy-source", copy_source}}, {}}));
    // CopyObject may answer 200 with an <Error> body.
    if (!r.ok() || !s3::ParseError(r.body).code.empty()) {
      if (r.ok()) r.status = 500;
      return s3::ErrorStatus(r, "copy to " + to + " of", client_.bucket(), src);
    }
    return Delete(from);
  }

  Status Delete(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    DL_ASSIGN_OR_RETURN(auto r, client_.Send({s3::Kind::kDelete, "DELETE", key, {}, {}, {}}));
    if (!r.ok() && r.status != 404) return s3::ErrorStatus(r, "DELETE", client_.bucket(), key);
    return Status::OK();
  }

  Status DeleteMany(const std::vector<std::string>& paths) override;

  Status CreateDirs(const std::string&) override { return Status::OK(); }

  RequestCounts Requests() const override { return client_.Counts(); }

 private:
  // The key of a path of this bucket, as written (ObjectKey): keys may hold "//" and "..".
  Result<std::string> Key(const std::string& path) const { return ObjectKey(path, root_); }
  std::string Path(const std::string& key) const { return root_ + "/" + key; }

  FileEntry Entry(const s3::ListedObject& o) const {
    FileEntry e;
    e.path = Path(o.key);
    e.size = o.size;
    e.modification_time_ms = o.modification_time_ms;
    e.etag = o.etag;
    return e;
  }

  // A delimited page's objects and "directories" below prefix, sorted by path.
  std::vector<FileEntry> PageEntries(const s3::ListPage& page, const std::string& prefix) const {
    std::vector<FileEntry> out;
    for (const auto& o : page.objects) {
      if (o.key != prefix) out.push_back(Entry(o));  // not a "directory" marker
    }
    for (const auto& p : page.common_prefixes) {
      FileEntry e;
      e.path = Path(p.substr(0, p.size() - 1));
      e.is_dir = true;
      out.push_back(std::move(e));
    }
    SortByPath(out);
    return out;
  }

  static void SortByPath(std::vector<FileEntry>& v) {
    std::sort(v.begin(), v.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  }

  // on_page(page) for each page until it returns false or the listing ends.
  template <typename OnPage>
  Status ListPages(const std::string& prefix, const std::string& delimiter,
                   const std::string& start_after, OnPage on_page) {
    std::string token;
    do {
      s3::Request req{s3::Kind::kList, "GET", "", {{"list-type", "2"}}, {}, {}};
      req.query.emplace_back("max-keys", std::to_string(tuning_.list_page_size));
      if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
      if (!delimiter.empty()) req.query.emplace_back("delimiter", delimiter);
      if (!start_after.empty() && token.empty()) req.query.emplace_back("start-after", start_after);
      if (!token.empty()) req.query.emplace_back("continuation-token", token);
      DL_ASSIGN_OR_RETURN(auto r, client_.Send(req));
      if (!r.ok()) return s3::ErrorStatus(r, "LIST", client_.bucket(), prefix);
      DL_ASSIGN_OR_RETURN(auto page, s3::ParseListPage(r.body));
      if (!on_page(page)) break;
      token = page.truncated ? page.next_continuation_token : "";
    } while (!token.empty());
    return Status::OK();
  }

  Status ListOnePage(const std::string& prefix, bool* any) {
    s3::Request req{s3::Kind::kList, "GET", "", {{"list-type", "2"}, {"max-keys", "1"}}, {}, {}};
    if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
    DL_ASSIGN_OR_RETURN(auto r, client_.Send(req));
    if (!r.ok()) return s3::ErrorStatus(r, "LIST", client_.bucket(), prefix);
    DL_ASSIGN_OR_RETURN(auto page, s3::ParseListPage(r.body));
    *any = !page.objects.empty() || !page.common_prefixes.empty();
    return Status::OK();
  }

  // Every sub-"directory" D (relative to prefix, below it) with a key D/<marker>[/...].
  static std::set<std::string> PrunedDirs(const std::vector<s3::ListedObject>& objects,
                                          const std::string& prefix, const std::string& marker) {
    std::set<std::string> pruned;
    if (marker.empty()) return pruned;
    for (const auto& o : objects) {
      std::string rel = o.key.substr(prefix.size());
      for (size_t pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1)) {
        if (rel.compare(pos + 1, marker.size(), marker) == 0 &&
            (pos + 1 + marker.size() == rel.size() || rel[pos + 1 + marker.size()] == '/')) {
          pruned.insert(rel.substr(0, pos));
        }
      }
    }
    return pruned;
  }

  static bool UnderPruned(const std::string& rel, const std::set<std::string>& pruned) {
    for (size_t pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1)) {
      if (pruned.count(rel.substr(0, pos))) return true;
    }
    return false;
  }

  Status Put(const std::string& key, const std::string& content,
             std::vector<std::pair<std::string, std::string>> headers) {
    headers.emplace_back("Content-Type", "application/octet-stream");
    DL_ASSIGN_OR_RETURN(auto r, client_.Send({s3::Kind::kPut, "PUT", key, {}, headers, content}));
    if (!r.ok()) return s3::ErrorStatus(r, "PUT", client_.bucket(), key);
    return Status::OK();
  }

  Result<bool> ConditionalPutsHonoured(const std::string& key);
  Result<bool> Probe(const std::string& key);

  const std::string root_;  ///< "s3://bucket"
  const bool single_writer_;
  const S3Tuning tuning_;
  s3::Client client_;
  std::mutex probe_mu_;
  int probed_ = -1;  ///< -1 not yet, 0 not honoured, 1 honoured
  std::once_flag single_writer_warning_;
};

// The probe key sits in the _delta_log/ of the key being written (or beside the key).
Result<bool> S3FileSystem::Probe(const std::string& key) {
  std::string dir = KeyDir(key);
  if (auto log = key.rfind(std::string("/") + kDeltaLogDirName + "/"); log != std::string::npos) {
    dir = key.substr(0, log + 1 + std::string(kDeltaLogDirName).size());
  }
  const std::string probe =
      (dir.empty() ? "" : dir + "/") + ".dl-conditional-put-probe-" + RandomHex();
  const std::vector<std::pair<std::string, std::string>> inm = {
      {"If-None-Match", "*"}, {"Content-Type", "application/octet-stream"}};
  DL_ASSIGN_OR_RETURN(auto first, client_.Send({s3::Kind::kPut, "PUT", probe, {}, inm, "probe"}));
  if (first.status == 412 && first.earlier_attempt_unknown) {
    // An earlier attempt stored the probe and lost its answer: only a store that honours the
    // condition refuses the retry of a fresh random key.
    (void)Delete(Path(probe));
    return true;
  }
  if (!first.ok()) {
    // If-None-Match is a signed header: a proxy or gateway that drops it breaks the signature
    // of conditional PUTs only. If plain requests pass, conditional writes cannot work here.
    bool plain_ok = false;
    if (first.status == 403 && s3::ParseError(first.body).code == "SignatureDoesNotMatch" &&
        ListOnePage(dir.empty() ? dir : dir + "/", &plain_ok).ok()) {
      return false;
    }
    return s3::ErrorStatus(first, "PUT", client_.bucket(), probe);
  }
  DL_ASSIGN_OR_RETURN(auto second, client_.Send({s3::Kind::kPut, "PUT", probe, {}, inm, "probe"}));
  // Best effort: a left-over probe object harms no reader, but say so (a bucket without
  // delete permission keeps one per run).
  if (Status removed = Delete(Path(probe)); !removed.ok()) {
    log::Warn("could not delete the conditional-write probe object",
              {{"bucket", client_.bucket()}, {"key", probe}, {"error", removed.message()}});
  }
  if (second.status == 412) return true;
  if (second.ok()) return false;
  return s3::ErrorStatus(second, "PUT", client_.bucket(), probe);
}

Result<bool> S3FileSystem::ConditionalPutsHonoured(const std::string& key) {
  std::lock_guard<std::mutex> lock(probe_mu_);
  if (probed_ < 0) {
    DL_ASSIGN_OR_RETURN(bool honoured, Probe(key));
    probed_ = honoured ? 1 : 0;
  }
  return probed_ == 1;
}

Status S3FileSystem::PutIfAbsent(const std::string& path, const std::string& content) {
  DL_ASSIGN_OR_RETURN(std::string key, Key(path));
  DL_ASSIGN_OR_RETURN(bool honoured, ConditionalPutsHonoured(key));
  if (!honoured) {
    if (!single_writer_) {
      return Status::InvalidArgument(
          "S3 bucket '{}' does not honour conditional writes (If-None-Match: *), so two "
          "writers could overwrite each other's commits; refusing to write {}. If only one "
          "writer ever writes these tables, set the storage option aws_conditional_put: "
          "disabled",
          client_.bucket(), path);
    }
    std::call_once(single_writer_warning_, [&] {
      log::Warn(
          "S3 bucket does not honour conditional writes; single-writer mode "
          "(aws_conditional_put: disabled): commits check with HEAD, then PUT",
          {{"bucket", client_.bucket()}});
    });
    DL_ASSIGN_OR_RETURN(bool exists, Exists(path));
    if (exists) return Status::AlreadyExists("{} already exists", path);
    return Put(key, content, {});
  }
  DL_ASSIGN_OR_RETURN(
      auto r, client_.Send({s3::Kind::kPut,
                            "PUT",
                            key,
                            {},
                            {{"If-None-Match", "*"}, {"Content-Type", "application/octet-stream"}},
                            content}));
  if (r.ok()) return Status::OK();
  if (r.status != 412) return s3::ErrorStatus(r, "PUT", client_.bucket(), key);
  if (r.earlier_attempt_unknown) {
    // An earlier attempt may have written the object and lost its answer: it is ours if it
    // holds our bytes (a commit's content is unique to its writer).
    auto existing = Read(path);
    if (existing.ok() && *existing == content) return Status::OK();
  }
  return Status::AlreadyExists("{} already exists", path);
}

Status S3FileSystem::DeleteMany(const std::vector<std::string>& paths) {
  std::vector<std::string> keys;
  for (const auto& p : paths) {
    DL_ASSIGN_OR_RETURN(std::string key, Key(p));
    keys.push_back(std::move(key));
  }
  for (size_t start = 0; start < keys.size(); start += kDeleteBatch) {
    std::vector<std::string> batch(keys.begin() + start,
                                   keys.begin() + std::min(keys.size(), start + kDeleteBatch));
    const std::string body = s3::DeleteObjectsBody(batch);
    s3::Request req{s3::Kind::kDelete,
                    "POST",
                    "",
                    {{"delete", ""}},
                    {{"Content-MD5", s3::Md5Base64(body)}, {"Content-Type", "application/xml"}},
                    body};
    DL_ASSIGN_OR_RETURN(auto r, client_.Send(req));
    if (!r.ok()) return s3::ErrorStatus(r, "DeleteObjects", client_.bucket(), batch.front());
    DL_ASSIGN_OR_RETURN(auto errors, s3::ParseDeleteErrors(r.body));
    for (const auto& e : errors) {
      if (e.code == "NoSuchKey") continue;
      return Status::Io("S3 DeleteObjects {}: {}: {}", Path(e.key), e.code, e.message);
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<FileSystem>> MakeS3FileSystemWith(const std::string& scheme,
                                                         const std::string& bucket,
                                                         const StorageOptions& options,
                                                         const S3Tuning& tuning) {
  if (bucket.empty()) return Status::InvalidArgument("{}:// location without a bucket", scheme);
  auto settings = ResolveS3Settings(options);
  if (!settings.ok()) return settings.status().WithContext(scheme + "://" + bucket);
  return std::unique_ptr<FileSystem>(
      std::make_unique<S3FileSystem>(scheme, std::move(*settings), bucket, tuning));
}

Result<std::unique_ptr<FileSystem>> MakeS3FileSystem(const std::string& scheme,
                                                     const std::string& bucket,
                                                     const StorageOptions& options) {
  return MakeS3FileSystemWith(scheme, bucket, options, S3Tuning{});
}

}  // namespace dl
