// Default implementations of the optional FileSystem operations.
#include "dl/storage/file_system.hpp"

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

}  // namespace dl
