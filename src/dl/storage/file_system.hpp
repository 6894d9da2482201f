// FileSystem: the storage operations the Delta log and the loader need.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dl/common/status.hpp"

namespace dl {

struct FileEntry {
  std::string path;  ///< full path (List returns paths under the listed directory)
  int64_t size = 0;
  int64_t modification_time_ms = 0;
  bool is_dir = false;
  /// The object store's entity tag (S3 List/Stat); empty on the local filesystem.
  std::string etag;
};

/// Requests a FileSystem sent to its store, by kind (every attempt counts, retries too).
struct RequestCounts {
  int64_t list = 0;
  int64_t get = 0;
  int64_t head = 0;
  int64_t put = 0;
  int64_t del = 0;
  RequestCounts& operator+=(const RequestCounts& o);
  /// The requests sent since `earlier` (a count taken before from the same FileSystem).
  RequestCounts Since(const RequestCounts& earlier) const;
  int64_t total() const { return list + get + head + put + del; }
};

/// Storage behind a table. Paths are plain strings; the local implementation uses POSIX paths.
/// Object stores can implement the same interface later (PutIfAbsent maps to conditional PUT).
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  /// List the entries of a directory (not recursive), sorted by path. NotFound if missing.
  virtual Result<std::vector<FileEntry>> List(const std::string& dir) = 0;
  /// List every regular file below dir (recursive), sorted by path. A subdirectory that holds
  /// an entry named `prune_marker` (non-empty) is neither entered nor listed: VACUUM passes
  /// "_delta_log" so a table nested in another is never touched.
  virtual Result<std::vector<FileEntry>> ListRecursive(const std::string& dir,
                                                       const std::string& prune_marker) = 0;
  virtual Result<FileEntry> Stat(const std::string& path) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;
  virtual Result<std::string> Read(const std::string& path) = 0;
  /// Atomically create path with content; AlreadyExists if it exists. Never overwrites.
  virtual Status PutIfAbsent(const std::string& path, const std::string& content) = 0;
  /// Atomically replace path with content (temp file + rename). For files that may be
  /// overwritten by design, such as _last_checkpoint; never for commits.
  virtual Status WriteAtomic(const std::string& path, const std::string& content) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Delete(const std::string& path) = 0;
  virtual Status CreateDirs(const std::string& dir) = 0;

  /// The entries of dir whose name sorts after `start_after` (a name, not a path), sorted.
  /// Object stores list from there (Delta log listing from a checkpoint); the default
  /// filters List.
  virtual Result<std::vector<FileEntry>> ListAfter(const std::string& dir,
                                                   const std::string& start_after);
  /// visit(entry) for the entries of dir, page by page as the store answers (sorted within a
  /// page), until visit returns false: no further page is asked for. The listing starts after
  /// the name `start_after` where the store can (S3's start-after), else at the first entry:
  /// visit sees every entry the requests brought. A missing directory visits nothing. The
  /// default visits List's answer.
  virtual Status ListEach(const std::string& dir, const std::string& start_after,
                          const std::function<bool(const FileEntry&)>& visit);
  /// The most entries one listing request of dir answers, where listing a directory costs
  /// less than a Stat of each file in it (object stores: a Stat is a round trip); 0 where Stat
  /// is the cheap way (local disks). StatFiles lists or stats by it.
  virtual int ListPageSize(const std::string& /*dir*/) { return 0; }
  /// Delete every path; a missing one is not an error. Object stores batch the requests;
  /// the default deletes one by one and stops at the first error.
  virtual Status DeleteMany(const std::vector<std::string>& paths);
  /// At most `length` bytes of the file from byte `offset`: fewer at its end, none from an
  /// offset at or past it (not an error). NotFound if the file is missing, also for length 0.
  /// Object stores send one ranged GET; the default reads the whole file.
  virtual Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length);
  /// Requests sent so far; zero for the local filesystem.
  virtual RequestCounts Requests() const { return {}; }
};

/// The local POSIX filesystem. PutIfAbsent uses link() of a fully written, fsynced temp file.
std::unique_ptr<FileSystem> MakeLocalFileSystem();

/// InvalidArgument naming path if offset or length is negative (for ReadRange).
Status CheckReadRange(const std::string& path, int64_t offset, int64_t length);

/// The HTTP Range value "bytes=offset-last" of a ReadRange (length > 0).
std::string HttpByteRange(int64_t offset, int64_t length);

/// Join two path parts with exactly one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace dl
