// Default implementations of the optional FileSystem operations.
#include "dl/storage/file_system.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "dl/storage/stat_many.hpp"

namespace dl {

RequestCounts& RequestCounts::operator+=(const RequestCounts& o) {
  list += o.list;
  get += o.get;
  head += o.head;
  put += o.put;
  del += o.del;
  return *this;
}

RequestCounts RequestCounts::Since(const RequestCounts& earlier) const {
  return {list - earlier.list, get - earlier.get, head - earlier.head, put - earlier.put,
          del - earlier.del};
}

Result<std::vector<FileEntry>> FileSystem::ListAfter(const std::string& dir,
                                                     const std::string& start_after) {
  DL_ASSIGN_OR_RETURN(auto entries, List(dir));
  std::vector<FileEntry> out;
  for (auto& e : entries) {
    auto slash = e.path.rfind('/');
    std::string_view name(e.path);
    if (slash != std::string::npos) name.remove_prefix(slash + 1);
    if (name > start_after) out.push_back(std::move(e));
  }
  return out;
}

Status FileSystem::DeleteMany(const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    Status st = Delete(path);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
  }
  return Status::OK();
}

std::vector<Result<FileEntry>> StatMany(FileSystem& fs, const std::vector<std::string>& paths,
                                        int parallel) {
  std::vector<Result<FileEntry>> out(paths.size(), Status::Internal("not stat'ed"));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < paths.size(); i = next++) out[i] = fs.Stat(paths[i]);
  };
  const size_t helpers = std::min(paths.size(), static_cast<size_t>(std::max(parallel, 1))) - 1;
  std::vector<std::thread> threads;
  for (size_t t = 0; t < helpers && paths.size() > 1; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return out;
}

}  // namespace dl
