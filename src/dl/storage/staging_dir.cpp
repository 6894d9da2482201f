#include "dl/storage/staging_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "dl/common/clock.hpp"
#include "dl/storage/file_system.hpp"

namespace dl {
namespace {

namespace stdfs = std::filesystem;

constexpr char kOwnerFile[] = "_owner";
// A directory without an owner record younger than this may belong to a writer that has
// created it and not yet locked it.
constexpr int64_t kUnrecordedGraceMs = 60 * 1000;

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

enum class Owner { kLive, kDead, kForeign, kNoRecord };

// Who owns `dir`: a live writer holds the lock; a dead one left it free with its record.
Owner ProbeOwner(const std::string& dir) {
  int fd = ::open(JoinPath(dir, kOwnerFile).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Owner::kNoRecord;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Owner::kLive;  // EWOULDBLOCK; any other failure is also no proof of death
  }
  char buf[512] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  ::close(fd);                          // releases the lock
  if (n <= 0) return Owner::kNoRecord;  // created, not yet recorded (or a crash in between)
  std::istringstream record(std::string(buf, static_cast<size_t>(n)));
  std::string pid, host;
  record >> pid >> host;
  return host == HostName() ? Owner::kDead : Owner::kForeign;
}

StagingEntry Describe(const stdfs::directory_entry& dir) {
  StagingEntry out{dir.path().string(), 0, 0};
  auto mtime = [](const stdfs::path& p) -> int64_t {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) return 0;
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  };
  out.modification_time_ms = mtime(dir.path());
  std::error_code ec;
  for (stdfs::recursive_directory_iterator it(dir.path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    out.modification_time_ms = std::max(out.modification_time_ms, mtime(it->path()));
    if (it->is_regular_file(ec)) out.bytes += static_cast<int64_t>(it->file_size(ec));
  }
  return out;
}

// Staging directories under table_root, each with its owner.
Result<std::vector<std::pair<Owner, StagingEntry>>> ListStaging(const std::string& table_root) {
  std::vector<std::pair<Owner, StagingEntry>> out;
  std::error_code ec;
  stdfs::directory_iterator it(table_root, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  if (ec) return Status::Io("cannot list {}: {}", table_root, ec.message());
  for (stdfs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return Status::Io("cannot list {}: {}", table_root, ec.message());
    if (!it->path().filename().string().starts_with(kStagingPrefix) || !it->is_directory(ec)) {
      continue;
    }
    out.emplace_back(ProbeOwner(it->path().string()), Describe(*it));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second.path < b.second.path; });
  return out;
}

}  // namespace

Result<StagingDir> StagingDir::Create(const std::string& table_root) {
  std::error_code ec;
  stdfs::create_directories(table_root, ec);
  if (ec) return Status::Io("cannot create {}: {}", table_root, ec.message());
  // A new directory, never an existing one (another writer's, or a dead writer's that is
  // about to be removed): a uuid repeats only where a process forked with its generator.
  std::string path;
  for (bool created = false; !created;) {
    path = JoinPath(table_root, kStagingPrefix + NewUuid());
    created = stdfs::create_directory(path, ec);
    if (ec) return Status::Io("cannot create staging directory {}: {}", path, ec.message());
  }
  std::string owner = JoinPath(path, kOwnerFile);
  int fd = ::open(owner.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Io("cannot create {}: {}", owner, std::strerror(errno));
  StagingDir dir(path, fd);  // from here on, destruction removes the directory
  // Blocking: a cleaner probing the new, still unrecorded directory holds the lock briefly.
  if (::flock(fd, LOCK_EX) != 0) {
    return Status::Io("cannot lock {}: {}", owner, std::strerror(errno));
  }
  // Recorded only once locked: a record whose lock is free proves its writer is gone.
  std::string record = fmt::format("{} {} {}\n", ::getpid(), HostName(), NowMs());
  if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) {
    return Status::Io("cannot write {}: {}", owner, std::strerror(errno));
  }
  return dir;
}

StagingDir::StagingDir(StagingDir&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {
  other.path_.clear();
}

StagingDir::~StagingDir() {
  if (path_.empty()) return;
  std::error_code ec;
  stdfs::remove_all(path_, ec);  // before unlocking: a cleaner never sees a free, full dir
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<StagingEntry>> AbandonedStagingDirs(const std::string& table_root) {
  DL_ASSIGN_OR_RETURN(auto all, ListStaging(table_root));
  std::vector<StagingEntry> out;
  const int64_t now = NowMs();
  for (auto& [owner, entry] : all) {
    bool abandoned =
        owner == Owner::kDead ||
        (owner == Owner::kNoRecord && entry.modification_time_ms + kUnrecordedGraceMs < now);
    if (abandoned) out.push_back(std::move(entry));
  }
  return out;
}

Result<std::vector<StagingEntry>> StaleStagingDirs(const std::string& table_root,
                                                   int64_t cutoff_ms) {
  DL_ASSIGN_OR_RETURN(auto all, ListStaging(table_root));
  std::vector<StagingEntry> out;
  for (auto& [owner, entry] : all) {
    if (owner != Owner::kLive && entry.modification_time_ms <= cutoff_ms) {
      out.push_back(std::move(entry));
    }
  }
  return out;
}

Status RemoveStagingDir(const std::string& path) {
  std::error_code ec;
  stdfs::remove_all(path, ec);
  if (ec) return Status::Io("cannot remove staging directory {}: {}", path, ec.message());
  return Status::OK();
}

}  // namespace dl
