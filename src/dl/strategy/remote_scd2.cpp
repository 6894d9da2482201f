// SCD2 on an engine that writes and commits itself (Spark): the batch becomes one
// engine-neutral Scd2Operation, prepared and finished as an append's (remote_batch.hpp); with
// sequence_column the engine keeps the change store that places late events.
#include <optional>
#include <string>
#include <variant>

#include "dl/common/logging.hpp"
#include "dl/delta/commit_range.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/strategy/bad_rows.hpp"
#include "dl/strategy/companion.hpp"
#include "dl/strategy/load_strategy.hpp"
#include "dl/strategy/remote_batch.hpp"
#include "dl/strategy/strategy_internal.hpp"

namespace dl::strategy {

using config::TableConfig;

namespace {

// The batch id of the commit that applied txn `version` of `app_id`: newest commits first
// (it is nearly always the latest). nullopt when the log no longer holds it.
Result<std::optional<std::string>> AppliedBatchId(table::TableContext& ctx,
                                                  const delta::Snapshot& table,
                                                  const std::string& app_id, int64_t version) {
  delta::CommitRangeOptions options;
  options.known = &table.log_segment();
  std::optional<std::string> batch_id;
  auto applied = [&](const delta::Commit& commit) -> Result<bool> {
    for (const auto& action : commit.actions) {
      const auto* txn = std::get_if<delta::SetTransaction>(&action);
      if (!txn || txn->app_id != app_id) continue;
      if (txn->version != version) return true;
      auto info = delta::LoaderCommitInfo::Of(commit.actions);
      if (!info.ok()) return info.status().WithContext(commit.path);
      if (*info) batch_id = (*info)->batch_id;
      return true;
    }
    return false;
  };
  DL_RETURN_IF_ERROR(
      delta::ForEachCommitNewestFirst(ctx.fs, table.table_root(), table.version(), options, applied)
          .status());
  return batch_id;
}

// The change store of an SCD2 table with sequence_column, as the Spark engine keeps it: its
// events are tagged with the txn versions of this app id, so a table holding rows Spark did
// not load from its first batch (no txn yet), or whose store is gone, cannot place late
// events: refused.
Status OpenRemoteChangeStore(table::TableContext& ctx, const Target& target,
                             const internal::RemoteBatch& remote, engine::Scd2Operation& op) {
  op.change_store_root = ChangeStoreRoot(target.root);
  op.applied_txn_version = remote.applied_txn_version;
  if (remote.snapshot && remote.applied_txn_version > 0) {
    DL_ASSIGN_OR_RETURN(
        op.applied_batch_id,
        AppliedBatchId(ctx, *remote.snapshot, op.rows.txn_app_id, remote.applied_txn_version));
  }
  // Its columns only (Spark reads its rows): no file list.
  auto store = delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, op.change_store_root);
  if (!store.ok() && store.status().code() != StatusCode::kNotFound) {
    return store.status().WithContext("reading SCD2 change store " + op.change_store_root);
  }
  if (store.ok()) {
    auto& columns = op.change_store_columns.emplace();
    for (const auto& f : (*store)->schema().fields) columns.push_back(f.name);
  }
  if (!op.rows.table_columns || (store.ok() && remote.applied_txn_version > 0)) {
    return Status::OK();
  }
  if (remote.applied_txn_version == 0) {
    // No row yet (the empty table a clustered table's first batch creates before its store,
    // spark_scd2_store.cpp): no history the store could lack. At the version planned against.
    DL_ASSIGN_OR_RETURN(auto files, delta::Snapshot::Load(ctx.fs, &ctx.engine, target.root,
                                                          remote.snapshot->version()));
    if (files->files().empty()) return Status::OK();
  }
  return Status::InvalidArgument(
      "sequence_column: {} exists but {} (the SCD2 change store the spark engine keeps from the "
      "table's first batch, to place late events); load this table with engine: duckdb",
      target.display_name,
      store.ok() ? "its change store was not written by the spark engine"
                 : "its change store " + op.change_store_root + " is missing");
}

}  // namespace

Result<BatchOutcome> LoadRemoteScd2(table::TableContext& ctx, const Target& target,
                                    const Batch& batch,
                                    const delta::CommitOptions& commit_options) {
  const TableConfig& t = target.config;
  int64_t fallback_version = 0;
  DL_ASSIGN_OR_RETURN(
      internal::RemoteBatch remote,
      internal::PrepareRemoteBatch(ctx, target, batch, commit_options, fallback_version));
  // A crash between an earlier batch's commit and its quarantine's leaves them behind.
  DL_RETURN_IF_ERROR(RollForwardRemoteQuarantine(ctx, target, remote.snapshot.get()));
  engine::Scd2Operation op;
  op.rows = std::move(remote.op);
  op.keys = t.primary_keys;
  op.tracking_columns = t.tracking_columns;
  op.sequence_column = t.sequence_column;
  op.delete_condition = t.delete_condition;
  if (t.delete_condition) {
    // Checked before anything is read, as on DuckDB: one expression over the row.
    DL_ASSIGN_OR_RETURN(
        op.delete_columns,
        internal::PredicateColumns(ctx.engine, *t.delete_condition, "delete_condition"));
  }
  op.effective_column = t.scd2_effective_date_column;
  op.end_column = t.scd2_end_date_column;
  op.current_column = t.scd2_current_flag_column;
  op.open_end_value = t.scd2_open_end_value;
  op.retire_absent_keys = t.retire_absent_keys;
  if (t.sequence_column) {
    DL_RETURN_IF_ERROR(OpenRemoteChangeStore(ctx, target, remote, op));
  }
  DL_ASSIGN_OR_RETURN(op.quarantine, RemoteQuarantine(ctx, target, remote.info));
  auto applied = target.remote->Scd2(op);
  remote.op = op.rows;
  DL_ASSIGN_OR_RETURN(int64_t version,
                      internal::FinishRemoteBatch(ctx, target, batch, remote, applied.status()));
  DL_RETURN_IF_ERROR(CommitRemoteQuarantine(ctx, target, version));
  log::Info("scd2 applied", {{"table", target.display_name},
                             {"batch", batch.id},
                             {"version", version},
                             {"engine", "spark"},
                             {"versions", applied->versions}});
  BatchOutcome out;
  out.write.version = version;
  // As on DuckDB: the versions the batch opened, closed or updated.
  out.write.rows_written = applied->versions;
  out.rows_per_file = std::move(applied->rows_per_file);
  return out;
}

}  // namespace dl::strategy
