// StatMany, ReadMany, ReadRangeMany: many calls at once (on an object store each is a round trip).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dl/storage/file_system.hpp"

namespace dl {

/// Stat every path, up to `parallel` at a time; the results are in the order of `paths`.
std::vector<Result<FileEntry>> StatMany(FileSystem& fs, const std::vector<std::string>& paths,
                                        int parallel = 16);

/// Read every path, up to `parallel` at a time; the results are in the order of `paths`.
std::vector<Result<std::string>> ReadMany(FileSystem& fs, const std::vector<std::string>& paths,
                                          int parallel = 16);

/// ReadRange(path, offset, length) of every path, up to `parallel` at a time; the results are
/// in the order of `paths`.
std::vector<Result<std::string>> ReadRangeMany(FileSystem& fs,
                                               const std::vector<std::string>& paths,
                                               int64_t offset, int64_t length, int parallel = 16);

}  // namespace dl
