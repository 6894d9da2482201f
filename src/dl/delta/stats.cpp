// add.stats: building the JSON from engine-reported column stats, and parsing it back.
#include "dl/delta/stats.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include "dl/delta/json_util.hpp"
#include "dl/delta/time_util.hpp"

namespace dl::delta {
namespace {

using internal::AppendJsonString;

constexpr size_t kStringPrefixChars = 32;
constexpr std::string_view kMaxCodePoint = "\xF4\x8F\xBF\xBF";  // U+10FFFF, the tie-breaker

// ---------------------------------------------------------------- value formatting

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A decimal literal as a valid JSON number: "+1" -> "1", ".5" -> "0.5", "5." -> "5",
// "007" -> "7". nullopt for anything else (NaN, Infinity, garbage).
std::optional<std::string> JsonNumber(std::string_view s) {
  std::string out;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (s[0] == '-') out.push_back('-');
    s.remove_prefix(1);
  }
  size_t int_end = 0;
  while (int_end < s.size() && IsDigit(s[int_end])) ++int_end;
  std::string_view int_part = s.substr(0, int_end);
  while (int_part.size() > 1 && int_part[0] == '0') int_part.remove_prefix(1);
  s.remove_prefix(int_end);
  std::string_view frac;
  if (!s.empty() && s[0] == '.') {
    size_t e = 1;
    while (e < s.size() && IsDigit(s[e])) ++e;
    frac = s.substr(1, e - 1);
    s.remove_prefix(e);
  }
  if (int_part.empty() && frac.empty()) return std::nullopt;
  out += int_part.empty() ? "0" : std::string(int_part);
  if (!frac.empty()) out += "." + std::string(frac);
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    size_t e = 1;
    if (e < s.size() && (s[e] == '+' || s[e] == '-')) ++e;
    size_t digits = e;
    while (e < s.size() && IsDigit(s[e])) ++e;
    if (e == digits) return std::nullopt;
    out += s.substr(0, e);
    s.remove_prefix(e);
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

// Reads exactly n digits.
bool Digits(std::string_view* s, size_t n, int64_t* out) {
  if (s->size() < n) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit((*s)[i])) return false;
    v = v * 10 + ((*s)[i] - '0');
  }
  s->remove_prefix(n);
  *out = v;
  return true;
}

bool Expect(std::string_view* s, char c) {
  if (s->empty() || (*s)[0] != c) return false;
  s->remove_prefix(1);
  return true;
}

// "YYYY-MM-DD" -> days since the epoch.
std::optional<int64_t> ParseDate(std::string_view* s) {
  int64_t y = 0, m = 0, d = 0;
  if (!Digits(s, 4, &y) || !Expect(s, '-') || !Digits(s, 2, &m) || !Expect(s, '-') ||
      !Digits(s, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31) {
    return std::nullopt;
  }
  return internal::DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

// Offset "Z", "+HH", "+HH:MM", "+HHMM" -> seconds east of UTC.
std::optional<int64_t> ParseOffset(std::string_view s) {
  if (s == "Z" || s == "z") return 0;
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  int64_t sign = s[0] == '-' ? -1 : 1, h = 0, m = 0;
  s.remove_prefix(1);
  if (!Digits(&s, 2, &h)) return std::nullopt;
  if (!s.empty()) {
    Expect(&s, ':');
    if (!Digits(&s, 2, &m) || !s.empty()) return std::nullopt;
  }
  return sign * (h * 3600 + m * 60);
}

// "YYYY-MM-DD[ T]HH:MM:SS[.fffffffff][offset]" -> epoch milliseconds (floored). With
// `with_offset`, the offset (default UTC) is applied; otherwise none may be present.
std::optional<int64_t> ParseTimestampMillis(std::string_view s, bool with_offset) {
  auto days = ParseDate(&s);
  if (!days) return std::nullopt;
  int64_t h = 0, mi = 0, sec = 0, micros = 0;
  if (!s.empty()) {
    if (s[0] != ' ' && s[0] != 'T') return std::nullopt;
    s.remove_prefix(1);
    if (!Digits(&s, 2, &h) || !Expect(&s, ':') || !Digits(&s, 2, &mi) || !Expect(&s, ':') ||
        !Digits(&s, 2, &sec) || h > 23 || mi > 59 || sec > 60) {
      return std::nullopt;
    }
    if (Expect(&s, '.')) {
      int64_t scale = 100000;
      size_t n = 0;
      for (; n < s.size() && IsDigit(s[n]); ++n, scale /= 10) micros += (s[n] - '0') * scale;
      if (n == 0) return std::nullopt;
      s.remove_prefix(n);
    }
  }
  int64_t offset = 0;
  if (!s.empty()) {
    if (!with_offset) return std::nullopt;
    auto o = ParseOffset(s);
    if (!o) return std::nullopt;
    offset = *o;
  }
  int64_t secs = *days * 86400 + h * 3600 + mi * 60 + sec - offset;
  return secs * 1000 + micros / 1000;  // micros >= 0, so this truncates toward -inf
}

size_t PrefixBytes(std::string_view s, size_t code_points, bool* truncated) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (count == code_points) {
      *truncated = true;
      return i;
    }
    ++count;
  }
  *truncated = false;
  return s.size();
}

enum class StatKind {
  kNone,
  kInteger,
  kFloat,
  kDecimal,
  kDate,
  kTimestamp,
  kTimestampNtz,
  kString
};

StatKind KindOf(const DataType& t) {
  if (t.kind == DataType::Kind::kDecimal) return StatKind::kDecimal;
  if (t.kind != DataType::Kind::kPrimitive) return StatKind::kNone;
  const std::string& n = t.name;
  if (n == "byte" || n == "short" || n == "integer" || n == "long") return StatKind::kInteger;
  if (n == "float" || n == "double") return StatKind::kFloat;
  if (n == "date") return StatKind::kDate;
  if (n == "timestamp") return StatKind::kTimestamp;
  if (n == "timestamp_ntz") return StatKind::kTimestampNtz;
  if (n == "string") return StatKind::kString;
  return StatKind::kNone;  // boolean, binary, variant: nullCount only
}

// One bound as JSON text, or nullopt to omit it.
std::optional<std::string> FormatBound(StatKind kind, const std::string& v, bool is_max) {
  switch (kind) {
    case StatKind::kInteger:
      if (v.find_first_of(".eE") != std::string::npos) return std::nullopt;
      return JsonNumber(v);
    case StatKind::kFloat:
    case StatKind::kDecimal:
      return JsonNumber(v);
    case StatKind::kDate: {
      std::string_view s = v;
      if (!ParseDate(&s) || !s.empty()) return std::nullopt;
      std::string out;
      AppendJsonString(&out, v);
      return out;
    }
    case StatKind::kTimestamp:
    case StatKind::kTimestampNtz: {
      bool utc = kind == StatKind::kTimestamp;
      auto ms = ParseTimestampMillis(v, utc);
      if (!ms) return std::nullopt;
      return "\"" + internal::FormatIsoMillis(*ms, utc) + "\"";
    }
    case StatKind::kString: {
      bool truncated = false;
      std::string s = v.substr(0, PrefixBytes(v, kStringPrefixChars, &truncated));
      if (truncated && is_max) s += kMaxCodePoint;
      std::string out;
      AppendJsonString(&out, s);
      return out;
    }
    case StatKind::kNone:
      break;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- nested output

// A JSON object under construction whose leaves are raw JSON text.
struct Node {
  struct Item {
    std::string key;
    std::string raw;              // leaf
    std::unique_ptr<Node> child;  // nested struct
  };
  std::vector<Item> items;

  void Leaf(const std::string& key, std::string raw) { items.push_back({key, std::move(raw), {}}); }
  void Child(const std::string& key, std::unique_ptr<Node> child) {
    if (!child->items.empty()) items.push_back({key, {}, std::move(child)});
  }
  void Write(std::string* out) const {
    internal::ObjectWriter w(out);
    for (const Item& it : items) {
      if (it.child)
        it.child->Write(w.Key(it.key));
      else
        w.Raw(it.key, it.raw);
    }
    w.Finish();
  }
};

struct StatsBuilder {
  const FileColumnStats& columns;
  int limit;  // negative: every leaf
  int leaves = 0;
  std::vector<std::string> path;

  bool Full() const { return limit >= 0 && leaves >= limit; }

  void Walk(const std::vector<StructField>& fields, Node* mins, Node* maxs, Node* nulls) {
    for (const StructField& f : fields) {
      if (Full()) return;
      path.push_back(f.name);
      if (f.type->kind == DataType::Kind::kStruct) {
        auto cmin = std::make_unique<Node>(), cmax = std::make_unique<Node>(),
             cnull = std::make_unique<Node>();
        Walk(f.type->fields, cmin.get(), cmax.get(), cnull.get());
        mins->Child(f.name, std::move(cmin));
        maxs->Child(f.name, std::move(cmax));
        nulls->Child(f.name, std::move(cnull));
      } else {
        ++leaves;
        Leaf(f, mins, maxs, nulls);
      }
      path.pop_back();
    }
  }

  void Leaf(const StructField& f, Node* mins, Node* maxs, Node* nulls) {
    auto it = columns.find(path);
    if (it == columns.end()) return;
    const ColumnStats& st = it->second;
    if (st.null_count) {
      std::string n;
      internal::AppendInt(&n, *st.null_count);
      nulls->Leaf(f.name, std::move(n));
    }
    StatKind kind = KindOf(*f.type);
    // A NaN sorts above every number, so a min/max that ignores it would mislead pruning.
    if (kind == StatKind::kNone || (kind == StatKind::kFloat && st.has_nan)) return;
    if (st.min) {
      if (auto v = FormatBound(kind, *st.min, false)) mins->Leaf(f.name, std::move(*v));
    }
    if (st.max) {
      if (auto v = FormatBound(kind, *st.max, true)) maxs->Leaf(f.name, std::move(*v));
    }
  }
};

}  // namespace

std::string BuildStatsJson(const Schema& data_schema, int64_t num_records,
                           const FileColumnStats& columns, int num_indexed_cols) {
  Node mins, maxs, nulls;
  StatsBuilder builder{columns, num_indexed_cols, 0, {}};
  builder.Walk(data_schema.fields, &mins, &maxs, &nulls);
  std::string out;
  internal::ObjectWriter w(&out);
  w.Int("numRecords", num_records);
  mins.Write(w.Key("minValues"));
  maxs.Write(w.Key("maxValues"));
  nulls.Write(w.Key("nullCount"));
  w.Finish();
  return out;
}

FileStats ParseStats(const std::optional<std::string>& stats_json) {
  FileStats out;
  if (!stats_json || stats_json->empty()) return out;
  try {
    auto j = nlohmann::json::parse(*stats_json);
    if (!j.is_object()) return out;
    if (auto it = j.find("numRecords"); it != j.end() && it->is_number_integer()) {
      out.num_records = it->get<int64_t>();
    }
    auto take = [&](const char* key, nlohmann::json* dst) {
      auto it = j.find(key);
      if (it != j.end() && it->is_object()) *dst = std::move(*it);
    };
    take("minValues", &out.min_values);
    take("maxValues", &out.max_values);
    take("nullCount", &out.null_count);
  } catch (const nlohmann::json::exception&) {
    return FileStats{};  // unusable stats only disable pruning
  }
  return out;
}

namespace {

// Index of the quote closing the JSON string that opens at `open`.
size_t StringEnd(std::string_view json, size_t open) {
  size_t i = open + 1;
  while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
  return i;
}

// [begin, end) of the literal value (true/false/null) of a top-level `key`, if present.
std::optional<std::pair<size_t, size_t>> TopLevelLiteral(std::string_view json,
                                                         std::string_view key) {
  int depth = 0;
  bool expect_key = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      const size_t end = StringEnd(json, i);
      if (depth == 1 && expect_key && json.substr(i + 1, end - i - 1) == key) {
        size_t v = json.find(':', end) + 1;
        while (v < json.size() && std::isspace(static_cast<unsigned char>(json[v]))) ++v;
        size_t e = v;
        while (e < json.size() && std::isalpha(static_cast<unsigned char>(json[e]))) ++e;
        return std::make_pair(v, e);
      }
      expect_key = false;
      i = end;
    } else if (c == '{' || c == '[') {
      expect_key = ++depth == 1;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> WithWideBounds(const std::string& stats_json) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("add.stats {}: {}", stats_json, why);
  };
  auto j = nlohmann::json::parse(stats_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  auto n = j.find("numRecords");
  if (n == j.end() || !n->is_number_integer()) {
    return bad("a file with a deletion vector needs numRecords");
  }
  std::string out = stats_json;
  if (auto t = j.find("tightBounds"); t != j.end()) {
    if (!t->is_boolean()) return bad("tightBounds is not a boolean");
    auto at = TopLevelLiteral(out, "tightBounds");
    if (!at) return bad("tightBounds not found");  // escaped key spelling: not ours to edit
    return out.replace(at->first, at->second - at->first, "false");
  }
  out.insert(out.rfind('}'), ",\"tightBounds\":false");  // numRecords: never empty
  return out;
}

}  // namespace dl::delta
