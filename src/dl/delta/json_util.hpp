// Private helpers for writing compact JSON by hand: field order as Spark writes it, raw number
// literals (decimal stats must not round-trip through double), and no exceptions.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace dl::delta::internal {

/// Append `s` as a quoted JSON string. Bytes >= 0x80 are copied as-is (UTF-8 kept).
inline void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the current run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

inline void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

/// Writes one JSON object field by field: {"k":v,...}.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void Finish() { out_->push_back('}'); }

  /// Start a field; the caller appends the value to the returned string.
  std::string* Key(std::string_view k) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendJsonString(out_, k);
    out_->push_back(':');
    return out_;
  }
  void Str(std::string_view k, std::string_view v) { AppendJsonString(Key(k), v); }
  void Int(std::string_view k, int64_t v) { AppendInt(Key(k), v); }
  void Bool(std::string_view k, bool v) { Key(k)->append(v ? "true" : "false"); }
  void Raw(std::string_view k, std::string_view json) { Key(k)->append(json); }
  void Null(std::string_view k) { Key(k)->append("null"); }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace dl::delta::internal
