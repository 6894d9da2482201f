#include "dl/engine/expression_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

namespace dl::engine {

// Scalar functions and operators a fragment may call: pure functions of their arguments (and
// the clock). Everything else, including every table function, is refused: an allowlist, so
// functions added by later engine versions stay out until someone adds them here.
const std::set<std::string, std::less<>>& AllowedFunctions() {
  static const std::set<std::string, std::less<>> names = {
      // arithmetic, bitwise, string and pattern operators
      "+", "-", "*", "/", "//", "%", "**", "^", "&", "|", "<<", ">>", "~", "||", "~~", "!~~", "~~*",
      "!~~*", "~~~", "^@", "->>", "->",
      // numbers
      "abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "sqrt", "cbrt", "pow", "power",
      "exp", "ln", "log", "log10", "log2", "mod", "greatest", "least", "isnan", "isinf", "isfinite",
      "even", "gcd", "lcm",
      // NULL handling and conditionals
      "nullif", "ifnull", "if",
      // strings
      "lower", "upper", "lcase", "ucase", "trim", "ltrim", "rtrim", "length", "len", "char_length",
      "character_length", "strlen", "octet_length", "substring", "substr", "left", "right",
      "concat", "concat_ws", "replace", "reverse", "lpad", "rpad", "repeat", "position", "strpos",
      "instr", "contains", "starts_with", "ends_with", "prefix", "suffix", "like_escape",
      "ilike_escape", "not_like_escape", "not_ilike_escape", "regexp_matches", "regexp_full_match",
      "regexp_replace", "regexp_extract", "split_part", "md5", "sha256", "hash", "ascii", "chr",
      "format", "printf", "translate", "strip_accents", "nfc_normalize", "json_extract",
      "json_extract_string",
      // dates and times
      "date_part", "datepart", "date_trunc", "datetrunc", "date_diff", "datediff", "date_sub",
      "datesub", "date_add", "year", "month", "day", "hour", "minute", "second", "millisecond",
      "microsecond", "dayofweek", "dayofmonth", "dayofyear", "isodow", "week", "weekofyear",
      "quarter", "epoch", "epoch_ms", "epoch_us", "epoch_ns", "make_date", "make_time",
      "make_timestamp", "make_timestamptz", "to_timestamp", "strftime", "strptime", "try_strptime",
      "last_day", "monthname", "dayname", "age", "to_years", "to_months", "to_weeks", "to_days",
      "to_hours", "to_minutes", "to_seconds", "to_milliseconds", "to_microseconds", "current_date",
      "current_time", "current_timestamp", "now", "today", "get_current_time",
      "get_current_timestamp", "timezone",
      // lists and structs built from the row or constants
      "list_value", "list_contains", "list_has", "array_contains", "list_has_any", "list_has_all",
      "array_length", "list_extract", "array_extract", "struct_extract", "struct_pack", "row"};
  return names;
}

const std::set<std::string, std::less<>>& AllowedCastTypes() {
  static const std::set<std::string, std::less<>> kCastTypes = {"BOOLEAN",
                                                                "TINYINT",
                                                                "SMALLINT",
                                                                "INTEGER",
                                                                "BIGINT",
                                                                "HUGEINT",
                                                                "UTINYINT",
                                                                "USMALLINT",
                                                                "UINTEGER",
                                                                "UBIGINT",
                                                                "UHUGEINT",
                                                                "FLOAT",
                                                                "DOUBLE",
                                                                "DECIMAL",
                                                                "VARCHAR",
                                                                "BLOB",
                                                                "DATE",
                                                                "TIME",
                                                                "TIMESTAMP",
                                                                "TIMESTAMP_S",
                                                                "TIMESTAMP_MS",
                                                                "TIMESTAMP_NS",
                                                                "TIMESTAMP WITH TIME ZONE",
                                                                "INTERVAL",
                                                                "UUID"};
  return kCastTypes;
}

namespace {

using nlohmann::json;

// Parsed-tree node kinds (json_serialize_sql "class"/"type") that build a scalar expression.
const std::set<std::string, std::less<>> kOperatorTypes = {
    "OPERATOR_NOT",   "OPERATOR_IS_NULL",  "OPERATOR_IS_NOT_NULL", "COMPARE_IN",
    "COMPARE_NOT_IN", "OPERATOR_COALESCE", "ARRAY_EXTRACT",        "STRUCT_EXTRACT"};

// Bare names DuckDB binds to functions about the session when no column has them.
const std::set<std::string, std::less<>> kSessionNames = {
    "current_catalog", "current_database", "current_schema", "current_schemas", "current_role",
    "current_user",    "session_user",     "user",           "current_query"};
// What the walk refuses, by node class, in words.
const std::map<std::string, std::string, std::less<>> kRefusedClasses = {
    {"SUBQUERY", "a subquery"},
    {"LAMBDA", "a lambda"},
    {"STAR", "a star expression (*, COLUMNS)"},
    {"WINDOW", "a window or aggregate function"},
    {"PARAMETER", "a prepared-statement parameter"},
    {"POSITIONAL_REFERENCE", "a positional reference (#n)"},
    {"COLLATE", "COLLATE"},
    {"DEFAULT", "DEFAULT"}};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

class Walker {
 public:
  Walker(std::string_view fragment, Qualifiers qualifiers)
      : fragment_(fragment), qualifiers_(qualifiers) {}

  // Empty when `node` (and everything below it) is allowed; else why not.
  std::string Check(const json& node, int depth) {
    if (depth > kMaxFragmentDepth) {
      return fmt::format("nests deeper than {} levels", kMaxFragmentDepth);
    }
    if (node.is_array()) {
      for (const auto& child : node) {
        if (auto why = Check(child, depth); !why.empty()) return why;
      }
      return {};
    }
    if (!node.is_object()) return {};
    if (node.contains("class")) {
      if (auto why = CheckNode(node); !why.empty()) return why;
      ++depth;
    }
    // Every member, not only the known child slots: no subtree escapes the walk.
    for (const auto& [name, child] : node.items()) {
      if (auto why = Check(child, depth); !why.empty()) return why;
    }
    return {};
  }

  std::vector<std::vector<std::string>> columns;

 private:
  // The fragment's text from a node's position (the parser's offset into "SELECT (...").
  std::string At(const json& node) const {
    uint64_t loc = node.value("query_location", uint64_t{0});
    if (loc < 8 || loc - 8 >= fragment_.size()) return {};
    std::string_view rest = fragment_.substr(loc - 8);
    return fmt::format(" at '{}{}'", rest.substr(0, 40), rest.size() > 40 ? "..." : "");
  }

  std::string CheckNode(const json& node) {
    const std::string cls = node.value("class", "");
    const std::string type = node.value("type", "");
    if (cls == "CONSTANT" || cls == "COMPARISON" || cls == "CONJUNCTION" || cls == "CASE" ||
        cls == "BETWEEN") {
      return {};
    }
    if (cls == "COLUMN_REF") return CheckColumn(node);
    if (cls == "FUNCTION") return CheckFunction(node);
    if (cls == "CAST") return CheckCast(node);
    if (cls == "OPERATOR") {
      if (kOperatorTypes.count(type)) return {};
      return fmt::format("operator {} is not allowed{}", type, At(node));
    }
    auto refused = kRefusedClasses.find(cls);
    return fmt::format("{} is not allowed{}",
                       refused != kRefusedClasses.end() ? refused->second : "expression " + cls,
                       At(node));
  }

  std::string CheckFunction(const json& node) {
    const std::string name = Lower(node.value("function_name", ""));
    const std::string schema = node.value("schema", "");
    const bool plain = node.value("catalog", "").empty() && (schema.empty() || schema == "main");
    if (!plain || !AllowedFunctions().count(name)) {
      return fmt::format("function {}{} is not allowed (docs/security.md lists those that are){}",
                         schema.empty() ? "" : schema + ".", name, At(node));
    }
    const bool scalar_call =
        node.value("filter", json()).is_null() && !node.value("distinct", false) &&
        !node.value("export_state", false) &&
        node.value("order_bys", json::object()).value("orders", json::array()).empty();
    if (!scalar_call) {
      return fmt::format("{} with FILTER, DISTINCT or ORDER BY is not allowed{}", name, At(node));
    }
    return {};
  }

  std::string CheckCast(const json& node) {
    const json type = node.value("cast_type", json::object());
    const std::string id = type.value("id", "");
    const json info = type.value("type_info", json());
    const bool plain = info.is_null() || info.value("type", "") == "DECIMAL_TYPE_INFO";
    if (!AllowedCastTypes().count(id) || !plain) {
      return fmt::format("a cast to {} is not allowed (only to plain scalar types){}", id,
                         At(node));
    }
    return {};
  }

  std::string CheckColumn(const json& node) {
    std::vector<std::string> names;
    for (const auto& n : node.value("column_names", json::array())) {
      names.push_back(n.is_string() ? n.get<std::string>() : std::string());
    }
    if (names.empty()) return fmt::format("an empty column reference{}", At(node));
    const std::string first = Lower(names.front());
    if (names.size() == 1 && kSessionNames.count(first)) {
      return fmt::format("'{}' is not allowed (it reads the session, not the row){}", names.front(),
                         At(node));
    }
    if (qualifiers_ == Qualifiers::kSourceOrTarget &&
        (names.size() < 2 || (first != "source" && first != "target"))) {
      return fmt::format("column '{}' must be written source.{} or target.{}{}", names.back(),
                         names.back(), names.back(), At(node));
    }
    if (qualifiers_ == Qualifiers::kNotTarget && names.size() >= 2 && first == "target") {
      return fmt::format("names the target ('{}.{}'): it sees only the source row{}", names.front(),
                         names.back(), At(node));
    }
    columns.push_back(std::move(names));
    return {};
  }

  std::string_view fragment_;
  Qualifiers qualifiers_;
};

// The statement around the expression must be exactly "SELECT (<expr>) AS <nonce>": a
// fragment that closes our parenthesis and adds clauses (FROM, WHERE, ...) or comments out
// the rest changes that shape.
bool IsLoneExpression(const json& tree, const std::string& nonce) {
  const json& statements = tree.value("statements", json::array());
  if (statements.size() != 1) return false;
  const json& node = statements[0].value("node", json::object());
  const json& select = node.value("select_list", json::array());
  auto empty = [&](const char* key) {
    const json& v = node.value(key, json());
    return v.is_null() || (v.is_array() && v.empty());
  };
  return node.value("type", "") == "SELECT_NODE" && select.size() == 1 &&
         select[0].value("alias", "") == nonce &&
         node.value("from_table", json::object()).value("type", "") == "EMPTY" &&
         node.value("cte_map", json::object()).value("map", json::array()).empty() &&
         node.value("aggregate_handling", "") == "STANDARD_HANDLING" && empty("modifiers") &&
         empty("where_clause") && empty("group_expressions") && empty("group_sets") &&
         empty("having") && empty("sample") && empty("qualify") &&
         statements[0].value("named_param_map", json::array()).empty();
}

std::string Nonce() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("__dl_end_{:016x}", rng());
}

}  // namespace

Result<std::vector<std::vector<std::string>>> CheckExpression(Engine& engine,
                                                              std::string_view fragment,
                                                              std::string_view key,
                                                              Qualifiers qualifiers) {
  auto refuse = [&](const std::string& why) { return Status::InvalidArgument("{}: {}", key, why); };
  if (fragment.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return refuse("must not be empty");
  }
  if (fragment.size() > kMaxFragmentBytes) {
    return refuse(fmt::format("is {} bytes long; at most {} are allowed", fragment.size(),
                              kMaxFragmentBytes));
  }
  if (fragment.find('\0') != std::string_view::npos) return refuse("contains a NUL byte");
  // Parsed twice in one query: in parentheses (as every query uses it) and in brackets. A
  // fragment that closes what it did not open cannot parse in both.
  const std::string nonce = Nonce();
  DL_ASSIGN_OR_RETURN(
      auto rows,
      engine.Query(fmt::format("SELECT json_serialize_sql({}), json_serialize_sql({})",
                               QuoteLiteral(fmt::format("SELECT ({}) AS {}", fragment, nonce)),
                               QuoteLiteral(fmt::format("SELECT [{}] AS {}", fragment, nonce)))));
  json tree = json::parse(rows.rows.at(0).at(0).value_or("{}"), nullptr, false);
  json bracketed = json::parse(rows.rows.at(0).at(1).value_or("{}"), nullptr, false);
  if (!tree.is_object() || !bracketed.is_object()) return refuse("cannot be parsed");
  if (tree.value("error", true)) {
    return refuse(fmt::format("is not a single SQL expression: {}",
                              tree.value("error_message", std::string("parse error"))));
  }
  if (!IsLoneExpression(tree, nonce)) {
    return refuse(
        "must be one expression: it closes its parenthesis, adds clauses (FROM, WHERE, ...) "
        "or comments out what follows");
  }
  if (bracketed.value("error", true)) {
    return refuse("has a ')' that closes a parenthesis it did not open");
  }
  Walker walker(fragment, qualifiers);
  if (auto why = walker.Check(tree["statements"][0]["node"]["select_list"][0], 0); !why.empty()) {
    return refuse(why);
  }
  return std::move(walker.columns);
}

}  // namespace dl::engine
