// Append: every row of the batch is added (audit columns, optional dedup within the batch
// and against the table), one blind-append commit per batch.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "dl/delta/commit_range.hpp"
#include "dl/delta/partition.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/strategy/merge_strategy.hpp"
#include "dl/strategy/scd2_strategy.hpp"
#include "dl/strategy/source.hpp"
#include "dl/strategy/strategy_internal.hpp"

namespace dl::strategy {
namespace {

using config::SchemaEvolutionMode;
using config::TableConfig;
using engine::QuoteIdent;
using namespace internal;

bool DedupEnabled(const TableConfig& t) { return t.dedup || !t.dedup_keys.empty(); }

// dedup_keys, else primary_keys, else every data column (whole-row duplicates).
std::vector<std::string> DedupKeys(const TableConfig& t,
                                   const std::vector<std::string>& data_columns) {
  if (!t.dedup_keys.empty()) return t.dedup_keys;
  if (!t.primary_keys.empty()) return t.primary_keys;
  return data_columns;
}

// The first delivery of each key wins (or the highest sequence_column value), then rows whose
// key the table already holds are dropped.
Result<std::string> DedupSql(engine::Engine& engine, const Target& target,
                             const SourceProjection& source, const delta::Snapshot* snapshot) {
  const TableConfig& t = target.config;
  std::vector<std::string> keys = DedupKeys(t, source.data_columns);
  DL_RETURN_IF_ERROR(CheckColumnsPresent(
      keys, source.data_columns, t.dedup_keys.empty() ? "primary_keys" : "dedup_keys", target));
  engine::Deduplication dedup{keys, {}, {kFileOrderColumn, kRowOrderColumn}, ""};
  if (t.sequence_column) {
    DL_RETURN_IF_ERROR(
        CheckColumnsPresent({*t.sequence_column}, source.data_columns, "sequence_column", target));
    dedup.order.push_back({*t.sequence_column, /*descending=*/true});
  }
  dedup.order.push_back({kFileOrderColumn});
  dedup.order.push_back({kRowOrderColumn});
  std::string sql = engine.Deduplicate(source.sql, dedup);
  if (snapshot == nullptr) return sql;

  for (const auto& k : keys) {
    if (!snapshot->schema().Find(k)) return sql;  // the table cannot hold this key yet
  }
  const std::string existing = "__dl_dedup_target";
  DL_RETURN_IF_ERROR(engine.RegisterSnapshot(existing, *snapshot));
  std::vector<std::string> match;
  for (const auto& k : keys) {
    match.push_back(fmt::format("t.{0} IS NOT DISTINCT FROM s.{0}", QuoteIdent(k)));
  }
  return fmt::format("SELECT s.* FROM ({}) s WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE {})", sql,
                     QuoteIdent(existing), fmt::join(match, " AND "));
}

// Append (mode kAppend) or overwrite (kOverwrite: the batch replaces the table, or with
// overwrite_mode dynamic only the partitions it touches): the batch's rows as they are.
Result<BatchOutcome> LoadRows(table::TableContext& ctx, const Target& target, const Batch& batch,
                              const delta::CommitOptions& commit_options, table::WriteMode mode) {
  const TableConfig& t = target.config;
  std::shared_ptr<const delta::Snapshot> snapshot;
  // A blind append needs metadata and txns, not the file list (the costly part of a big
  // log); dedup and overwrite read the table, so they need the files.
  const bool dedup = DedupEnabled(t);
  const bool reads_files = dedup || mode == table::WriteMode::kOverwrite;
  auto loaded = reads_files ? table::LoadSnapshot(ctx, target.root)
                            : delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, target.root);
  if (loaded.ok()) {
    snapshot = *loaded;
  } else if (loaded.status().code() != StatusCode::kNotFound) {
    return loaded.status();
  }
  if (snapshot) {
    DL_RETURN_IF_ERROR(CheckCommitsSince(ctx, *snapshot, batch.checked_version, commit_options));
  }

  std::vector<std::string> paths;
  for (const auto& f : batch.files) paths.push_back(f.path);
  const std::string view = "__dl_batch";
  auto source = ProjectSource(ctx.engine, view, t, paths, snapshot ? &snapshot->schema() : nullptr,
                              batch.id, batch.load_time_ms, dedup, batch.delta_source.get());
  if (!source.ok()) {
    ReleaseSource(ctx.engine, view);
    return source.status();
  }
  table::WriteRequest req;
  req.source_sql = source->sql;
  if (dedup) {
    auto sql = DedupSql(ctx.engine, target, *source, snapshot.get());
    if (!sql.ok()) {
      ReleaseSource(ctx.engine, view);
      return sql.status();
    }
    req.source_sql = *sql;
    req.reads_table = snapshot != nullptr;
  }
  req.read_snapshot = snapshot;
  req.mode = mode;
  req.dynamic_partition_overwrite = t.overwrite_mode == config::OverwriteMode::kDynamic;
  req.partition_by = t.partition_columns;
  req.cluster_by = t.clustering_columns;
  req.schema_evolution = WriteEvolution(t);
  req.configuration = t.table_properties;
  // Rows breaking the table's CHECK constraints or generated columns are named per file.
  if (t.audit_columns.enabled) req.source_file_column = t.audit_columns.source_file;
  // Counted as the rows are written (for the tracker), not read back from the new files.
  if (t.audit_columns.enabled) req.write_options.count_rows_by = t.audit_columns.source_file;
  std::string app_id = PrepareBatchCommit(ctx, batch, snapshot.get(), commit_options, req);

  auto written = table::Write(ctx, target.root, req);
  if (written.ok() && written->skipped) {
    // The source version was already loaded by another writer.
    written = TxnTakenError(app_id, target);
  }
  BatchOutcome out;
  if (written.ok()) {
    out.rows_per_file = std::move(written->rows_by_value);
    out.write = std::move(*written);
  }
  ReleaseSource(ctx.engine, view);
  if (!written.ok()) return written.status();
  return out;
}

}  // namespace

Status CheckCommitsSince(table::TableContext& ctx, const delta::Snapshot& snapshot, int64_t after,
                         const delta::CommitOptions& options) {
  if (!options.check_winner) return Status::OK();
  // The snapshot's log segment lists its recent commits: they are read without a listing.
  delta::CommitRangeOptions range;
  range.known = &snapshot.log_segment();
  auto checked = delta::ForEachCommit(
      ctx.fs, snapshot.table_root(), after, snapshot.version(), range,
      [&](delta::Commit&& c) { return options.check_winner(c.version, c.actions); });
  return checked.status();
}

bool BatchesMayRunInParallel(const TableConfig& table) {
  // On Spark each batch takes the table's next txn version: one at a time.
  if (table.engine == config::EngineKind::kSpark) return false;
  return table.loading_strategy == config::LoadingStrategy::kAppend && !DedupEnabled(table);
}

bool LoadsWholeRunAsOneBatch(const TableConfig& table) {
  // An SCD2 batch that retires absent keys is a full snapshot: split, each part would retire
  // the keys of the others.
  return table.loading_strategy == config::LoadingStrategy::kOverwrite ||
         (table.loading_strategy == config::LoadingStrategy::kScd2 && table.retire_absent_keys);
}

Result<BatchOutcome> LoadBatch(table::TableContext& ctx, const Target& target, const Batch& batch,
                               const delta::CommitOptions& commit_options) {
  if (target.remote != nullptr) {
    const auto strategy = target.config.loading_strategy;
    if (strategy == config::LoadingStrategy::kAppend ||
        strategy == config::LoadingStrategy::kOverwrite) {
      return LoadRemoteAppend(ctx, target, batch, commit_options);
    }
    if (target.config.loading_strategy == config::LoadingStrategy::kMerge) {
      return LoadRemoteMerge(ctx, target, batch, commit_options);
    }
    if (strategy == config::LoadingStrategy::kScd2) {
      return LoadRemoteScd2(ctx, target, batch, commit_options);
    }
    return Status::Unsupported("loading_strategy '{}' of {} is not supported on the {} engine",
                               config::ToString(target.config.loading_strategy),
                               target.display_name, config::ToString(target.config.engine));
  }
  switch (target.config.loading_strategy) {
    case config::LoadingStrategy::kAppend:
      return LoadRows(ctx, target, batch, commit_options, table::WriteMode::kAppend);
    case config::LoadingStrategy::kOverwrite:
      if (target.config.replace_where) {
        return LoadReplaceWhere(ctx, target, batch, commit_options);
      }
      return LoadRows(ctx, target, batch, commit_options, table::WriteMode::kOverwrite);
    case config::LoadingStrategy::kMerge:
      return LoadMerge(ctx, target, batch, commit_options);
    case config::LoadingStrategy::kScd2:
      return LoadScd2(ctx, target, batch, commit_options);
    default:
      return Status::Unsupported("loading_strategy '{}' of {} is not implemented yet",
                                 config::ToString(target.config.loading_strategy),
                                 target.display_name);
  }
}

}  // namespace dl::strategy
