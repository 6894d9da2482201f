// Append and merge on an engine that writes and commits itself (Spark): the batch becomes
// one engine-neutral AppendOperation or MergeOperation. Exactly-once: the commit carries our
// metadata as userMetadata (reconcile reads it) and a txn (appId per table, a version kept
// across retries of the batch), so a retry of a write that already landed is skipped by the
// engine.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <string_view>
#include <variant>

#include "dl/common/logging.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/commit_range.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/parquet_codec.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/stats.hpp"
#include "dl/delta/type_widening.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/storage/stat_many.hpp"
#include "dl/strategy/bad_rows.hpp"
#include "dl/strategy/companion.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/strategy/remote_batch.hpp"
#include "dl/strategy/source_position.hpp"
#include "dl/strategy/strategy_internal.hpp"
#include "dl/table/table_settings.hpp"

namespace dl::strategy {
namespace {

using config::TableConfig;

std::map<std::string, std::string> ReaderSettings(const TableConfig& t) {
  std::map<std::string, std::string> o;
  if (t.file_format == config::FileFormat::kCsv) {
    o["header"] = t.csv.header ? "true" : "false";
    if (t.csv.delimiter) o["delimiter"] = *t.csv.delimiter;
    if (t.csv.quote) o["quote"] = *t.csv.quote;
    if (t.csv.escape) o["escape"] = *t.csv.escape;
    if (t.csv.null_value) o["null_value"] = *t.csv.null_value;
    o["encoding"] = t.csv.encoding;
    if (!t.csv.multi_line) o["multi_line"] = "false";
  } else if (t.file_format == config::FileFormat::kJson) {
    o["format"] = std::string(config::ToString(t.json.format));  // lines | array | auto
  }
  return o;
}

// Explicit csv/json columns with the Delta types the DuckDB engine would load them as: the
// remote engine reads the files with these. Type resolution stays a service of the local
// (DuckDB) engine rather than an operation of each remote engine: the configured names are
// DuckDB reader types (INT4, NUMERIC(10,2), TIMESTAMPTZ, ...), so DuckDB alone knows what
// they mean, and resolving them once to Delta types makes every engine load the same table.
Result<std::vector<delta::StructField>> ExplicitColumns(engine::Engine& engine,
                                                        const TableConfig& t) {
  const bool csv = t.file_format == config::FileFormat::kCsv;
  const auto& specs = csv ? t.csv.columns : t.json.columns;
  if (specs.empty() || (!csv && t.file_format != config::FileFormat::kJson)) {
    return std::vector<delta::StructField>{};
  }
  std::vector<engine::ColumnInfo> columns;
  for (const auto& c : specs) columns.push_back({c.name, c.type});
  auto schema = engine.ResolveColumnTypes(columns);
  if (!schema.ok()) {
    return Status::Config("{}.columns of {}: {}", csv ? "csv_options" : "json_options",
                          t.QualifiedName(), schema.status().message());
  }
  return schema->fields;
}

// json format auto, decided per file as DuckDB's reader does: a file whose first byte past
// blanks is '[' holds one array; any other holds lines (DuckDB skips no byte order mark).
Result<std::set<std::string>> JsonArrayFiles(FileSystem& fs,
                                             const std::vector<std::string>& paths) {
  constexpr int64_t kHead = 64 << 10;
  std::vector<Result<std::string>> heads = ReadRangeMany(fs, paths, 0, kHead);
  std::set<std::string> out;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (!heads[i].ok()) {
      return heads[i]
          .status()
          .WithContext("reading " + paths[i])
          .WithDetail({ErrorDetail::Cause::kData, {paths[i]}, {}});
    }
    std::string_view head = *heads[i];
    const size_t first = head.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && head[first] == '[') out.insert(paths[i]);
  }
  return out;
}

bool SameFiles(const std::vector<table::SourceFile>& recorded,
               const std::vector<table::SourceFile>& ours) {
  for (const auto& mine : ours) {
    bool found = false;
    for (const auto& theirs : recorded) {
      found = found || (theirs.path == mine.path && theirs.size == mine.size &&
                        theirs.modification_time_ms == mine.modification_time_ms);
    }
    if (!found) return false;
  }
  return true;
}

// The commit that holds the batch: ours (its batch id) or, when the engine skipped the write
// because an earlier attempt of the same files landed, that attempt's. -1: none.
Result<int64_t> FindBatchCommit(table::TableContext& ctx, const Target& target, const Batch& batch,
                                int64_t after) {
  delta::CommitRangeOptions options;
  options.commit_info_only = true;
  int64_t found = -1;
  auto range = delta::ForEachCommit(
      ctx.fs, target.root, after, std::nullopt, options, [&](delta::Commit&& c) -> Status {
        DL_ASSIGN_OR_RETURN(auto info, delta::LoaderCommitInfo::Of(c.actions));
        if (!info) return Status::OK();
        if (info->batch_id == batch.id || SameFiles(info->source_files, batch.files)) {
          found = c.version;
        }
        return Status::OK();
      });
  if (!range.ok()) return range.status().WithContext(target.display_name);
  return found;
}

}  // namespace

std::string RemoteTxnAppId(const Target& target) {
  return "data_loader/append/" + target.config.QualifiedName();
}

namespace {

// A column widened by type widening, at any depth; "" when none was.
std::string WidenedColumn(const std::vector<delta::StructField>& fields) {
  using Kind = delta::DataType::Kind;
  for (const auto& f : fields) {
    if (f.metadata.contains(delta::kTypeChangesKey)) return f.name;
    const delta::DataType* t = f.type.get();
    while (t && (t->kind == Kind::kArray || t->kind == Kind::kMap)) {
      t = t->kind == Kind::kArray ? t->element.get() : t->value.get();
    }
    if (t && t->kind == Kind::kStruct && !WidenedColumn(t->fields).empty()) {
      return f.name;
    }
  }
  return "";
}

}  // namespace

Status CheckRemoteDeltaSource(const DeltaSource& source, const std::string& table) {
  const delta::Snapshot& s = *source.snapshot;
  auto refuse = [&](const std::string& feature) {
    return Status::Unsupported(
        "the source Delta table {} of {} uses {}, which the spark engine does not read yet "
        "(it reads the source's parquet files); load this table with engine: duckdb",
        s.table_root(), table, feature);
  };
  // Physical names (or field ids) in the files, not the table's column names.
  if (delta::UsesColumnMapping(s.metadata().configuration)) {
    return refuse("column mapping (delta.columnMapping.mode)");
  }
  // Files written before the change hold the narrower type.
  if (std::string c = WidenedColumn(s.schema().fields); !c.empty()) {
    return refuse(fmt::format("type widening (column {}, delta.typeChanges)", c));
  }
  for (const auto& add : source.adds) {
    if (add.deletion_vector) {
      return refuse(
          fmt::format("deletion vectors (data file {} has rows deleted in place)", add.path));
    }
  }
  for (const auto& c : s.metadata().partition_columns) {
    for (const auto& f : s.schema().fields) {
      if (f.name != c) continue;
      const auto kind = f.type->kind;
      if (kind != delta::DataType::Kind::kPrimitive && kind != delta::DataType::Kind::kDecimal) {
        return refuse(fmt::format("a partition column of a nested type ({})", c));
      }
      if (f.type->is_primitive("binary")) {
        return refuse(fmt::format("a binary partition column ({})", c));
      }
    }
  }
  return Status::OK();
}

namespace {

// A Delta source's new data files as the remote engine reads them (CheckRemoteDeltaSource
// refused what it cannot): parquet with the source's columns, partition values per file.
void DescribeDeltaSource(const DeltaSource& source, engine::AppendOperation& op) {
  const delta::Snapshot& s = *source.snapshot;
  op.format = "parquet";
  auto& files = op.table_files.emplace();
  files.columns = s.schema().fields;
  for (const auto& c : s.metadata().partition_columns) files.partition_values[c];
  for (const auto& add : source.adds) {
    op.paths.push_back(DeltaSourceFilePath(s, add));
    op.sizes.push_back(add.size);
    files.read_paths.push_back(delta::ResolveDataPath(s.table_root(), add.path));
    for (auto& [column, values] : files.partition_values) {
      values.push_back(delta::PartitionValueOf(add.partition_values, column));
    }
  }
}

// Table properties and clustering as the DuckDB engine applies them: a new table is created
// with them; an existing one must be clustered as configured and gets the properties it lacks
// (refused before anything is written where a write cannot change them).
Status RemoteTableSettings(const Target& target, const delta::Snapshot* snapshot,
                           engine::AppendOperation& op) {
  const TableConfig& t = target.config;
  delta::StringMap wanted = t.table_properties;
  if (!snapshot) {
    op.table_properties = t.table_properties;
    op.clustering_columns = t.clustering_columns;
  } else {
    DL_RETURN_IF_ERROR(table::CheckClusteredBy(*snapshot, t.clustering_columns, target.root));
    const delta::StringMap& have = snapshot->metadata().configuration;
    wanted = have;
    DL_RETURN_IF_ERROR(
        table::SetTableProperties(t.table_properties, &wanted, target.root).status());
    for (const auto& [key, value] : wanted) {
      auto it = have.find(key);
      if (it == have.end() || it->second != value) op.table_properties[key] = value;
    }
  }
  // The engine writes the table's codec itself: Apache Spark's Delta ignores the property.
  if (wanted.contains(delta::kCompressionCodecKey)) {
    DL_ASSIGN_OR_RETURN(op.compression, delta::ParquetCodecOf(wanted, target.display_name));
  }
  return Status::OK();
}

// After the engine's commit, our Delta module commits a Delta source's position to the table
// (source_position.hpp): refused now, before anything is written, if it could not, with the
// table as the batch will leave it (created, or with the properties the batch sets).
Status CheckPositionCommittable(const Target& target, const delta::Snapshot* snapshot,
                                const engine::AppendOperation& op) {
  delta::Metadata md;
  delta::Protocol protocol;
  if (snapshot) {
    md = snapshot->metadata();
    for (const auto& [key, value] : op.table_properties) md.configuration[key] = value;
    protocol = delta::UpgradeProtocol(snapshot->protocol(), snapshot->schema(), md.configuration);
  } else {
    md.schema_string = delta::SerializeSchema(delta::Schema{});  // the batch's is not known yet
    md.configuration = op.table_properties;
    protocol =
        delta::RequiredProtocol(delta::Schema{}, md.configuration, !op.clustering_columns.empty());
  }
  Status writable = delta::CheckCanWrite(protocol, md, target.display_name);
  if (writable.ok()) return writable;
  return writable.WithContext(
      fmt::format("Delta source {}: on this engine data_loader commits its position to the table",
                  target.config.source_path_pattern));
}

// The rows of a batch the engine did not count (AppendOutcome::count_from_commit), from the
// commit that holds it: a data file whose stats bound the source-file column to one of the
// batch's files adds its numRecords to that file; the engine counts the other data files.
Status CountFromCommit(table::TableContext& ctx, const Target& target,
                       const internal::RemoteBatch& remote, int64_t version,
                       engine::AppendOutcome& out) {
  const std::string& column = remote.op.source_file_column;
  std::set<std::string> planned(remote.op.paths.begin(), remote.op.paths.end());
  std::optional<delta::Schema> schema;
  if (remote.snapshot) schema = remote.snapshot->schema();
  std::vector<const delta::AddFile*> adds;
  DL_ASSIGN_OR_RETURN(delta::CommitRange range,
                      delta::ReadCommitRange(ctx.fs, target.root, version - 1, version));
  if (range.commits.empty()) {
    return Status::CorruptLog("version {} of {} is not in its log", version, target.display_name);
  }
  for (const auto& action : range.commits.front().actions) {
    if (const auto* md = std::get_if<delta::Metadata>(&action)) {
      DL_ASSIGN_OR_RETURN(schema, delta::ParseSchemaString(md->schema_string));
    } else if (const auto* add = std::get_if<delta::AddFile>(&action)) {
      adds.push_back(add);
    }
  }
  const std::string physical =
      column.empty() || !schema ? column : delta::PhysicalColumnName(*schema, column);
  std::vector<std::string> uncounted;
  for (const delta::AddFile* add : adds) {
    const delta::FileStats stats = delta::ParseStats(add->stats);
    const auto bound = [&](const nlohmann::json& values) -> std::optional<std::string> {
      auto it = values.find(physical);
      if (it == values.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    auto nulls = stats.null_count.find(physical);
    const bool no_nulls =
        nulls != stats.null_count.end() && nulls->is_number_integer() && nulls->get<int64_t>() == 0;
    const std::optional<std::string> min = bound(stats.min_values);
    if (stats.num_records && column.empty()) {
      out.rows += *stats.num_records;
    } else if (stats.num_records && no_nulls && min && min == bound(stats.max_values) &&
               planned.count(*min)) {
      out.rows_per_file[*min] += *stats.num_records;
      out.rows += *stats.num_records;
    } else {
      uncounted.push_back(delta::ResolveDataPath(target.root, add->path));
    }
  }
  if (uncounted.empty()) return Status::OK();
  auto counted = target.remote->CountRowsInFiles(uncounted, physical);
  if (!counted.ok()) {
    return counted.status().WithContext(
        fmt::format("counting the rows of the {} data files of version {} of {}", uncounted.size(),
                    version, target.display_name));
  }
  for (const auto& [value, rows] : *counted) {
    if (column.empty()) {
      out.rows += rows;
    } else if (planned.count(value)) {  // a commit of an earlier attempt may hold more files
      out.rows_per_file[value] += rows;
      out.rows += rows;
    }
  }
  return Status::OK();
}

}  // namespace

namespace internal {

Result<RemoteBatch> PrepareRemoteBatch(table::TableContext& ctx, const Target& target,
                                       const Batch& batch,
                                       const delta::CommitOptions& commit_options,
                                       int64_t& fallback_version) {
  const TableConfig& t = target.config;
  auto loaded = delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, target.root);
  if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) return loaded.status();
  std::shared_ptr<const delta::Snapshot> snapshot = loaded.ok() ? *loaded : nullptr;
  if (snapshot) {
    DL_RETURN_IF_ERROR(CheckCommitsSince(ctx, *snapshot, batch.checked_version, commit_options));
  }
  // Every batch (a Delta source's too) takes the table's next txn version: two loaders
  // planning from the same table state take the same one, and the engine skips the second.
  const DeltaSource* source = batch.delta_source.get();
  const std::string app_id = RemoteTxnAppId(target);
  int64_t& txn_version = batch.txn_version ? *batch.txn_version : fallback_version;
  if (txn_version == 0) {
    txn_version = (snapshot ? snapshot->TxnVersion(app_id).value_or(0) : 0) + 1;
  }

  RemoteBatch out;
  out.txn_version = &txn_version;
  out.applied_txn_version = snapshot ? snapshot->TxnVersion(app_id).value_or(0) : 0;
  out.snapshot = snapshot;
  engine::AppendOperation& op = out.op;
  op.display_name = target.display_name;
  op.table_root = target.root;
  if (source) {
    DescribeDeltaSource(*source, op);
  } else {
    op.format = std::string(config::ToString(t.file_format));
    for (const auto& f : batch.files) {
      op.paths.push_back(f.path);
      op.sizes.push_back(f.size);
    }
  }
  op.reader_options = ReaderSettings(t);
  DL_ASSIGN_OR_RETURN(op.columns, ExplicitColumns(ctx.engine, t));
  if (t.file_format == config::FileFormat::kJson && t.json.format == config::JsonFormat::kAuto) {
    DL_ASSIGN_OR_RETURN(op.json_array_paths, JsonArrayFiles(ctx.fs, op.paths));
  }
  if (snapshot && t.schema_evolution_mode == config::SchemaEvolutionMode::kNone) {
    op.new_columns = engine::AppendOperation::NewColumns::kDrop;
  } else if (t.schema_evolution_mode == config::SchemaEvolutionMode::kRescue) {
    op.new_columns = engine::AppendOperation::NewColumns::kRescue;
    op.rescued_data_column = t.rescued_data_column;
  }
  if (t.audit_columns.enabled) {
    op.source_file_column = t.audit_columns.source_file;
    op.load_timestamp_column = t.audit_columns.load_timestamp;
    op.batch_id_column = t.audit_columns.batch_id;
  }
  op.batch_id = batch.id;
  op.load_time_ms = batch.load_time_ms;
  op.partition_columns = t.partition_columns;
  op.merge_schema = t.schema_evolution_mode == config::SchemaEvolutionMode::kAddNewColumns;
  if (snapshot) op.table_columns = snapshot->schema().fields;
  // As the DuckDB engine's write decides (table/write.cpp EvolveSchema).
  op.widen_types =
      snapshot && op.merge_schema && delta::TypeWideningEnabled(snapshot->metadata().configuration);
  DL_RETURN_IF_ERROR(RemoteTableSettings(target, snapshot.get(), op));
  if (source) DL_RETURN_IF_ERROR(CheckPositionCommittable(target, snapshot.get(), op));
  op.txn_app_id = app_id;
  op.txn_version = txn_version;
  delta::LoaderCommitInfo info;
  info.source_files = batch.files;
  info.batch_id = batch.id;
  // The source's own txn is committed after the engine's commit (source_position.hpp).
  if (source) info.delta_source = delta::DeltaSourceVersion{source->app_id, source->version};
  op.user_metadata = info.ToUserMetadata();
  out.info = std::move(info);
  DL_RETURN_IF_ERROR(internal::PauseForTests(ctx.fs, internal::kPauseBeforeCommit));
  return out;
}

Result<int64_t> FinishRemoteBatch(table::TableContext& ctx, const Target& target,
                                  const Batch& batch, RemoteBatch& remote, const Status& called) {
  if (!called.ok()) {
    // Another writer committed first (maybe with this txn version): take the next one.
    if (called.code() == StatusCode::kCommitConflict) *remote.txn_version = 0;
    return called;
  }
  DL_ASSIGN_OR_RETURN(
      int64_t version,
      FindBatchCommit(ctx, target, batch, std::max<int64_t>(batch.checked_version, -1)));
  if (version < 0) {
    // The engine skipped the write: the txn version is another batch's. Take the next.
    *remote.txn_version = 0;
    return Status::CommitConflict(
        "txn {} version {} of {} was already applied by another writer; the batch is planned "
        "again",
        remote.op.txn_app_id, remote.op.txn_version, target.display_name);
  }
  // Landed: files loaded after these (the other half of a split batch) take the next version.
  *remote.txn_version = 0;
  DL_RETURN_IF_ERROR(internal::PauseForTests(ctx.fs, internal::kPauseAfterRemoteCommit));
  if (const DeltaSource* source = batch.delta_source.get()) {
    DL_RETURN_IF_ERROR(CommitSourceVersion(ctx, target.root, source->app_id, source->version));
  }
  return version;
}

}  // namespace internal

Result<BatchOutcome> LoadRemoteAppend(table::TableContext& ctx, const Target& target,
                                      const Batch& batch,
                                      const delta::CommitOptions& commit_options) {
  const TableConfig& t = target.config;
  int64_t fallback_version = 0;
  DL_ASSIGN_OR_RETURN(
      internal::RemoteBatch remote,
      internal::PrepareRemoteBatch(ctx, target, batch, commit_options, fallback_version));
  engine::AppendOperation& op = remote.op;
  if (t.loading_strategy == config::LoadingStrategy::kOverwrite) {
    op.mode = t.overwrite_mode == config::OverwriteMode::kDynamic
                  ? engine::WriteMode::kOverwritePartitions
                  : engine::WriteMode::kOverwrite;
    op.replace_where = t.replace_where;
  }
  // As on DuckDB, replace_where writes the batch as it is (no dedup).
  if ((t.dedup || !t.dedup_keys.empty()) && !op.replace_where) {
    // As on DuckDB: dedup_keys, else primary_keys, else every data column; the first
    // delivery of each key wins, then rows whose key the table holds are dropped.
    engine::Dedup& d = op.dedup.emplace();
    d.keys = !t.dedup_keys.empty() ? t.dedup_keys : t.primary_keys;
    d.keys_key = t.dedup_keys.empty() ? "primary_keys" : "dedup_keys";
    d.sequence_column = t.sequence_column;
    d.drop_keys_in_table = true;
  }
  auto appended = target.remote->Append(op);
  DL_ASSIGN_OR_RETURN(int64_t version,
                      internal::FinishRemoteBatch(ctx, target, batch, remote, appended.status()));
  BatchOutcome out;
  if (appended->count_from_commit) {
    Status counted = CountFromCommit(ctx, target, remote, version, *appended);
    if (!counted.ok()) {
      // The batch is committed: failing it now would leave its files to the next run's
      // reconcile; they are recorded as loaded, their rows unknown.
      log::Warn(
          "rows per file not counted",
          {{"table", target.display_name}, {"version", version}, {"error", counted.message()}});
      appended->rows_per_file.clear();
      appended->rows = 0;
      out.rows_per_file_known = false;
    }
  }
  out.write.version = version;
  out.write.rows_written = appended->rows;
  out.rows_per_file = std::move(appended->rows_per_file);
  return out;
}

Result<BatchOutcome> LoadRemoteMerge(table::TableContext& ctx, const Target& target,
                                     const Batch& batch,
                                     const delta::CommitOptions& commit_options) {
  const TableConfig& t = target.config;
  int64_t fallback_version = 0;
  DL_ASSIGN_OR_RETURN(
      internal::RemoteBatch remote,
      internal::PrepareRemoteBatch(ctx, target, batch, commit_options, fallback_version));
  // A crash between an earlier batch's commit and its quarantine's leaves them behind.
  DL_RETURN_IF_ERROR(RollForwardRemoteQuarantine(ctx, target, remote.snapshot.get()));
  engine::MergeOperation op;
  op.rows = std::move(remote.op);
  // As on DuckDB: one row per primary key, the highest sequence_column, then the last
  // delivered.
  engine::Dedup& d = op.rows.dedup.emplace();
  d.keys = t.primary_keys;
  d.keys_key = "primary_keys";
  d.sequence_column = t.sequence_column;
  d.last_wins = true;
  op.merge_condition = t.merge_condition;
  op.delete_condition = t.delete_condition;
  op.update_columns = t.update_columns;
  op.except_columns = t.except_columns;
  op.delete_unmatched = t.when_not_matched_by_source == config::WhenNotMatchedBySource::kDelete;
  DL_ASSIGN_OR_RETURN(op.quarantine, RemoteQuarantine(ctx, target, remote.info));
  auto merged = target.remote->Merge(op);
  remote.op = op.rows;
  DL_ASSIGN_OR_RETURN(int64_t version,
                      internal::FinishRemoteBatch(ctx, target, batch, remote, merged.status()));
  DL_RETURN_IF_ERROR(CommitRemoteQuarantine(ctx, target, version));
  log::Info("merge applied", {{"table", target.display_name},
                              {"batch", batch.id},
                              {"version", version},
                              {"engine", "spark"},
                              {"source_rows", merged->source_rows},
                              {"collapsed_duplicates", merged->collapsed},
                              {"inserted", merged->inserted},
                              {"updated", merged->updated},
                              {"deleted", merged->deleted},
                              {"unchanged", merged->unchanged}});
  BatchOutcome out;
  out.write.version = version;
  // As on DuckDB: what the batch brought in, not rows copied along.
  out.write.rows_written = merged->inserted + merged->updated;
  out.rows_per_file = std::move(merged->rows_per_file);
  return out;
}

}  // namespace dl::strategy
