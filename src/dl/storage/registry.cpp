// The storage registry and the routing FileSystem.
#include "dl/storage/registry.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "dl/storage/azure_file_system.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/s3_file_system.hpp"

namespace dl {

StorageOptions StorageConfig::For(const std::string& location) const {
  StorageOptions out = global;
  std::vector<const StorageScope*> matching;
  for (const auto& scope : scopes) {
    if (IsSameOrInside(location, scope.prefix)) matching.push_back(&scope);
  }
  std::stable_sort(matching.begin(), matching.end(), [](const auto* a, const auto* b) {
    return a->prefix.size() < b->prefix.size();
  });
  for (const auto* scope : matching) {
    for (const auto& [key, value] : scope->options) out[key] = value;
  }
  return out;
}

namespace {

// One line per backend: a new backend is a factory here and its own file beside this one.
const std::map<std::string, FileSystemFactory, std::less<>>& Backends() {
  static const auto* backends = new std::map<std::string, FileSystemFactory, std::less<>>{
      {"", [](const std::string&, const std::string&,
              const StorageOptions&) -> Result<std::unique_ptr<FileSystem>> {
         return MakeLocalFileSystem();
       }},
      {"s3", MakeS3FileSystem},
      {"s3a", MakeS3FileSystem},
      {"az", MakeAzureFileSystem},
      {"azure", MakeAzureFileSystem},
      {"abfs", MakeAzureFileSystem},
      {"abfss", MakeAzureFileSystem},
  };
  return *backends;
}

// Routes each call to the backend of the path's scheme and authority.
class RoutingFileSystem final : public FileSystem {
 public:
  explicit RoutingFileSystem(StorageConfig config) : config_(std::move(config)) {}

  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(dir));
    return fs->List(dir);
  }
  Result<std::vector<FileEntry>> ListRecursive(const std::string& dir,
                                               const std::string& prune_marker) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(dir));
    return fs->ListRecursive(dir, prune_marker);
  }
  Result<FileEntry> Stat(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
    return fs->Stat(path);
  }
  Result<bool> Exists(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
    return fs->Exists(path);
  }
  Result<std::string> Read(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
    return fs->Read(path);
  }
  Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
    return fs->ReadRange(path, offset, length);
  }
  Status PutIfAbsent(const std::string& path, const std::string& content) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
    return fs->PutIfAbsent(path, content);
  }
  Status WriteAtomic(const std::string& path, const std::string& content) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
    return fs->WriteAtomic(path, content);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(from));
    DL_ASSIGN_OR_RETURN(FileSystem * to_fs, For(to));
    if (fs != to_fs) {
      return Status::InvalidArgument("cannot rename {} to {}: different storage", from, to);
    }
    return fs->Rename(from, to);
  }
  Status Delete(const std::string& path) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
    return fs->Delete(path);
  }
  Status CreateDirs(const std::string& dir) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(dir));
    return fs->CreateDirs(dir);
  }
  Result<std::vector<FileEntry>> ListAfter(const std::string& dir,
                                           const std::string& start_after) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(dir));
    return fs->ListAfter(dir, start_after);
  }
  Status ListEach(const std::string& dir, const std::string& start_after,
                  const std::function<bool(const FileEntry&)>& visit) override {
    DL_ASSIGN_OR_RETURN(FileSystem * fs, For(dir));
    return fs->ListEach(dir, start_after, visit);
  }
  int ListPageSize(const std::string& dir) override {
    auto fs = For(dir);
    return fs.ok() ? (*fs)->ListPageSize(dir) : 0;  // Stat reports why there is no backend
  }
  Status DeleteMany(const std::vector<std::string>& paths) override {
    std::map<FileSystem*, std::vector<std::string>> by_backend;
    for (const auto& path : paths) {
      DL_ASSIGN_OR_RETURN(FileSystem * fs, For(path));
      by_backend[fs].push_back(path);
    }
    for (auto& [fs, batch] : by_backend) DL_RETURN_IF_ERROR(fs->DeleteMany(batch));
    return Status::OK();
  }
  RequestCounts Requests() const override {
    RequestCounts total;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, fs] : made_) total += fs->Requests();
    return total;
  }

 private:
  Result<FileSystem*> For(const std::string& path) {
    const std::string scheme = UriScheme(path);
    const std::string authority = UriAuthority(path);
    StorageOptions options = scheme.empty() ? StorageOptions{} : config_.For(path);
    std::string key = scheme + "://" + authority;
    for (const auto& [k, v] : options) key += "\n" + k + "=" + v;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = made_.find(key);
    if (it != made_.end()) return it->second.get();
    const FileSystemFactory* factory = FindBackend(scheme);
    if (factory == nullptr) {
      return Status::InvalidArgument("{}: no storage backend serves the scheme '{}:'", path,
                                     scheme);
    }
    DL_ASSIGN_OR_RETURN(auto fs, (*factory)(scheme, authority, options));
    FileSystem* raw = fs.get();
    made_.emplace(std::move(key), std::move(fs));
    return raw;
  }

  StorageConfig config_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FileSystem>> made_;
};

}  // namespace

const FileSystemFactory* FindBackend(std::string_view scheme) {
  const auto& backends = Backends();
  auto it = backends.find(scheme);
  return it == backends.end() ? nullptr : &it->second;
}

std::unique_ptr<FileSystem> MakeFileSystem(StorageConfig config) {
  return std::make_unique<RoutingFileSystem>(std::move(config));
}

Result<std::unique_ptr<FileSystem>> MakeFileSystemFor(const std::string& location,
                                                      const StorageConfig& config) {
  const std::string scheme = UriScheme(location);
  const FileSystemFactory* factory = FindBackend(scheme);
  if (factory == nullptr) {
    return Status::InvalidArgument("{}: no storage backend serves the scheme '{}:'", location,
                                   scheme);
  }
  return (*factory)(scheme, UriAuthority(location),
                    scheme.empty() ? StorageOptions{} : config.For(location));
}

}  // namespace dl
