// Default implementations of the optional FileSystem operations.
#include "dl/storage/file_system.hpp"

#include <limits>

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

Status FileSystem::ListEach(const std::string& dir, const std::string&,
                            const std::function<bool(const FileEntry&)>& visit) {
  auto entries = List(dir);
  if (!entries.ok()) {
    return entries.status().code() == StatusCode::kNotFound ? Status::OK() : entries.status();
  }
  for (const auto& e : *entries) {
    if (!visit(e)) break;
  }
  return Status::OK();
}

Status FileSystem::DeleteMany(const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    Status st = Delete(path);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
  }
  return Status::OK();
}

Status CheckReadRange(const std::string& path, int64_t offset, int64_t length) {
  if (offset >= 0 && length >= 0) return Status::OK();
  return Status::InvalidArgument("cannot read {}: negative offset {} or length {}", path, offset,
                                 length);
}

std::string HttpByteRange(int64_t offset, int64_t length) {
  const int64_t last = length > std::numeric_limits<int64_t>::max() - offset
                           ? std::numeric_limits<int64_t>::max()
                           : offset + length - 1;
  return "bytes=" + std::to_string(offset) + "-" + std::to_string(last);
}

Result<std::string> FileSystem::ReadRange(const std::string& path, int64_t offset, int64_t length) {
  DL_RETURN_IF_ERROR(CheckReadRange(path, offset, length));
  DL_ASSIGN_OR_RETURN(std::string all, Read(path));
  if (static_cast<uint64_t>(offset) >= all.size()) return std::string();
  return all.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

}  // namespace dl
