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
// session confs around the statement (as for MERGE).
Status CreateTableAs(SparkSession& session, const AppendOperation& op, pb::Relation input) {
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
  sql += " AS SELECT * FROM " + SparkIdent(kCreateView);
  Status created = SqlWithTxn(session, op, sql).status();
  (void)session.Sql("DROP VIEW IF EXISTS " + SparkIdent(kCreateView));
  // Another writer created the table since we looked: a lost race, planned again against it.
  if (created.detail().error_class == "TABLE_OR_VIEW_ALREADY_EXISTS") {
    return Status::CommitConflict("{} was created by another writer meanwhile: {}",
                                  op.display_name, created.message())
        .WithDetail(created.detail());
  }
  return created;
}

}  // namespace

Status SetTableProperties(SparkSession& session, const AppendOperation& op) {
  if (!op.table_columns || op.table_properties.empty()) return Status::OK();
  return session
      .Sql(fmt::format("ALTER TABLE delta.{} SET TBLPROPERTIES ({})", SparkIdent(op.table_root),
                       Properties(op.table_properties)))
      .status();
}

Status WriteBatch(SparkSession& session, const AppendOperation& op, pb::Relation input) {
  if (!op.table_columns && (!op.table_properties.empty() || !op.clustering_columns.empty())) {
    return CreateTableAs(session, op, std::move(input));
  }
  DL_RETURN_IF_ERROR(SetTableProperties(session, op));
  return session.Execute(WritePlan(op, std::move(input))).status();
}

}  // namespace dl::engine::spark
