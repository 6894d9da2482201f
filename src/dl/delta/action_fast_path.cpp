// DOM-free parsing of add/remove lines: replay of big logs is dominated by them, and building
// an nlohmann DOM per line (then moving strings out of it) costs several times more.
#include "dl/delta/action_fast_path.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace dl::delta::internal {
namespace {

constexpr int kMaxDepth = 64;

// A strict JSON reader over one line. Every method returns false on anything it does not
// accept; callers then give up on the fast path.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  void Ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool Eat(char c) {
    Ws();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool AtEnd() {
    Ws();
    return p_ == end_;
  }
  bool EatNull() {
    Ws();
    if (end_ - p_ < 4 || std::memcmp(p_, "null", 4) != 0) return false;
    p_ += 4;
    return true;
  }

  // A string, unescaped. Like the general parser, rejects control characters and
  // ill-formed UTF-8.
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    out->clear();
    while (true) {
      const char* run = p_;
      while (p_ < end_) {
        unsigned char c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20) break;
        if (c < 0x80) {
          ++p_;
        } else if (size_t n = Utf8Length(); n > 0) {
          p_ += n;
        } else {
          return false;
        }
      }
      out->append(run, p_);
      if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
      if (*p_++ == '"') return true;
      if (!Escape(out)) return false;
    }
  }

  bool Int(int64_t* out) {
    Ws();
    bool neg = p_ < end_ && *p_ == '-';
    if (neg) ++p_;
    const char* start = p_;
    uint64_t v = 0;
    const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      uint64_t d = static_cast<uint64_t>(*p_++ - '0');
      if (v > (limit - d) / 10) return false;  // overflow
      v = v * 10 + d;
    }
    size_t n = static_cast<size_t>(p_ - start);
    if (n == 0 || (n > 1 && *start == '0')) return false;
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;  // not an integer
    *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    return true;
  }

  bool Bool(bool* out) {
    Ws();
    if (end_ - p_ >= 4 && std::memcmp(p_, "true", 4) == 0) {
      p_ += 4;
      *out = true;
      return true;
    }
    if (end_ - p_ >= 5 && std::memcmp(p_, "false", 5) == 0) {
      p_ += 5;
      *out = false;
      return true;
    }
    return false;
  }

  // Skip any JSON value (unknown fields), validating it.
  bool Skip(int depth = 0) {
    Ws();
    if (p_ == end_ || depth > kMaxDepth) return false;
    bool ignored_bool;
    switch (*p_) {
      case '"':
        return String(&scratch_);
      case '{':
        return SkipContainer('}', true, depth);
      case '[':
        return SkipContainer(']', false, depth);
      case 't':
      case 'f':
        return Bool(&ignored_bool);
      case 'n':
        return EatNull();
      default:
        return Number();
    }
  }

 private:
  bool Escape(std::string* out) {
    if (p_ == end_) return false;
    switch (char e = *p_++) {
      case '"':
      case '\\':
      case '/':
        out->push_back(e);
        return true;
      case 'b':
        out->push_back('\b');
        return true;
      case 'f':
        out->push_back('\f');
        return true;
      case 'n':
        out->push_back('\n');
        return true;
      case 'r':
        out->push_back('\r');
        return true;
      case 't':
        out->push_back('\t');
        return true;
      case 'u':
        return Unicode(out);
      default:
        return false;
    }
  }

  // Length of the well-formed UTF-8 sequence at p_ (Unicode table 3-7), or 0.
  size_t Utf8Length() const {
    auto at = [&](ptrdiff_t i) -> unsigned {
      return p_ + i < end_ ? static_cast<unsigned char>(p_[i]) : 0u;
    };
    auto cont = [&](ptrdiff_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
      return at(i) >= lo && at(i) <= hi;
    };
    unsigned b = at(0);
    if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
    if (b == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (b == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (b == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (b >= 0xF1 && b <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (b == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
  }

  bool Hex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = *p_++;
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    *out = v;
    return true;
  }

  // \uXXXX (after the 'u'), with surrogate pairs, appended as UTF-8.
  bool Unicode(std::string* out) {
    uint32_t cp = 0;
    if (!Hex4(&cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t lo = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    return true;
  }

  bool Digits() {
    const char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > start;
  }

  // JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
  bool Number() {
    if (p_ < end_ && *p_ == '-') ++p_;
    const char* start = p_;
    if (!Digits() || (p_ - start > 1 && *start == '0')) return false;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!Digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!Digits()) return false;
    }
    return true;
  }

  bool SkipContainer(char close, bool object, int depth) {
    ++p_;
    if (Eat(close)) return true;
    do {
      if (object && (!String(&scratch_) || !Eat(':'))) return false;
      if (!Skip(depth + 1)) return false;
    } while (Eat(','));
    return Eat(close);
  }

  const char* p_;
  const char* end_;
  std::string scratch_;
};

// Partition values: strings or null ("" means null). Other value types: give up.
bool PartitionValuesField(Cursor& c, PartitionValues* out) {
  if (!c.Eat('{')) return false;
  if (c.Eat('}')) return true;
  std::string key, value;
  do {
    if (!c.String(&key) || !c.Eat(':')) return false;
    if (c.EatNull()) {
      (*out)[key] = std::nullopt;
      continue;
    }
    if (!c.String(&value)) return false;
    if (value.empty())
      (*out)[key] = std::nullopt;
    else
      (*out)[key] = value;
  } while (c.Eat(','));
  return c.Eat('}');
}

// Tags: string values; nulls dropped, as the general parser does.
bool StringMapField(Cursor& c, StringMap* out) {
  if (!c.Eat('{')) return false;
  if (c.Eat('}')) return true;
  std::string key, value;
  do {
    if (!c.String(&key) || !c.Eat(':')) return false;
    if (c.EatNull()) continue;
    if (!c.String(&value)) return false;
    (*out)[key] = value;
  } while (c.Eat(','));
  return c.Eat('}');
}

template <typename T>
bool Opt(Cursor& c, std::optional<T>* out, bool (Cursor::*read)(T*)) {
  T v{};
  if (!(c.*read)(&v)) return false;
  *out = std::move(v);
  return true;
}

// Required-field bits.
enum : unsigned { kPath = 1, kPv = 2, kSize = 4, kMtime = 8, kDataChange = 16 };

// One field of an add or remove. `seen` collects required fields present and non-null.
template <typename F>
bool FileField(Cursor& c, std::string_view k, F* f, unsigned* seen) {
  constexpr bool kAdd = std::is_same_v<F, AddFile>;
  auto required = [seen](unsigned bit, bool ok) {
    *seen |= bit;
    return ok;
  };
  if (c.EatNull()) return true;  // null means absent, as in checkpoint rows
  if (k == "path") return required(kPath, c.String(&f->path));
  if (k == "dataChange") return required(kDataChange, c.Bool(&f->data_change));
  if (k == "stats") return Opt(c, &f->stats, &Cursor::String);
  if (k == "baseRowId") return Opt(c, &f->base_row_id, &Cursor::Int);
  if (k == "defaultRowCommitVersion") return Opt(c, &f->default_row_commit_version, &Cursor::Int);
  if (k == "tags") {
    f->tags.emplace();
    return StringMapField(c, &*f->tags);
  }
  if (k == "deletionVector") return false;  // rare: the general parser validates it
  if constexpr (kAdd) {
    if (k == "partitionValues") return required(kPv, PartitionValuesField(c, &f->partition_values));
    if (k == "size") return required(kSize, c.Int(&f->size));
    if (k == "modificationTime") return required(kMtime, c.Int(&f->modification_time));
    if (k == "clusteringProvider") return Opt(c, &f->clustering_provider, &Cursor::String);
  } else {
    if (k == "partitionValues") {
      f->partition_values.emplace();
      return PartitionValuesField(c, &*f->partition_values);
    }
    if (k == "size") return Opt(c, &f->size, &Cursor::Int);
    if (k == "deletionTimestamp") return Opt(c, &f->deletion_timestamp, &Cursor::Int);
    if (k == "extendedFileMetadata") return Opt(c, &f->extended_file_metadata, &Cursor::Bool);
  }
  return c.Skip();  // unknown field
}

template <typename F>
bool FileAction(Cursor& c, F* f, unsigned required) {
  if (!c.Eat('{')) return false;
  unsigned seen = 0;
  std::string key;
  if (!c.Eat('}')) {
    do {
      if (!c.String(&key) || !c.Eat(':') || !FileField(c, key, f, &seen)) return false;
    } while (c.Eat(','));
    if (!c.Eat('}')) return false;
  }
  return (seen & required) == required;
}

}  // namespace

std::optional<Action> TryParseFileAction(std::string_view line) {
  Cursor c(line);
  std::string key;
  if (!c.Eat('{') || !c.String(&key) || !c.Eat(':')) return std::nullopt;
  std::optional<Action> out;
  if (key == "add") {
    AddFile f;
    if (!FileAction(c, &f, kPath | kPv | kSize | kMtime | kDataChange)) return std::nullopt;
    out.emplace(std::move(f));
  } else if (key == "remove") {
    RemoveFile f;
    if (!FileAction(c, &f, kPath | kDataChange)) return std::nullopt;
    out.emplace(std::move(f));
  } else {
    return std::nullopt;
  }
  if (!c.Eat('}') || !c.AtEnd()) return std::nullopt;
  return out;
}

}  // namespace dl::delta::internal
