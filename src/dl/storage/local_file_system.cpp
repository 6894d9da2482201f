// Local POSIX implementation of FileSystem.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "dl/storage/file_system.hpp"

namespace dl {
namespace {

namespace stdfs = std::filesystem;

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  if (err == ENOENT) return Status::NotFound("{} {}: {}", what, path, std::strerror(err));
  if (err == EEXIST) return Status::AlreadyExists("{} {}: {}", what, path, std::strerror(err));
  return Status::Io("{} {}: {}", what, path, std::strerror(err));
}

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

FileEntry EntryFromStat(const std::string& path, const struct stat& st) {
  return FileEntry{path, static_cast<int64_t>(st.st_size), MtimeMs(st), S_ISDIR(st.st_mode), {}};
}

std::string TempName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return fmt::format("{}/.{}.{:x}{:x}.tmp", dir, base, rng(), counter++);
}

// Write content to a new temp file and fsync it, so a published name never points at a
// partially written file.
Result<std::string> WriteTemp(const std::string& path, const std::string& content) {
  std::string tmp = TempName(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", tmp, errno);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus("cannot write", tmp, err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoStatus("cannot fsync", tmp, err);
  }
  ::close(fd);
  return tmp;
}

class LocalFileSystem final : public FileSystem {
 public:
  Result<std::vector<FileEntry>> List(const std::string& dir) override {
    std::vector<FileEntry> out;
    std::error_code ec;
    stdfs::directory_iterator it(dir, ec);
    if (ec) return ErrnoStatus("cannot list", dir, ec.value());
    for (const auto& de : it) {
      struct stat st;
      std::string p = de.path().string();
      if (::stat(p.c_str(), &st) != 0) continue;  // vanished while listing
      out.push_back(EntryFromStat(p, st));
    }
    std::sort(out.begin(), out.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return out;
  }

  Result<std::vector<FileEntry>> ListRecursive(const std::string& dir,
                                               const std::string& prune_marker) override {
    std::vector<FileEntry> out;
    std::error_code ec;
    stdfs::recursive_directory_iterator it(dir, ec);
    if (ec) return ErrnoStatus("cannot list", dir, ec.value());
    for (auto end = stdfs::recursive_directory_iterator(); it != end; it.increment(ec)) {
      if (ec) return ErrnoStatus("cannot list", dir, ec.value());
      struct stat st;
      std::string p = it->path().string();
      if (!prune_marker.empty() && it->is_directory(ec) && !it->is_symlink(ec) &&
          ::lstat((p + "/" + prune_marker).c_str(), &st) == 0) {
        it.disable_recursion_pending();
        continue;
      }
      if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out.push_back(EntryFromStat(p, st));
    }
    std::sort(out.begin(), out.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return out;
  }

  Result<FileEntry> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("cannot stat", path, errno);
    return EntryFromStat(path, st);
  }

  Result<bool> Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return ErrnoStatus("cannot stat", path, errno);
  }

  Result<std::string> Read(const std::string& path) override {
    return ReadRange(path, 0, std::numeric_limits<int64_t>::max());
  }

  Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) override {
    DL_RETURN_IF_ERROR(CheckReadRange(path, offset, length));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open", path, errno);
    std::string out;
    char buf[1 << 16];
    while (static_cast<int64_t>(out.size()) < length) {
      size_t want = static_cast<size_t>(
          std::min<int64_t>(sizeof(buf), length - static_cast<int64_t>(out.size())));
      ssize_t n = ::pread(fd, buf, want, offset + static_cast<off_t>(out.size()));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return ErrnoStatus("cannot read", path, err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Status PutIfAbsent(const std::string& path, const std::string& content) override {
    DL_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, content));
    // link() fails with EEXIST instead of replacing: the put-if-absent the protocol requires.
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
      if (err == EEXIST) return Status::AlreadyExists("{} already exists", path);
      return ErrnoStatus("cannot publish", path, err);
    }
    return Status::OK();
  }

  Status WriteAtomic(const std::string& path, const std::string& content) override {
    DL_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, content));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus("cannot replace", path, err);
    }
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("cannot rename", from, errno);
    return Status::OK();
  }

  Status Delete(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) {
      if (errno == EISDIR || errno == EPERM) {
        if (::rmdir(path.c_str()) == 0) return Status::OK();
      }
      return ErrnoStatus("cannot delete", path, errno);
    }
    return Status::OK();
  }

  Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    stdfs::create_directories(dir, ec);
    if (ec) return ErrnoStatus("cannot create directory", dir, ec.value());
    return Status::OK();
  }
};

}  // namespace

std::unique_ptr<FileSystem> MakeLocalFileSystem() { return std::make_unique<LocalFileSystem>(); }

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  bool a_slash = a.back() == '/';
  bool b_slash = b.front() == '/';
  if (a_slash && b_slash) return a + b.substr(1);
  if (a_slash || b_slash) return a + b;
  return a + "/" + b;
}

}  // namespace dl
