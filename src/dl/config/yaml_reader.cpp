// Typed, error-collecting reads of YAML maps, with ${ENV} interpolation.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "dl/config/yaml_reader_internal.hpp"

namespace dl::config::internal {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string_view NodeKind(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "a value";
}

// Common misnamings whose fix an edit distance would not find.
std::string_view AliasFor(std::string_view key) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kAliases = {
      {"partition_by", "partition_columns"},
      {"partitions", "partition_columns"},
      {"format", "file_format"},
      {"strategy", "loading_strategy"},
      {"mode", "loading_strategy"},
      {"path", "source_path_pattern"},
      {"source", "source_path_pattern"},
      {"pattern", "source_path_pattern"},
      {"table", "table_name"},
      {"name", "table_name"},
      {"database", "database_name"},
      {"schema", "database_name"},
      {"keys", "primary_keys"},
      {"primary_key", "primary_keys"},
      {"csv", "csv_options"},
      {"json", "json_options"},
  };
  for (const auto& [alias, key_name] : kAliases) {
    if (alias == key) return key_name;
  }
  return {};
}

}  // namespace

void Diagnostics::Add(int line, std::string_view path, std::string_view message,
                      std::optional<std::string_view> key_path) {
  problems_.push_back({line, std::string(key_path.value_or(path)), std::string(message)});
  std::string where = line > 0 ? fmt::format("{}:{}", source_, line) : source_;
  if (path.empty()) {
    errors_.emplace_back(line, fmt::format("{}: {}", where, message));
  } else {
    errors_.emplace_back(line, fmt::format("{}: {}: {}", where, path, message));
  }
}

namespace {
bool ByLine(int a, int b) { return (a > 0 ? a : INT32_MAX) < (b > 0 ? b : INT32_MAX); }
}  // namespace

std::vector<ConfigProblem> Diagnostics::Problems() const {
  auto sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return ByLine(a.line, b.line); });
  return sorted;
}

Status Diagnostics::ToStatus() const {
  if (errors_.empty()) return Status::OK();
  auto sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return ByLine(a.first, b.first); });
  std::string text;
  for (const auto& [line, message] : sorted) {
    if (!text.empty()) text += '\n';
    text += message;
  }
  return Status(StatusCode::kConfig, std::move(text));
}

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

Result<std::string> Interpolate(std::string_view text, bool* expanded,
                                std::set<std::string>* values) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "$${") == 0) {  // escaped: a literal "${"
      out += "${";
      i += 2;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.push_back(text[i]);
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Status::Config("unterminated '${{' (write $${{ for a literal '${{')");
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    size_t sep = inner.find(":-");
    std::string_view name = sep == std::string_view::npos ? inner : inner.substr(0, sep);
    if (!IsEnvName(name)) {
      return Status::Config("'${{{}}}' is not a valid environment variable reference", inner);
    }
    const char* value = std::getenv(std::string(name).c_str());
    if (sep != std::string_view::npos && (value == nullptr || *value == '\0')) {
      out += inner.substr(sep + 2);  // like the shell: unset or empty takes the default
    } else if (value == nullptr) {
      return Status::Config(
          "environment variable '{}' is not set (use ${{{}:-default}} to "
          "give a default)",
          name, name);
    } else {
      out += value;
      if (values != nullptr && *value != '\0') values->insert(value);
    }
    *expanded = true;
    i = close;
  }
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<int64_t> ParseByteSize(std::string_view text) {
  text = Trim(text);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string number(text.substr(0, i));
  if (number.empty() || std::count(number.begin(), number.end(), '.') > 1 || number == ".")
    return std::nullopt;
  std::string unit = Lower(Trim(text.substr(i)));
  static const std::vector<std::pair<std::string_view, int>> kUnits = {
      {"", 0},     {"b", 0},  {"k", 10},  {"kb", 10},  {"kib", 10}, {"m", 20},  {"mb", 20},
      {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},   {"tb", 40}, {"tib", 40}};
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    double value = std::strtod(number.c_str(), nullptr) * std::ldexp(1.0, shift);
    if (!(value < 9.2e18)) return std::nullopt;
    return static_cast<int64_t>(std::llround(value));
  }
  return std::nullopt;
}

std::string JoinKeyPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

MapReader::MapReader(Diagnostics& diag, EnvUse env, const YAML::Node& map, std::string path,
                     int line)
    : diag_(diag), env_(env), path_(std::move(path)), line_(line) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    int key_line = LineOf(key) > 0 ? LineOf(key) : line_;
    if (!key.IsScalar()) {
      diag_.Add(key_line, path_, "keys must be plain names");
      continue;
    }
    const std::string& name = key.Scalar();
    auto dup = std::find_if(entries_.begin(), entries_.end(),
                            [&](const auto& e) { return e.first == name; });
    if (dup != entries_.end()) {
      diag_.Add(key_line, JoinKeyPath(path_, name),
                fmt::format("duplicate key (first given on line {})",
                            key_lines_[dup - entries_.begin()]));
      continue;
    }
    entries_.emplace_back(name, it->second);
    key_lines_.push_back(key_line);
  }
}

const YAML::Node* MapReader::Find(std::string_view key) const {
  for (const auto& [name, node] : entries_) {
    if (name == key) return &node;
  }
  return nullptr;
}

bool MapReader::Has(std::string_view key) const {
  const YAML::Node* node = Find(key);
  return node && !node->IsNull();
}

int MapReader::LineOfKey(std::string_view key) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first == key) return key_lines_[i];
  }
  return line_;
}

std::string MapReader::PathOf(std::string_view key) const { return JoinKeyPath(path_, key); }

void MapReader::Error(std::string_view key, std::string_view message) {
  failed_.insert(PathOf(key));
  diag_.Add(LineOfKey(key), PathOf(key), message);
}

void MapReader::MapError(std::string_view message) { diag_.Add(line_, path_, message); }

std::optional<std::string> MapReader::Scalar(const YAML::Node& node, const std::string& path,
                                             std::string_view what) {
  int line = LineOf(node) > 0 ? LineOf(node) : line_;
  failed_.insert(path);  // erased again on success
  if (!node.IsScalar()) {
    diag_.Add(line, path, fmt::format("expected {}, got {}", what, NodeKind(node)));
    return std::nullopt;
  }
  bool expanded = false;
  auto value = Interpolate(node.Scalar(), &expanded, &env_.values);
  if (!value.ok()) {
    diag_.Add(line, path, value.status().message());
    return std::nullopt;
  }
  if (expanded) env_.keys.insert(path);
  failed_.erase(path);
  return std::move(value).value();
}

bool MapReader::GetString(std::string_view key, std::string& out) {
  std::optional<std::string> v;
  if (!GetOptString(key, v)) return false;
  out = std::move(*v);
  return true;
}

bool MapReader::GetOptString(std::string_view key, std::optional<std::string>& out) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return false;
  auto text = Scalar(*node, PathOf(key), "a string");
  if (!text) return false;
  out = std::move(*text);
  return true;
}

bool MapReader::GetBool(std::string_view key, bool& out) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return false;
  auto text = Scalar(*node, PathOf(key), "true or false");
  if (!text) return false;
  std::string v = Lower(Trim(*text));
  if (v == "true" || v == "yes" || v == "on") {
    out = true;
  } else if (v == "false" || v == "no" || v == "off") {
    out = false;
  } else {
    Error(key, fmt::format("expected true or false, got '{}'", *text));
    return false;
  }
  return true;
}

bool MapReader::GetInt(std::string_view key, int64_t& out, int64_t min, int64_t max) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return false;
  auto text = Scalar(*node, PathOf(key), "an integer");
  if (!text) return false;
  std::string_view t = Trim(*text);
  size_t digits_from = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
  bool digits = t.size() > digits_from && t.size() - digits_from <= 18 &&
                std::all_of(t.begin() + digits_from, t.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!digits) {
    Error(key, fmt::format("expected an integer, got '{}'", *text));
    return false;
  }
  int64_t v = std::strtoll(std::string(t).c_str(), nullptr, 10);
  if (v < min) {
    Error(key, fmt::format("must be at least {} (got {})", min, v));
    return false;
  }
  if (v > max) {
    Error(key, fmt::format("must be at most {} (got {})", max, v));
    return false;
  }
  out = v;
  return true;
}

bool MapReader::GetInt(std::string_view key, int& out, int min, int max) {
  int64_t v = 0;
  if (!GetInt(key, v, min, max)) return false;
  out = static_cast<int>(v);
  return true;
}

bool MapReader::GetByteSize(std::string_view key, int64_t& out) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return false;
  auto text = Scalar(*node, PathOf(key), "a size in bytes");
  if (!text) return false;
  auto bytes = ParseByteSize(*text);
  if (!bytes) {
    Error(key, fmt::format("expected a size such as 1073741824, 512MB or 1GiB, got '{}'", *text));
    return false;
  }
  if (*bytes < 1) {
    Error(key, "must be at least 1 byte");
    return false;
  }
  out = *bytes;
  return true;
}

bool MapReader::GetStringList(std::string_view key, std::vector<std::string>& out) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return false;
  if (!node->IsSequence()) {
    std::string hint = node->IsScalar() ? fmt::format(" (write [{}])", node->Scalar()) : "";
    Error(key, fmt::format("expected a list of strings, got {}{}", NodeKind(*node), hint));
    return false;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (size_t i = 0; i < node->size(); ++i) {
    std::string path = fmt::format("{}[{}]", PathOf(key), i);
    auto text = Scalar((*node)[i], path, "a string");
    if (text && text->empty()) {
      diag_.Add(LineOf((*node)[i]) ? LineOf((*node)[i]) : LineOfKey(key), path,
                "must not be empty");
      text.reset();
    }
    if (!text) {
      ok = false;
      continue;
    }
    values.push_back(std::move(*text));
  }
  if (ok) out = std::move(values);
  return ok;
}

bool MapReader::GetStringMap(std::string_view key,
                             std::vector<std::pair<std::string, std::string>>& out) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return false;
  if (!node->IsMap()) {
    Error(key, fmt::format("expected a mapping of name: value, got {}", NodeKind(*node)));
    return false;
  }
  MapReader sub(diag_, env_, *node, PathOf(key), LineOfKey(key));
  std::vector<std::pair<std::string, std::string>> values;
  bool ok = true;
  for (const auto& [name, value] : sub.entries_) {
    auto text = sub.Scalar(value, sub.PathOf(name), "a string");
    if (!text) {
      ok = false;
      continue;
    }
    values.emplace_back(name, std::move(*text));
  }
  if (ok) out = std::move(values);
  return ok;
}

std::optional<YAML::Node> MapReader::GetNode(std::string_view key) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return std::nullopt;
  return *node;
}

bool MapReader::EnumFromText(std::string_view key, const std::string& text, std::string_view* found,
                             const std::vector<std::string_view>& names) {
  std::string v = Lower(Trim(text));
  for (std::string_view name : names) {
    if (Lower(name) == v) {
      *found = name;
      return true;
    }
  }
  std::string list;
  for (std::string_view name : names) list += (list.empty() ? "" : ", ") + std::string(name);
  Error(key, fmt::format("'{}' is not one of {}", text, list));
  return false;
}

void MapReader::Require(std::string_view key) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node) {
    diag_.Add(line_, path_, fmt::format("required key '{}' is missing", key), PathOf(key));
  } else if (node->IsNull()) {
    Error(key, "a value is required");
  }
}

void MapReader::CheckUnknownKeys(const std::vector<std::string_view>& other_keys,
                                 std::string_view other_where) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    const std::string& name = entries_[i].first;
    if (known_.count(name)) continue;
    std::string message = fmt::format("unknown key '{}'", name);
    if (std::find(other_keys.begin(), other_keys.end(), name) != other_keys.end()) {
      message += fmt::format(" here (it belongs {})", other_where);
    } else {
      std::string best;
      size_t best_distance = SIZE_MAX;
      for (const std::string& candidate : known_) {
        size_t d = EditDistance(Lower(name), candidate);
        if (d < best_distance) {
          best_distance = d;
          best = candidate;
        }
      }
      std::string_view alias = AliasFor(Lower(name));
      if (best_distance <= std::max<size_t>(2, name.size() / 3)) {
        message += fmt::format(" (did you mean '{}'?)", best);
      } else if (!alias.empty() && known_.count(std::string(alias))) {
        message += fmt::format(" (did you mean '{}'?)", alias);
      }
    }
    diag_.Add(key_lines_[i], path_, message, PathOf(name));
  }
}

}  // namespace dl::config::internal
