// Writes: append/overwrite (with table creation and schema evolution), and rewrites of
// rows (copy-on-write files, deletion vectors) for merge, SCD2 and replace_where.
#include <algorithm>
#include <set>

#include "dl/common/clock.hpp"
#include "dl/delta/clustering.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/constraints.hpp"
#include "dl/delta/parquet_codec.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/row_tracking.hpp"
#include "dl/delta/type_widening.hpp"
#include "dl/storage/paths.hpp"
#include "dl/table/table.hpp"
#include "dl/table/table_internal.hpp"
#include "dl/table/table_rules.hpp"
#include "dl/table/table_settings.hpp"

namespace dl::table {
namespace {

using engine::QuoteIdent;

Result<delta::Metadata> NewTableMetadata(const delta::Schema& schema,
                                         const std::vector<std::string>& partition_by,
                                         const delta::StringMap& configuration,
                                         const std::string& root) {
  for (const auto& col : partition_by) {
    const auto* f = schema.Find(col);
    if (!f) {
      return Status::SchemaMismatch("partition column '{}' is not in the data written to {}", col,
                                    root);
    }
    if (f->type->kind != delta::DataType::Kind::kPrimitive &&
        f->type->kind != delta::DataType::Kind::kDecimal) {
      return Status::SchemaMismatch(
          "partition column '{}' has type {}; only primitive types "
          "can be partition columns",
          col, f->type->ToString());
    }
  }
  delta::Metadata md;
  md.id = NewUuid();
  md.schema_string = delta::SerializeSchema(schema);
  md.partition_columns = partition_by;
  md.configuration = configuration;
  if (delta::EnablesRowTracking(md.configuration)) {
    delta::AddRowTrackingColumnNames(&md.configuration);
  }
  md.created_time = NowMs();
  return md;
}

// New source columns are an error unless evolution is on; a wider source type widens the
// column only when evolution is on and `widen` (delta.enableTypeWidening), as Spark's
// mergeSchema does; other type conflicts always are errors.
Result<delta::Schema> EvolveSchema(const delta::Schema& table, const delta::Schema& source,
                                   SchemaEvolution mode, bool widen, const std::string& root) {
  if (mode == SchemaEvolution::kNone) {
    for (const auto& f : source.fields) {
      if (!table.Find(f.name)) {
        return Status::SchemaMismatch(
            "column '{}' ({}) is not in table {}; enable schema evolution to add it", f.name,
            f.type->ToString(), root);
      }
    }
  }
  delta::SchemaMergeOptions opts;
  opts.allow_new_columns = mode == SchemaEvolution::kAddNewColumns;
  opts.allow_type_widening = widen && opts.allow_new_columns;
  auto merged = delta::MergeSchema(table, source, opts);
  if (!merged.ok()) return merged.status().WithContext("writing to " + root);
  return merged;
}

// Delta NOT NULL columns (from Spark tables) are invariants a writer must enforce.
Status CheckNotNull(engine::Engine& engine, const std::string& sql, const delta::Schema& schema,
                    const delta::Schema& source, const std::string& root) {
  for (const auto& f : schema.fields) {
    if (f.nullable) continue;
    if (f.metadata.contains(delta::kIdentityStartKey)) continue;  // NULLs are allocated values
    if (!source.Find(f.name)) {
      // A generated column the data lacks is computed (its NULLs are not checked here).
      if (f.metadata.contains(delta::kGenerationExpressionKey)) continue;
      return Status::SchemaMismatch("column '{}' of {} is NOT NULL but the data lacks it", f.name,
                                    root);
    }
    DL_ASSIGN_OR_RETURN(auto rows,
                        engine.Query(fmt::format("SELECT count(*) FROM ({}) WHERE {} IS NULL", sql,
                                                 QuoteIdent(f.name))));
    std::string n = rows.rows.at(0).at(0).value_or("0");
    if (n != "0") {
      return Status::SchemaMismatch("column '{}' of {} is NOT NULL but {} rows have NULL", f.name,
                                    root, n);
    }
  }
  return Status::OK();
}

// Identity values are allocated for new rows only: a write that carries rows of the table
// again must keep their values (WriteRequest::keeps_identity_values), or it would hand them
// new values or take their kept values for values given by hand.
Status CheckIdentityWrite(const delta::Schema& schema, const WriteRequest& req,
                          const std::string& root) {
  if (req.keeps_identity_values) return Status::OK();
  if (req.rewritten_files.empty() && req.row_deletes.empty()) return Status::OK();
  auto identities = delta::IdentityColumns(schema);
  if (!identities.ok()) return identities.status().WithContext(fmt::format("table {}", root));
  if (identities->empty()) return Status::OK();
  return Status::Unsupported(
      "table {} has identity column {} (writer feature identityColumns): this rewrite of its "
      "rows would not keep their identity values; nothing was written",
      root, identities->front().name);
}

}  // namespace

// A missing table may be created only where there is nothing else: never over a folder of
// someone's files. Data files a writer creating the table left (or is writing right now:
// concurrent loaders race to create a table) are ours and do not count.
Status CheckCanCreateAt(FileSystem& fs, const std::string& root) {
  DL_ASSIGN_OR_RETURN(bool exists, fs.Exists(root));
  if (!exists) return Status::OK();
  DL_ASSIGN_OR_RETURN(auto entries, fs.List(root));
  for (const auto& e : entries) {
    auto name = e.path.substr(e.path.rfind('/') + 1);
    if (name.empty() || name == "_delta_log" || name[0] == '.' || name[0] == '_') continue;
    bool data_file = name.rfind("part-", 0) == 0 && name.size() > 8 &&
                     name.compare(name.size() - 8, 8, ".parquet") == 0;
    bool partition_dir = e.is_dir && name.find('=') != std::string::npos;
    if (data_file || partition_dir) continue;
    return Status::InvalidArgument(
        "{} is not a Delta table (no _delta_log) but holds other files (e.g. {}); refusing "
        "to create a table over them: point the table somewhere else or move those files",
        root, name);
  }
  return Status::OK();
}

Status CheckNotNested(FileSystem& fs, const std::string& root) {
  const std::string path = CanonicalPath(root);
  if (HasSegment(path, kDeltaLogDirName)) {
    return Status::InvalidArgument(
        "{} is inside a {} directory: a table there would corrupt the log of the table around it",
        root, kDeltaLogDirName);
  }
  for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0;
       slash = path.rfind('/', slash - 1)) {
    const std::string parent = path.substr(0, slash);
    if (IsUri(path) && parent.find('/', parent.find("://") + 3) == std::string::npos) break;
    DL_ASSIGN_OR_RETURN(bool table, fs.Exists(JoinPath(parent, kDeltaLogDirName)));
    if (table) {
      return Status::InvalidArgument(
          "{} is inside the Delta table {}: that table's VACUUM would delete this one's files; "
          "put the tables side by side",
          root, parent);
    }
  }
  return Status::OK();
}

namespace {

// What a write does to the table's files, decided once from the request and the table.
enum class WriteKind {
  kCreate,               // no table yet: protocol, metaData and the rows
  kAppend,               // adds files only
  kOverwrite,            // removes every live file
  kOverwritePartitions,  // removes the live files of the partitions the rows fall into
  kRewrite,              // removes the files it rewrites and/or marks rows deleted in place
};

WriteKind KindOf(const WriteRequest& req, const delta::Snapshot* snapshot) {
  if (!snapshot) return WriteKind::kCreate;
  if (req.mode == WriteMode::kOverwrite) {
    return req.dynamic_partition_overwrite && !snapshot->partition_columns().empty()
               ? WriteKind::kOverwritePartitions
               : WriteKind::kOverwrite;
  }
  if (!req.rewritten_files.empty() || !req.row_deletes.empty()) return WriteKind::kRewrite;
  return WriteKind::kAppend;
}

// The table as it is before the write: null when there is none yet (and one may be made).
Result<std::shared_ptr<const delta::Snapshot>> LoadForWrite(TableContext& ctx,
                                                            const std::string& root,
                                                            const WriteRequest& req) {
  using SnapshotResult = Result<std::shared_ptr<const delta::Snapshot>>;
  // A blind append needs the table's metadata, not its file list (the costly part of a big
  // log); an overwrite removes every file and a write that read the table checks them.
  bool blind_append = req.mode == WriteMode::kAppend && !req.reads_table;
  auto loaded = req.read_snapshot
                    ? (*req.read_snapshot ? SnapshotResult(*req.read_snapshot)
                                          : SnapshotResult(Status::NotFound("no table yet")))
                : blind_append ? delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, root)
                               : LoadSnapshot(ctx, root);
  if (loaded.ok()) return loaded;
  if (loaded.status().code() != StatusCode::kNotFound) return loaded.status();
  DL_RETURN_IF_ERROR(CheckCanCreateAt(ctx.fs, root));
  return std::shared_ptr<const delta::Snapshot>();
}

// With WriteRequest::carries_row_ids: `rows` becomes the rows to write (the row ids under the
// table's materialized names, or dropped where ids are not kept); returns the rows without
// them (what the table's schema is checked against).
std::string WithRowIdsAs(const WriteRequest& req, std::string& rows,
                         const std::vector<delta::StructField>& row_id_columns) {
  if (!req.carries_row_ids) return rows;
  std::string without = engine::WithoutRowIdsSql(rows);
  rows = row_id_columns.empty() ? without
                                : engine::MaterializedRowIdsSql(rows, row_id_columns[0].name,
                                                                row_id_columns[1].name);
  return without;
}

// The table after the write: its schema, properties and layout.
struct TablePlan {
  delta::Schema schema;
  delta::StringMap configuration;
  std::vector<std::string> partition_by;
  bool column_mapping = false;
  std::string compression;                // the data files' codec (delta.compression.codec)
  std::optional<delta::Metadata> new_md;  // committed when the write changes it
  // Row tracking: the materialized row id and row commit version columns the files carry
  // beside the schema's (hidden from readers; see WriteRequest::carries_row_ids).
  std::vector<delta::StructField> row_id_columns;
};

// The columns of the data files: the schema's, then the materialized row tracking columns.
delta::Schema FileSchema(const TablePlan& plan) {
  delta::Schema schema = plan.schema;
  schema.fields.insert(schema.fields.end(), plan.row_id_columns.begin(),
                       plan.row_id_columns.end());
  return schema;
}

// Row tracking (delta.enableRowTracking=true): a write that copies or updates rows must keep
// their row ids in the materialized columns the table names; one whose rows carry no row ids
// is refused before anything is written. The columns to fill (none when ids are not relied on).
Result<std::vector<delta::StructField>> RowIdColumns(const WriteRequest& req,
                                                     const delta::Snapshot* snapshot,
                                                     const std::string& root) {
  std::vector<delta::StructField> out;
  if (!snapshot || !delta::RowTrackingEnabled(snapshot->protocol(), snapshot->metadata())) {
    return out;
  }
  if (!req.carries_row_ids) {
    if (!req.rewritten_files.empty()) {
      DL_RETURN_IF_ERROR(internal::RefuseRowIdRewrite(snapshot, root,
                                                      "rewriting files (copy-on-write)"));
    }
    if (!req.row_deletes.empty()) {
      DL_RETURN_IF_ERROR(internal::RefuseRowIdRewrite(
          snapshot, root, "replacing rows (deletion vectors plus their new versions)"));
    }
    return out;
  }
  return internal::MaterializedRowIdColumns(*snapshot, root);
}

// A new table: protocol, metaData and clustering domain go into `tx`.
Result<TablePlan> PlanNewTable(const WriteRequest& req, const delta::Schema& source_schema,
                               const std::string& root, delta::Transaction& tx) {
  TablePlan plan;
  plan.schema = source_schema;
  plan.partition_by = req.partition_by;
  DL_ASSIGN_OR_RETURN(auto md,
                      NewTableMetadata(plan.schema, plan.partition_by, req.configuration, root));
  plan.column_mapping = delta::UsesColumnMapping(md.configuration);
  if (plan.column_mapping) {
    plan.schema = delta::AssignColumnMapping(plan.schema, &md.configuration);
    md.schema_string = delta::SerializeSchema(plan.schema);
  }
  DL_RETURN_IF_ERROR(delta::CheckClusteringColumns(req.cluster_by, plan.schema, plan.partition_by,
                                                   kClusteringKey, root));
  delta::Protocol protocol =
      delta::RequiredProtocol(plan.schema, md.configuration, !req.cluster_by.empty());
  // Refused before any data file is written (a property may need a feature we lack).
  DL_RETURN_IF_ERROR(delta::CheckCanWrite(protocol, md, root));
  DL_ASSIGN_OR_RETURN(plan.compression, delta::ParquetCodecOf(md.configuration, root));
  plan.configuration = md.configuration;
  tx.Add(std::move(protocol));
  tx.Add(std::move(md));
  if (!req.cluster_by.empty()) tx.Add(delta::ClusteringDomain(req.cluster_by, plan.schema));
  return plan;
}

// An existing table: the layout must match, the schema may evolve and properties be set (a
// protocol upgrade goes into `tx`, the new metaData into the plan).
Result<TablePlan> PlanExistingTable(TableContext& ctx, const WriteRequest& req,
                                    const delta::Snapshot& snapshot, const std::string& source_sql,
                                    const delta::Schema& source_schema, const std::string& root,
                                    delta::Transaction& tx, WriteResult& result) {
  TablePlan plan;
  plan.partition_by = snapshot.partition_columns();
  if (!req.partition_by.empty() && req.partition_by != plan.partition_by) {
    return Status::InvalidArgument(
        "table {} is partitioned by {}, not by {}; the partitioning of an existing table "
        "cannot change",
        root, internal::JsonList(plan.partition_by), internal::JsonList(req.partition_by));
  }
  for (const auto& col : plan.partition_by) {
    const delta::StructField* field = snapshot.schema().Find(col);
    const bool generated = field && field->metadata.contains(delta::kGenerationExpressionKey);
    if (!source_schema.Find(col) && !generated) {  // a generated one is computed
      return Status::SchemaMismatch("partition column '{}' of {} is missing from the data", col,
                                    root);
    }
  }
  DL_RETURN_IF_ERROR(CheckClusteredBy(snapshot, req.cluster_by, root));
  const bool widen = delta::TypeWideningEnabled(snapshot.metadata().configuration) ||
                     delta::TypeWideningEnabled(req.configuration);  // set by this write
  DL_ASSIGN_OR_RETURN(plan.schema, EvolveSchema(snapshot.schema(), source_schema,
                                                req.schema_evolution, widen, root));
  delta::Metadata md = snapshot.metadata();
  plan.column_mapping = delta::UsesColumnMapping(md.configuration);
  result.schema_changed = !(plan.schema == snapshot.schema());
  if (result.schema_changed) {
    // New columns of a column-mapped table get fresh ids and physical names.
    if (plan.column_mapping) plan.schema = delta::AssignColumnMapping(plan.schema, &md.configuration);
    md.schema_string = delta::SerializeSchema(plan.schema);
  }
  DL_ASSIGN_OR_RETURN(bool properties_changed,
                      SetTableProperties(req.configuration, &md.configuration, root));
  DL_ASSIGN_OR_RETURN(plan.compression, delta::ParquetCodecOf(md.configuration, root));
  plan.configuration = md.configuration;
  if (result.schema_changed || properties_changed) {
    delta::Protocol upgraded =
        delta::UpgradeProtocol(snapshot.protocol(), plan.schema, md.configuration);
    DL_RETURN_IF_ERROR(delta::CheckCanWrite(upgraded, md, root));
    if (!(upgraded == snapshot.protocol())) tx.Add(upgraded);
    plan.new_md = std::move(md);
  }
  DL_RETURN_IF_ERROR(CheckNotNull(ctx.engine, source_sql, plan.schema, source_schema, root));
  return plan;
}

// The rows as the table stores them: aligned to its schema, checked against its rules, with
// generated and identity columns filled in (a moved high-water mark changes the metaData).
Result<std::string> PrepareRows(TableContext& ctx, const WriteRequest& req,
                                const delta::Snapshot* snapshot, const std::string& source_sql,
                                const std::string& root, TablePlan& plan) {
  DL_ASSIGN_OR_RETURN(std::string aligned,
                      ctx.engine.AlignToSchema(source_sql, FileSchema(plan)));
  DL_RETURN_IF_ERROR(CheckIdentityWrite(plan.schema, req, root));
  // CHECK constraints, invariants and generated columns: before any data file is written.
  const bool kept_identity_values =
      req.keeps_identity_values && (!req.rewritten_files.empty() || !req.row_deletes.empty());
  DL_ASSIGN_OR_RETURN(auto rules,
                      internal::CompileTableRules(ctx.engine, plan.schema, plan.configuration,
                                                  root, kept_identity_values));
  internal::RowOrigin origin{req.source_file_column, {}};
  for (const auto& f : req.loader_info.source_files) origin.source_files.push_back(f.path);
  DL_ASSIGN_OR_RETURN(aligned, internal::EnforceTableRules(ctx.engine, aligned, plan.schema, rules,
                                                           plan.configuration, origin, root));
  bool high_water_marks_moved = false;
  DL_ASSIGN_OR_RETURN(aligned, internal::AllocateIdentityValues(ctx.engine, aligned, &plan.schema,
                                                                &high_water_marks_moved, root));
  if (high_water_marks_moved) {
    // The new high-water marks are committed with the rows: a concurrent writer allocating
    // from the same marks then conflicts on this metaData and re-plans with ours.
    if (!plan.new_md) plan.new_md = snapshot->metadata();
    plan.new_md->schema_string = delta::SerializeSchema(plan.schema);
  }
  return aligned;
}

// The data files of the rows, counted in `result`.
Result<std::vector<delta::AddFile>> WriteRows(TableContext& ctx, const WriteRequest& req,
                                              const TablePlan& plan, const std::string& rows,
                                              const std::string& root, WriteResult& result) {
  engine::WriteOptions wopts = req.write_options;
  wopts.partition_columns = plan.partition_by;
  wopts.column_mapping = plan.column_mapping;
  wopts.compression = plan.compression;
  wopts.rows_by_value = wopts.count_rows_by.empty() ? nullptr : &result.rows_by_value;
  DL_ASSIGN_OR_RETURN(auto adds, ctx.engine.WriteDataFiles(rows, root, FileSchema(plan), wopts));
  result.files_added = static_cast<int64_t>(adds.size());
  result.rows_written = internal::CountRecords(adds);
  result.bytes_written = internal::TotalBytes(adds);
  for (const auto& a : adds) result.added_paths.push_back(a.path);
  return adds;
}

// The removes of `kind` (and the deletion vectors of a rewrite) into `files`, with the read
// set that makes a concurrent change to what they replace conflict.
Status AddRemoves(TableContext& ctx, const std::string& root, WriteKind kind,
                  const WriteRequest& req, const delta::Snapshot* snapshot,
                  const std::vector<delta::AddFile>& adds, int64_t now, delta::Transaction& tx,
                  std::vector<delta::Action>& files, WriteResult& result) {
  switch (kind) {
    case WriteKind::kCreate:
    case WriteKind::kAppend:
      return Status::OK();
    case WriteKind::kOverwritePartitions: {
      // Replace only the partitions the new rows fall into (Spark's
      // partitionOverwriteMode=dynamic); a concurrent change to them conflicts.
      std::set<delta::PartitionValues> touched;
      for (const auto& a : adds) touched.insert(a.partition_values);
      for (const auto& f : snapshot->files()) {
        if (touched.count(f.partition_values) == 0) continue;
        files.emplace_back(internal::RemoveFor(f, now, true));
        ++result.files_removed;
      }
      tx.read_set().partitions.assign(touched.begin(), touched.end());
      return Status::OK();
    }
    case WriteKind::kOverwrite:
      tx.read_set().whole_table = true;
      for (const auto& f : snapshot->files()) files.emplace_back(internal::RemoveFor(f, now, true));
      result.files_removed = static_cast<int64_t>(snapshot->files().size());
      return Status::OK();
    case WriteKind::kRewrite:
      tx.read_set().whole_table = true;
      for (const auto& f : req.rewritten_files) files.emplace_back(internal::RemoveFor(f, now, true));
      result.files_removed = static_cast<int64_t>(req.rewritten_files.size());
      if (req.row_deletes.empty()) return Status::OK();
      if (!UsesDeletionVectors(*snapshot)) {
        return Status::Internal("deleting rows in place in {}, which has no deletion vectors",
                                root);
      }
      return internal::AddRowDeletes(ctx.fs, root, req.row_deletes, now, files, result);
  }
  return Status::OK();
}

// commitInfo: the operation (WRITE with its mode unless the request names one), its metrics
// and our metadata.
void DescribeCommit(WriteKind kind, const WriteRequest& req, const TablePlan& plan,
                    const WriteResult& result, delta::Transaction& tx) {
  delta::StringMap metrics{{"numFiles", std::to_string(result.files_added)},
                           {"numOutputRows", std::to_string(result.rows_written)},
                           {"numOutputBytes", std::to_string(result.bytes_written)}};
  if (req.operation.empty()) {
    const bool overwrite = kind == WriteKind::kOverwrite || kind == WriteKind::kOverwritePartitions;
    const char* mode = kind == WriteKind::kCreate ? "ErrorIfExists"
                       : overwrite                ? "Overwrite"
                                                  : "Append";
    delta::StringMap parameters{{"mode", mode},
                                {"partitionBy", internal::JsonList(plan.partition_by)}};
    if (kind == WriteKind::kOverwritePartitions) parameters["partitionOverwriteMode"] = "DYNAMIC";
    tx.SetOperation("WRITE", std::move(parameters));
  } else {
    tx.SetOperation(req.operation, req.operation_parameters);
  }
  if (result.files_removed > 0) metrics["numRemovedFiles"] = std::to_string(result.files_removed);
  if (result.deletion_vectors_added > 0) {
    metrics["numDeletionVectorsAdded"] = std::to_string(result.deletion_vectors_added);
    metrics["numDeletedRows"] = std::to_string(result.rows_deleted_in_place);
  }
  tx.SetOperationMetrics(std::move(metrics));
  if (!req.loader_info.empty()) {
    tx.SetCommitInfoField(delta::kLoaderCommitInfoKey, req.loader_info.ToJson());
  }
}

}  // namespace

Result<WriteResult> Write(TableContext& ctx, const std::string& root, const WriteRequest& req) {
  DL_ASSIGN_OR_RETURN(std::shared_ptr<const delta::Snapshot> snapshot,
                      LoadForWrite(ctx, root, req));
  WriteResult result;
  if (snapshot && req.txn) {
    auto applied = snapshot->TxnVersion(req.txn->app_id);
    if (applied && *applied >= req.txn->version) {
      result.skipped = true;
      return result;
    }
  }
  const bool rewrites = !req.rewritten_files.empty() || !req.row_deletes.empty();
  if (rewrites && !snapshot) {
    return Status::Internal("rewriting files of a table that does not exist");
  }
  if (rewrites && req.mode == WriteMode::kOverwrite) {
    return Status::Internal("an overwrite of {} that also rewrites files", root);
  }
  const WriteKind kind = KindOf(req, snapshot.get());
  DL_ASSIGN_OR_RETURN(auto row_id_columns, RowIdColumns(req, snapshot.get(), root));
  DL_ASSIGN_OR_RETURN(std::string rows_sql, ctx.engine.DeltaCompatibleSelect(req.source_sql));
  const std::string source_sql = WithRowIdsAs(req, rows_sql, row_id_columns);
  DL_ASSIGN_OR_RETURN(delta::Schema source_schema, ctx.engine.SchemaOf(source_sql));

  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  result.created = kind == WriteKind::kCreate;
  DL_ASSIGN_OR_RETURN(TablePlan plan,
                      snapshot ? PlanExistingTable(ctx, req, *snapshot, source_sql, source_schema,
                                                   root, tx, result)
                               : PlanNewTable(req, source_schema, root, tx));
  plan.row_id_columns = std::move(row_id_columns);
  DL_ASSIGN_OR_RETURN(std::string rows,
                      PrepareRows(ctx, req, snapshot.get(), rows_sql, root, plan));
  // The table's metadata after the write (what its change data is read with).
  const delta::Metadata metadata = plan.new_md ? *plan.new_md
                                   : snapshot  ? snapshot->metadata()
                                               : delta::Metadata{};
  if (plan.new_md) tx.Add(std::move(*plan.new_md));

  DL_ASSIGN_OR_RETURN(auto adds, WriteRows(ctx, req, plan, rows, root, result));

  const int64_t now = NowMs();
  if (req.reads_table && snapshot) tx.read_set().whole_table = true;
  std::vector<delta::Action> files;
  DL_RETURN_IF_ERROR(
      AddRemoves(ctx, root, kind, req, snapshot.get(), adds, now, tx, files, result));
  for (auto& a : adds) files.emplace_back(std::move(a));
  if (kind == WriteKind::kRewrite) {
    // Rewritten files carry rows that did not change: the change data says which did.
    DL_RETURN_IF_ERROR(internal::AddChangeData(ctx, root, snapshot->protocol(), metadata,
                                               plan.schema, req.change_keys, files));
  }
  tx.AddAll(std::move(files));
  if (req.txn) {
    delta::SetTransaction txn = *req.txn;
    txn.last_updated = now;
    tx.read_set().app_ids.insert(txn.app_id);
    tx.Add(std::move(txn));
  }
  DescribeCommit(kind, req, plan, result, tx);
  if (req.before_commit) DL_RETURN_IF_ERROR(req.before_commit());
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit(req.commit_options));
  result.version = commit.version;
  return result;
}

}  // namespace dl::table
