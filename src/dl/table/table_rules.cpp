#include "dl/table/table_rules.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "dl/delta/constraints.hpp"
#include "dl/engine/table_rules.hpp"

namespace dl::table::internal {
namespace {

}  // namespace

Result<std::vector<engine::RowRule>> CompileTableRules(engine::Engine& engine,
                                                       const delta::Schema& schema,
                                                       const delta::StringMap& configuration,
                                                       const std::string& root) {
  std::vector<engine::RowRule> rules;
  auto add = [&](std::string name, const std::string& spark_sql, std::string generated) {
    auto compiled = engine::CompileTableExpression(engine, spark_sql, schema,
                                                   generated.empty() ? name : "generated column " + generated);
    if (!compiled.ok()) return compiled.status().WithContext(fmt::format("table {}", root));
    rules.push_back({std::move(name), *compiled, std::move(generated)});
    return Status::OK();
  };
  for (const auto& c : delta::CheckConstraints(configuration)) {
    DL_RETURN_IF_ERROR(add(fmt::format("CHECK constraint {}", c.name), c.expression, ""));
  }
  auto invariants = delta::ColumnInvariants(schema);
  if (!invariants.ok()) return invariants.status().WithContext(fmt::format("table {}", root));
  for (const auto& inv : *invariants) {
    DL_RETURN_IF_ERROR(add(fmt::format("invariant of column {}", inv.name), inv.expression, ""));
  }
  for (const auto& g : delta::GeneratedColumns(schema)) {
    DL_RETURN_IF_ERROR(add(g.name, g.expression, g.name));
  }
  return rules;
}

Result<std::string> EnforceTableRules(engine::Engine& engine, const std::string& aligned,
                                      const delta::Schema& schema,
                                      const std::vector<engine::RowRule>& rules,
                                      const delta::StringMap& configuration,
                                      const RowOrigin& origin, const std::string& root) {
  if (rules.empty()) return aligned;
  DL_ASSIGN_OR_RETURN(std::string filled, engine.FillGeneratedColumns(aligned, schema, rules));
  const bool by_file = !origin.source_file_column.empty() &&
                       schema.Find(origin.source_file_column) != nullptr;
  DL_ASSIGN_OR_RETURN(auto violations,
                      engine.FindRuleViolations(filled, schema, rules,
                                                by_file ? origin.source_file_column : ""));
  if (violations.empty()) return filled;

  // The Spark SQL text of each rule, as the table stores it.
  std::map<std::string, std::string> text;
  for (const auto& c : delta::CheckConstraints(configuration)) {
    text["CHECK constraint " + c.name] = c.expression;
  }
  for (const auto& g : delta::GeneratedColumns(schema)) text[g.name] = g.expression;
  if (auto inv = delta::ColumnInvariants(schema); inv.ok()) {
    for (const auto& i : *inv) text["invariant of column " + i.name] = i.expression;
  }
  ErrorDetail detail{ErrorDetail::Cause::kData, {}};
  std::vector<std::string> parts;
  for (const auto& v : violations) {
    const auto& rule = rules.at(v.rule);
    std::string where;
    if (v.source_file) {
      where = fmt::format(" of {}", *v.source_file);
      if (std::find(detail.files.begin(), detail.files.end(), *v.source_file) ==
          detail.files.end()) {
        detail.files.push_back(*v.source_file);
      }
    } else if (origin.source_files.size() == 1) {
      where = fmt::format(" of {}", origin.source_files.front());
      detail.files = origin.source_files;
    } else if (!origin.source_files.empty()) {
      where = fmt::format(" of the {} source files", origin.source_files.size());
    }
    const bool one = v.rows == 1;
    const std::string what =
        rule.generated_column.empty()
            ? fmt::format("violate{} {} ({})", one ? "s" : "", rule.name, text[rule.name])
            : fmt::format("hold{} a value of column {} that disagrees with its generation "
                          "expression ({})",
                          one ? "s" : "", rule.generated_column, text[rule.name]);
    parts.push_back(fmt::format("{} row{}{} {}", v.rows, one ? "" : "s", where, what));
  }
  return Status::SchemaMismatch("table {}: {}; nothing was written", root,
                                fmt::join(parts, "; "))
      .WithDetail(std::move(detail));
}

}  // namespace dl::table::internal
