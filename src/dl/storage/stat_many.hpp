// StatMany, StatFiles, ReadMany, ReadRangeMany: many calls at once (on an object store each is a
// round trip).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dl/storage/file_system.hpp"

namespace dl {

/// Stat every path, up to `parallel` at a time; the results are in the order of `paths`.
std::vector<Result<FileEntry>> StatMany(FileSystem& fs, const std::vector<std::string>& paths,
                                        int parallel = 16);

struct StatFilesOptions {
  int parallel = 16;
  /// Fewer files of one directory than this are stat'ed one by one.
  size_t min_group = 8;
  /// A directory's listing stops after max(4 x its files, this) entries: a directory holding
  /// many other files costs no more requests than a Stat of each file would.
  size_t min_listed = 1000;
};

/// What StatMany(fs, paths) answers, in fewer requests on object stores: the files of one
/// directory (options.min_group or more, where fs.ListPageSize says a listing is cheaper) are
/// taken from one listing of it, which starts just before the first name where the store can
/// (ListEach) and stops when every file was met or at the bound. A file the listing did not
/// show (gone, past the bound, a directory now, a key with "//") is stat'ed, so its answer is
/// always Stat's.
std::vector<Result<FileEntry>> StatFiles(FileSystem& fs, const std::vector<std::string>& paths,
                                         const StatFilesOptions& options = {});

/// Whether a file's modification time now (StatFiles) is the one recorded for it (a listing
/// or a Stat). A HEAD's Last-Modified has whole seconds, where some S3-compatible stores list
/// milliseconds (MinIO; AWS lists .000, Azure and versitygw whole seconds): on an object
/// store a whole-second time matches any time within that second. Local times compare as
/// they are.
bool SameModificationTime(const std::string& path, int64_t recorded_ms, int64_t now_ms);

/// Read every path, up to `parallel` at a time; the results are in the order of `paths`.
std::vector<Result<std::string>> ReadMany(FileSystem& fs, const std::vector<std::string>& paths,
                                          int parallel = 16);

/// ReadRange(path, offset, length) of every path, up to `parallel` at a time; the results are
/// in the order of `paths`.
std::vector<Result<std::string>> ReadRangeMany(FileSystem& fs,
                                               const std::vector<std::string>& paths,
                                               int64_t offset, int64_t length, int parallel = 16);

}  // namespace dl
