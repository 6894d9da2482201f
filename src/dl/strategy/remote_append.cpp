// Append on an engine that writes and commits itself (Spark): the batch becomes one
// engine-neutral AppendOperation. Exactly-once: the commit carries our metadata as
// userMetadata (reconcile reads it) and a txn (appId per table, a version kept across
// retries of the batch), so a retry of a write that already landed is skipped by the engine.
#include <fmt/format.h>

#include <algorithm>

#include "dl/delta/commit_range.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/strategy/strategy_internal.hpp"

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
  } else if (t.file_format == config::FileFormat::kJson) {
    o["format"] = t.json.format == config::JsonFormat::kArray ? "array" : "lines";
  }
  return o;
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

Result<BatchOutcome> LoadRemoteAppend(table::TableContext& ctx, const Target& target,
                                      const Batch& batch,
                                      const delta::CommitOptions& commit_options) {
  const TableConfig& t = target.config;
  auto loaded = delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, target.root);
  if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) return loaded.status();
  std::shared_ptr<const delta::Snapshot> snapshot = loaded.ok() ? *loaded : nullptr;
  if (snapshot) {
    DL_RETURN_IF_ERROR(CheckCommitsSince(ctx, *snapshot, batch.checked_version, commit_options));
  }
  const std::string app_id = RemoteTxnAppId(target);
  int64_t fallback_version = 0;
  int64_t& txn_version = batch.txn_version ? *batch.txn_version : fallback_version;
  if (txn_version == 0) {
    txn_version = (snapshot ? snapshot->TxnVersion(app_id).value_or(0) : 0) + 1;
  }

  if (!t.clustering_columns.empty()) {
    return Status::InvalidArgument(
        "clustering_columns: table {} uses engine: spark, which does not create clustered "
        "tables yet; drop the key or use the duckdb engine",
        target.display_name);
  }
  engine::AppendOperation op;
  op.table_root = target.root;
  op.format = std::string(config::ToString(t.file_format));
  for (const auto& f : batch.files) op.paths.push_back(f.path);
  op.reader_options = ReaderSettings(t);
  if (t.audit_columns.enabled) {
    op.source_file_column = t.audit_columns.source_file;
    op.load_timestamp_column = t.audit_columns.load_timestamp;
    op.batch_id_column = t.audit_columns.batch_id;
  }
  op.batch_id = batch.id;
  op.load_time_ms = batch.load_time_ms;
  op.partition_columns = t.partition_columns;
  op.merge_schema = t.schema_evolution_mode == config::SchemaEvolutionMode::kAddNewColumns;
  op.txn_app_id = app_id;
  op.txn_version = txn_version;
  delta::LoaderCommitInfo info;
  info.source_files = batch.files;
  info.batch_id = batch.id;
  op.user_metadata = info.ToUserMetadata();

  auto appended = target.remote->Append(op);
  if (!appended.ok()) {
    // Another writer committed first (maybe with this txn version): take the next one.
    if (appended.status().code() == StatusCode::kCommitConflict) txn_version = 0;
    return appended.status();
  }
  DL_ASSIGN_OR_RETURN(
      int64_t version,
      FindBatchCommit(ctx, target, batch, std::max<int64_t>(batch.checked_version, -1)));
  if (version < 0) {
    // The engine skipped the write: the txn version is another batch's. Take the next.
    txn_version = 0;
    return Status::CommitConflict(
        "txn {} version {} of {} was already applied by another writer; the batch is planned "
        "again",
        app_id, op.txn_version, target.display_name);
  }
  BatchOutcome out;
  out.write.version = version;
  out.write.rows_written = appended->rows;
  out.rows_per_file = std::move(appended->rows_per_file);
  return out;
}

}  // namespace dl::strategy
