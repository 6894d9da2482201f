// Adding and dropping CHECK constraints: metadata-only commits, as Spark's ALTER TABLE ... ADD
// CONSTRAINT and DROP CONSTRAINT make them. A constraint is added only when every row of the
// table satisfies it (the protocol's rule).
#include "dl/delta/constraints.hpp"

#include "dl/delta/protocol_features.hpp"
#include "dl/engine/table_rules.hpp"
#include "dl/table/table.hpp"

namespace dl::table {

namespace {

Result<WriteResult> CommitConfiguration(TableContext& ctx, const std::string& root,
                                        const std::shared_ptr<const delta::Snapshot>& snapshot,
                                        delta::Metadata md, std::string operation,
                                        delta::StringMap parameters) {
  delta::Protocol protocol =
      delta::UpgradeProtocol(snapshot->protocol(), snapshot->schema(), md.configuration);
  DL_RETURN_IF_ERROR(delta::CheckCanWrite(protocol, md, root));
  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  // Rows another writer added meanwhile were not checked against the new constraint.
  tx.read_set().whole_table = true;
  if (!(protocol == snapshot->protocol())) tx.Add(std::move(protocol));
  tx.Add(std::move(md));
  tx.SetOperation(std::move(operation), std::move(parameters));
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  WriteResult result;
  result.version = commit.version;
  return result;
}

}  // namespace

Result<WriteResult> AddConstraint(TableContext& ctx, const std::string& root,
                                  const std::string& name, const std::string& expression) {
  DL_ASSIGN_OR_RETURN(std::string key, delta::ConstraintKey(name));
  const std::string stored = key.substr(delta::kConstraintPrefix.size());
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(ctx, root));
  DL_RETURN_IF_ERROR(delta::CheckCanWrite(snapshot->protocol(), snapshot->metadata(), root));
  delta::Metadata md = snapshot->metadata();
  if (auto it = md.configuration.find(key); it != md.configuration.end()) {
    return Status::InvalidArgument(
        "table {} already has CHECK constraint {} ({}); drop it first to replace it", root,
        stored, it->second);
  }
  const std::string what = fmt::format("CHECK constraint {}", stored);
  auto compiled = engine::CompileTableExpression(ctx.engine, expression, snapshot->schema(), what);
  if (!compiled.ok()) return compiled.status().WithContext(fmt::format("table {}", root));
  const std::string view = "__dl_constraint_scan";
  DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshot(view, *snapshot));
  DL_ASSIGN_OR_RETURN(
      auto violations,
      ctx.engine.FindRuleViolations("SELECT * FROM " + engine::QuoteIdent(view),
                                    snapshot->schema(), {{what, *compiled, ""}}, ""));
  (void)ctx.engine.Execute("DROP VIEW IF EXISTS " + engine::QuoteIdent(view));
  if (!violations.empty()) {
    return Status::SchemaMismatch(
        "table {}: {} existing row{} {} {} ({}); the constraint was not added", root,
        violations.front().rows, violations.front().rows == 1 ? "" : "s",
        violations.front().rows == 1 ? "violates" : "violate", what, expression);
  }
  md.configuration[key] = expression;
  return CommitConfiguration(ctx, root, snapshot, std::move(md), "ADD CONSTRAINT",
                             {{"name", stored}, {"expr", expression}});
}

Result<WriteResult> DropConstraint(TableContext& ctx, const std::string& root,
                                   const std::string& name) {
  DL_ASSIGN_OR_RETURN(std::string key, delta::ConstraintKey(name));
  DL_ASSIGN_OR_RETURN(auto snapshot, delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, root));
  DL_RETURN_IF_ERROR(delta::CheckCanWrite(snapshot->protocol(), snapshot->metadata(), root));
  delta::Metadata md = snapshot->metadata();
  auto it = md.configuration.find(key);
  if (it == md.configuration.end()) {
    return Status::NotFound("table {} has no CHECK constraint {}", root,
                            key.substr(delta::kConstraintPrefix.size()));
  }
  const std::string expression = it->second;
  md.configuration.erase(it);
  return CommitConfiguration(ctx, root, snapshot, std::move(md), "DROP CONSTRAINT",
                             {{"constraintName", key.substr(delta::kConstraintPrefix.size())},
                              {"expr", expression}});
}

}  // namespace dl::table
