// Config-module internals: typed reads from YAML maps that collect errors with lines.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/config/loader_config.hpp"

namespace dl::config::internal {

/// Collects "source:line: path: message" errors; reports them all at once.
class Diagnostics {
 public:
  explicit Diagnostics(std::string source) : source_(std::move(source)) {}
  /// line is 1-based; 0 when unknown. path may be empty (the whole document). key_path:
  /// the key the problem is about when the message is reported at its map (a missing or
  /// unknown key); Problems() names it instead of path.
  void Add(int line, std::string_view path, std::string_view message,
           std::optional<std::string_view> key_path = std::nullopt);
  bool ok() const { return errors_.empty(); }
  /// Config status with every error, one per line, sorted by line (stable).
  Status ToStatus() const;
  const std::string& source() const { return source_; }
  /// Every problem as reported (line, key path, message), in the order of ToStatus.
  std::vector<ConfigProblem> Problems() const;

 private:
  std::string source_;
  std::vector<std::pair<int, std::string>> errors_;
  std::vector<ConfigProblem> problems_;
};

/// 1-based line of a node, 0 if it has none (e.g. a missing key).
int LineOf(const YAML::Node& node);

/// Expand `${VAR}` and `${VAR:-default}`; `$${` is a literal `${`. Sets *expanded when a
/// `${...}` was present, and adds each non-empty variable value to *values (when given).
/// Errors (unset variable, bad syntax) carry no key path.
Result<std::string> Interpolate(std::string_view text, bool* expanded,
                                std::set<std::string>* values = nullptr);

/// Levenshtein distance (for "did you mean" suggestions).
size_t EditDistance(std::string_view a, std::string_view b);

/// Parse "512MB", "1 GiB", "64k", "1000" into bytes (binary units). nullopt if malformed.
std::optional<int64_t> ParseByteSize(std::string_view text);

/// Where interpolation records what came from the environment: the key paths, and the
/// substituted values themselves (to mask them in printed output).
struct EnvUse {
  std::set<std::string>& keys;
  std::set<std::string>& values;
};

/// A (name, value) table for an enum's YAML spellings.
template <typename E>
using EnumNames = std::vector<std::pair<std::string_view, E>>;

/// Reads the keys of one YAML map. Each getter declares its key as known (for the unknown
/// key check), returns true only if the key is present with a valid value, and reports a
/// type or value error itself. A key set to null (`key:` or `key: ~`) counts as absent.
class MapReader {
 public:
  MapReader(Diagnostics& diag, EnvUse env, const YAML::Node& map, std::string path, int line);

  /// True if the key is present and not null.
  bool Has(std::string_view key) const;
  int LineOfKey(std::string_view key) const;  ///< value's line, else the map's
  std::string PathOf(std::string_view key) const;
  int line() const { return line_; }
  const std::string& path() const { return path_; }
  Diagnostics& diag() { return diag_; }
  EnvUse env() { return env_; }
  std::set<std::string>& env_keys() { return env_.keys; }

  /// True if an error was already reported for the key (so checks on its value can skip).
  bool Failed(std::string_view key) const { return failed_.count(PathOf(key)) > 0; }

  /// Report an error about a key (at its line) or about the map itself.
  void Error(std::string_view key, std::string_view message);
  void MapError(std::string_view message);

  bool GetString(std::string_view key, std::string& out);
  bool GetOptString(std::string_view key, std::optional<std::string>& out);
  bool GetBool(std::string_view key, bool& out);
  bool GetInt(std::string_view key, int64_t& out, int64_t min, int64_t max);
  bool GetInt(std::string_view key, int& out, int min, int max);
  bool GetByteSize(std::string_view key, int64_t& out);
  bool GetStringList(std::string_view key, std::vector<std::string>& out);
  /// A map of string to string, in document order.
  bool GetStringMap(std::string_view key, std::vector<std::pair<std::string, std::string>>& out);
  template <typename E>
  bool GetEnum(std::string_view key, E& out, const EnumNames<E>& names);
  /// The raw node of a key (declared known); nullopt if absent or null.
  std::optional<YAML::Node> GetNode(std::string_view key);
  /// Declare keys that are read elsewhere (or ignored) as known.
  void DeclareKnown(std::string_view key) { known_.insert(std::string(key)); }

  /// Error "required key is missing" unless the key is present and not null.
  void Require(std::string_view key);
  /// Report every key never declared known, with a "did you mean" suggestion from the known
  /// keys, or a note when the key belongs at another level (`other_keys`, `other_where`).
  void CheckUnknownKeys(const std::vector<std::string_view>& other_keys = {},
                        std::string_view other_where = {});

 private:
  const YAML::Node* Find(std::string_view key) const;
  /// Interpolated text of a scalar node; reports non-scalars as "expected <what>".
  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view what);
  bool EnumFromText(std::string_view key, const std::string& text, std::string_view* found,
                    const std::vector<std::string_view>& names);

  Diagnostics& diag_;
  EnvUse env_;
  std::string path_;
  int line_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;  // key -> value, document order
  std::vector<int> key_lines_;
  std::set<std::string> known_;
  std::set<std::string> failed_;  // key paths with an error reported
};

template <typename E>
bool MapReader::GetEnum(std::string_view key, E& out, const EnumNames<E>& names) {
  known_.insert(std::string(key));
  const YAML::Node* node = Find(key);
  if (!node || node->IsNull()) return false;
  auto text = Scalar(*node, PathOf(key), "one of the listed names");
  if (!text) return false;
  std::vector<std::string_view> spellings;
  for (const auto& [name, value] : names) spellings.push_back(name);
  std::string_view found;
  if (!EnumFromText(key, *text, &found, spellings)) return false;
  for (const auto& [name, value] : names) {
    if (name == found) out = value;
  }
  return true;
}

/// "tables[0]" + "key" -> "tables[0].key"; "" + "key" -> "key".
std::string JoinKeyPath(std::string_view parent, std::string_view key);

}  // namespace dl::config::internal
