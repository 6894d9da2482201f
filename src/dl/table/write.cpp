// Writes: append/overwrite (with table creation and schema evolution) and copy-on-write
// delete.
#include <algorithm>
#include <set>

#include "dl/common/clock.hpp"
#include "dl/delta/clustering.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/constraints.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/row_tracking.hpp"
#include "dl/delta/type_widening.hpp"
#include "dl/storage/paths.hpp"
#include "dl/table/table.hpp"
#include "dl/table/table_internal.hpp"
#include "dl/table/table_rules.hpp"

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

// Table properties of the config that the table lacks (or has with another value) are set, as
// ALTER TABLE SET TBLPROPERTIES would; properties are never unset this way. True if any changed.
Result<bool> SetTableProperties(const delta::StringMap& wanted, delta::StringMap* configuration,
                                const std::string& root) {
  bool changed = false;
  for (const auto& [key, value] : wanted) {
    auto it = configuration->find(key);
    if (it != configuration->end() && it->second == value) continue;
    if (key.starts_with(delta::kConstraintPrefix)) {
      // The rows already in the table must be checked first.
      return Status::Unsupported(
          "table {}: a CHECK constraint ({}) cannot be added to an existing table by a write; "
          "use `data_loader table add-constraint`, which checks the rows already there",
          root, key);
    }
    if (key == delta::kEnableRowTrackingKey || key == delta::kRowIdColumnKey ||
        key == delta::kRowCommitVersionColumnKey) {
      // Enabling it needs a row id on every existing file first (a backfill).
      return Status::Unsupported(
          "table {}: the table property {} of an existing table cannot be changed by a write; "
          "enable row tracking when the table is created, or with Spark's ALTER TABLE ... SET "
          "TBLPROPERTIES",
          root, key);
    }
    if (key == delta::kColumnMappingModeKey || key == delta::kMaxColumnIdKey) {
      // Existing files name columns as they are; a new mode would need every column mapped.
      return Status::Unsupported(
          "table {}: the table property {} of an existing table cannot be changed by a write "
          "(Spark's ALTER TABLE ... SET TBLPROPERTIES can)",
          root, key);
    }
    (*configuration)[key] = value;
    changed = true;
  }
  return changed;
}

constexpr char kClusteringKey[] = "clustering_columns";

// Clustering is chosen when a table is created; a config naming other columns than the
// table's (or clustering an unclustered table) is a config error, not silently ignored.
Status CheckClusteredBy(const delta::Snapshot& snapshot, const std::vector<std::string>& wanted,
                        const std::string& root) {
  if (wanted.empty()) return Status::OK();
  std::vector<std::string> have;
  if (delta::IsClustered(snapshot.protocol())) {
    DL_ASSIGN_OR_RETURN(have,
                        delta::ClusteringColumns(snapshot.domains(), snapshot.schema(), root));
  }
  if (have == wanted) return Status::OK();
  return Status::Config(
      "{}: table {} is {}, not by {}; clustering is set when a table is created (change it "
      "with Spark's ALTER TABLE ... CLUSTER BY)",
      kClusteringKey, root,
      have.empty() ? std::string("not clustered") : "clustered by " + internal::JsonList(have),
      internal::JsonList(wanted));
}

// Delta NOT NULL columns (from Spark tables) are invariants a writer must enforce.
Status CheckNotNull(engine::Engine& engine, const std::string& sql, const delta::Schema& schema,
                    const delta::Schema& source, const std::string& root) {
  for (const auto& f : schema.fields) {
    if (f.nullable) continue;
    if (!source.Find(f.name)) {
      // A generated column the data lacks is computed (its NULLs are not checked here).
      if (f.metadata.contains(delta::kGenerationExpressionKey)) continue;
      if (f.metadata.contains(delta::kIdentityStartKey)) continue;  // allocated
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
// again (merge, SCD2 and replace_where rewrites) would hand them new values or take their
// kept values for values given by hand.
Status CheckIdentityWrite(const delta::Schema& schema, const WriteRequest& req,
                          const std::string& root) {
  if (req.rewritten_files.empty() && req.row_deletes.empty()) return Status::OK();
  auto identities = delta::IdentityColumns(schema);
  if (!identities.ok()) return identities.status().WithContext(fmt::format("table {}", root));
  if (identities->empty()) return Status::OK();
  return Status::Unsupported(
      "table {} has identity column {} (writer feature identityColumns): data_loader appends "
      "and overwrites such tables but cannot yet rewrite their rows (merge, SCD2, replace_where)",
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

Result<WriteResult> Write(TableContext& ctx, const std::string& root, const WriteRequest& req) {
  using SnapshotResult = Result<std::shared_ptr<const delta::Snapshot>>;
  std::shared_ptr<const delta::Snapshot> snapshot;
  // A blind append needs the table's metadata, not its file list (the costly part of a big
  // log); an overwrite removes every file and a write that read the table checks them.
  bool blind_append = req.mode == WriteMode::kAppend && !req.reads_table;
  auto loaded = req.read_snapshot
                    ? (*req.read_snapshot ? SnapshotResult(*req.read_snapshot)
                                          : SnapshotResult(Status::NotFound("no table yet")))
                : blind_append ? delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, root)
                               : LoadSnapshot(ctx, root);
  if (loaded.ok()) {
    snapshot = *loaded;
  } else if (loaded.status().code() == StatusCode::kNotFound) {
    DL_RETURN_IF_ERROR(CheckCanCreateAt(ctx.fs, root));
  } else {
    return loaded.status();
  }
  WriteResult result;
  if (snapshot && req.txn) {
    auto applied = snapshot->TxnVersion(req.txn->app_id);
    if (applied && *applied >= req.txn->version) {
      result.skipped = true;
      return result;
    }
  }
  if (!req.rewritten_files.empty()) {
    DL_RETURN_IF_ERROR(internal::RefuseRowIdRewrite(snapshot.get(), root,
                                                    "rewriting files (copy-on-write)"));
  }
  if (!req.row_deletes.empty()) {
    DL_RETURN_IF_ERROR(internal::RefuseRowIdRewrite(
        snapshot.get(), root, "replacing rows (deletion vectors plus their new versions)"));
  }
  DL_ASSIGN_OR_RETURN(std::string source_sql, ctx.engine.DeltaCompatibleSelect(req.source_sql));
  DL_ASSIGN_OR_RETURN(delta::Schema source_schema, ctx.engine.SchemaOf(source_sql));

  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  delta::Schema schema;
  delta::StringMap configuration;  // the table's, after this write
  std::vector<std::string> partition_by;
  bool column_mapping = false;
  std::optional<delta::Metadata> new_md;  // committed when the write changes it
  if (!snapshot) {
    result.created = true;
    schema = source_schema;
    partition_by = req.partition_by;
    DL_ASSIGN_OR_RETURN(auto md, NewTableMetadata(schema, partition_by, req.configuration, root));
    column_mapping = delta::UsesColumnMapping(md.configuration);
    if (column_mapping) {
      schema = delta::AssignColumnMapping(schema, &md.configuration);
      md.schema_string = delta::SerializeSchema(schema);
    }
    DL_RETURN_IF_ERROR(delta::CheckClusteringColumns(req.cluster_by, schema, partition_by,
                                                     kClusteringKey, root));
    delta::Protocol protocol =
        delta::RequiredProtocol(schema, md.configuration, !req.cluster_by.empty());
    // Refused before any data file is written (a property may need a feature we lack).
    DL_RETURN_IF_ERROR(delta::CheckCanWrite(protocol, md, root));
    configuration = md.configuration;
    tx.Add(std::move(protocol));
    tx.Add(std::move(md));
    if (!req.cluster_by.empty()) tx.Add(delta::ClusteringDomain(req.cluster_by, schema));
  } else {
    partition_by = snapshot->partition_columns();
    if (!req.partition_by.empty() && req.partition_by != partition_by) {
      return Status::InvalidArgument(
          "table {} is partitioned by {}, not by {}; the partitioning of an existing table "
          "cannot change",
          root, internal::JsonList(partition_by), internal::JsonList(req.partition_by));
    }
    for (const auto& col : partition_by) {
      const delta::StructField* field = snapshot->schema().Find(col);
      const bool generated = field && field->metadata.contains(delta::kGenerationExpressionKey);
      if (!source_schema.Find(col) && !generated) {  // a generated one is computed
        return Status::SchemaMismatch("partition column '{}' of {} is missing from the data", col,
                                      root);
      }
    }
    DL_RETURN_IF_ERROR(CheckClusteredBy(*snapshot, req.cluster_by, root));
    const bool widen = delta::TypeWideningEnabled(snapshot->metadata().configuration) ||
                       delta::TypeWideningEnabled(req.configuration);  // set by this write
    DL_ASSIGN_OR_RETURN(schema, EvolveSchema(snapshot->schema(), source_schema,
                                             req.schema_evolution, widen, root));
    delta::Metadata md = snapshot->metadata();
    column_mapping = delta::UsesColumnMapping(md.configuration);
    result.schema_changed = !(schema == snapshot->schema());
    if (result.schema_changed) {
      // New columns of a column-mapped table get fresh ids and physical names.
      if (column_mapping) {
        schema = delta::AssignColumnMapping(schema, &md.configuration);
      }
      md.schema_string = delta::SerializeSchema(schema);
    }
    DL_ASSIGN_OR_RETURN(bool properties_changed,
                        SetTableProperties(req.configuration, &md.configuration, root));
    configuration = md.configuration;
    if (result.schema_changed || properties_changed) {
      delta::Protocol upgraded =
          delta::UpgradeProtocol(snapshot->protocol(), schema, md.configuration);
      DL_RETURN_IF_ERROR(delta::CheckCanWrite(upgraded, md, root));
      if (!(upgraded == snapshot->protocol())) tx.Add(upgraded);
      new_md = std::move(md);
    }
    DL_RETURN_IF_ERROR(CheckNotNull(ctx.engine, source_sql, schema, source_schema, root));
  }

  DL_ASSIGN_OR_RETURN(std::string aligned, ctx.engine.AlignToSchema(source_sql, schema));
  DL_RETURN_IF_ERROR(CheckIdentityWrite(schema, req, root));
  // CHECK constraints, invariants and generated columns: before any data file is written.
  DL_ASSIGN_OR_RETURN(auto rules,
                      internal::CompileTableRules(ctx.engine, schema, configuration, root));
  internal::RowOrigin origin{req.source_file_column, {}};
  for (const auto& f : req.loader_info.source_files) origin.source_files.push_back(f.path);
  DL_ASSIGN_OR_RETURN(aligned, internal::EnforceTableRules(ctx.engine, aligned, schema, rules,
                                                           configuration, origin, root));
  bool high_water_marks_moved = false;
  DL_ASSIGN_OR_RETURN(aligned, internal::AllocateIdentityValues(ctx.engine, aligned, &schema,
                                                                &high_water_marks_moved, root));
  if (high_water_marks_moved) {
    // The new high-water marks are committed with the rows: a concurrent writer allocating
    // from the same marks then conflicts on this metaData and re-plans with ours.
    if (!new_md) new_md = snapshot->metadata();
    new_md->schema_string = delta::SerializeSchema(schema);
  }
  if (new_md) tx.Add(std::move(*new_md));
  engine::WriteOptions wopts = req.write_options;
  wopts.partition_columns = partition_by;
  wopts.column_mapping = column_mapping;
  wopts.rows_by_value = wopts.count_rows_by.empty() ? nullptr : &result.rows_by_value;
  DL_ASSIGN_OR_RETURN(auto adds, ctx.engine.WriteDataFiles(aligned, root, schema, wopts));
  result.files_added = static_cast<int64_t>(adds.size());
  result.rows_written = internal::CountRecords(adds);
  result.bytes_written = internal::TotalBytes(adds);
  for (const auto& a : adds) result.added_paths.push_back(a.path);

  int64_t now = NowMs();
  if (req.reads_table && snapshot) tx.read_set().whole_table = true;
  bool overwrite = req.mode == WriteMode::kOverwrite && snapshot;
  bool dynamic = overwrite && req.dynamic_partition_overwrite && !partition_by.empty();
  if (dynamic) {
    // Replace only the partitions the new rows fall into (Spark's
    // partitionOverwriteMode=dynamic); a concurrent change to them conflicts.
    std::set<delta::PartitionValues> touched;
    for (const auto& a : adds) touched.insert(a.partition_values);
    for (const auto& f : snapshot->files()) {
      if (touched.count(f.partition_values) == 0) continue;
      tx.Add(internal::RemoveFor(f, now, true));
      ++result.files_removed;
    }
    tx.read_set().partitions.assign(touched.begin(), touched.end());
  } else if (overwrite) {
    tx.read_set().whole_table = true;
    for (const auto& f : snapshot->files()) tx.Add(internal::RemoveFor(f, now, true));
    result.files_removed = static_cast<int64_t>(snapshot->files().size());
  } else if (!req.rewritten_files.empty()) {
    if (!snapshot) return Status::Internal("rewriting files of a table that does not exist");
    tx.read_set().whole_table = true;
    for (const auto& f : req.rewritten_files) tx.Add(internal::RemoveFor(f, now, true));
    result.files_removed = static_cast<int64_t>(req.rewritten_files.size());
  }
  if (!req.row_deletes.empty()) {
    if (!snapshot || !UsesDeletionVectors(*snapshot)) {
      return Status::Internal("deleting rows in place in {}, which has no deletion vectors", root);
    }
    tx.read_set().whole_table = true;
    DL_RETURN_IF_ERROR(
        internal::AddRowDeletes(ctx.fs, root, req.row_deletes, now, tx, result));
  }
  for (auto& a : adds) tx.Add(std::move(a));
  if (req.txn) {
    delta::SetTransaction txn = *req.txn;
    txn.last_updated = now;
    tx.read_set().app_ids.insert(txn.app_id);
    tx.Add(std::move(txn));
  }
  delta::StringMap metrics{{"numFiles", std::to_string(result.files_added)},
                           {"numOutputRows", std::to_string(result.rows_written)},
                           {"numOutputBytes", std::to_string(result.bytes_written)}};
  if (req.operation.empty()) {
    const char* mode = !snapshot ? "ErrorIfExists" : overwrite ? "Overwrite" : "Append";
    delta::StringMap parameters{{"mode", mode}, {"partitionBy", internal::JsonList(partition_by)}};
    if (dynamic) parameters["partitionOverwriteMode"] = "DYNAMIC";
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
  if (req.before_commit) DL_RETURN_IF_ERROR(req.before_commit());
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit(req.commit_options));
  result.version = commit.version;
  return result;
}

namespace {

// DELETE on a table with deletion vectors: no data file is rewritten.
Result<WriteResult> DeleteInPlace(TableContext& ctx, const std::string& root,
                                  const std::shared_ptr<const delta::Snapshot>& snapshot,
                                  const std::string& rows_sql, const std::string& predicate,
                                  int64_t deleted_rows) {
  DL_ASSIGN_OR_RETURN(auto deletes, CollectRowDeletes(ctx.engine, *snapshot, rows_sql));
  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  tx.read_set().whole_table = true;
  WriteResult result;
  DL_RETURN_IF_ERROR(internal::AddRowDeletes(ctx.fs, root, deletes, NowMs(), tx, result));
  tx.SetOperation("DELETE", {{"predicate", nlohmann::json::array({predicate}).dump()}});
  tx.SetOperationMetrics({{"numRemovedFiles", std::to_string(result.files_removed)},
                          {"numAddedFiles", "0"},
                          {"numDeletionVectorsAdded", std::to_string(result.deletion_vectors_added)},
                          {"numDeletedRows", std::to_string(deleted_rows)},
                          {"numCopiedRows", "0"}});
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  result.version = commit.version;
  return result;
}

}  // namespace

Result<WriteResult> DeleteWhere(TableContext& ctx, const std::string& root,
                                const std::string& predicate) {
  if (predicate.find(';') != std::string::npos) {
    return Status::InvalidArgument("delete predicate must be a single SQL expression: {}",
                                   predicate);
  }
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(ctx, root));
  const std::string scan = "__dl_delete_scan";
  DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshotWithFileColumn(scan, *snapshot, nullptr));
  // Parenthesised so the predicate cannot escape its clause.
  DL_ASSIGN_OR_RETURN(auto hit, ctx.engine.Query(fmt::format(
                                    "SELECT _dl_file, count(*) FROM {} WHERE ({}) GROUP BY 1",
                                    QuoteIdent(scan), predicate)));
  std::set<std::string> touched;
  int64_t deleted_rows = 0;
  for (const auto& row : hit.rows) {
    touched.insert(row.at(0).value_or(""));
    deleted_rows += std::stoll(row.at(1).value_or("0"));
  }
  WriteResult result;
  if (touched.empty()) return result;  // nothing matches: no commit, like Spark
  if (UsesDeletionVectors(*snapshot)) {
    return DeleteInPlace(ctx, root, snapshot,
                         fmt::format("SELECT * FROM {} WHERE ({})", QuoteIdent(scan), predicate),
                         predicate, deleted_rows);
  }

  DL_RETURN_IF_ERROR(
      internal::RefuseRowIdRewrite(snapshot.get(), root, "a copy-on-write DELETE"));
  std::vector<delta::AddFile> rewrite;
  for (const auto& f : snapshot->files()) {
    if (touched.count(f.path)) rewrite.push_back(f);
  }
  const std::string src = "__dl_delete_src";
  DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshot(src, *snapshot, &rewrite));
  std::string keep =
      fmt::format("SELECT * FROM {} WHERE ({}) IS NOT TRUE", QuoteIdent(src), predicate);
  engine::WriteOptions wopts;
  wopts.partition_columns = snapshot->partition_columns();
  wopts.column_mapping = delta::UsesColumnMapping(snapshot->metadata().configuration);
  DL_ASSIGN_OR_RETURN(auto adds, ctx.engine.WriteDataFiles(keep, root, snapshot->schema(), wopts));

  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  tx.read_set().whole_table = true;
  int64_t now = NowMs();
  for (const auto& f : rewrite) tx.Add(internal::RemoveFor(f, now, true));
  result.files_removed = static_cast<int64_t>(rewrite.size());
  result.files_added = static_cast<int64_t>(adds.size());
  result.rows_written = internal::CountRecords(adds);
  result.bytes_written = internal::TotalBytes(adds);
  for (auto& a : adds) tx.Add(std::move(a));
  tx.SetOperation("DELETE", {{"predicate", nlohmann::json::array({predicate}).dump()}});
  tx.SetOperationMetrics({{"numRemovedFiles", std::to_string(result.files_removed)},
                          {"numAddedFiles", std::to_string(result.files_added)},
                          {"numDeletedRows", std::to_string(deleted_rows)},
                          {"numCopiedRows", std::to_string(result.rows_written)}});
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  result.version = commit.version;
  return result;
}

}  // namespace dl::table
