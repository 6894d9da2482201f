#include "dl/table/table_rules.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "dl/delta/constraints.hpp"
#include "dl/engine/table_rules.hpp"
#include "dl/table/table.hpp"

namespace dl::table::internal {
namespace {

}  // namespace

Result<std::vector<engine::RowRule>> CompileTableRules(engine::Engine& engine,
                                                       const delta::Schema& schema,
                                                       const delta::StringMap& configuration,
                                                       const std::string& root,
                                                       bool kept_identity_values) {
  std::vector<engine::RowRule> rules;
  auto add = [&](std::string name, const std::string& spark_sql, std::string generated) {
    const std::string what = generated.empty() ? name : "generated column " + generated;
    auto compiled = engine::CompileTableExpression(engine, spark_sql, schema, what);
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
  auto identities = delta::IdentityColumns(schema);
  if (!identities.ok()) return identities.status().WithContext(fmt::format("table {}", root));
  for (const auto& id : *identities) {
    if (id.allow_explicit_insert) continue;
    auto rule = engine::IdentityValueGivenRule(id.name);
    if (kept_identity_values && id.high_water_mark) {
      // Values past the mark were never allocated: they were given by hand.
      rule.expression = fmt::format("{0} OR {1} {2} {3}", rule.expression,
                                    engine::QuoteIdent(id.name), id.step > 0 ? "<=" : ">=",
                                    *id.high_water_mark);
    }
    rules.push_back(std::move(rule));
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
  if (auto ids = delta::IdentityColumns(schema); ids.ok()) {
    for (const auto& i : *ids) {
      text["identity column " + i.name] =
          "GENERATED ALWAYS AS IDENTITY: the table allocates its values, "
          "delta.identity.allowExplicitInsert is false";
    }
  }
  ErrorDetail detail{ErrorDetail::Cause::kData, {}, {}};
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

Result<std::string> AllocateIdentityValues(engine::Engine& engine, const std::string& sql,
                                           delta::Schema* schema, bool* changed,
                                           const std::string& root) {
  auto identities = delta::IdentityColumns(*schema);
  if (!identities.ok()) return identities.status().WithContext(fmt::format("table {}", root));
  std::string out = sql;
  for (const auto& id : *identities) {
    int64_t first = id.start;
    if (id.high_water_mark &&
        __builtin_add_overflow(*id.high_water_mark, id.step, &first)) {
      return Status::InvalidArgument("table {}: identity column {} has no values left above {}",
                                     root, id.name, *id.high_water_mark);
    }
    DL_ASSIGN_OR_RETURN(auto alloc,
                        engine::AllocateIdentityValues(engine, out, id.name, first, id.step));
    if (alloc.allocated == 0) continue;
    int64_t span = 0, last = 0;
    if (__builtin_mul_overflow(alloc.allocated - 1, id.step, &span) ||
        __builtin_add_overflow(first, span, &last)) {
      return Status::InvalidArgument(
          "table {}: the {} values of identity column {} from {} by {} overflow a BIGINT", root,
          alloc.allocated, id.name, first, id.step);
    }
    out = std::move(alloc.sql);
    *schema = delta::WithHighWaterMark(*schema, id.name, last);
    *changed = true;
  }
  return out;
}

}  // namespace dl::table::internal

namespace dl::table {

Status RefuseGivenIdentityValues(const delta::Snapshot& snapshot,
                                 const std::vector<std::string>& columns,
                                 const std::string& root) {
  auto identities = delta::IdentityColumns(snapshot.schema());
  if (!identities.ok()) return identities.status().WithContext(fmt::format("table {}", root));
  auto same = [](unsigned char a, unsigned char b) { return std::tolower(a) == std::tolower(b); };
  for (const auto& id : *identities) {
    if (id.allow_explicit_insert) continue;
    for (const auto& c : columns) {
      if (!std::equal(c.begin(), c.end(), id.name.begin(), id.name.end(), same)) continue;
      return Status::Unsupported(
          "table {}: the data has identity column {} (writer feature identityColumns), whose "
          "values the table allocates (delta.identity.allowExplicitInsert is false); a rewrite "
          "keeps the values of the table's rows and allocates new rows' own, so drop the "
          "column from the data; nothing was written",
          root, id.name);
    }
  }
  return Status::OK();
}

}  // namespace dl::table
