// StatMany, StatFiles, ReadMany, ReadRangeMany: many calls at once on up to `parallel` threads.
#include "dl/storage/stat_many.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "dl/storage/paths.hpp"

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

// The directory and the name of a file's path, split at its last '/' by text alone (keys are
// used as written): "s3://b/raw" and "x.csv" of "s3://b/raw/x.csv".
std::pair<std::string_view, std::string_view> DirAndName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {{}, path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// `name` without its last (UTF-8) character: it sorts before `name` and after nearly every
// name below it, so a listing that starts after it skips the names before `name`.
std::string JustBefore(std::string_view name) {
  std::string out(name);
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty()) out.pop_back();
  return out;
}

// The answers for dir's files (`group`, indexes into paths) that one bounded listing of dir
// shows: out[i] set and met[i] true for each.
void ListGroup(FileSystem& fs, const std::string& dir, const std::vector<size_t>& group,
               const std::vector<std::string>& paths, const StatFilesOptions& options,
               std::vector<Result<FileEntry>>& out, std::vector<char>& met) {
  std::unordered_map<std::string_view, std::vector<size_t>> wanted;
  std::string_view first = DirAndName(paths[group.front()]).second;
  for (size_t i : group) {
    wanted[paths[i]].push_back(i);
    first = std::min(first, DirAndName(paths[i]).second);
  }
  const size_t bound = std::max(4 * group.size(), options.min_listed);
  size_t listed = 0;
  // A failed listing leaves its files to Stat, which says what is wrong.
  (void)fs.ListEach(dir, JustBefore(first), [&](const FileEntry& e) {
    auto it = e.is_dir ? wanted.end() : wanted.find(e.path);
    if (it != wanted.end()) {
      for (size_t i : it->second) {
        out[i] = e;
        met[i] = 1;
      }
      wanted.erase(it);
    }
    return !wanted.empty() && ++listed < bound;
  });
}

}  // namespace

std::vector<Result<FileEntry>> StatFiles(FileSystem& fs, const std::vector<std::string>& paths,
                                         const StatFilesOptions& options) {
  std::map<std::string_view, std::vector<size_t>> by_dir;
  for (size_t i = 0; i < paths.size(); ++i) by_dir[DirAndName(paths[i]).first].push_back(i);
  std::vector<std::pair<std::string, const std::vector<size_t>*>> listed;
  for (const auto& [dir, group] : by_dir) {
    std::string d(dir);
    if (group.size() >= options.min_group && fs.ListPageSize(d) > 0) listed.emplace_back(d, &group);
  }
  std::vector<Result<FileEntry>> out(paths.size(), Status::Internal("not stat'ed"));
  std::vector<char> met(paths.size(), 0);
  ParallelFor(listed.size(), options.parallel, [&](size_t g) {
    ListGroup(fs, listed[g].first, *listed[g].second, paths, options, out, met);
  });
  std::vector<std::string> rest;
  std::vector<size_t> rest_index;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (met[i]) continue;
    rest.push_back(paths[i]);
    rest_index.push_back(i);
  }
  std::vector<Result<FileEntry>> stats = StatMany(fs, rest, options.parallel);
  for (size_t k = 0; k < rest.size(); ++k) out[rest_index[k]] = std::move(stats[k]);
  return out;
}

bool SameModificationTime(const std::string& path, int64_t recorded_ms, int64_t now_ms) {
  if (recorded_ms == now_ms) return true;
  const bool whole_second = recorded_ms % 1000 == 0 || now_ms % 1000 == 0;
  return whole_second && IsUri(path) && recorded_ms / 1000 == now_ms / 1000;
}

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
