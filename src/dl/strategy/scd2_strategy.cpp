// SCD Type 2: a batch's rows are events; the table after any series of batches is what
// applying every event one at a time, in event order, to an empty table gives. Event order is
// (sequence value, batch, file, row), or without sequence_column (batch, file, row) with the
// load time as the effective value.
//
// A key whose new events all come at or after its latest known event folds them onto its
// current version (read from the table as a "pseudo event"); a key with a late event replays
// its whole history from the change store (every event ever applied). Only files holding
// touched keys are rewritten, in the commit that adds the new versions.
#include "dl/strategy/scd2_strategy.hpp"

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/constraints.hpp"
#include "dl/delta/type_widening.hpp"
#include "dl/engine/duckdb/key_files.hpp"
#include "dl/strategy/scd2_batch.hpp"
#include "dl/strategy/strategy_internal.hpp"

namespace dl::strategy {
namespace scd2 {

using engine::QuoteIdent;
using namespace internal;

Status Scd2Batch::LoadTables(const delta::CommitOptions& commit_options) {
  DL_ASSIGN_OR_RETURN(snapshot_, LoadTarget(ctx_, target_.root));
  if (!snapshot_) return Status::OK();
  for (const auto* col : {&t_.scd2_effective_date_column, &t_.scd2_end_date_column,
                          &t_.scd2_current_flag_column}) {
    if (!snapshot_->schema().Find(*col)) {
      return Status::InvalidArgument(
          "{} has no column '{}': it was not written by loading_strategy: scd2 with these "
          "scd2_*_column names",
          target_.display_name, *col);
    }
  }
  DL_RETURN_IF_ERROR(CheckCommitsSince(ctx_, *snapshot_, batch_.checked_version, commit_options));
  // A crash between a target commit and its companions' leaves them behind: commit them now.
  DL_RETURN_IF_ERROR(RollForwardCompanion(ctx_, *snapshot_, "quarantine",
                                          QuarantineRoot(target_.root)));
  DL_RETURN_IF_ERROR(RollForwardCompanion(ctx_, *snapshot_, "changeStore",
                                          ChangeStoreRoot(target_.root)));
  if (t_.sequence_column) {
    DL_ASSIGN_OR_RETURN(store_, LoadCompanion(ctx_, ChangeStoreRoot(target_.root)));
  }
  ordinal_ = snapshot_->version() + 1;
  return Status::OK();
}

// The batch's valid rows as events (kEvents), aligned to the table's columns plus the
// batch's new ones, with their delete flag and place in event order.
Status Scd2Batch::ReadEvents() {
  std::vector<std::string> paths;
  for (const auto& f : batch_.files) paths.push_back(f.path);
  DL_ASSIGN_OR_RETURN(source_, ProjectSource(engine_, kView, t_, paths,
                                             snapshot_ ? &snapshot_->schema() : nullptr, batch_.id,
                                             batch_.load_time_ms, true, batch_.delta_source.get()));
  for (const auto* added : {&t_.scd2_effective_date_column, &t_.scd2_end_date_column,
                            &t_.scd2_current_flag_column}) {
    if (Contains(source_.data_columns, *added)) {
      return Status::SchemaMismatch("column '{}' of the files clashes with the SCD2 column of {}",
                                    *added, target_.display_name);
    }
  }
  DL_RETURN_IF_ERROR(
      CheckColumnsPresent(t_.primary_keys, source_.data_columns, "primary_keys", target_));
  if (snapshot_) {  // a version keeps its identity values, a new one gets the table's
    DL_RETURN_IF_ERROR(
        table::RefuseGivenIdentityValues(*snapshot_, source_.data_columns, target_.root));
  }
  std::vector<RequiredColumn> required;
  for (const auto& k : t_.primary_keys) required.push_back({k, "primary_keys"});
  if (t_.sequence_column) {
    DL_RETURN_IF_ERROR(CheckColumnsPresent({*t_.sequence_column}, source_.data_columns,
                                           "sequence_column", target_));
    required.push_back({*t_.sequence_column, "sequence_column"});
  }
  DL_ASSIGN_OR_RETURN(bad_, SeparateBadRows(ctx_, target_, batch_, source_.sql, required));

  std::string rows = fmt::format("SELECT * FROM ({}){}", source_.sql,
                                 bad_.keep.empty() ? "" : " WHERE " + bad_.keep);
  DL_ASSIGN_OR_RETURN(std::string compatible, engine_.DeltaCompatibleSelect(rows));
  DL_ASSIGN_OR_RETURN(delta::Schema schema, engine_.SchemaOf(compatible));
  if (snapshot_) {
    delta::SchemaMergeOptions opts;  // the write refuses widening without schema evolution
    opts.allow_type_widening = delta::TypeWideningEnabled(snapshot_->metadata().configuration);
    DL_ASSIGN_OR_RETURN(schema, delta::MergeSchema(snapshot_->schema(), schema, opts));
  }
  delta::Schema event_schema;
  for (const auto& f : schema.fields) {
    if (f.name != t_.scd2_effective_date_column && f.name != t_.scd2_end_date_column &&
        f.name != t_.scd2_current_flag_column) {
      event_schema.fields.push_back(f);
    }
  }
  DL_ASSIGN_OR_RETURN(std::string aligned, engine_.AlignToSchema(compatible, event_schema));
  DL_ASSIGN_OR_RETURN(std::string from, EventsWithDeleteFlag(aligned, event_schema));
  DL_RETURN_IF_ERROR(engine_.Materialize(
      kEvents, BatchEventsSql(t_.sequence_column.value_or(""),
                              FormatTimestampMs(batch_.load_time_ms), ordinal_, from)));
  return ResolveColumns(event_schema);
}

// `aligned` with kDelete: delete_condition over the row (the table's columns and the batch's;
// a column it names that neither has is NULL, as in a batch whose files lack the op column).
Result<std::string> Scd2Batch::EventsWithDeleteFlag(const std::string& aligned,
                                                    const delta::Schema& event_schema) {
  if (!t_.delete_condition) {
    return fmt::format("SELECT *, false AS {} FROM ({})", QuoteIdent(kDelete), aligned);
  }
  std::vector<std::string> missing;
  for (const auto& c : delete_columns_) {
    if (!event_schema.Find(c) && !Contains(missing, c)) missing.push_back(c);
  }
  std::string nulls;
  if (!missing.empty()) {
    log::Warn("delete_condition names columns neither the table nor the batch has; they are "
              "NULL (no row of the batch is a delete by them)",
              {{"table", target_.display_name}, {"columns", Join(missing)}});
    std::vector<std::string> cols;
    for (const auto& c : missing) cols.push_back(NullColumnSql(c));
    nulls = fmt::format(", (SELECT {}) __dl_nulls", Join(cols));
  }
  // Parenthesised (and checked when the config was read) so it cannot leave its clause.
  std::string sql = fmt::format("SELECT __dl_row.*, COALESCE(({}), false) AS {} FROM ({}) "
                                "__dl_row{}",
                                *t_.delete_condition, QuoteIdent(kDelete), aligned, nulls);
  auto probe = engine_.Query(fmt::format("SELECT * FROM ({}) LIMIT 0", sql));
  if (!probe.ok()) {
    return Status::InvalidArgument("delete_condition of {} does not apply to the rows: {}",
                                   target_.display_name, probe.status().message());
  }
  return sql;
}

// Keys, tracked and untracked columns over the table's columns plus the batch's.
Status Scd2Batch::ResolveColumns(const delta::Schema& event_schema) {
  const auto& audit = t_.audit_columns;
  std::vector<std::string> audit_cols;
  if (audit.enabled) audit_cols = {audit.load_timestamp, audit.source_file, audit.batch_id};
  const std::set<std::string> internal_cols = {kFileOrderColumn, kRowOrderColumn, kDelete};
  cols_ = Columns{};
  cols_.keys = t_.primary_keys;
  cols_.effective = t_.scd2_effective_date_column;
  cols_.end = t_.scd2_end_date_column;
  cols_.current = t_.scd2_current_flag_column;
  std::vector<std::string> data;
  for (const auto& f : event_schema.fields) {
    if (internal_cols.count(f.name) || Contains(audit_cols, f.name)) continue;
    cols_.columns.push_back(f.name);
    if (!Contains(cols_.keys, f.name)) cols_.values.push_back(f.name);
    if (Contains(cols_.keys, f.name) || f.name == t_.sequence_column.value_or("")) continue;
    data.push_back(f.name);
  }
  if (!t_.tracking_columns.empty()) {
    // The sequence column orders events; it is never compared.
    for (const auto& c : t_.tracking_columns) {
      if (c != t_.sequence_column.value_or("")) cols_.tracked.push_back(c);
    }
    DL_RETURN_IF_ERROR(CheckColumnsPresent(cols_.tracked, data, "tracking_columns", target_));
  } else {
    cols_.tracked = data;
  }
  for (const auto& c : data) {
    if (!Contains(cols_.tracked, c)) cols_.untracked.push_back(c);
  }
  for (const auto& c : audit_cols) {
    cols_.values.push_back(c);
    cols_.columns.push_back(c);
  }
  DL_ASSIGN_OR_RETURN(auto seq, engine_.DescribeColumns(fmt::format(
                                    "SELECT {} FROM {}", QuoteIdent(kSeq), QuoteIdent(kEvents))));
  seq_type_ = seq.at(0).type;
  return ResolveOpenEnd();
}

Status Scd2Batch::ResolveOpenEnd() {
  if (!t_.scd2_open_end_value) return Status::OK();
  // seq_type_ comes from the engine (DescribeColumns), not from the user.
  auto ok = engine_.Query(OpenEndCheckSql(*t_.scd2_open_end_value, seq_type_));
  if (!ok.ok() || ok->rows.empty() || !ok->rows[0][0]) {
    return Status::InvalidArgument(
        "scd2_open_end_value '{}' of {} is not a value of the effective/end columns' type {} "
        "(the {})",
        *t_.scd2_open_end_value, target_.display_name, seq_type_,
        t_.sequence_column ? "sequence column's type" : "load time");
  }
  cols_.open_end = OpenEndSql(*t_.scd2_open_end_value, seq_type_);
  return Status::OK();
}

Status Scd2Batch::Plan(const delta::CommitOptions& commit_options) {
  auto phase = [&](const char* name, const Status& st) {
    phase_(name);
    return st;
  };
  if (t_.delete_condition) {
    // Checked before anything is read: one expression over the row, nothing else.
    DL_ASSIGN_OR_RETURN(delete_columns_, internal::PredicateColumns(engine_, *t_.delete_condition,
                                                                    "delete_condition"));
  }
  DL_RETURN_IF_ERROR(phase("snapshot", LoadTables(commit_options)));
  DL_RETURN_IF_ERROR(phase("events", ReadEvents()));
  DL_RETURN_IF_ERROR(phase("retire", AddRetireEvents()));
  DL_RETURN_IF_ERROR(phase("late keys", FindLateKeys()));
  if (snapshot_) {
    // Row tracking: replaced rows' ids go to their versions, copied rows keep theirs (a file
    // without row ids is refused here, before the change store is written).
    DL_ASSIGN_OR_RETURN(row_ids_, table::KeepsRowIds(*snapshot_, target_.root));
    DL_ASSIGN_OR_RETURN(
        auto found, engine::duck::FindFilesWithKeys(
                        engine_, *snapshot_, cols_.keys,
                        fmt::format("SELECT * FROM {}", QuoteIdent(kBatchKeys))));
    key_files_ = std::move(found.files);
    DL_RETURN_IF_ERROR(
        engine_.RegisterSnapshotWithFileColumn(kOld, *snapshot_, &key_files_, row_ids_));
    DL_RETURN_IF_ERROR(
        phase("key files", engine_.RegisterSnapshot(kKeyRows, *snapshot_, &key_files_)));
  }
  DL_RETURN_IF_ERROR(phase("versions", BuildVersions()));
  if (snapshot_ && table::UsesDeletionVectors(*snapshot_)) {
    // The replaced rows are marked deleted; the write adds only the new versions.
    if (!key_files_.empty()) {
      DL_ASSIGN_OR_RETURN(row_deletes_,
                          table::CollectRowDeletes(engine_, *snapshot_,
                                                   ReplacedRowsSql(cols_, QuoteIdent(kOld),
                                                                   QuoteIdent(kTouched))));
    }
  } else {
    DL_ASSIGN_OR_RETURN(rewritten_, RewrittenFiles());
    DL_RETURN_IF_ERROR(RegisterRewritten());
  }
  phase_("rewritten files");
  DL_ASSIGN_OR_RETURN(changes_, WriteChangeStore());
  phase_("change store");
  return Status::OK();
}

Result<BatchOutcome> Scd2Batch::Run(const delta::CommitOptions& commit_options, bool* replan) {
  *replan = false;
  DL_RETURN_IF_ERROR(Plan(commit_options));
  auto& rewritten = rewritten_;
  auto& changes = changes_;
  table::WriteRequest req;
  DL_ASSIGN_OR_RETURN(std::string new_versions, VersionsRelation());
  req.source_sql = OutputSql(cols_, rewritten.empty() ? "" : QuoteIdent(kRewritten),
                             QuoteIdent(kTouched), new_versions);
  req.carries_row_ids = row_ids_;
  req.keeps_identity_values = true;  // versions keep them, the batch gives none (ReadEvents)
  req.read_snapshot = snapshot_;
  req.reads_table = snapshot_ != nullptr;
  req.rewritten_files = rewritten;
  req.row_deletes = row_deletes_;
  // A version row is its key and effective date: closing it is an update, opening one an
  // insert.
  req.change_keys = cols_.keys;
  req.change_keys.push_back(cols_.effective);
  req.partition_by = t_.partition_columns;
  req.cluster_by = t_.clustering_columns;
  req.schema_evolution = WriteEvolution(t_);
  req.configuration = t_.table_properties;
  // Rows breaking the table's CHECK constraints or generated columns are named per file.
  if (t_.audit_columns.enabled) req.source_file_column = t_.audit_columns.source_file;
  req.operation = "MERGE";
  req.operation_parameters = {
      {"predicate", nlohmann::json::array({"scd2 on " + fmt::format("{}", fmt::join(
                                                                         cols_.keys, ", "))})
                        .dump()}};
  if (changes) RecordCompanion(req.loader_info, *changes);
  if (bad_.quarantine) RecordCompanion(req.loader_info, *bad_.quarantine);
  std::string app_id = PrepareBatchCommit(ctx_, batch_, snapshot_.get(), commit_options, req);
  auto written = table::Write(ctx_, target_.root, req);
  phase_("target commit");
  if (!written.ok()) {
    *replan = written.status().code() == StatusCode::kCommitConflict;
    return written.status();
  }
  if (written->skipped) return TxnTakenError(app_id, target_);
  for (const auto* files : {&changes, &bad_.quarantine}) {
    if (!*files) continue;
    // The target commit stands; a companion left behind is rolled forward by the next batch.
    Status st = CommitCompanion(ctx_, **files, written->version);
    if (!st.ok()) {
      log::Warn("companion table not committed yet",
                {{"table", target_.display_name}, {"error", st.message()}});
    }
  }
  BatchOutcome out;
  out.write = std::move(*written);
  // The loader counts a batch's rows as the versions it opened, closed or updated, not the
  // rows of other keys copied along with the rewritten files.
  auto versions = engine_.Query(fmt::format("SELECT count(*) FROM {}", QuoteIdent(kVersions)));
  if (versions.ok() && !versions->rows.empty()) {
    out.write.rows_written = std::stoll(versions->rows.at(0).at(0).value_or("0"));
  }
  auto rows = RowsPerSourceFile();
  if (rows.ok()) out.rows_per_file = std::move(*rows);
  return out;
}

// The rows of the files the commit replaces (copy-on-write), with their row ids when kept.
Status Scd2Batch::RegisterRewritten() {
  if (rewritten_.empty()) return Status::OK();
  if (!row_ids_) return engine_.RegisterSnapshot(kRewritten, *snapshot_, &rewritten_);
  DL_RETURN_IF_ERROR(
      engine_.RegisterSnapshotWithFileColumn(kRewrittenScan, *snapshot_, &rewritten_, true));
  return engine_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {} AS {}", QuoteIdent(kRewritten),
      engine_.WithoutColumns("SELECT * FROM " + QuoteIdent(kRewrittenScan),
                             {"_dl_file", "_dl_row"})));
}

// The new and changed versions as the write takes them: with what they keep of the rows they
// replace (row ids with row tracking, identity values).
Result<std::string> Scd2Batch::VersionsRelation() const {
  KeptFromReplaced kept;
  if (snapshot_) {
    kept.row_ids = row_ids_;
    for (const auto& f : snapshot_->schema().fields) kept.compared.push_back(f.name);
    DL_ASSIGN_OR_RETURN(auto identities, delta::IdentityColumns(snapshot_->schema()));
    for (const auto& id : identities) kept.identity.push_back(id.name);
  }
  if (!kept.row_ids && kept.identity.empty()) return QuoteIdent(kVersions);
  return "(" +
         VersionsKeepingSql(cols_, QuoteIdent(kVersions),
                            ReplacedSql(cols_, QuoteIdent(kOld), QuoteIdent(kTouched)), kept) +
         ")";
}

void Scd2Batch::Release() {
  ReleaseSource(engine_, kView);
  for (const char* table :
       {kEvents, kBatchKeys, kLateKeys, kSeed, kAll, kSteps, kTouched, kVersions}) {
    (void)engine_.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdent(table)));
  }
  for (const char* view :
       {kStoreView, kTargetView, kOld, kKeyRows, kRewritten, kRewrittenScan}) {
    (void)engine_.Execute(fmt::format("DROP VIEW IF EXISTS {}", QuoteIdent(view)));
  }
}

}  // namespace scd2

namespace {
// Commits that conflict are re-planned against the new snapshot at most this many times.
constexpr int kMaxPlans = 4;
}  // namespace

Result<BatchOutcome> LoadScd2(table::TableContext& ctx, const Target& target, const Batch& batch,
                              const delta::CommitOptions& commit_options) {
  for (int plan = 1;; ++plan) {
    bool replan = false;
    Result<BatchOutcome> out = scd2::Scd2Batch(ctx, target, batch).Run(commit_options, &replan);
    if (out.ok() || !replan) return out;
    if (plan >= kMaxPlans) {
      return Status::CommitConflict(
          "SCD2 batch of {} conflicted with concurrent commits {} times (re-planned against "
          "each new snapshot); last conflict: {}",
          target.display_name, plan, out.status().message());
    }
    log::Info("SCD2 batch conflicted with a concurrent commit; re-planning",
              {{"table", target.display_name},
               {"attempt", plan},
               {"error", out.status().message()}});
  }
}

}  // namespace dl::strategy
