// Staging directories a writer creates under a table root (`_dl_staging_<uuid>`) for data
// files before it moves them into the table, and who owns them.
//
// The owner is the file `_owner` inside: the writer holds an flock on it for as long as the
// directory lives and writes "pid host start_ms" into it. The kernel releases the lock when
// the writer dies, even by SIGKILL, so on one host "a live writer owns it" is exact. A
// directory owned from another host is never judged by its lock (locks over network file
// systems are not to be trusted); only VACUUM removes it, after the retention.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dl/common/status.hpp"

namespace dl {

inline constexpr char kStagingPrefix[] = "_dl_staging_";

/// A staging directory owned by this process; removed (with everything left in it) and
/// unlocked on destruction.
class StagingDir {
 public:
  /// Create `<table_root>/_dl_staging_<uuid>` and take ownership of it.
  static Result<StagingDir> Create(const std::string& table_root);
  StagingDir(StagingDir&& other) noexcept;
  StagingDir& operator=(StagingDir&&) = delete;
  ~StagingDir();

  const std::string& path() const { return path_; }

 private:
  StagingDir(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

struct StagingEntry {
  std::string path;  ///< the staging directory
  int64_t bytes = 0;
  int64_t modification_time_ms = 0;  ///< newest file (or the directory itself)
};

/// Staging directories under `table_root` that no live writer on this host owns: their
/// owner died (lock free), or they have no owner record and are older than a minute (left by
/// a writer killed before it recorded itself, or by versions before owners were recorded).
/// Directories owned from another host are not listed.
Result<std::vector<StagingEntry>> AbandonedStagingDirs(const std::string& table_root);

/// Staging directories under `table_root` not owned by a live writer on this host (owned
/// from another host counts as not live) whose newest file is older than `cutoff_ms`: what
/// VACUUM deletes.
Result<std::vector<StagingEntry>> StaleStagingDirs(const std::string& table_root,
                                                   int64_t cutoff_ms);

/// Delete a staging directory and everything in it.
Status RemoveStagingDir(const std::string& path);

}  // namespace dl
