#include "dl/engine/duckdb/source_reader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/object_store.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

namespace {

enum class Kind { kBool, kInt, kString, kColumns };

using OptionTable = std::map<std::string, Kind, std::less<>>;

const OptionTable& AllowedOptions(std::string_view format) {
  static const OptionTable kCsv = {
      {"header", Kind::kBool},
      {"delim", Kind::kString},
      {"sep", Kind::kString},
      {"quote", Kind::kString},
      {"escape", Kind::kString},
      {"nullstr", Kind::kString},
      {"columns", Kind::kColumns},
      {"auto_detect", Kind::kBool},
      {"skip", Kind::kInt},
      {"dateformat", Kind::kString},
      {"timestampformat", Kind::kString},
      {"all_varchar", Kind::kBool},
      {"ignore_errors", Kind::kBool},
      {"null_padding", Kind::kBool},
      {"compression", Kind::kString},
      {"encoding", Kind::kString},
      {"new_line", Kind::kString},
      {"comment", Kind::kString},
      {"decimal_separator", Kind::kString},
      {"sample_size", Kind::kInt},
      {"max_line_size", Kind::kInt},
      {"normalize_names", Kind::kBool},
      {"strict_mode", Kind::kBool},
      {"parallel", Kind::kBool},
      {"filename", Kind::kString},
  };
  static const OptionTable kJson = {
      {"format", Kind::kString},
      {"records", Kind::kString},
      {"columns", Kind::kColumns},
      {"compression", Kind::kString},
      {"dateformat", Kind::kString},
      {"timestampformat", Kind::kString},
      {"ignore_errors", Kind::kBool},
      {"sample_size", Kind::kInt},
      {"maximum_object_size", Kind::kInt},
      {"maximum_depth", Kind::kInt},
      {"map_inference_threshold", Kind::kInt},
      {"field_appearance_threshold", Kind::kInt},
      {"convert_strings_to_integers", Kind::kBool},
      {"filename", Kind::kString},
  };
  static const OptionTable kParquet = {
      {"binary_as_string", Kind::kBool},
      {"hive_partitioning", Kind::kBool},
      {"filename", Kind::kString},
      {"file_row_number", Kind::kBool},
  };
  if (format == "csv") return kCsv;
  if (format == "json") return kJson;
  return kParquet;
}

Result<std::string> OptionValue(const std::string& key, const std::string& value, Kind kind) {
  switch (kind) {
    case Kind::kBool: {
      std::string v = AsciiLower(value);
      if (v == "true" || v == "1" || v == "yes") return std::string("true");
      if (v == "false" || v == "0" || v == "no") return std::string("false");
      return Status::Config("reader option '{}' must be true or false, got '{}'", key, value);
    }
    case Kind::kInt: {
      std::string_view digits = value;
      if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
      bool ok = !digits.empty() && digits.size() < 19 &&
                std::all_of(digits.begin(), digits.end(),
                            [](unsigned char c) { return std::isdigit(c); });
      if (!ok) return Status::Config("reader option '{}' must be an integer, got '{}'", key, value);
      return value;
    }
    case Kind::kString:
      return QuoteLiteral(value);
    case Kind::kColumns: {
      auto sanitized = SanitizeColumnsLiteral(value);
      if (!sanitized.ok()) return sanitized.status().WithContext("reader option 'columns'");
      return sanitized;
    }
  }
  return Status::Internal("unknown option kind");
}

// A tiny scanner over a struct literal of quoted strings.
class LiteralScanner {
 public:
  explicit LiteralScanner(std::string_view text) : text_(text) {}
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  // A '...' or "..." string with the quote doubled inside.
  std::optional<std::string> QuotedString() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) return std::nullopt;
    char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c != quote) {
        out.push_back(c);
      } else if (pos_ < text_.size() && text_[pos_] == quote) {
        out.push_back(quote);
        ++pos_;
      } else {
        return out;
      }
    }
    return std::nullopt;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// JSON inference defaults (a batch's schema must not hinge on one odd file):
// - records: every row is an object whose keys are columns; a file of other values (`42`)
//   fails and is named, where DuckDB's 'auto' turns the whole batch into one `json` column.
// - map_inference_threshold: objects keep their keys as columns (struct fields when nested)
//   up to 10,000 keys, where DuckDB's 200 turns a wider object into one MAP.
// - field_appearance_threshold 0: keys that appear in few rows (files of one batch with
//   different columns) stay columns, where DuckDB's 0.1 turns the object into a MAP.
// The JSON sample size (DuckDB's sample_size, 20,480 rows) and maximum_object_size (16 MB)
// keep their defaults.
constexpr std::pair<const char*, const char*> kJsonDefaults[] = {
    {"records", "'true'"},
    {"map_inference_threshold", "10000"},
    {"field_appearance_threshold", "0"},
};

}  // namespace

Result<std::string> SanitizeColumnsLiteral(std::string_view text) {
  LiteralScanner scan(text);
  auto bad = [&] {
    return Status::Config("expected a struct literal like {{'a': 'INTEGER'}}, got '{}'", text);
  };
  if (!scan.Consume('{')) return bad();
  std::string out = "{";
  bool first = true;
  while (!scan.Consume('}')) {
    if (!first && !scan.Consume(',')) return bad();
    auto key = scan.QuotedString();
    if (!key || !scan.Consume(':')) return bad();
    auto type = scan.QuotedString();
    if (!type) return bad();
    out += fmt::format("{}{}: {}", first ? "" : ", ", QuoteLiteral(*key), QuoteLiteral(*type));
    first = false;
  }
  if (!scan.AtEnd() || first) return bad();
  return out + "}";
}

Result<std::string> SourceReaderCall(const std::vector<std::string>& files,
                                     const SourceOptions& options, bool union_by_name) {
  std::string format = AsciiLower(options.format);
  if (format == "jsonl" || format == "ndjson") format = "json";
  if (format != "parquet" && format != "csv" && format != "json") {
    return Status::Config("unknown source format '{}' (parquet, csv or json)", options.format);
  }
  if (files.empty()) return Status::InvalidArgument("no source files given");
  const OptionTable& allowed = AllowedOptions(format);
  std::string call = fmt::format("read_{}({}{}", format, SqlStringList(ReadPaths(files)),
                                 union_by_name ? ", union_by_name=true" : "");
  for (const auto& [raw_key, value] : options.options) {
    std::string key = AsciiLower(raw_key);
    auto it = allowed.find(key);
    if (it == allowed.end()) {
      std::vector<std::string> names;
      for (const auto& [name, kind] : allowed) names.push_back(name);
      return Status::Config("unknown {} reader option '{}' (allowed: {})", format, raw_key,
                            fmt::join(names, ", "));
    }
    DL_ASSIGN_OR_RETURN(std::string v, OptionValue(key, value, it->second));
    call += fmt::format(", {}={}", key, v);
  }
  if (format == "json") {
    for (const auto& [key, value] : kJsonDefaults) {
      bool given = std::any_of(options.options.begin(), options.options.end(),
                               [&](const auto& o) { return AsciiLower(o.first) == key; });
      if (!given) call += fmt::format(", {}={}", key, value);
    }
  }
  return call + ")";
}

std::string DescribeFiles(const std::vector<std::string>& files) {
  if (files.size() == 1) return fmt::format("'{}'", files[0]);
  std::vector<std::string> head(files.begin(), files.begin() + std::min<size_t>(files.size(), 3));
  return fmt::format("{} files ('{}'{})", files.size(), fmt::join(head, "', '"),
                     files.size() > 3 ? ", ..." : "");
}

}  // namespace dl::engine::duck
