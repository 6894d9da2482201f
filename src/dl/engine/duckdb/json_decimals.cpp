#include "dl/engine/duckdb/json_decimals.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vector>

#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

namespace {

std::string TakeName(char* s) {
  std::string out(s ? s : "");
  duckdb_free(s);
  return out;
}

// Builds the SQL that turns one JSON value into its declared type as DuckDB's json reader
// would, but every decimal from its text.
class ExactCast {
 public:
  explicit ExactCast(std::string file) : file_(std::move(file)) {}

  // `e`: a JSON expression; `path`: the column (and field) it is, for the error.
  std::string Of(const std::string& e, duckdb_logical_type type, const std::string& path) {
    const std::string name = DuckDbTypeName(type);
    if (name == "VARCHAR") {
      // A JSON value cast to VARCHAR is its json text: a string keeps its quotes there.
      return fmt::format(
          "CASE WHEN json_type({0}) = 'VARCHAR' THEN {0} ->> '$' ELSE CAST({0} AS "
          "VARCHAR) END",
          e);
    }
    // Structs are built here at every depth: a cast from JSON refuses keys the struct does
    // not have, which the reader ignores.
    switch (duckdb_get_type_id(type)) {
      case DUCKDB_TYPE_DECIMAL:
        return Decimal(e, name, path);
      case DUCKDB_TYPE_STRUCT:
        return Nested(e, "OBJECT", name, Struct(e, type, path));
      case DUCKDB_TYPE_LIST:
      case DUCKDB_TYPE_ARRAY: {
        const bool list = duckdb_get_type_id(type) == DUCKDB_TYPE_LIST;
        LogicalType child(list ? duckdb_list_type_child_type(type)
                               : duckdb_array_type_child_type(type));
        const std::string x = Lambda();
        return Nested(e, "ARRAY", name,
                      fmt::format("list_transform(CAST({} AS JSON[]), lambda {}: {})", e, x,
                                  Of(x, child.get(), path + ".element")));
      }
      case DUCKDB_TYPE_MAP: {
        LogicalType key(duckdb_map_type_key_type(type)), value(duckdb_map_type_value_type(type));
        const std::string x = Lambda();
        // A json object's keys are strings: a decimal key is cast from its text.
        return Nested(
            e, "OBJECT", name,
            fmt::format("map_from_entries(list_transform(map_entries(CAST({0} AS MAP(VARCHAR, "
                        "JSON))), lambda {1}: {{'key': CAST({1}.key AS {2}), 'value': {3}}}))",
                        e, x, DuckDbTypeName(key.get()),
                        Of(x + ".value", value.get(), path + ".value")));
      }
      default:
        return fmt::format("CAST({} AS {})", e, name);
    }
  }

 private:
  std::string Lambda() { return fmt::format("__dl_x{}", ++lambdas_); }

  // Anything but the json kind the type takes (null, or a mistake) is cast as DuckDB's reader
  // would: NULL, or its error.
  static std::string Nested(const std::string& e, const char* kind, const std::string& name,
                            const std::string& exact) {
    return fmt::format(
        "CASE WHEN json_type({0}) IS DISTINCT FROM '{1}' THEN CAST({0} AS {2}) "
        "ELSE CAST({3} AS {2}) END",
        e, kind, name, exact);
  }

  // Fields by their exact name, as DuckDB's reader matches them; other keys are ignored.
  std::string Struct(const std::string& e, duckdb_logical_type type, const std::string& path) {
    std::vector<std::string> fields;
    const std::string object = fmt::format("CAST({} AS MAP(VARCHAR, JSON))", e);
    for (idx_t i = 0; i < duckdb_struct_type_child_count(type); ++i) {
      const std::string field = TakeName(duckdb_struct_type_child_name(type, i));
      LogicalType child(duckdb_struct_type_child_type(type, i));
      fields.push_back(
          fmt::format("{} := {}", QuoteIdent(field),
                      Of(fmt::format("map_extract_value({}, {})", object, QuoteLiteral(field)),
                         child.get(), path + "." + field)));
    }
    return fmt::format("struct_pack({})", fmt::join(fields, ", "));
  }

  // A json string by its text, an integer by its digits, a fraction only if its double has at
  // most 15 significant digits, which a double always keeps as written; a longer one may have
  // been rounded (1234567890123456.78 -> ...456.8) and fails naming the file, the column and
  // the remedy. The double itself cast: 1234567.89 into DECIMAL(38,10) was 1234567.8899999998.
  std::string Decimal(const std::string& e, const std::string& type, const std::string& path) {
    const std::string text = fmt::format("CAST({} AS VARCHAR)", e);
    const std::string digits = fmt::format(
        "length(trim(replace(replace(regexp_replace({}, '[eE].*$', ''), '-', ''), '.', ''), '0'))",
        text);
    const std::string message = fmt::format(
        "{} || {} || {} || {} || {}", QuoteLiteral("json number "), text,
        QuoteLiteral(fmt::format(" of decimal column {} in ", path)), file_,
        QuoteLiteral(" has more significant digits than DuckDB's json reader keeps (15: it "
                     "reads json numbers as doubles); write it as a json string, or load with "
                     "engine: spark"));
    return fmt::format(
        "CASE WHEN {0} IS NULL OR json_type({0}) = 'NULL' THEN NULL WHEN json_type({0}) = "
        "'VARCHAR' THEN CAST({0} ->> '$' "
        "AS {1}) WHEN json_type({0}) IN ('BIGINT', 'UBIGINT') OR {2} <= 15 THEN CAST({3} AS {1}) "
        "ELSE error({4}) END",
        e, type, digits, text, message);
  }

  std::string file_;
  int lambdas_ = 0;
};

}  // namespace

Result<std::string> ExactJsonDecimals(Connection& conn, const SourceOptions& options) {
  if (options.json_decimal_columns.empty()) return std::string();
  auto file = options.options.find("filename");
  ExactCast cast(file != options.options.end() ? QuoteIdent(file->second) : QuoteLiteral("a file"));
  std::vector<std::string> casts;
  for (const auto& [name, type] : options.json_decimal_columns) {
    // The declared type as DuckDB parses it (a configured type string).
    DL_ASSIGN_OR_RETURN(QueryResult parsed,
                        conn.Query(fmt::format("SELECT CAST(NULL AS {}) LIMIT 0", type),
                                   fmt::format("reading the type of json column {}", name)));
    LogicalType t = parsed.column_logical_type(0);
    const std::string col = QuoteIdent(name);
    casts.push_back(fmt::format("{} AS {}", cast.Of(col, t.get(), name), col));
  }
  return fmt::format(" REPLACE ({})", fmt::join(casts, ", "));
}

}  // namespace dl::engine::duck
