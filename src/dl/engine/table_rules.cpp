#include "dl/engine/table_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "dl/engine/expression_check.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Spark functions whose DuckDB namesake computes the same value (concat is not one: Spark's
// is NULL when an argument is, DuckDB's skips NULLs; dayofweek counts from another day).
const std::set<std::string, std::less<>> kSameFunctions = {
    "abs",     "ceil",   "ceiling",   "floor",       "round",     "sqrt",   "exp",
    "ln",      "log10",  "log2",      "pow",         "power",     "mod",    "greatest",
    "least",   "coalesce", "nullif",  "ifnull",      "if",        "upper",  "lower",
    "ucase",   "lcase",  "length",    "char_length", "character_length", "substring",
    "substr",  "trim",   "ltrim",     "rtrim",       "year",      "month",  "day",
    "dayofmonth", "dayofyear", "hour", "minute",     "second",    "quarter", "isnan"};

// Words that may precede "(" without being a function call.
const std::set<std::string, std::less<>> kKeywords = {
    "in",   "and", "or",      "not",  "when",  "then", "else", "case", "between", "like",
    "is",   "as",  "end",     "null", "true",  "false", "distinct", "from", "escape", "cast",
    "try_cast", "any", "all", "exists"};

// Spark type names in CAST ... AS <type> and typed literals that DuckDB spells otherwise.
const std::map<std::string, std::string, std::less<>> kTypes = {
    {"string", "VARCHAR"},   {"long", "BIGINT"},      {"short", "SMALLINT"},
    {"byte", "TINYINT"},     {"binary", "BLOB"},      {"timestamp", "TIMESTAMPTZ"},
    {"timestamp_ntz", "TIMESTAMP"}, {"timestamp_ltz", "TIMESTAMPTZ"}};

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// A Spark string literal starting at s[i] (quote ' or "), with backslash escapes, as a
// standard SQL literal; `i` moves past it.
Result<std::string> StringLiteral(std::string_view s, size_t& i) {
  const char quote = s[i++];
  std::string value;
  while (i < s.size() && s[i] != quote) {
    char c = s[i++];
    if (c == '\\' && i < s.size()) {
      char e = s[i++];
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '0': value += '\0'; break;
        case '%': case '_': value += '\\'; value += e; break;  // kept for LIKE, as Spark does
        default: value += e;
      }
      continue;
    }
    value += c;
  }
  if (i >= s.size()) return Status::InvalidArgument("a string literal is not closed");
  ++i;
  if (value.find('\0') != std::string::npos) {
    return Status::InvalidArgument("a string literal holds a NUL character");
  }
  return QuoteLiteral(value);
}

}  // namespace

Result<std::string> TranslateSparkExpression(std::string_view s) {
  std::string out;
  bool after_as = false;         // the next word is a type (CAST ... AS <type>)
  bool after_literal = false;    // a string literal just ended (adjacent literals)
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      out += c;
      ++i;
      continue;
    }
    const bool literal_before = after_literal;
    after_literal = false;
    if (c == '\'' || c == '"') {
      if (literal_before) {
        return Status::InvalidArgument("adjacent string literals are not supported");
      }
      DL_ASSIGN_OR_RETURN(std::string lit, StringLiteral(s, i));
      out += lit;
      after_literal = true;
      continue;
    }
    if (c == '`') {
      std::string name;
      ++i;
      while (true) {
        if (i >= s.size()) return Status::InvalidArgument("a `quoted` name is not closed");
        if (s[i] == '`' && i + 1 < s.size() && s[i + 1] == '`') {
          name += '`';
          i += 2;
        } else if (s[i] == '`') {
          ++i;
          break;
        } else {
          name += s[i++];
        }
      }
      out += QuoteIdent(name);
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
      if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {  // exponent
        size_t k = j + 1;
        if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
          j = k;
          while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        }
      }
      if (j < s.size() && IdentChar(s[j])) {
        return Status::InvalidArgument("typed numeric literal '{}' (a suffix such as L or D) is "
                                       "not supported",
                                       s.substr(i, std::min<size_t>(j + 3, s.size()) - i));
      }
      out.append(s.substr(i, j - i));
      i = j;
      continue;
    }
    if (IdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IdentChar(s[j])) ++j;
      const std::string_view word = s.substr(i, j - i);
      const std::string lower = Lower(word);
      const size_t next = SkipSpace(s, j);
      const bool call = next < s.size() && s[next] == '(';
      const bool literal_follows = next < s.size() && (s[next] == '\'' || s[next] == '"');
      i = j;
      if ((after_as || literal_follows) && kTypes.count(lower)) {
        out += kTypes.at(lower);
      } else if (lower == "div") {
        out += "//";
      } else if (lower == "rlike" || lower == "regexp") {
        return Status::InvalidArgument("{} (Java regular expressions) is not supported", word);
      } else if (call && !kKeywords.count(lower) && !after_as && !kSameFunctions.count(lower)) {
        return Status::InvalidArgument(
            "function {} is not supported (data_loader evaluates only functions whose Spark "
            "and DuckDB meanings agree)",
            word);
      } else {
        out.append(word);
      }
      after_as = lower == "as";
      continue;
    }
    after_as = false;
    auto starts = [&](std::string_view op) { return s.substr(i).starts_with(op); };
    if (starts("<=>")) {
      out += " IS NOT DISTINCT FROM ";
      i += 3;
    } else if (starts("==")) {
      out += "=";
      i += 2;
    } else if (starts("!=")) {
      out += "<>";
      i += 2;
    } else if (c == '!') {
      out += " NOT ";
      ++i;
    } else if (c == '^') {
      return Status::InvalidArgument("^ (bitwise XOR in Spark, power in DuckDB) is not supported");
    } else if (c == ';') {
      return Status::InvalidArgument("';' is not allowed");
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

Result<std::string> CompileTableExpression(Engine& engine, std::string_view spark_sql,
                                           const delta::Schema& schema, std::string_view what) {
  auto refuse = [&](std::string_view why) {
    return Status::Unsupported("{} ({}) cannot be evaluated by data_loader: {}", what, spark_sql,
                               why);
  };
  auto translated = TranslateSparkExpression(spark_sql);
  if (!translated.ok()) return refuse(translated.status().message());
  auto columns = CheckExpression(engine, *translated, "the expression", Qualifiers::kAny);
  if (!columns.ok()) return refuse(columns.status().message());
  for (const auto& parts : *columns) {
    const std::string first = Lower(parts.front());
    bool found = std::any_of(schema.fields.begin(), schema.fields.end(),
                             [&](const delta::StructField& f) { return Lower(f.name) == first; });
    if (!found) return refuse(fmt::format("column {} is not in the table", parts.front()));
  }
  return *translated;
}

RowRule IdentityValueGivenRule(const std::string& column) {
  return {fmt::format("identity column {}", column), QuoteIdent(column) + " IS NULL", ""};
}

Result<IdentityAllocation> AllocateIdentityValues(Engine& engine, const std::string& sql,
                                                  const std::string& column, int64_t first,
                                                  int64_t step) {
  const std::string col = QuoteIdent(column);
  const std::string body = StripStatementEnd(sql);
  DL_ASSIGN_OR_RETURN(auto rows, engine.Query(fmt::format(
                                     "SELECT count(*) FILTER (WHERE {} IS NULL) FROM ({}) AS "
                                     "\"_dl_identity\"",
                                     col, body)));
  IdentityAllocation out;
  out.allocated = std::stoll(rows.rows.at(0).at(0).value_or("0"));
  if (out.allocated == 0) {
    out.sql = sql;
    return out;
  }
  // The n-th NULL (in the engine's row order) gets first + (n - 1) * step; the caller has
  // checked that the last value fits a BIGINT.
  out.sql = fmt::format(
      "SELECT * REPLACE (CASE WHEN {0} IS NULL THEN CAST({1} AS BIGINT) + CAST({2} AS BIGINT) * "
      "(CAST(sum(CASE WHEN {0} IS NULL THEN 1 ELSE 0 END) OVER (ROWS BETWEEN UNBOUNDED PRECEDING "
      "AND CURRENT ROW) AS BIGINT) - 1) ELSE {0} END AS {0}) FROM ({3}) AS \"_dl_identity\"",
      col, first, step, body);
  return out;
}

}  // namespace dl::engine
