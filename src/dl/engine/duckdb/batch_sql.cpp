#include "dl/engine/duckdb/batch_sql.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dl/engine/engine.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

std::string TimestampConstant(const std::string& utc_text) {
  return fmt::format("CAST({} AS TIMESTAMPTZ)", QuoteLiteral(utc_text));
}

std::string RescuedDataSql(const std::vector<std::string>& columns) {
  if (columns.empty()) return "CAST(NULL AS VARCHAR)";
  std::vector<std::string> fields, nulls;
  for (const auto& c : columns) {
    fields.push_back(fmt::format("{} := {}", QuoteIdent(c), QuoteIdent(c)));
    nulls.push_back(fmt::format("{} IS NULL", QuoteIdent(c)));
  }
  return fmt::format("CASE WHEN {} THEN NULL ELSE CAST(to_json(struct_pack({})) AS VARCHAR) END",
                     fmt::join(nulls, " AND "), fmt::join(fields, ", "));
}

std::string FilePositionSql(const std::vector<std::string>& files,
                            const std::string& file_column) {
  return fmt::format("list_position({}, {})", SqlStringList(files), QuoteIdent(file_column));
}

std::string FileAtPositionSql(const std::vector<std::string>& files,
                              const std::string& position_column) {
  return fmt::format("{}[{}]", SqlStringList(files), QuoteIdent(position_column));
}

std::string BatchAndKeptRowsSql(const std::string& batch, const std::string& kept,
                                const std::string& predicate) {
  return fmt::format(
      "SELECT * FROM ({}) UNION ALL BY NAME SELECT * FROM ({}) WHERE ({}) IS NOT TRUE", batch,
      kept, predicate);
}

}  // namespace dl::engine::duck
