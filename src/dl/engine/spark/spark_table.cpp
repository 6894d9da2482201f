#include "dl/engine/spark/spark_table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

#include "dl/engine/spark/spark_load.hpp"

namespace dl::engine::spark {
namespace {

constexpr const char* kCreateView = "__dl_create";

std::string Idents(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) quoted.push_back(SparkIdent(n));
  return fmt::format("{}", fmt::join(quoted, ", "));
}

std::string Properties(const std::map<std::string, std::string>& properties) {
  std::vector<std::string> pairs;
  for (const auto& [key, value] : properties) {
    pairs.push_back(SparkLiteral(key) + " = " + SparkLiteral(value));
  }
  return fmt::format("{}", fmt::join(pairs, ", "));
}

// The table created with the batch's rows in one commit, the txn and our metadata set as
// session confs around the statement (as for MERGE); or, without `rows`, created empty with
// input's columns by a commit carrying neither.
Status CreateTableAs(SparkSession& session, const AppendOperation& op, pb::Relation input,
                     bool rows) {
  DL_RETURN_IF_ERROR(CreateView(session, kCreateView, std::move(input)));
  std::string sql = fmt::format("CREATE TABLE delta.{} USING delta", SparkIdent(op.table_root));
  if (!op.partition_columns.empty()) {
    sql += fmt::format(" PARTITIONED BY ({})", Idents(op.partition_columns));
  }
  if (!op.clustering_columns.empty()) {
    sql += fmt::format(" CLUSTER BY ({})", Idents(op.clustering_columns));
  }
  if (!op.table_properties.empty()) {
    sql += fmt::format(" TBLPROPERTIES ({})", Properties(op.table_properties));
  }
  sql += " AS SELECT * FROM " + SparkIdent(kCreateView) + (rows ? "" : " LIMIT 0");
  Status created = rows ? SqlWithTxn(session, op, sql).status() : session.Sql(sql).status();
  (void)session.Sql("DROP VIEW IF EXISTS " + SparkIdent(kCreateView));
  // Another writer created the table since we looked (its log, or its files before its
  // commit): a lost race, planned again against it. Files an attempt killed before its commit
  // left behind fail the same way on every retry (docs/spark_engine.md).
  const std::string& error_class = created.detail().error_class;
  if (error_class == "TABLE_OR_VIEW_ALREADY_EXISTS" ||
      error_class == "DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION") {
    return Status::CommitConflict(
               "{} was created by another writer meanwhile (or its directory holds files of an "
               "attempt that never committed): {}",
               op.display_name, created.message())
        .WithDetail(created.detail());
  }
  return created;
}

}  // namespace

Status CreateEmptyTable(SparkSession& session, const AppendOperation& op, pb::Relation input) {
  return CreateTableAs(session, op, std::move(input), false);
}

Status SetTableProperties(SparkSession& session, const AppendOperation& op) {
  if (!op.table_columns || op.table_properties.empty()) return Status::OK();
  return session
      .Sql(fmt::format("ALTER TABLE delta.{} SET TBLPROPERTIES ({})", SparkIdent(op.table_root),
                       Properties(op.table_properties)))
      .status();
}

Status WriteBatch(SparkSession& session, const AppendOperation& op, pb::Relation input) {
  // Only clustering needs CREATE TABLE ... AS SELECT: Delta ignores clusterBy on a path write.
  // A CTAS refuses a directory that holds files, so every other new table is a plain write.
  if (!op.table_columns && !op.clustering_columns.empty()) {
    return CreateTableAs(session, op, std::move(input), true);
  }
  if (op.table_columns) {
    DL_RETURN_IF_ERROR(SetTableProperties(session, op));
    return session.Execute(WritePlan(op, std::move(input))).status();
  }
  // A new table takes the `delta.*` properties as write options, in the batch's own commit
  // (Delta enables the protocol features they ask for); Delta drops other keys from a write's
  // options, so those follow in a commit of their own that carries no batch (if the process
  // dies before it, the next batch finds them missing and sets them).
  pb::Plan plan = WritePlan(op, std::move(input));
  auto& options = *plan.mutable_command()->mutable_write_operation()->mutable_options();
  AppendOperation rest = op;
  rest.table_properties.clear();
  for (const auto& [key, value] : op.table_properties) {
    if (key.rfind("delta.", 0) == 0) {
      options[key] = value;
    } else {
      rest.table_properties[key] = value;
    }
  }
  DL_RETURN_IF_ERROR(session.Execute(plan).status());
  rest.table_columns.emplace();
  return SetTableProperties(session, rest);
}

}  // namespace dl::engine::spark
