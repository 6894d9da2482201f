// Renaming and dropping columns of a column-mapped table, and widening a column's type:
// metadata-only commits. The data files keep the physical names (and, once widened, the older
// narrower types, converted on read), so nothing is rewritten (what Spark's ALTER TABLE ...
// RENAME COLUMN, DROP COLUMN and ALTER COLUMN ... TYPE do).
#include <algorithm>

#include "dl/common/clock.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/type_widening.hpp"
#include "dl/table/table.hpp"
#include "dl/table/table_internal.hpp"

namespace dl::table {

namespace {

// The latest snapshot (without its file list), if the table maps columns.
Result<std::shared_ptr<const delta::Snapshot>> MappedSnapshot(TableContext& ctx,
                                                              const std::string& root,
                                                              std::string_view what) {
  DL_ASSIGN_OR_RETURN(auto snapshot, delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, root));
  if (!delta::UsesColumnMapping(snapshot->metadata().configuration)) {
    return Status::Unsupported(
        "{} a column of {} needs column mapping (table property delta.columnMapping.mode=name); "
        "without it the data files name columns by their names",
        what, root);
  }
  return snapshot;
}

Result<WriteResult> CommitSchema(TableContext& ctx, const std::string& root,
                                 const std::shared_ptr<const delta::Snapshot>& snapshot,
                                 delta::Metadata md, const delta::Schema& schema,
                                 std::string operation, delta::StringMap parameters) {
  md.schema_string = delta::SerializeSchema(schema);
  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  tx.Add(std::move(md));
  tx.SetOperation(std::move(operation), std::move(parameters));
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  WriteResult result;
  result.version = commit.version;
  result.schema_changed = true;
  return result;
}

}  // namespace

Result<WriteResult> RenameColumn(TableContext& ctx, const std::string& root,
                                 const std::string& column, const std::string& new_name) {
  DL_ASSIGN_OR_RETURN(auto snapshot, MappedSnapshot(ctx, root, "renaming"));
  auto schema = delta::RenameColumn(snapshot->schema(), column, new_name);
  if (!schema.ok()) return schema.status().WithContext(fmt::format("table {}", root));
  delta::Metadata md = snapshot->metadata();
  // partitionColumns name the columns by display name.
  std::replace(md.partition_columns.begin(), md.partition_columns.end(), column, new_name);
  return CommitSchema(ctx, root, snapshot, std::move(md), *schema, "RENAME COLUMN",
                      {{"oldColumnPath", column}, {"newColumnPath", new_name}});
}

Result<WriteResult> DropColumn(TableContext& ctx, const std::string& root,
                               const std::string& column) {
  DL_ASSIGN_OR_RETURN(auto snapshot, MappedSnapshot(ctx, root, "dropping"));
  const auto& partitions = snapshot->partition_columns();
  if (std::find(partitions.begin(), partitions.end(), column) != partitions.end()) {
    return Status::InvalidArgument("cannot drop column {} of {}: it is a partition column", column,
                                   root);
  }
  auto schema = delta::DropColumn(snapshot->schema(), column);
  if (!schema.ok()) return schema.status().WithContext(fmt::format("table {}", root));
  return CommitSchema(ctx, root, snapshot, snapshot->metadata(), *schema, "DROP COLUMNS",
                      {{"columns", internal::JsonList({column})}});
}

Result<WriteResult> WidenColumn(TableContext& ctx, const std::string& root,
                                const std::string& column, const std::string& type) {
  DL_ASSIGN_OR_RETURN(auto snapshot, delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, root));
  delta::Metadata md = snapshot->metadata();
  if (!delta::TypeWideningEnabled(md.configuration)) {
    return Status::InvalidArgument(
        "widening column {} of {} needs the table property {}=true (writers must refuse type "
        "changes without it)",
        column, root, delta::kEnableTypeWideningKey);
  }
  auto to = delta::ParseDataType(nlohmann::json(type));
  if (!to.ok()) {
    return to.status().WithContext(fmt::format("widening column {} of {}", column, root));
  }
  DL_ASSIGN_OR_RETURN(delta::Schema schema,
                      delta::WidenColumn(snapshot->schema(), column, **to, root));
  if (schema == snapshot->schema()) {
    return Status::InvalidArgument("column {} of {} already has type {}", column, root, type);
  }
  md.schema_string = delta::SerializeSchema(schema);
  delta::Protocol protocol =
      delta::UpgradeProtocol(snapshot->protocol(), schema, md.configuration);
  DL_RETURN_IF_ERROR(delta::CheckCanWrite(protocol, md, root));
  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  if (!(protocol == snapshot->protocol())) tx.Add(std::move(protocol));
  tx.Add(std::move(md));
  const delta::StructField* field = schema.Find(column);
  nlohmann::json described = {{"name", column}, {"type", delta::DataTypeToJson(*field->type)}};
  tx.SetOperation("CHANGE COLUMN", {{"column", described.dump()}});
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  WriteResult result;
  result.version = commit.version;
  result.schema_changed = true;
  return result;
}

}  // namespace dl::table
