// DuckDbEngine: the rules a table puts on written rows (CHECK constraints, invariants,
// generated columns), evaluated over the rows about to be written.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dl/engine/duckdb/duckdb_engine.hpp"
#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {
namespace {

// The rule's expression as the value its generated column must hold.
Result<std::string> GeneratedValue(const delta::Schema& schema, const RowRule& rule) {
  const delta::StructField* f = schema.Find(rule.generated_column);
  if (!f) {
    return Status::Internal("generated column {} is not in the schema", rule.generated_column);
  }
  DL_ASSIGN_OR_RETURN(std::string type, DuckDbTypeFromDelta(*f->type));
  return fmt::format("CAST(({}) AS {})", rule.expression, type);
}

}  // namespace

Result<std::string> DuckDbEngine::FillGeneratedColumns(const std::string& sql,
                                                       const delta::Schema& schema,
                                                       const std::vector<RowRule>& generated) {
  std::vector<std::string> replace;
  for (const auto& rule : generated) {
    if (rule.generated_column.empty()) continue;
    DL_ASSIGN_OR_RETURN(std::string value, GeneratedValue(schema, rule));
    replace.push_back(fmt::format("coalesce({0}, {1}) AS {0}", QuoteIdent(rule.generated_column),
                                  value));
  }
  if (replace.empty()) return sql;
  return fmt::format("SELECT * REPLACE ({}) FROM ({}) AS \"_dl_gen\"", fmt::join(replace, ", "),
                     StripStatementEnd(sql));
}

Result<std::vector<RuleViolation>> DuckDbEngine::FindRuleViolations(
    const std::string& sql, const delta::Schema& schema, const std::vector<RowRule>& rules,
    const std::string& source_file_column) {
  std::vector<RuleViolation> out;
  if (rules.empty()) return out;
  std::vector<std::string> counts;
  for (const auto& rule : rules) {
    std::string holds = fmt::format("({})", rule.expression);
    if (!rule.generated_column.empty()) {
      DL_ASSIGN_OR_RETURN(std::string value, GeneratedValue(schema, rule));
      holds = fmt::format("{} IS NOT DISTINCT FROM {}", QuoteIdent(rule.generated_column), value);
    }
    // FALSE and NULL both break a rule (the protocol asks for TRUE).
    counts.push_back(fmt::format("count(*) FILTER (WHERE ({}) IS NOT TRUE)", holds));
  }
  const std::string file = source_file_column.empty()
                               ? "CAST(NULL AS VARCHAR)"
                               : fmt::format("CAST({} AS VARCHAR)", QuoteIdent(source_file_column));
  DL_ASSIGN_OR_RETURN(
      auto rows, Query(fmt::format("SELECT {}, {} FROM ({}) AS \"_dl_rules\" GROUP BY 1 ORDER BY 1",
                                   file, fmt::join(counts, ", "), StripStatementEnd(sql))));
  for (const auto& row : rows.rows) {
    for (size_t i = 0; i < rules.size(); ++i) {
      int64_t n = std::stoll(row.at(i + 1).value_or("0"));
      if (n > 0) out.push_back(RuleViolation{i, row.at(0), n});
    }
  }
  return out;
}

}  // namespace dl::engine::duck
