// DuckDbEngine: the relational operations strategies and the tracker ask for (dedup, column
// lists, projections, a Delta table's files as a batch source), in DuckDB's dialect.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dl/engine/duckdb/duckdb_engine.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

namespace {

std::string QuotedList(const std::vector<std::string>& columns) {
  std::vector<std::string> quoted;
  for (const auto& c : columns) quoted.push_back(QuoteIdent(c));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

}  // namespace

Status DuckDbEngine::RegisterSnapshotSource(const std::string& view,
                                            const delta::Snapshot& snapshot,
                                            const std::vector<delta::AddFile>& files,
                                            const std::string& file_column,
                                            const std::string& row_order_column) {
  const std::string files_view = view + "_files";
  DL_RETURN_IF_ERROR(RegisterSnapshotWithFileColumn(files_view, snapshot, &files));
  // The file column holds add.path as logged (relative); a source names its files in full.
  std::string row_order;
  if (!row_order_column.empty()) {
    row_order = fmt::format(", \"_dl_row\" AS {}", QuoteIdent(row_order_column));
  }
  return conn_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {} AS SELECT * EXCLUDE (\"_dl_file\", \"_dl_row\"), {} || "
      "\"_dl_file\" AS {}{} FROM {}",
      QuoteIdent(view), QuoteLiteral(snapshot.table_root() + "/"), QuoteIdent(file_column),
      row_order, QuoteIdent(files_view)));
}

void DuckDbEngine::DropSource(const std::string& view) {
  // Which of these exist depends on how the source was registered; errors change nothing.
  (void)conn_.Execute(fmt::format("DROP VIEW IF EXISTS {}", QuoteIdent(view)));
  (void)conn_.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdent(view)));
  (void)conn_.Execute(fmt::format("DROP VIEW IF EXISTS {}", QuoteIdent(view + "_files")));
  (void)conn_.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdent(view + "_rows")));
}

Result<std::vector<ColumnInfo>> DuckDbEngine::DescribeColumns(const std::string& sql) {
  DL_ASSIGN_OR_RETURN(auto rows, Query(fmt::format("SELECT column_name, column_type FROM "
                                                   "(DESCRIBE {})",
                                                   StripStatementEnd(sql))));
  std::vector<ColumnInfo> out;
  for (const auto& row : rows.rows) {
    out.push_back({row.at(0).value_or(""), row.at(1).value_or("VARCHAR")});
  }
  return out;
}

std::string DuckDbEngine::Deduplicate(const std::string& sql, const Deduplication& dedup) const {
  const std::string partition =
      dedup.keys.empty() ? "" : "PARTITION BY " + QuotedList(dedup.keys);
  std::vector<std::string> order;
  for (const auto& k : dedup.order) {
    order.push_back(fmt::format("{}{} NULLS {}", QuoteIdent(k.column), k.descending ? " DESC" : "",
                                k.nulls_first ? "FIRST" : "LAST"));
  }
  std::string select = "*";
  if (!dedup.drop_columns.empty()) {
    select = fmt::format("* EXCLUDE ({})", QuotedList(dedup.drop_columns));
  }
  if (!dedup.dropped_count_column.empty()) {
    select += fmt::format(", count(*) OVER ({}) - 1 AS {}", partition,
                          QuoteIdent(dedup.dropped_count_column));
  }
  return fmt::format("SELECT {} FROM ({}) QUALIFY row_number() OVER ({}{}{}) = 1", select,
                     StripStatementEnd(sql), partition, order.empty() ? "" : " ORDER BY ",
                     fmt::join(order, ", "));
}

std::string DuckDbEngine::WithoutColumns(const std::string& sql,
                                         const std::vector<std::string>& columns) const {
  if (columns.empty()) return fmt::format("SELECT * FROM ({})", StripStatementEnd(sql));
  return fmt::format("SELECT * EXCLUDE ({}) FROM ({})", QuotedList(columns),
                     StripStatementEnd(sql));
}

Result<delta::Schema> DuckDbEngine::ResolveColumnTypes(const std::vector<ColumnInfo>& columns) {
  // DuckDB's readers take the type names its casts do: the schema of typed NULLs.
  std::vector<std::string> casts;
  for (const auto& c : columns) {
    casts.push_back(fmt::format("CAST(NULL AS {}) AS {}", c.type, QuoteIdent(c.name)));
  }
  return SchemaOf(fmt::format("SELECT {}", fmt::join(casts, ", ")));
}

Status DuckDbEngine::Materialize(const std::string& table, const std::string& sql) {
  return conn_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}", QuoteIdent(table), sql));
}

std::string DuckDbEngine::TimestampFromEpochMs(const std::string& ms) const {
  return "epoch_ms(" + ms + ")";
}

std::string DuckDbEngine::EpochMsOf(const std::string& ts) const { return "epoch_ms(" + ts + ")"; }

}  // namespace dl::engine::duck
