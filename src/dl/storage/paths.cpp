// Path spellings: lexical normalisation for URIs, realpath of the existing prefix locally.
#include "dl/storage/paths.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <vector>

#include "dl/storage/registry.hpp"

namespace dl {
namespace {

// Length of "scheme://authority" in a URI, 0 for local paths.
size_t UriRootLength(std::string_view path) {
  size_t sep = path.find("://");
  if (sep == std::string_view::npos || sep == 0) return 0;
  for (size_t i = 0; i < sep; ++i) {
    char c = path[i];
    bool scheme_char =
        std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    if (!scheme_char) return 0;
  }
  size_t slash = path.find('/', sep + 3);
  return slash == std::string_view::npos ? path.size() : slash;
}

// Fold the '/'-separated segments of `rest`; `rooted` paths cannot climb above their root.
std::string NormalSegments(std::string_view rest, bool rooted) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    if (slash == std::string_view::npos) slash = rest.size();
    std::string_view seg = rest.substr(start, slash - start);
    start = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
        continue;
      }
      if (rooted) continue;
    }
    parts.push_back(seg);
  }
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return {};
  return buf;
}

}  // namespace

bool IsUri(std::string_view path) { return UriRootLength(path) > 0; }

std::string LexicallyNormal(std::string_view path) {
  if (path.empty()) return {};
  if (size_t root = UriRootLength(path)) {
    std::string rest = NormalSegments(path.substr(root), /*rooted=*/true);
    return std::string(path.substr(0, root)) + (rest.empty() ? "" : "/" + rest);
  }
  const bool absolute = path.front() == '/';
  std::string rest = NormalSegments(path, absolute);
  if (absolute) return "/" + rest;
  return rest.empty() ? "." : rest;
}

std::string CanonicalPath(const std::string& path) {
  if (path.empty() || IsUri(path)) return LexicallyNormal(path);
  // realpath the longest prefix that exists (it resolves symlinks and "..", which text alone
  // cannot); the missing tail cannot hold symlinks yet.
  std::string head = path;
  std::string tail;
  std::string resolved = RealPath(head);
  while (resolved.empty()) {
    std::string normal = LexicallyNormal(head);
    size_t slash = normal.rfind('/');
    if (normal == "/" || normal == ".") return LexicallyNormal(path);  // unreadable root/cwd
    std::string last = slash == std::string::npos ? normal : normal.substr(slash + 1);
    tail = tail.empty() ? last : last + "/" + tail;
    head = slash == std::string::npos ? "." : slash == 0 ? "/" : normal.substr(0, slash);
    if (last == "..") return LexicallyNormal(path);  // climbs out of a missing directory
    resolved = RealPath(head);
  }
  std::string out = LexicallyNormal(tail.empty() ? resolved : resolved + "/" + tail);
  if (path.front() == '/') return out;
  // Keep relative configs relative: their older tracker rows spell files that way.
  std::string cwd = RealPath(".");
  if (out == cwd) return ".";
  if (!cwd.empty() && cwd != "/" && out.size() > cwd.size() &&
      out.compare(0, cwd.size(), cwd) == 0 && out[cwd.size()] == '/')
    return out.substr(cwd.size() + 1);
  if (cwd == "/" && out.size() > 1) return out.substr(1);
  return out;
}

Result<std::string> ObjectKey(const std::string& path, const std::string& root) {
  if (path == root) return std::string();
  if (path.size() <= root.size() || path.compare(0, root.size(), root) != 0 ||
      path[root.size()] != '/') {
    return Status::InvalidArgument("{} is not a location in {}", path, root);
  }
  std::string key = path.substr(root.size() + 1);
  while (!key.empty() && key.back() == '/') key.pop_back();
  int depth = 0;
  for (size_t start = 0; start <= key.size();) {
    size_t slash = std::min(key.find('/', start), key.size());
    std::string_view segment = std::string_view(key).substr(start, slash - start);
    if (segment == ".." && --depth < 0) {
      return Status::InvalidArgument(
          "{}: its '..' segments climb above {} (object keys are used as written, so this "
          "would name an object outside it)",
          path, root);
    }
    if (!segment.empty() && segment != "." && segment != "..") ++depth;
    start = slash + 1;
  }
  return key;
}

Status CheckUriStaysInRoot(const std::string& location) {
  const size_t root = UriRootLength(location);
  if (root == 0) return Status::OK();
  return ObjectKey(location, location.substr(0, root)).status();
}

bool IsSameOrInside(std::string_view inner, std::string_view outer) {
  if (outer.empty() || inner.size() < outer.size()) return false;
  if (inner.compare(0, outer.size(), outer) != 0) return false;
  return inner.size() == outer.size() || outer.back() == '/' || inner[outer.size()] == '/';
}

bool HasSegment(std::string_view path, std::string_view name) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (path.substr(start, slash - start) == name) return true;
    start = slash + 1;
  }
  return false;
}

namespace {

// "s3" of "s3://b/k", "dbfs" of "dbfs:/x"; empty for plain paths. One-letter schemes are
// taken for paths ("c:/x" is a directory named "c:" here).
std::string_view SchemeOf(std::string_view location) {
  size_t colon = location.find(':');
  if (colon == std::string_view::npos || colon < 2 || colon + 1 >= location.size() ||
      location[colon + 1] != '/' || !std::isalpha(static_cast<unsigned char>(location[0]))) {
    return {};
  }
  for (size_t i = 1; i < colon; ++i) {
    char c = location[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
  }
  return location.substr(0, colon);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// On a Databricks driver, the original's "/mnt/raw/..." means the DBFS mount dbfs:/mnt/raw,
// which the driver sees at /dbfs/mnt/raw. A real local /mnt/<name> keeps its meaning.
std::string ResolveDatabricksMount(const std::string& location, const std::string& dbfs_root) {
  if (location != "/mnt" && location.rfind("/mnt/", 0) != 0) return location;
  const char* runtime = std::getenv("DATABRICKS_RUNTIME_VERSION");
  if (runtime == nullptr || *runtime == '\0' || !IsDir(dbfs_root)) return location;
  const size_t end = location.find('/', 5);
  const std::string mount = location.substr(0, end);  // "/mnt/<name>"
  if (mount.size() > 5 && IsDir(mount)) return location;
  return dbfs_root + location;
}

}  // namespace

std::string UriScheme(std::string_view location) { return Lower(SchemeOf(location)); }

std::string UriAuthority(std::string_view location) {
  std::string_view scheme = SchemeOf(location);
  if (scheme.empty()) return {};
  std::string_view rest = location.substr(scheme.size() + 1);
  if (rest.rfind("//", 0) != 0) return {};
  rest.remove_prefix(2);
  return std::string(rest.substr(0, rest.find('/')));
}

Result<std::string> ResolveLocation(const std::string& location, const std::string& dbfs_root) {
  const std::string scheme = UriScheme(location);
  if (scheme.empty()) return ResolveDatabricksMount(location, dbfs_root);
  std::string_view rest = std::string_view(location).substr(scheme.size() + 1);  // after ':'
  if (scheme == "file") {
    // file:/x, file:///x and file://localhost/x are the local /x.
    if (rest.rfind("//", 0) == 0) {
      rest.remove_prefix(2);
      size_t slash = rest.find('/');
      std::string_view host = rest.substr(0, slash);
      if (!host.empty() && Lower(host) != "localhost") {
        return Status::InvalidArgument("{}: a file: URI of another host ({}) is not a local path",
                                       location, host);
      }
      if (slash == std::string_view::npos) return std::string("/");
      rest.remove_prefix(slash);
    }
    return std::string(rest);
  }
  if (scheme == "dbfs") {
    while (rest.rfind("//", 0) == 0) rest.remove_prefix(1);
    if (IsDir(dbfs_root)) return dbfs_root + std::string(rest);
    return Status::InvalidArgument(
        "{}: dbfs: paths are read through a Databricks driver's local view of DBFS ({}), which "
        "this machine does not have; elsewhere give a local path",
        location, dbfs_root);
  }
  // A scheme with a storage backend keeps its spelling, with its segments folded as for local
  // paths ("s3://b//proc/" is "s3://b/proc": every location derived from it, tables and
  // tracker included, is then one key); its credentials are checked where the options are
  // known (MakeFileSystemFor).
  if (FindBackend(scheme) != nullptr) {
    DL_RETURN_IF_ERROR(CheckUriStaysInRoot(location));
    return LexicallyNormal(location);
  }
  if (scheme == "gs" || scheme == "gcs") {
    // Users expect GCS beside S3 and Azure; say why it is missing (the emulators we tried do
    // not serve its XML API, so no backend is built) rather than a bare "no backend".
    return Status::InvalidArgument(
        "{}: {}:// (Google Cloud Storage) is object storage that is not supported yet (see "
        "docs/object_storage.md, \"Why no GCS yet\"); give a location on a supported store "
        "(s3://, az://, a local path)",
        location, scheme);
  }
  static const char* const kObjectStores[] = {"s3",    "s3a",  "s3n",   "gs",  "gcs", "az", "abfs",
                                              "abfss", "wasb", "wasbs", "adl", "r2",  "oss"};
  for (const char* store : kObjectStores) {
    if (scheme == store) {
      return Status::InvalidArgument(
          "{}: {}:// is object storage that this build has no backend for; give a location on a "
          "supported store (or the bucket mounted on a local path)",
          location, scheme);
    }
  }
  return Status::InvalidArgument(
      "{}: unsupported scheme '{}:' (supported: local paths, file:, dbfs: on a Databricks "
      "driver, and object stores with a backend in this build)",
      location, scheme);
}

}  // namespace dl
