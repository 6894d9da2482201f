// Overwrite with replace_where (Delta's replaceWhere): the table's rows matching the predicate
// are replaced by the batch, every other row stays. Every batch row must match it, so the
// result holds exactly the batch where the predicate holds. Copy-on-write: a file none of
// whose rows match stays; a file all of whose rows match is removed without being read again;
// the others are rewritten with their non-matching rows. One commit.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "dl/common/logging.hpp"
#include "dl/delta/stats.hpp"
#include "dl/engine/duckdb/batch_sql.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/strategy/merge_strategy.hpp"
#include "dl/strategy/strategy_internal.hpp"

namespace dl::strategy {
namespace {

using engine::QuoteIdent;
using engine::QuoteLiteral;
using namespace internal;

constexpr const char* kBatch = "__dl_rw_batch";
constexpr const char* kTargetScan = "__dl_rw_scan";
constexpr const char* kKeptView = "__dl_rw_kept";

struct Replaced {
  std::vector<delta::AddFile> removed;    ///< every file holding a matching row
  std::vector<delta::AddFile> partial;    ///< those of them that also hold other rows
  int64_t rows = 0;                       ///< target rows replaced
};

// Batch rows where the predicate is not TRUE fail the batch before anything is written.
Status CheckBatchRows(engine::Engine& engine, const Target& target, const std::string& batch_sql,
                      const std::string& predicate) {
  DL_ASSIGN_OR_RETURN(auto r, engine.Query(fmt::format(
                                  "SELECT count(*) FILTER (WHERE ({}) IS NOT TRUE), count(*) "
                                  "FROM ({})",
                                  predicate, batch_sql)));
  const std::string bad = r.rows.at(0).at(0).value_or("0");
  if (bad == "0") return Status::OK();
  return engine::ReplaceWhereViolated(bad, r.rows.at(0).at(1).value_or("?"), target.display_name,
                                      predicate);
}

// The predicate binds against the batch and the table; every batch row satisfies it.
Status CheckPredicate(engine::Engine& engine, const Target& target, const std::string& batch_sql,
                      const delta::Snapshot* snapshot) {
  const std::string& predicate = *target.config.replace_where;
  DL_RETURN_IF_ERROR(CheckBinds(engine,
                                fmt::format("SELECT ({}) IS TRUE FROM ({})", predicate, batch_sql),
                                "replace_where", target));
  if (snapshot) {
    DL_RETURN_IF_ERROR(engine.RegisterSnapshot(kKeptView, *snapshot));
    DL_RETURN_IF_ERROR(CheckBinds(
        engine, fmt::format("SELECT ({}) IS TRUE FROM {}", predicate, QuoteIdent(kKeptView)),
        "replace_where", target));
  }
  return CheckBatchRows(engine, target, batch_sql, predicate);
}

// commitInfo: a WRITE in mode Overwrite with the predicate, as Spark records replaceWhere.
void Describe(const config::TableConfig& t, bool table_exists, const Replaced& replaced,
              table::WriteRequest& req) {
  const std::string& predicate = *t.replace_where;
  req.operation = "WRITE";
  req.operation_parameters = {{"mode", table_exists ? "Overwrite" : "ErrorIfExists"},
                              {"partitionBy", nlohmann::json(t.partition_columns).dump()},
                              {"predicate", nlohmann::json::array({predicate}).dump()}};
  req.loader_info.replace_where =
      delta::ReplaceWhereStats{.predicate = predicate,
                               .replaced_rows = replaced.rows,
                               .removed_files = static_cast<int64_t>(replaced.removed.size()),
                               .rewritten_files = static_cast<int64_t>(replaced.partial.size())};
}

// The files with rows matching the predicate; the engine reads only the predicate's columns
// and skips row groups whose statistics rule a match out.
Result<Replaced> FindReplaced(engine::Engine& engine, const delta::Snapshot& snapshot,
                              const std::string& predicate) {
  DL_RETURN_IF_ERROR(engine.RegisterSnapshotWithFileColumn(kTargetScan, snapshot, nullptr));
  DL_ASSIGN_OR_RETURN(auto hits, engine.Query(fmt::format(
                                     "SELECT {}, count(*) FROM {} WHERE ({}) IS TRUE GROUP BY 1",
                                     QuoteIdent("_dl_file"), QuoteIdent(kTargetScan), predicate)));
  std::map<std::string, int64_t> matched;
  for (const auto& row : hits.rows) {
    matched[row.at(0).value_or("")] = std::stoll(row.at(1).value_or("0"));
  }
  Replaced out;
  for (const auto& f : snapshot.files()) {
    auto it = matched.find(f.path);
    if (it == matched.end()) continue;
    out.removed.push_back(f);
    out.rows += it->second;
    auto records = delta::ParseStats(f.stats).num_records;
    int64_t hidden = f.deletion_vector ? f.deletion_vector->cardinality : 0;
    if (!records || *records - hidden != it->second) out.partial.push_back(f);
  }
  return out;
}

Result<std::map<std::string, int64_t>> BatchRowsPerFile(engine::Engine& engine,
                                                        const Target& target,
                                                        const std::string& batch_sql) {
  std::map<std::string, int64_t> out;
  const auto& audit = target.config.audit_columns;
  if (!audit.enabled) return out;
  DL_ASSIGN_OR_RETURN(auto rows,
                      engine.Query(fmt::format("SELECT {}, count(*) FROM ({}) GROUP BY 1",
                                               QuoteIdent(audit.source_file), batch_sql)));
  for (const auto& r : rows.rows) out[r.at(0).value_or("")] = std::stoll(r.at(1).value_or("0"));
  return out;
}

// The batch typed like the table, and the rows of the partly replaced files the predicate
// does not match. With `row_ids` those keep their row ids and commit versions; the batch's
// rows are new rows (fresh ids).
Result<std::string> RowsToWrite(engine::Engine& engine, const Target& target,
                                const delta::Snapshot& snapshot, const std::string& batch_sql,
                                const Replaced& replaced, bool row_ids) {
  DL_ASSIGN_OR_RETURN(std::string compatible, engine.DeltaCompatibleSelect(batch_sql));
  DL_ASSIGN_OR_RETURN(std::string typed, TypedLikeTable(engine, compatible, &snapshot));
  if (row_ids) {
    typed = fmt::format(
        "SELECT *, CAST(NULL AS BIGINT) AS {}, CAST(NULL AS BIGINT) AS {} FROM ({})",
        QuoteIdent(engine::kRowIdColumn), QuoteIdent(engine::kRowCommitVersionColumn), typed);
  }
  if (replaced.partial.empty()) return typed;
  std::string kept = "SELECT * FROM " + QuoteIdent(kKeptView);
  if (row_ids) {
    DL_RETURN_IF_ERROR(
        engine.RegisterSnapshotWithFileColumn(kKeptView, snapshot, &replaced.partial, true));
    kept = engine.WithoutColumns(kept, {"_dl_file", "_dl_row"});
  } else {
    DL_RETURN_IF_ERROR(engine.RegisterSnapshot(kKeptView, snapshot, &replaced.partial));
  }
  return engine::duck::BatchAndKeptRowsSql(typed, kept, *target.config.replace_where);
}

Result<BatchOutcome> ReplaceOnce(table::TableContext& ctx, const Target& target,
                                 const Batch& batch, const delta::CommitOptions& commit_options,
                                 bool* lost_race) {
  const config::TableConfig& t = target.config;
  const std::string& predicate = *t.replace_where;
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadTarget(ctx, target.root));
  if (snapshot) {
    DL_RETURN_IF_ERROR(CheckCommitsSince(ctx, *snapshot, batch.checked_version, commit_options));
  }
  std::vector<std::string> paths;
  for (const auto& f : batch.files) paths.push_back(f.path);
  DL_ASSIGN_OR_RETURN(auto source,
                      ProjectSource(ctx.engine, kBatch, t, paths,
                                    snapshot ? &snapshot->schema() : nullptr, batch.id,
                                    batch.load_time_ms, false, batch.delta_source.get()));
  DL_RETURN_IF_ERROR(CheckPredicate(ctx.engine, target, source.sql, snapshot.get()));
  if (snapshot) {  // copied rows keep their identity values, the batch's get the table's
    DL_RETURN_IF_ERROR(table::RefuseGivenIdentityValues(*snapshot, source.data_columns,
                                                        target.root));
  }

  BatchOutcome out;
  DL_ASSIGN_OR_RETURN(out.rows_per_file, BatchRowsPerFile(ctx.engine, target, source.sql));
  DL_ASSIGN_OR_RETURN(auto batch_rows,
                      ctx.engine.Query(fmt::format("SELECT count(*) FROM ({})", source.sql)));
  table::WriteRequest req;
  req.source_sql = source.sql;
  Replaced replaced;
  if (snapshot) {
    DL_ASSIGN_OR_RETURN(replaced, FindReplaced(ctx.engine, *snapshot, predicate));
    DL_ASSIGN_OR_RETURN(req.carries_row_ids, table::KeepsRowIds(*snapshot, target.root));
    req.keeps_identity_values = true;
    DL_ASSIGN_OR_RETURN(req.source_sql, RowsToWrite(ctx.engine, target, *snapshot, source.sql,
                                                    replaced, req.carries_row_ids));
  }
  req.rewritten_files = replaced.removed;
  req.reads_table = snapshot != nullptr;
  req.read_snapshot = snapshot;
  req.mode = table::WriteMode::kAppend;
  req.partition_by = t.partition_columns;
  req.cluster_by = t.clustering_columns;
  req.schema_evolution = WriteEvolution(t);
  req.configuration = t.table_properties;
  // Rows breaking the table's CHECK constraints or generated columns are named per file.
  if (t.audit_columns.enabled) req.source_file_column = t.audit_columns.source_file;
  Describe(t, snapshot != nullptr, replaced, req);
  std::string app_id = PrepareBatchCommit(ctx, batch, snapshot.get(), commit_options, req);
  auto written = table::Write(ctx, target.root, req);
  if (written.ok() && written->skipped) return TxnTakenError(app_id, target);
  if (!written.ok()) {
    *lost_race = written.status().code() == StatusCode::kCommitConflict;
    return written.status();
  }
  log::Info("replace_where applied", {{"table", target.display_name},
                                      {"version", written->version},
                                      {"replaced_rows", replaced.rows},
                                      {"removed_files", replaced.removed.size()},
                                      {"rewritten_files", replaced.partial.size()}});
  out.write = std::move(*written);
  out.write.rows_written = std::stoll(batch_rows.rows.at(0).at(0).value_or("0"));
  return out;
}

}  // namespace

Result<BatchOutcome> LoadReplaceWhere(table::TableContext& ctx, const Target& target,
                                      const Batch& batch,
                                      const delta::CommitOptions& commit_options) {
  return Replanning("replace_where", target, [&](bool* lost_race) {
    auto r = ReplaceOnce(ctx, target, batch, commit_options, lost_race);
    DropRelations(ctx.engine, {kTargetScan, kKeptView});
    ReleaseSource(ctx.engine, kBatch);
    return r;
  });
}

}  // namespace dl::strategy
