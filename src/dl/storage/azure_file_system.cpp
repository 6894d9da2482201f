// FileSystem on Azure Blob Storage (Blob REST API through AzureBlobClient).
#include "dl/storage/azure_file_system.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <thread>

#include "dl/common/http_client.hpp"
#include "dl/storage/azure_blob_client.hpp"
#include "dl/storage/object_store_settings.hpp"
#include "dl/storage/paths.hpp"

namespace dl {
namespace {

struct BlobItem {
  std::string name;  ///< blob name, or the prefix without its trailing '/'
  bool is_prefix = false;
  int64_t size = 0;
  int64_t mtime_ms = 0;
  std::string etag;
};

int64_t HttpDateMs(const std::string& text) {
  time_t t = curl_getdate(text.c_str(), nullptr);
  return t < 0 ? 0 : static_cast<int64_t>(t) * 1000;
}

// Listings carry the ETag bare, HEAD answers quoted: both become the bare tag (as on S3).
std::string BareEtag(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

// Names are percent-encoded (Encoded="true") when they hold characters XML cannot carry.
std::string ItemName(const pugi::xml_node& name) {
  std::string text = name.child_value();
  if (!name.attribute("Encoded").as_bool()) return text;
  int n = 0;
  char* decoded = curl_easy_unescape(nullptr, text.c_str(), static_cast<int>(text.size()), &n);
  std::string out(decoded, static_cast<size_t>(n));
  curl_free(decoded);
  return out;
}

class AzureFileSystem final : public FileSystem {
 public:
  AzureFileSystem(AzureBlobClient client, std::string root, std::string container, int page_size)
      : client_(std::move(client)),
        root_(std::move(root)),
        container_(std::move(container)),
        page_size_(page_size) {}

  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(dir));
    std::vector<BlobItem> items;
    DL_RETURN_IF_ERROR(ListBlobs(dir, DirPrefix(key), true, 0, items));
    if (items.empty() && !key.empty()) return Status::NotFound("cannot list {}: not found", dir);
    return Entries(items);
  }

  // List Blobs (of this service version) cannot start at a name: from the first entry.
  Status ListEach(const std::string& dir, const std::string&,
                  const std::function<bool(const FileEntry&)>& visit) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(dir));
    return ListBlobPages(dir, DirPrefix(key), true, page_size_, [&](std::vector<BlobItem>& items) {
      for (const FileEntry& e : Entries(items)) {
        if (!visit(e)) return false;
      }
      return true;
    });
  }

  int ListPageSize(const std::string&) override { return page_size_; }

  Result<std::vector<FileEntry>> ListRecursive(const std::string& dir,
                                               const std::string& prune_marker) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(dir));
    const std::string prefix = DirPrefix(key);
    std::vector<BlobItem> items;
    DL_RETURN_IF_ERROR(ListBlobs(dir, prefix, false, 0, items));
    if (items.empty() && !key.empty()) return Status::NotFound("cannot list {}: not found", dir);
    if (!prune_marker.empty()) Prune(items, prefix.size(), prune_marker);
    return Entries(items);
  }

  Result<FileEntry> Stat(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    if (key.empty()) {
      AzureRequest request("GET", container_, "", {{"restype", "container"}});
      DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(request));
      if (r.status != 200) return Error(r, path, "cannot stat");
      return FileEntry{path, 0, 0, true, {}};
    }
    DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(AzureRequest("HEAD", container_, key)));
    if (r.status == 200) {
      return FileEntry{path, std::strtoll(r.Header("content-length").c_str(), nullptr, 10),
                       HttpDateMs(r.Header("last-modified")), false, BareEtag(r.Header("etag"))};
    }
    if (r.status != 404 || r.ErrorCode() == "ContainerNotFound") {
      return Error(r, path, "cannot stat");
    }
    std::vector<BlobItem> items;  // no blob: a "directory" when blobs lie below it
    DL_RETURN_IF_ERROR(ListBlobs(path, key + "/", true, 1, items));
    if (items.empty()) return Status::NotFound("cannot stat {}: not found", path);
    return FileEntry{path, 0, 0, true, {}};
  }

  Result<bool> Exists(const std::string& path) override {
    auto entry = Stat(path);
    if (entry.ok()) return true;
    if (entry.status().code() == StatusCode::kNotFound) return false;
    return entry.status();
  }

  Result<std::string> Read(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(AzureRequest("GET", container_, key)));
    if (r.status != 200) return Error(r, path, "cannot read");
    return std::move(r.body);
  }

  Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) override {
    DL_RETURN_IF_ERROR(CheckReadRange(path, offset, length));
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    if (length == 0) {  // no range means zero bytes: just check that the blob exists
      DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(AzureRequest("HEAD", container_, key)));
      if (r.status != 200) return Error(r, path, "cannot read");
      return std::string();
    }
    AzureRequest request("GET", container_, key);
    request.headers["x-ms-range"] = HttpByteRange(offset, length);
    DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(request));
    if (r.status == 416) return std::string();  // the blob ends before offset
    if (r.status == 206) return std::move(r.body);
    if (r.status != 200) return Error(r, path, "cannot read");
    // 200: a store that ignores the range sent the whole blob.
    if (static_cast<uint64_t>(offset) >= r.body.size()) return std::string();
    return r.body.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  }

  Status PutIfAbsent(const std::string& path, const std::string& content) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    AzureRequest request = PutRequest(key, content);
    request.headers["if-none-match"] = "*";
    DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(request));
    if (r.status == 201) return Status::OK();
    const std::string code = r.ErrorCode();
    if (r.status == 412 || (r.status == 409 && code == "BlobAlreadyExists")) {
      // A retried PUT may have been stored by an attempt whose answer was lost: then the
      // blob holds exactly our content, and the put is ours.
      if (r.attempts > 1) {
        auto stored = Read(path);
        if (stored.ok() && *stored == content) return Status::OK();
      }
      return Status::AlreadyExists("{} already exists", path);
    }
    if (r.status == 403 && PlainRequestsPass(key)) {
      // If-None-Match is signed (SharedKey): a proxy or gateway that drops it breaks the
      // signature of conditional writes only. Commits cannot be made safely through it.
      return Status::InvalidArgument(
          "Azure container '{}' (account {}) does not honour conditional writes "
          "(If-None-Match: *): they fail authentication while plain requests pass, so something "
          "between data_loader and the store drops the header and two writers could overwrite "
          "each other's commits; refusing to write {}",
          container_, client_.account(), path);
    }
    return Error(r, path, "cannot create");
  }

  Status WriteAtomic(const std::string& path, const std::string& content) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    // Put Blob replaces the whole blob at once: readers see the old or the new content.
    DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(PutRequest(key, content)));
    if (r.status == 201) return Status::OK();
    return Error(r, path, "cannot write");
  }

  Status Rename(const std::string& from, const std::string& to) override;

  Status Delete(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(std::string key, Key(path));
    DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(AzureRequest("DELETE", container_, key)));
    if (r.status == 202) return Status::OK();
    // A retried DELETE whose first attempt went through finds nothing: deleted all the same.
    if (r.status == 404 && r.attempts > 1 && r.ErrorCode() == "BlobNotFound") return Status::OK();
    return Error(r, path, "cannot delete");
  }

  RequestCounts Requests() const override { return client_.Counts(); }

  Status CreateDirs(const std::string& dir) override {
    // Blob storage has no directories: a prefix exists while blobs lie below it.
    return Key(dir).status();
  }

 private:
  // The blob name of a path of this container ("" for the container itself).
  Result<std::string> Key(const std::string& path) const {
    size_t sep = path.find("://");
    size_t slash = sep == std::string::npos ? std::string::npos : path.find('/', sep + 3);
    std::string authority = path.substr(sep == std::string::npos ? 0 : sep + 3,
                                        slash == std::string::npos ? slash : slash - sep - 3);
    if (sep == std::string::npos || authority != root_.substr(root_.find("://") + 3)) {
      return Status::InvalidArgument("{} is not a location of {}", path, root_);
    }
    std::string key = slash == std::string::npos ? "" : path.substr(slash + 1);
    while (!key.empty() && key.front() == '/') key.erase(0, 1);
    return ObjectKey(root_ + "/" + key, root_);  // as written; a ".." above root_ is refused
  }

  static std::string DirPrefix(const std::string& key) { return key.empty() ? "" : key + "/"; }

  // Whether an unconditional request of the same credentials (one listing entry beside `key`)
  // is accepted.
  bool PlainRequestsPass(const std::string& key) const {
    std::vector<BlobItem> items;
    size_t slash = key.rfind('/');
    return ListBlobs(key, slash == std::string::npos ? "" : key.substr(0, slash + 1), true, 1,
                     items)
        .ok();
  }

  AzureRequest PutRequest(const std::string& key, const std::string& content) const {
    AzureRequest request("PUT", container_, key);
    request.headers = {{"x-ms-blob-type", "BlockBlob"},
                       {"content-type", "application/octet-stream"}};
    request.body = content;
    return request;
  }

  std::string PathOf(const std::string& name) const { return root_ + "/" + name; }

  std::vector<FileEntry> Entries(const std::vector<BlobItem>& items) const {
    std::vector<FileEntry> out;
    out.reserve(items.size());
    for (const auto& item : items) {
      out.push_back(
          FileEntry{PathOf(item.name), item.size, item.mtime_ms, item.is_prefix, item.etag});
    }
    std::sort(out.begin(), out.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return out;
  }

  Status ListBlobs(const std::string& path, const std::string& prefix, bool delimited, size_t limit,
                   std::vector<BlobItem>& out) const;
  // on_page(items of one page) for each page until it returns false or the listing ends.
  Status ListBlobPages(const std::string& path, const std::string& prefix, bool delimited,
                       int page_size,
                       const std::function<bool(std::vector<BlobItem>&)>& on_page) const;
  Status ParseListPage(const std::string& path, const std::string& body, std::vector<BlobItem>& out,
                       std::string& next_marker) const;
  static void Prune(std::vector<BlobItem>& items, size_t prefix_size, const std::string& marker);
  Status Error(const AzureResponse& r, const std::string& path, const char* action) const;

  AzureBlobClient client_;
  std::string root_;  ///< "az://container" as the locations spell it
  std::string container_;
  int page_size_;
};

Status AzureFileSystem::ListBlobs(const std::string& path, const std::string& prefix,
                                  bool delimited, size_t limit, std::vector<BlobItem>& out) const {
  const int page = limit > 0 ? static_cast<int>(std::min<size_t>(limit, page_size_)) : page_size_;
  return ListBlobPages(path, prefix, delimited, page, [&](std::vector<BlobItem>& items) {
    std::move(items.begin(), items.end(), std::back_inserter(out));
    return limit == 0 || out.size() < limit;
  });
}

Status AzureFileSystem::ListBlobPages(
    const std::string& path, const std::string& prefix, bool delimited, int page_size,
    const std::function<bool(std::vector<BlobItem>&)>& on_page) const {
  std::string marker;
  do {
    AzureRequest request("GET", container_, "", {{"restype", "container"}, {"comp", "list"}});
    if (!prefix.empty()) request.query.emplace_back("prefix", prefix);
    if (delimited) request.query.emplace_back("delimiter", "/");
    request.query.emplace_back("maxresults", std::to_string(page_size));
    if (!marker.empty()) request.query.emplace_back("marker", marker);
    DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(request));
    if (r.status != 200) return Error(r, path, "cannot list");
    std::vector<BlobItem> items;
    DL_RETURN_IF_ERROR(ParseListPage(path, r.body, items, marker));
    if (!on_page(items)) break;
  } while (!marker.empty());
  return Status::OK();
}

Status AzureFileSystem::ParseListPage(const std::string& path, const std::string& body,
                                      std::vector<BlobItem>& out, std::string& next_marker) const {
  pugi::xml_document doc;
  pugi::xml_node root;
  if (!doc.load_buffer(body.data(), body.size()) || !(root = doc.child("EnumerationResults"))) {
    return Status::Io("cannot list {}: Azure answered a listing that is not EnumerationResults XML",
                      path);
  }
  for (pugi::xml_node node : root.child("Blobs").children()) {
    BlobItem item;
    item.name = ItemName(node.child("Name"));
    if (std::string_view(node.name()) == "BlobPrefix") {
      item.is_prefix = true;
      while (!item.name.empty() && item.name.back() == '/') item.name.pop_back();
    } else if (std::string_view(node.name()) == "Blob") {
      pugi::xml_node props = node.child("Properties");
      item.size = std::strtoll(props.child_value("Content-Length"), nullptr, 10);
      item.mtime_ms = HttpDateMs(props.child_value("Last-Modified"));
      item.etag = BareEtag(props.child_value("Etag"));
    } else {
      continue;
    }
    out.push_back(std::move(item));
  }
  next_marker = root.child_value("NextMarker");
  return Status::OK();
}

// Drops every blob inside a sub-"directory" D (below the listed one) that holds an entry
// named `marker` (D/marker or D/marker/...), as the local ListRecursive skips such dirs.
void AzureFileSystem::Prune(std::vector<BlobItem>& items, size_t prefix_size,
                            const std::string& marker) {
  std::set<std::string> pruned;  // D, relative to the listed directory
  for (const auto& item : items) {
    std::string_view rel = std::string_view(item.name).substr(prefix_size);
    for (size_t pos = rel.find('/'); pos != std::string_view::npos; pos = rel.find('/', pos + 1)) {
      std::string_view rest = rel.substr(pos + 1);
      if (rest == marker || rest.substr(0, marker.size() + 1) == marker + "/") {
        pruned.emplace(rel.substr(0, pos));
      }
    }
  }
  if (pruned.empty()) return;
  std::erase_if(items, [&](const BlobItem& item) {
    std::string_view rel = std::string_view(item.name).substr(prefix_size);
    for (size_t pos = rel.find('/'); pos != std::string_view::npos; pos = rel.find('/', pos + 1)) {
      if (pruned.count(std::string(rel.substr(0, pos)))) return true;
    }
    return false;
  });
}

Status AzureFileSystem::Error(const AzureResponse& r, const std::string& path,
                              const char* action) const {
  const std::string code = r.ErrorCode();
  std::string message;
  if (r.status == 403) {
    message = fmt::format(
        "{} {}: authentication failed for Azure account {} (container {}): check the account "
        "key or SAS token and its permissions ({})",
        action, path, client_.account(), container_, code.empty() ? "HTTP 403" : code);
    return Status::InvalidArgument("{}", client_.Redact(message));
  }
  if (code == "ContainerNotFound") {
    return Status::InvalidArgument("{} {}: container {} does not exist in Azure account {}", action,
                                   path, container_, client_.account());
  }
  if (r.status == 404) return Status::NotFound("{} {}: not found", action, path);
  std::string detail;
  pugi::xml_document doc;
  if (doc.load_buffer(r.body.data(), r.body.size())) {
    // Its first line (not RequestId/Time), never <AuthenticationErrorDetail> (string to sign).
    detail = http::ServerErrorMessage(doc.child("Error").child_value("Message"));
  }
  message = fmt::format("{} {}: Azure answered HTTP {}{}{}", action, path, r.status,
                        code.empty() ? "" : " " + code, detail.empty() ? "" : ": " + detail);
  return Status::Io("{}", client_.Redact(message));
}

Status AzureFileSystem::Rename(const std::string& from, const std::string& to) {
  DL_ASSIGN_OR_RETURN(std::string from_key, Key(from));
  DL_ASSIGN_OR_RETURN(std::string to_key, Key(to));
  // Copy Blob + Delete: not atomic, so never for commits (those use PutIfAbsent).
  AzureRequest copy("PUT", container_, to_key);
  copy.headers["x-ms-copy-source"] = client_.CopySourceUrl(container_, from_key);
  DL_ASSIGN_OR_RETURN(AzureResponse r, client_.Send(copy));
  if (r.status == 404 && r.ErrorCode() != "ContainerNotFound") {
    auto entry = Stat(from);
    if (entry.ok() && entry->is_dir) {
      return Status::Unsupported("cannot rename {}: a directory on Azure Blob storage", from);
    }
  }
  if (r.status != 202 && r.status != 201) return Error(r, from, "cannot rename");
  // A same-account copy is usually done at once; otherwise wait for it (up to ~2 minutes).
  for (int i = 0; r.Header("x-ms-copy-status") == "pending" && i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    DL_ASSIGN_OR_RETURN(r, client_.Send(AzureRequest("HEAD", container_, to_key)));
    if (r.status != 200) return Error(r, to, "cannot rename to");
  }
  if (r.Header("x-ms-copy-status") != "success") {
    return Status::Io("cannot rename {} to {}: the copy ended with status '{}'", from, to,
                      r.Header("x-ms-copy-status"));
  }
  return Delete(from);
}

}  // namespace

Result<AzureAuthority> ParseAzureAuthority(const std::string& authority) {
  AzureAuthority out;
  size_t at = authority.find('@');
  out.container = authority.substr(0, at);
  if (at != std::string::npos) {
    std::string host = authority.substr(at + 1);
    for (const char* suffix : {".dfs.core.windows.net", ".blob.core.windows.net"}) {
      std::string_view s(suffix);
      if (host.size() > s.size() && host.compare(host.size() - s.size(), s.size(), s) == 0) {
        out.account = host.substr(0, host.size() - s.size());
      }
    }
    if (out.account.empty() || out.account.find('.') != std::string::npos) {
      return Status::InvalidArgument(
          "'{}': expected container@account.dfs.core.windows.net or "
          "container@account.blob.core.windows.net",
          authority);
    }
  }
  if (out.container.empty() || out.container.find_first_of(".:") != std::string::npos) {
    return Status::InvalidArgument("'{}': no Azure container name before the path", authority);
  }
  return out;
}

Result<std::unique_ptr<FileSystem>> MakeAzureFileSystemPaged(const std::string& scheme,
                                                             const std::string& authority,
                                                             const StorageOptions& options,
                                                             int list_page_size) {
  DL_ASSIGN_OR_RETURN(AzureAuthority where, ParseAzureAuthority(authority));
  if (!where.account.empty() && scheme != "abfs" && scheme != "abfss") {
    // DuckDB (data files) and delta-rs read "az://x.y/..." as account x.y: they would not see
    // the container the commits go to.
    return Status::InvalidArgument(
        "{}://{}: container@account is the abfss:// form; write {}://{}/... with the account in "
        "storage_options (azure_storage_account_name), or abfss://{}",
        scheme, authority, scheme, where.container, authority);
  }
  auto settings = ResolveAzureSettings(options, where.account);
  if (!settings.ok()) return settings.status().WithContext(scheme + "://" + authority);
  DL_ASSIGN_OR_RETURN(AzureBlobClient client, AzureBlobClient::Make(std::move(settings).value()));
  return std::unique_ptr<FileSystem>(new AzureFileSystem(
      std::move(client), scheme + "://" + authority, where.container, list_page_size));
}

Result<std::unique_ptr<FileSystem>> MakeAzureFileSystem(const std::string& scheme,
                                                        const std::string& authority,
                                                        const StorageOptions& options) {
  return MakeAzureFileSystemPaged(scheme, authority, options, 5000);
}

}  // namespace dl
