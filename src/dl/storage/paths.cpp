// Path spellings: lexical normalisation for URIs, realpath of the existing prefix locally.
#include "dl/storage/paths.hpp"

#include <cctype>
#include <climits>
#include <cstdlib>
#include <vector>

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

}  // namespace dl
