// SCD2 history: retire events, the stored events (change store, or one rebuilt from the
// table), the keys replayed from them, the versions, and the files the commit rewrites. The
// SQL is the DuckDB engine's (engine/duckdb/scd2_sql.hpp); this file decides what runs when.
#include "dl/common/logging.hpp"
#include "dl/strategy/scd2_batch.hpp"

namespace dl::strategy::scd2 {

using engine::QuoteIdent;

// retire_absent_keys: a delete for every current key the batch lacks, at the batch's latest
// sequence value (its load time without one), after all of its rows.
Status Scd2Batch::AddRetireEvents() {
  if (!t_.retire_absent_keys || !snapshot_) return Status::OK();
  DL_RETURN_IF_ERROR(engine_.RegisterSnapshot(kTargetView, *snapshot_));
  return engine_.Execute(InsertRetireEventsSql(cols_, QuoteIdent(kEvents),
                                               QuoteIdent(kTargetView),
                                               t_.sequence_column.value_or(""), ordinal_,
                                               kRetireFileOrder));
}

std::set<std::string> Scd2Batch::TableColumns() const {
  std::set<std::string> out;
  if (snapshot_) {
    for (const auto& f : snapshot_->schema().fields) out.insert(f.name);
  }
  return out;
}

// The stored events (with sequence_column): the change store, or when it is missing while
// the table has rows (deleted, or the table was loaded before sequence_column was set) a
// history rebuilt from the table's versions, which this batch then stores.
Status Scd2Batch::OpenStore() {
  if (!t_.sequence_column || !snapshot_) return Status::OK();
  if (store_ && store_->schema().Find(*t_.sequence_column)) {
    DL_RETURN_IF_ERROR(engine_.RegisterSnapshot(kStoreView, *store_));
    store_relation_ = QuoteIdent(kStoreView);
    for (const auto& f : store_->schema().fields) store_columns_.insert(f.name);
    return Status::OK();
  }
  if (store_ || snapshot_->files().empty()) return Status::OK();
  log::Warn("SCD2 change store missing: rebuilding it from the table's versions",
            {{"table", target_.display_name}, {"store", ChangeStoreRoot(target_.root)}});
  DL_RETURN_IF_ERROR(SeedStore());
  store_relation_ = QuoteIdent(kSeed);
  store_columns_ = TableColumns();
  store_columns_.insert(*t_.sequence_column);
  return Status::OK();
}

// Each version as an upsert at its effective value, and a delete where a closed version ends
// without another starting: replaying them gives the table back (what in-place updates and
// no-op re-deliveries did is lost with the store, so late events are placed approximately).
Status Scd2Batch::SeedStore() {
  DL_RETURN_IF_ERROR(engine_.RegisterSnapshot(kTargetView, *snapshot_));
  std::vector<std::string> cols;
  for (const auto& c : cols_.columns) {
    if (snapshot_->schema().Find(c) && c != *t_.sequence_column) cols.push_back(c);
  }
  return engine_.Materialize(
      kSeed, SeedStoreSql(cols_, QuoteIdent(kTargetView), *t_.sequence_column, cols));
}

// Keys with an event earlier than their latest stored one: their history is replayed.
Status Scd2Batch::FindLateKeys() {
  DL_RETURN_IF_ERROR(engine_.Materialize(kBatchKeys, BatchKeysSql(cols_, QuoteIdent(kEvents))));
  DL_RETURN_IF_ERROR(OpenStore());
  if (store_relation_.empty()) {
    return engine_.Materialize(kLateKeys, NoLateKeysSql(cols_, QuoteIdent(kBatchKeys)));
  }
  DL_RETURN_IF_ERROR(engine_.Materialize(
      kLateKeys, LateKeysSql(cols_, QuoteIdent(kBatchKeys), *t_.sequence_column,
                             store_relation_)));
  return engine_.Execute(MarkLateSql(cols_, QuoteIdent(kEvents), QuoteIdent(kLateKeys)));
}

// The batch's events, the stored events of late keys and the current versions of the other
// keys (pseudo events), stepped (kSteps); the keys that change (kTouched) and their versions.
Status Scd2Batch::BuildVersions() {
  const std::vector<std::string>& row_cols = cols_.columns;
  auto present = [&](const std::set<std::string>& have) {
    std::vector<std::string> out;
    for (const auto& c : row_cols) {
      if (have.count(c)) out.push_back(c);
    }
    return out;
  };
  std::string stored, pseudo;
  if (!store_relation_.empty()) {
    stored = StoredEventsSql(cols_, store_relation_, present(store_columns_),
                             *t_.sequence_column, QuoteIdent(kLateKeys));
  }
  if (snapshot_) {
    pseudo = PseudoEventsSql(cols_, QuoteIdent(kKeyRows), present(TableColumns()), seq_type_,
                             QuoteIdent(kBatchKeys), QuoteIdent(kLateKeys));
  }
  const std::string events = AllEventsSql(QuoteIdent(kEvents), stored, pseudo);
  // A table, so the steps (windows over narrow rows) can point back at each event's row by
  // its rowid.
  DL_RETURN_IF_ERROR(engine_.Materialize(kAll, events));
  phase_("all events");
  DL_RETURN_IF_ERROR(engine_.Materialize(kSteps, StepsSql(cols_, QuoteIdent(kAll))));
  phase_("steps");
  DL_RETURN_IF_ERROR(
      engine_.Materialize(kTouched, TouchedKeysSql(cols_, QuoteIdent(kSteps))));
  phase_("touched keys");
  return engine_.Materialize(
      kVersions, VersionsSql(cols_, QuoteIdent(kSteps), QuoteIdent(kTouched), QuoteIdent(kAll)));
}

// The files of the table holding a touched key: exactly the ones the commit replaces.
Result<std::vector<delta::AddFile>> Scd2Batch::RewrittenFiles() {
  std::vector<delta::AddFile> out;
  if (!snapshot_ || key_files_.empty()) return out;
  DL_ASSIGN_OR_RETURN(auto hit, engine_.Query(TouchedFilesSql(cols_, QuoteIdent(kOld),
                                                               QuoteIdent(kTouched))));
  std::set<std::string> touched;
  for (const auto& row : hit.rows) touched.insert(row.at(0).value_or(""));
  for (const auto& f : key_files_) {
    if (touched.count(f.path)) out.push_back(f);
  }
  return out;
}

// With sequence_column every event is kept (late events are placed by replaying them).
Result<std::optional<CompanionFiles>> Scd2Batch::WriteChangeStore() {
  std::optional<CompanionFiles> out;
  if (!t_.sequence_column) return out;
  DL_ASSIGN_OR_RETURN(int64_t n, Count(QuoteIdent(kEvents)));
  if (n == 0) return out;
  const std::string rows = ChangeStoreRowsSql(
      cols_, QuoteIdent(kEvents), store_relation_ == QuoteIdent(kSeed) ? store_relation_ : "");
  DL_ASSIGN_OR_RETURN(out, WriteCompanionFiles(ctx_, "changeStore", ChangeStoreRoot(target_.root),
                                               store_.get(), rows));
  return out;
}

// Versions each source file's rows became (what the file contributed to the table).
Result<std::map<std::string, int64_t>> Scd2Batch::RowsPerSourceFile() {
  std::map<std::string, int64_t> out;
  if (!t_.audit_columns.enabled) return out;
  DL_ASSIGN_OR_RETURN(auto rows, engine_.Query(fmt::format(
                                     "SELECT {0}, count(*) FROM {1} WHERE {0} IS NOT NULL "
                                     "GROUP BY 1",
                                     QuoteIdent(t_.audit_columns.source_file),
                                     QuoteIdent(kVersions))));
  for (const auto& r : rows.rows) out[r.at(0).value_or("")] = std::stoll(r.at(1).value_or("0"));
  return out;
}

Result<int64_t> Scd2Batch::Count(const std::string& relation) {
  DL_ASSIGN_OR_RETURN(auto rows, engine_.Query("SELECT count(*) FROM " + relation));
  return std::stoll(rows.rows.at(0).at(0).value_or("0"));
}

}  // namespace dl::strategy::scd2
