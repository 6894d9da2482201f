// StatMany, ReadMany, ReadRangeMany: many calls at once on up to `parallel` threads.
#include "dl/storage/stat_many.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

namespace dl {
namespace {

// Calls work(i) for every i < count, on up to `parallel` threads (this one included).
void ParallelFor(size_t count, int parallel, const std::function<void(size_t)>& work) {
  std::atomic<size_t> next{0};
  auto loop = [&] {
    for (size_t i = next++; i < count; i = next++) work(i);
  };
  const size_t helpers = std::min(count, static_cast<size_t>(std::max(parallel, 1))) - 1;
  std::vector<std::thread> threads;
  for (size_t t = 0; t < helpers && count > 1; ++t) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
}

}  // namespace

std::vector<Result<FileEntry>> StatMany(FileSystem& fs, const std::vector<std::string>& paths,
                                        int parallel) {
  std::vector<Result<FileEntry>> out(paths.size(), Status::Internal("not stat'ed"));
  ParallelFor(paths.size(), parallel, [&](size_t i) { out[i] = fs.Stat(paths[i]); });
  return out;
}

std::vector<Result<std::string>> ReadMany(FileSystem& fs, const std::vector<std::string>& paths,
                                          int parallel) {
  std::vector<Result<std::string>> out(paths.size(), Status::Internal("not read"));
  ParallelFor(paths.size(), parallel, [&](size_t i) { out[i] = fs.Read(paths[i]); });
  return out;
}

std::vector<Result<std::string>> ReadRangeMany(FileSystem& fs,
                                               const std::vector<std::string>& paths,
                                               int64_t offset, int64_t length, int parallel) {
  std::vector<Result<std::string>> out(paths.size(), Status::Internal("not read"));
  ParallelFor(paths.size(), parallel,
              [&](size_t i) { out[i] = fs.ReadRange(paths[i], offset, length); });
  return out;
}

}  // namespace dl
