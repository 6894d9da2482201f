// Hive partition directories and add.path URI encoding, as Spark/Hadoop produce them.
#include "dl/delta/partition.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "dl/delta/schema.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendEscaped(std::string* out, unsigned char c) {
  out->push_back('%');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xF]);
}

// Spark's ExternalCatalogUtils.charToEscape (non-Windows).
bool HiveNeedsEscape(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    case '"':
    case '#':
    case '%':
    case '\'':
    case '*':
    case '/':
    case ':':
    case '=':
    case '?':
    case '\\':
    case '{':
    case '[':
    case ']':
    case '^':
      return true;
    default:
      return false;
  }
}

// Characters java.net.URI keeps unquoted in a path: alphanumerics, the "mark" and "punct"
// sets, '/' and non-ASCII ("other") characters. Everything else (space, '%', '"', '#', '<',
// '>', '?', '[', '\', ']', '^', '`', '{', '|', '}', controls) is quoted.
bool UriKeeps(unsigned char c) {
  if (c >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
    case ';':
    case ':':
    case '@':
    case '&':
    case '=':
    case '+':
    case '$':
    case ',':
    case '/':
      return true;
    default:
      return false;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decode %XX sequences once; malformed escapes are kept literally (as Spark's unescape does).
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// "file:" URIs -> local paths: file:///a, file:/a and file://localhost/a all mean /a.
std::optional<std::string_view> StripFileScheme(std::string_view p) {
  if (!p.starts_with("file:")) return std::nullopt;
  p.remove_prefix(5);
  if (p.starts_with("//")) {
    p.remove_prefix(2);
    size_t slash = p.find('/');
    if (slash == std::string_view::npos) return std::string_view("/");
    p.remove_prefix(slash);  // drop the (empty or localhost) authority
  }
  return p;
}

// A URI scheme ("s3://...", "abfss://..."): letters first, then letters/digits/+-., then ':',
// all before any '/'. Single letters are left alone (they look like Windows drives).
bool HasScheme(std::string_view p) {
  size_t colon = p.find(':');
  if (colon == std::string_view::npos || colon < 2 ||
      p.substr(0, colon).find('/') != std::string_view::npos) {
    return false;
  }
  if (!std::isalpha(static_cast<unsigned char>(p[0]))) return false;
  for (char c : p.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string HiveEscape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (HiveNeedsEscape(c))
      AppendEscaped(&out, c);
    else
      out.push_back(ch);
  }
  return out;
}

std::string HiveUnescape(std::string_view value) { return PercentDecode(value); }

std::string PartitionDirectory(const std::vector<std::string>& columns,
                               const PartitionValues& values) {
  std::string out;
  for (const std::string& col : columns) {
    if (!out.empty()) out.push_back('/');
    out += HiveEscape(col);
    out.push_back('=');
    auto it = values.find(col);
    if (it == values.end() || !it->second || it->second->empty()) {
      out += kHiveDefaultPartition;
    } else {
      out += HiveEscape(*it->second);
    }
  }
  return out;
}

std::string UriEncodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 8);
  for (char ch : path) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (UriKeeps(c))
      out.push_back(ch);
    else
      AppendEscaped(&out, c);
  }
  return out;
}

std::string UriDecodePath(std::string_view path) { return PercentDecode(path); }

std::string ResolveDataPath(const std::string& table_root, std::string_view add_path) {
  if (auto local = StripFileScheme(add_path)) return UriDecodePath(*local);
  if (HasScheme(add_path)) return UriDecodePath(add_path);  // other stores: decoded URI
  std::string decoded = UriDecodePath(add_path);
  if (!decoded.empty() && decoded.front() == '/') return decoded;
  return JoinPath(table_root, decoded);
}

std::optional<std::string> PartitionValueOf(const PartitionValues& values,
                                            const std::string& column) {
  auto it = values.find(column);
  if (it == values.end()) {
    it = std::find_if(values.begin(), values.end(),
                      [&](const auto& kv) { return SameColumnName(kv.first, column); });
  }
  if (it == values.end()) return std::nullopt;
  return it->second;
}

}  // namespace dl::delta
