// Merge (upsert, SCD Type 1), set-based in the engine:
//   1. the batch, without bad rows, deduplicated per key into a temp table typed like the
//      table, with each row's delete_condition evaluated (kSource);
//   2. the live files that may hold its keys (min/max stats), then the exact matches and what
//      happens to each matched target row (kHits: keep, update, delete);
//   3. one write: the rows of the files with an update or delete (every file with
//      when_not_matched_by_source: delete), changed as planned, plus the inserts; the commit
//      removes exactly those files. Other files are never read in full nor rewritten.
//      With deletion vectors enabled, the updated and deleted rows are marked deleted in
//      their files instead, and the write holds only the updates and inserts.
#include "dl/strategy/merge_strategy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "dl/common/logging.hpp"
#include "dl/delta/row_tracking.hpp"
#include "dl/delta/stats.hpp"
#include "dl/delta/type_widening.hpp"
#include "dl/engine/duckdb/merge_sql.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/strategy/bad_rows.hpp"
#include "dl/engine/duckdb/key_files.hpp"
#include "dl/strategy/strategy_internal.hpp"

namespace dl::strategy {
namespace {

using config::TableConfig;
using engine::QuoteIdent;
using engine::QuoteLiteral;
using namespace internal;
// The merge's SQL is the DuckDB engine's (engine/duckdb/merge_sql.hpp).
using namespace engine::duck;  // NOLINT(google-build-using-namespace)

/// What a merge did, per source row (after dedup) unless said otherwise.
struct MergeCounts {
  int64_t source_rows = 0;     ///< batch rows without bad rows, before dedup
  int64_t collapsed = 0;       ///< rows dropped as older deliveries of a key
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t deleted = 0;         ///< delete rows that matched the table
  int64_t unchanged = 0;       ///< matched, but merge_condition did not hold
  int64_t absent_deletes = 0;  ///< delete rows for keys the table does not hold
  int64_t unmatched_deleted = 0;  ///< target rows deleted by when_not_matched_by_source
  int64_t candidate_files = 0;    ///< files left after pruning by key stats
  int64_t rewritten_files = 0;
  int64_t deletion_vector_files = 0;  ///< files whose deletion vector grew instead
};

// What the merge SQL needs of the table's config.
MergeRules MergeRulesFor(const TableConfig& t) {
  MergeRules r;
  r.keys = t.primary_keys;
  r.sequence_column = t.sequence_column;
  const auto& a = t.audit_columns;
  if (a.enabled) r.audit_columns = {a.load_timestamp, a.source_file, a.batch_id};
  r.update_columns = t.update_columns;
  r.except_columns = t.except_columns;
  r.merge_condition = t.merge_condition;
  r.delete_condition = t.delete_condition;
  r.delete_unmatched = t.when_not_matched_by_source == config::WhenNotMatchedBySource::kDelete;
  return r;
}

// Re-plans after a lost commit race before the batch fails (the loader may retry it later).
constexpr int kMaxReplans = 3;

Status CheckMergeColumns(const Target& target, const SourceProjection& source) {
  const TableConfig& t = target.config;
  DL_RETURN_IF_ERROR(
      CheckColumnsPresent(t.primary_keys, source.data_columns, "primary_keys", target));
  if (t.sequence_column) {
    DL_RETURN_IF_ERROR(
        CheckColumnsPresent({*t.sequence_column}, source.data_columns, "sequence_column", target));
  }
  DL_RETURN_IF_ERROR(
      CheckColumnsPresent(t.update_columns, source.data_columns, "update_columns", target));
  return CheckColumnsPresent(t.except_columns, source.data_columns, "except_columns", target);
}

// delete_condition sees the source row (bare or as source.col); merge_condition sees
// source.col and target.col (before the table exists, the batch stands in for it).
Status CheckMergeSql(engine::Engine& engine, const Target& target, const std::string& source_sql,
                     const std::string& target_sql) {
  const TableConfig& t = target.config;
  const std::string src = QuoteIdent("source"), tgt = QuoteIdent("target");
  if (t.delete_condition) {
    DL_RETURN_IF_ERROR(CheckBinds(
        engine,
        fmt::format("SELECT coalesce(({}), false) FROM ({}) AS {}", *t.delete_condition,
                    source_sql, src),
        "delete_condition", target));
  }
  if (t.merge_condition) {
    DL_RETURN_IF_ERROR(CheckBinds(
        engine,
        fmt::format("SELECT coalesce(({}), false) FROM ({}) AS {}, ({}) AS {}",
                    *t.merge_condition, source_sql, src, target_sql, tgt),
        "merge_condition", target));
  }
  return Status::OK();
}

void Cleanup(engine::Engine& engine) {
  DropRelations(engine, {kSourceTable, kHitTable, kScanView, kRewriteView, kTargetView});
  ReleaseSource(engine, kBatchView);
}

Result<MergeCounts> CountBySourceRow(engine::Engine& engine, const MergeSql& sql,
                                     const Target& target, bool with_hits,
                                     std::map<std::string, int64_t>* rows_per_file) {
  MergeCounts c;
  const auto& audit = target.config.audit_columns;
  std::string file = audit.enabled ? audit.source_file : "";
  DL_ASSIGN_OR_RETURN(auto rows, engine.Query(sql.SourceOutcomes(file, with_hits)));
  for (const auto& r : rows.rows) {
    const std::string kind = r.at(1).value_or("");
    int64_t n = std::stoll(r.at(2).value_or("0"));
    if (kind == "insert") c.inserted += n;
    if (kind == "update") c.updated += n;
    if (kind == "delete") c.deleted += n;
    if (kind == "unchanged") c.unchanged += n;
    if (kind == "absent_delete") c.absent_deletes += n;
    if (audit.enabled && (kind == "insert" || kind == "update")) {
      (*rows_per_file)[r.at(0).value_or("")] += n;
    }
  }
  return c;
}

// The files the write replaces: every file with when_not_matched_by_source: delete, else
// those holding a target row that is updated or deleted.
Result<std::vector<delta::AddFile>> FilesToRewrite(engine::Engine& engine,
                                                   const delta::Snapshot& snapshot,
                                                   const MergeSql& sql, bool delete_unmatched) {
  if (delete_unmatched) return snapshot.files();
  DL_ASSIGN_OR_RETURN(auto rows, engine.Query(sql.ChangedFiles()));
  std::set<std::string> changed;
  for (const auto& r : rows.rows) changed.insert(r.at(0).value_or(""));
  std::vector<delta::AddFile> out;
  for (const auto& f : snapshot.files()) {
    if (changed.count(f.path)) out.push_back(f);
  }
  return out;
}

// Match the batch against the table: kHits, the counts, the files to rewrite.
Status PlanAgainstTable(table::TableContext& ctx, const Target& target,
                        const delta::Snapshot& snapshot, MergeSql& sql, MergeCounts& counts,
                        std::vector<delta::AddFile>& rewrite,
                        std::vector<table::RowDeletes>* row_deletes,
                        std::map<std::string, int64_t>* rows_per_file, PhaseTimer& phase) {
  engine::Engine& engine = ctx.engine;
  const bool delete_unmatched =
      target.config.when_not_matched_by_source == config::WhenNotMatchedBySource::kDelete;
  const std::string keys_sql = sql.SourceKeys();
  DL_ASSIGN_OR_RETURN(auto candidates,
                      PruneFilesByKeyStats(engine, snapshot, sql.keys().at(0), keys_sql));
  counts.candidate_files = static_cast<int64_t>(candidates.size());
  phase("prune by stats");
  // With deletion vectors, changed rows are marked deleted and only their new versions are
  // written; when_not_matched_by_source: delete still rewrites (it touches every file).
  const bool in_place = table::UsesDeletionVectors(snapshot) && !delete_unmatched;
  const bool row_ids = delta::RowTrackingEnabled(snapshot.protocol(), snapshot.metadata());
  sql.set_row_ids(row_ids);
  DL_RETURN_IF_ERROR(
      engine.RegisterSnapshotWithFileColumn(kScanView, snapshot, &candidates, row_ids));
  DL_RETURN_IF_ERROR(engine.Execute(sql.CreateHits(in_place)));
  phase("hits");
  MergeCounts by_row;
  DL_ASSIGN_OR_RETURN(by_row, CountBySourceRow(engine, sql, target, true, rows_per_file));
  by_row.source_rows = counts.source_rows;
  by_row.collapsed = counts.collapsed;
  by_row.candidate_files = counts.candidate_files;
  counts = by_row;
  if (delete_unmatched) {
    DL_ASSIGN_OR_RETURN(auto n, engine.Query(sql.CountUnmatchedTargetRows()));
    counts.unmatched_deleted = std::stoll(n.rows.at(0).at(0).value_or("0"));
  }
  phase("counts");
  if (in_place) {
    DL_ASSIGN_OR_RETURN(*row_deletes,
                        table::CollectRowDeletes(engine, snapshot, sql.DeletedTargetRows()));
    phase("deleted rows");
    return engine.Execute(sql.CreateUpdatedTargetRows());
  }
  DL_ASSIGN_OR_RETURN(rewrite, FilesToRewrite(engine, snapshot, sql, delete_unmatched));
  // An empty subset still has the table's columns (and no rows).
  if (row_ids) return engine.RegisterSnapshotWithFileColumn(kRewriteView, snapshot, &rewrite, true);
  return engine.RegisterSnapshot(kRewriteView, snapshot, &rewrite);
}

// commitInfo.operationParameters as Spark writes them for a MERGE (JSON-encoded strings).
delta::StringMap OperationParameters(const TableConfig& t, const MergeSql& sql) {
  const std::string cond = t.merge_condition ? "(" + *t.merge_condition + ")" : "";
  const std::string del = t.delete_condition ? "(" + *t.delete_condition + ")" : "";
  auto clause = [](const std::string& predicate, const char* action) {
    nlohmann::json j{{"actionType", action}};
    if (!predicate.empty()) j["predicate"] = predicate;
    return j;
  };
  nlohmann::json matched = nlohmann::json::array();
  if (!del.empty()) matched.push_back(clause(cond.empty() ? del : cond + " AND " + del, "delete"));
  matched.push_back(clause(cond, "update"));
  nlohmann::json by_source = nlohmann::json::array();
  if (t.when_not_matched_by_source == config::WhenNotMatchedBySource::kDelete) {
    by_source.push_back(clause("", "delete"));
  }
  return {{"predicate", nlohmann::json::array({sql.MatchPredicate()}).dump()},
          {"matchedPredicates", matched.dump()},
          {"notMatchedPredicates",
           nlohmann::json::array({clause(del.empty() ? "" : "NOT " + del, "insert")}).dump()},
          {"notMatchedBySourcePredicates", by_source.dump()}};
}

delta::MergeStats Stats(const MergeCounts& c) {
  return {.source_rows = c.source_rows,
          .collapsed_duplicates = c.collapsed,
          .inserted = c.inserted,
          .updated = c.updated,
          .deleted = c.deleted + c.unmatched_deleted,
          .unchanged = c.unchanged,
          .candidate_files = c.candidate_files,
          .rewritten_files = c.rewritten_files,
          .deletion_vector_files = c.deletion_vector_files};
}

void LogMerge(const Target& target, const Batch& batch, const MergeCounts& c, int64_t version) {
  log::Info("merge applied", {{"table", target.display_name},
                              {"batch", batch.id},
                              {"version", version},
                              {"source_rows", c.source_rows},
                              {"collapsed_duplicates", c.collapsed},
                              {"inserted", c.inserted},
                              {"updated", c.updated},
                              {"deleted", c.deleted},
                              {"unmatched_deleted", c.unmatched_deleted},
                              {"unchanged", c.unchanged},
                              {"candidate_files", c.candidate_files},
                              {"rewritten_files", c.rewritten_files},
                              {"deletion_vector_files", c.deletion_vector_files}});
  if (target.config.when_not_matched_by_source == config::WhenNotMatchedBySource::kDelete) {
    log::Info("when_not_matched_by_source: delete rewrites every file of the table",
              {{"table", target.display_name},
               {"rewritten_files", c.rewritten_files},
               {"unmatched_deleted", c.unmatched_deleted}});
  }
  if (c.collapsed > 0) {
    log::Info("several batch rows for one key: the latest of each was merged",
              {{"table", target.display_name},
               {"collapsed_rows", c.collapsed},
               {"order", target.config.sequence_column
                             ? "sequence_column, then file and row order"
                             : "file order, then row order (last delivered wins)"}});
  }
}

// Stage 1: the projected batch, checked, without bad rows, deduplicated and typed (kSource).
Result<BadRows> StageSource(table::TableContext& ctx, const Target& target, const Batch& batch,
                            const delta::Snapshot* snapshot, MergeSql& sql, MergeCounts& counts) {
  engine::Engine& engine = ctx.engine;
  const TableConfig& t = target.config;
  std::vector<std::string> paths;
  for (const auto& f : batch.files) paths.push_back(f.path);
  DL_ASSIGN_OR_RETURN(auto source,
                      ProjectSource(engine, kBatchView, t, paths,
                                    snapshot ? &snapshot->schema() : nullptr, batch.id,
                                    batch.load_time_ms, /*with_order=*/true,
                                    batch.delta_source.get()));
  DL_RETURN_IF_ERROR(CheckMergeColumns(target, source));
  if (snapshot) {  // updated rows keep their identity values, inserts get the table's
    DL_RETURN_IF_ERROR(
        table::RefuseGivenIdentityValues(*snapshot, source.data_columns, target.root));
  }
  std::string target_sql = source.sql;
  if (snapshot) {
    DL_RETURN_IF_ERROR(engine.RegisterSnapshot(kTargetView, *snapshot));
    target_sql = fmt::format("SELECT * FROM {}", QuoteIdent(kTargetView));
  }
  DL_RETURN_IF_ERROR(CheckMergeSql(engine, target, source.sql, target_sql));

  std::vector<RequiredColumn> required;
  for (const auto& k : t.primary_keys) required.push_back({k, "primary_keys"});
  if (t.sequence_column) required.push_back({*t.sequence_column, "sequence_column"});
  DL_ASSIGN_OR_RETURN(auto bad, SeparateBadRows(ctx, target, batch, source.sql, required));

  // The windows that pick each key's latest row sort the whole wide batch: only when needed.
  DL_ASSIGN_OR_RETURN(auto dups, engine.Query(sql.DuplicateKeys(source.sql, bad.keep)));
  const bool repeated = dups.rows.at(0).at(0).value_or("0") != "0";
  DL_ASSIGN_OR_RETURN(std::string deduped,
                      engine.DeltaCompatibleSelect(
                          repeated ? sql.Deduplicated(engine, source.sql, bad.keep)
                                   : sql.Distinct(engine, source.sql, bad.keep)));
  DL_ASSIGN_OR_RETURN(std::string typed, TypedLikeTable(engine, deduped, snapshot));
  DL_ASSIGN_OR_RETURN(auto columns, ColumnsOf(engine, typed));
  DL_RETURN_IF_ERROR(engine.Execute(sql.CreateSource(typed)));
  DL_ASSIGN_OR_RETURN(auto n, engine.Query(sql.SourceStats()));
  counts.source_rows = std::stoll(n.rows.at(0).at(0).value_or("0"));
  counts.collapsed = std::stoll(n.rows.at(0).at(1).value_or("0"));
  columns.erase(std::remove(columns.begin(), columns.end(), kDupCountColumn), columns.end());
  sql.set_source_columns(std::move(columns));
  ReleaseSource(engine, kBatchView);  // kSource holds what is needed
  return bad;
}

// `lost_race` is set when the commit lost to a conflicting concurrent commit.
Result<BatchOutcome> MergeOnce(table::TableContext& ctx, const Target& target, const Batch& batch,
                               const delta::CommitOptions& commit_options, bool* lost_race) {
  const TableConfig& t = target.config;
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadTarget(ctx, target.root));
  if (snapshot) {
    DL_RETURN_IF_ERROR(
        RollForwardCompanion(ctx, *snapshot, "quarantine", QuarantineRoot(target.root)));
    DL_RETURN_IF_ERROR(CheckCommitsSince(ctx, *snapshot, batch.checked_version, commit_options));
  }
  std::vector<std::string> target_columns;
  if (snapshot) {
    for (const auto& f : snapshot->schema().fields) target_columns.push_back(f.name);
  }
  MergeSql sql(MergeRulesFor(t), target_columns);
  MergeCounts counts;
  PhaseTimer phase("merge", target.display_name);
  DL_ASSIGN_OR_RETURN(auto bad, StageSource(ctx, target, batch, snapshot.get(), sql, counts));
  phase("source");

  BatchOutcome out;
  std::vector<delta::AddFile> rewrite;
  table::WriteRequest req;
  if (snapshot) {
    DL_RETURN_IF_ERROR(PlanAgainstTable(ctx, target, *snapshot, sql, counts, rewrite,
                                        &req.row_deletes, &out.rows_per_file, phase));
    counts.deletion_vector_files = static_cast<int64_t>(req.row_deletes.size());
    req.source_sql = sql.Output();
    req.carries_row_ids = delta::RowTrackingEnabled(snapshot->protocol(), snapshot->metadata());
    req.keeps_identity_values = true;  // target rows keep theirs; the batch gives none
  } else {
    DL_ASSIGN_OR_RETURN(auto by_row,
                        CountBySourceRow(ctx.engine, sql, target, false, &out.rows_per_file));
    counts.inserted = by_row.inserted;
    counts.absent_deletes = by_row.absent_deletes;
    req.source_sql = sql.InsertsOnly();
  }
  counts.rewritten_files = static_cast<int64_t>(rewrite.size());
  req.rewritten_files = rewrite;
  req.reads_table = snapshot != nullptr;
  req.read_snapshot = snapshot;
  req.mode = table::WriteMode::kAppend;
  req.partition_by = t.partition_columns;
  req.cluster_by = t.clustering_columns;
  req.schema_evolution = WriteEvolution(t);
  req.configuration = t.table_properties;
  // Rows breaking the table's CHECK constraints or generated columns are named per file.
  if (t.audit_columns.enabled) req.source_file_column = t.audit_columns.source_file;
  req.change_keys = t.primary_keys;  // a matched row's old and new values are an update
  req.operation = "MERGE";
  req.operation_parameters = OperationParameters(t, sql);
  req.loader_info.merge = Stats(counts);
  if (bad.quarantine) RecordCompanion(req.loader_info, *bad.quarantine);
  std::string app_id = PrepareBatchCommit(ctx, batch, snapshot.get(), commit_options, req);

  auto written = table::Write(ctx, target.root, req);
  phase("write and commit");
  if (written.ok() && written->skipped) return TxnTakenError(app_id, target);
  if (!written.ok()) {
    *lost_race = written.status().code() == StatusCode::kCommitConflict;
    return written.status();
  }
  if (bad.quarantine) {
    DL_RETURN_IF_ERROR(CommitCompanion(ctx, *bad.quarantine, written->version));
  }
  LogMerge(target, batch, counts, written->version);
  out.write = std::move(*written);
  // The loader counts a batch's rows as what it brought in, not the unchanged rows copied
  // along with the rewritten files.
  out.write.rows_written = counts.inserted + counts.updated;
  return out;
}

}  // namespace

Result<BatchOutcome> LoadMerge(table::TableContext& ctx, const Target& target, const Batch& batch,
                               const delta::CommitOptions& commit_options) {
  return Replanning("merge", target, [&](bool* lost_race) {
    auto r = MergeOnce(ctx, target, batch, commit_options, lost_race);
    Cleanup(ctx.engine);
    return r;
  });
}

Result<BatchOutcome> internal::Replanning(
    const char* what, const Target& target,
    const std::function<Result<BatchOutcome>(bool*)>& attempt) {
  Status last;
  for (int i = 0; i <= kMaxReplans; ++i) {
    bool lost_race = false;
    auto r = attempt(&lost_race);
    if (r.ok() || !lost_race) return r;
    last = r.status();
    log::Warn("lost a commit race; planning the batch again against the new snapshot",
              {{"table", target.display_name},
               {"operation", what},
               {"attempt", i + 1},
               {"error", last.message()}});
  }
  return Status::CommitConflict(
      "{} into {} conflicted with concurrent commits {} times in a row; last: {}", what,
      target.display_name, kMaxReplans + 1, last.message());
}

Status internal::CheckBinds(engine::Engine& engine, const std::string& select, const char* key,
                            const Target& target) {
  auto r = engine.Query(fmt::format("SELECT * FROM ({}) LIMIT 0", select));
  if (r.ok()) return Status::OK();
  // Only errors of the fragment itself are the config's fault (not e.g. an unreadable file).
  if (r.status().detail().cause != ErrorDetail::Cause::kQuery) return r.status();
  const std::string& m = r.status().message();
  return Status::Config("{} of {} does not fit the data: {}", key, target.display_name,
                        m.substr(0, m.find("\n\nLINE ")));
}

Result<std::string> internal::TypedLikeTable(engine::Engine& engine, const std::string& sql,
                                             const delta::Snapshot* snapshot) {
  if (!snapshot) return sql;
  DL_ASSIGN_OR_RETURN(delta::Schema incoming, engine.SchemaOf(sql));
  delta::SchemaMergeOptions opts;
  opts.allow_new_columns = true;  // whether new columns may stay is the write's decision
  // and so is whether a column may widen: the write refuses it without schema evolution.
  opts.allow_type_widening = delta::TypeWideningEnabled(snapshot->metadata().configuration);
  DL_ASSIGN_OR_RETURN(delta::Schema merged,
                      delta::MergeSchema(snapshot->schema(), incoming, opts));
  delta::Schema typed;
  for (const auto& f : incoming.fields) {
    const auto* m = merged.Find(f.name);
    typed.fields.push_back(m ? *m : f);
  }
  return engine.AlignToSchema(sql, typed);
}

Result<std::vector<std::string>> internal::ColumnsOf(engine::Engine& engine,
                                                     const std::string& sql) {
  DL_ASSIGN_OR_RETURN(auto r, engine.Query(fmt::format("SELECT * FROM ({}) LIMIT 0", sql)));
  return r.columns;
}

void internal::DropRelations(engine::Engine& engine, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    (void)engine.Execute(fmt::format("DROP VIEW IF EXISTS {}", QuoteIdent(n)));
    (void)engine.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdent(n)));
  }
}

}  // namespace dl::strategy
