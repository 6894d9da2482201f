// SQL quoting for DuckDB: identifiers in double quotes, literals in single quotes, with the
// quote character doubled. Standard strings treat backslashes literally, so nothing else needs
// escaping. A NUL byte would end the C string early, so it is dropped.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dl/engine/engine.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine {

namespace {

std::string Quote(std::string_view text, char quote) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back(quote);
  for (char c : text) {
    if (c == '\0') continue;
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

}  // namespace

std::string QuoteIdent(std::string_view ident) { return Quote(ident, '"'); }
std::string QuoteLiteral(std::string_view text) { return Quote(text, '\''); }

std::string SqlStringList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += QuoteLiteral(values[i]);
  }
  return out + "]";
}

std::string StripStatementEnd(std::string_view sql) {
  while (!sql.empty()) {
    char c = sql.back();
    if (c == ';' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      sql.remove_suffix(1);
    } else {
      break;
    }
  }
  return std::string(sql);
}

Status RefusedRows(const QueryRows& counts, const std::string& table, std::string_view advice) {
  std::vector<std::string> parts;
  ErrorDetail detail{ErrorDetail::Cause::kData, {}, {}};
  for (const auto& row : counts.rows) {
    parts.push_back(fmt::format("{}: {} rows with {}", row.at(0).value_or("?"),
                                row.at(2).value_or("0"), row.at(1).value_or("?")));
    if (row.at(0) && (detail.files.empty() || detail.files.back() != *row.at(0))) {
      detail.files.push_back(*row.at(0));
    }
  }
  return Status::SchemaMismatch("rows that {} cannot load ({}); {}", table,
                                fmt::join(parts, "; "), advice)
      .WithDetail(std::move(detail));
}

Status ReplaceWhereViolated(const std::string& bad, const std::string& total,
                            const std::string& table, const std::string& predicate) {
  return Status::InvalidArgument(
      "{} of the batch's {} rows for {} violate replace_where ({}): every row an overwrite "
      "with replace_where writes must match it (NULL does not); nothing was written",
      bad, total, table, predicate);
}

std::string WithoutRowIdsSql(const std::string& sql) {
  return fmt::format("SELECT * EXCLUDE ({}, {}) FROM ({}) AS \"_dl_rid\"", QuoteIdent(kRowIdColumn),
                     QuoteIdent(kRowCommitVersionColumn), StripStatementEnd(sql));
}

std::string MaterializedRowIdsSql(const std::string& sql, const std::string& id_column,
                                  const std::string& version_column) {
  return fmt::format(
      "SELECT * EXCLUDE ({0}, {1}), CAST({0} AS BIGINT) AS {2}, CAST({1} AS BIGINT) AS {3} FROM "
      "({4}) AS \"_dl_rid\"",
      QuoteIdent(kRowIdColumn), QuoteIdent(kRowCommitVersionColumn), QuoteIdent(id_column),
      QuoteIdent(version_column), StripStatementEnd(sql));
}

}  // namespace dl::engine
