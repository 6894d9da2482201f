#include "dl/engine/change_data.hpp"

#include <fmt/format.h>

#include "dl/engine/engine.hpp"

namespace dl::engine {
namespace {

std::string ColumnList(const std::vector<std::string>& columns, const std::string& prefix = "") {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + prefix + QuoteIdent(c);
  return out;
}

// `kind` when a row of `other` has the same keys as the row `alias`, else `otherwise`.
std::string ChangeTypeSql(const std::vector<std::string>& keys, const std::string& alias,
                          const std::string& other, const char* kind, const char* otherwise) {
  if (keys.empty()) return QuoteLiteral(otherwise);
  std::string match;
  for (const auto& k : keys) {
    match += fmt::format("{}\"__m\".{} IS NOT DISTINCT FROM {}.{}", match.empty() ? "" : " AND ",
                         QuoteIdent(k), alias, QuoteIdent(k));
  }
  return fmt::format("CASE WHEN EXISTS (SELECT 1 FROM {} AS \"__m\" WHERE {}) THEN {} ELSE {} END",
                     other, match, QuoteLiteral(kind), QuoteLiteral(otherwise));
}

}  // namespace

std::string WriteChangeRowsSql(const std::string& old_view, const std::string& new_view,
                               const std::vector<std::string>& columns,
                               const std::vector<std::string>& keys) {
  const std::string cols = ColumnList(columns);
  return fmt::format(
      "WITH \"__old\" AS (SELECT {0} FROM {1}), \"__new\" AS (SELECT {0} FROM {2}), "
      "\"__del\" AS (SELECT * FROM \"__old\" EXCEPT ALL SELECT * FROM \"__new\"), "
      "\"__ins\" AS (SELECT * FROM \"__new\" EXCEPT ALL SELECT * FROM \"__old\") "
      "SELECT {3}, {4} AS {6} FROM \"__del\" AS \"__r\" "
      "UNION ALL SELECT {3}, {5} AS {6} FROM \"__ins\" AS \"__r\"",
      cols, QuoteIdent(old_view), QuoteIdent(new_view), ColumnList(columns, "\"__r\"."),
      ChangeTypeSql(keys, "\"__r\"", "\"__ins\"", "update_preimage", "delete"),
      ChangeTypeSql(keys, "\"__r\"", "\"__del\"", "update_postimage", "insert"),
      QuoteIdent(kChangeTypeColumn));
}

std::string InferredChangeRowsSql(const std::string& removed_view, const std::string& added_view,
                                  const std::vector<std::string>& columns) {
  constexpr const char* kSame =
      "\"__o\".\"_dl_file\" = \"__r\".\"_dl_file\" AND \"__o\".\"_dl_row\" = \"__r\".\"_dl_row\"";
  return fmt::format(
      "SELECT {0}, 'delete' AS {3} FROM {1} AS \"__r\" ANTI JOIN {2} AS \"__o\" ON {4} "
      "UNION ALL SELECT {0}, 'insert' AS {3} FROM {2} AS \"__r\" ANTI JOIN {1} AS \"__o\" ON {4}",
      ColumnList(columns, "\"__r\"."), QuoteIdent(removed_view), QuoteIdent(added_view),
      QuoteIdent(kChangeTypeColumn), kSame);
}

std::string ChangeFeedSql(const std::vector<CommitChanges>& commits) {
  std::string sql;
  for (const auto& c : commits) {
    if (!sql.empty()) sql += " UNION ALL BY NAME ";
    sql += fmt::format(
        "SELECT *, CAST({} AS BIGINT) AS {}, CAST(make_timestamp(CAST({} AS BIGINT) * 1000) AS "
        "TIMESTAMP) AS {} FROM ({})",
        c.version, QuoteIdent(kCommitVersionColumn), c.timestamp_ms,
        QuoteIdent(kCommitTimestampColumn), c.sql);
  }
  return fmt::format("SELECT * FROM ({}) ORDER BY {}", sql, QuoteIdent(kCommitVersionColumn));
}

}  // namespace dl::engine
