// StatMany: many Stat calls at once (on an object store each is a round trip).
#pragma once

#include <string>
#include <vector>

#include "dl/storage/file_system.hpp"

namespace dl {

/// Stat every path, up to `parallel` at a time; the results are in the order of `paths`.
std::vector<Result<FileEntry>> StatMany(FileSystem& fs, const std::vector<std::string>& paths,
                                        int parallel = 16);

}  // namespace dl
