// SCD2 history: retire events, the stored events (change store, or one rebuilt from the
// table), the keys replayed from them, the versions, and the files the commit rewrites.
#include "dl/common/logging.hpp"
#include "dl/strategy/key_files.hpp"
#include "dl/strategy/scd2_batch.hpp"

namespace dl::strategy::scd2 {

using engine::QuoteIdent;

// retire_absent_keys: a delete for every current key the batch lacks, at the batch's latest
// sequence value (its load time without one), after all of its rows.
Status Scd2Batch::AddRetireEvents() {
  if (!t_.retire_absent_keys || !snapshot_) return Status::OK();
  DL_RETURN_IF_ERROR(engine_.RegisterSnapshot(kTargetView, *snapshot_));
  std::string seq_col =
      t_.sequence_column ? fmt::format(", m.s AS {}", QuoteIdent(*t_.sequence_column)) : "";
  return engine_.Execute(fmt::format(
      "INSERT INTO {0} BY NAME SELECT {1}, m.s AS {2}, m.s AS {3}{4}, true AS {5}, false AS {6}, "
      "CAST({7} AS BIGINT) AS {8}, false AS {9}, {10} AS {11}, 0 AS {12} "
      "FROM (SELECT DISTINCT {13} FROM {14} WHERE {15} IS TRUE) c ANTI JOIN {0} e ON {16} "
      "CROSS JOIN (SELECT max({2}) AS s FROM {0}) m WHERE m.s IS NOT NULL",
      QuoteIdent(kEvents), Join(QuotedAs(cols_.keys, "c")), QuoteIdent(kSeq), QuoteIdent(kEff),
      seq_col, QuoteIdent(kDelete), QuoteIdent(kPseudo), ordinal_, QuoteIdent(kBatch),
      QuoteIdent(kLate), kRetireFileOrder, QuoteIdent(kFileOrderColumn),
      QuoteIdent(kRowOrderColumn), Join(QuotedAs(cols_.keys, "")), QuoteIdent(kTargetView),
      QuoteIdent(cols_.current), KeyMatch(cols_.keys, "e", "c")));
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
    if (snapshot_->schema().Find(c) && c != *t_.sequence_column) {
      cols.push_back("t." + QuoteIdent(c));
    }
  }
  const std::string seq = QuoteIdent(*t_.sequence_column), eff = QuoteIdent(cols_.effective);
  const std::string end = QuoteIdent(cols_.end), keys = Join(QuotedAs(cols_.keys, "t"));
  return engine_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {0} AS "
      "SELECT {1}, t.{2} AS {3}, false AS {4}, CAST(-1 AS BIGINT) AS {5}, CAST(0 AS BIGINT) AS "
      "{6}, CAST(row_number() OVER (ORDER BY {7}, t.{2}, t.{8} NULLS LAST) AS BIGINT) AS {9} "
      "FROM {10} t UNION ALL BY NAME "
      "SELECT {7}, t.{8} AS {3}, true AS {4}, CAST(-1 AS BIGINT) AS {5}, CAST(-1 AS BIGINT) AS "
      "{6}, CAST(0 AS BIGINT) AS {9} FROM {10} t ANTI JOIN {10} n ON {12} AND n.{2} = t.{8} "
      "WHERE t.{11} IS NOT TRUE AND t.{8} IS NOT NULL",
      QuoteIdent(kSeed), Join(cols), eff, seq, QuoteIdent(kStoreDelete), QuoteIdent(kStoreBatch),
      QuoteIdent(kStoreFile), keys, end, QuoteIdent(kStoreRow), QuoteIdent(kTargetView),
      QuoteIdent(cols_.current), KeyMatch(cols_.keys, "n", "t")));
}

// Keys with an event earlier than their latest stored one: their history is replayed.
Status Scd2Batch::FindLateKeys() {
  const std::string keys = Join(QuotedAs(cols_.keys, ""));
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT {}, min({}) AS __dl_min FROM {} GROUP BY {}",
      QuoteIdent(kBatchKeys), keys, QuoteIdent(kSeq), QuoteIdent(kEvents), keys)));
  DL_RETURN_IF_ERROR(OpenStore());
  if (store_relation_.empty()) {
    return engine_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {} "
                                       "WHERE false",
                                       QuoteIdent(kLateKeys), keys, QuoteIdent(kBatchKeys)));
  }
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {0} AS SELECT {1} FROM {2} b JOIN (SELECT {3}, max(s.{4}) AS "
      "__dl_max FROM {5} s SEMI JOIN {2} b ON {6} GROUP BY {3}) s ON {7} "
      "WHERE b.__dl_min < s.__dl_max",
      QuoteIdent(kLateKeys), Join(QuotedAs(cols_.keys, "b")), QuoteIdent(kBatchKeys),
      Join(QuotedAs(cols_.keys, "s")), QuoteIdent(*t_.sequence_column), store_relation_,
      KeyMatch(cols_.keys, "b", "s"), KeyMatch(cols_.keys, "b", "s"))));
  return engine_.Execute(fmt::format("UPDATE {0} SET {1} = true FROM {2} l WHERE {3}",
                                     QuoteIdent(kEvents), QuoteIdent(kLate),
                                     QuoteIdent(kLateKeys),
                                     KeyMatch(cols_.keys, "l", QuoteIdent(kEvents))));
}

// The batch's events, the stored events of late keys and the current versions of the other
// keys (pseudo events), stepped (kSteps); the keys that change (kTouched) and their versions.
Status Scd2Batch::BuildVersions() {
  std::vector<std::string> parts = {fmt::format("SELECT * FROM {}", QuoteIdent(kEvents))};
  const std::vector<std::string>& row_cols = cols_.columns;
  auto present = [&](const std::set<std::string>& have, const std::string& alias) {
    std::vector<std::string> out;
    for (const auto& c : row_cols) {
      if (have.count(c)) out.push_back(fmt::format("{}.{}", alias, QuoteIdent(c)));
    }
    return Join(out);
  };
  if (!store_relation_.empty()) {
    const std::string seq = QuoteIdent(*t_.sequence_column);
    parts.push_back(fmt::format(
        "SELECT {0}, {1} AS {2}, {1} AS {3}, {4} AS {5}, false AS {6}, {7} AS {8}, true AS {9}, "
        "{10} AS {11}, {12} AS {13} FROM {14} s SEMI JOIN {15} l ON {16}",
        present(store_columns_, "s"), "s." + seq, QuoteIdent(kSeq), QuoteIdent(kEff),
        QuoteIdent(kStoreDelete),
        QuoteIdent(kDelete), QuoteIdent(kPseudo), QuoteIdent(kStoreBatch), QuoteIdent(kBatch),
        QuoteIdent(kLate), QuoteIdent(kStoreFile), QuoteIdent(kFileOrderColumn),
        QuoteIdent(kStoreRow), QuoteIdent(kRowOrderColumn), store_relation_,
        QuoteIdent(kLateKeys), KeyMatch(cols_.keys, "l", "s")));
  }
  if (snapshot_) {
    parts.push_back(fmt::format(
        "SELECT {0}, CAST(NULL AS {1}) AS {2}, {3} AS {4}, false AS {5}, true AS {6}, "
        "CAST(-1 AS BIGINT) AS {7}, false AS {8}, 0 AS {9}, 0 AS {10} FROM {11} o SEMI JOIN {13} b "
        "ON {14} ANTI JOIN {15} l ON {16} WHERE o.{12} IS TRUE",
        present(TableColumns(), "o"), seq_type_, QuoteIdent(kSeq), QuoteIdent(cols_.effective),
        QuoteIdent(kEff), QuoteIdent(kDelete), QuoteIdent(kPseudo), QuoteIdent(kBatch),
        QuoteIdent(kLate), QuoteIdent(kFileOrderColumn), QuoteIdent(kRowOrderColumn),
        QuoteIdent(kKeyRows), QuoteIdent(cols_.current), QuoteIdent(kBatchKeys),
        KeyMatch(cols_.keys, "b", "o"), QuoteIdent(kLateKeys), KeyMatch(cols_.keys, "l", "o")));
  }
  const std::string events = Join(parts, " UNION ALL BY NAME ");
  // A table, so the steps (windows over narrow rows) can point back at each event's row by
  // its rowid.
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                                 QuoteIdent(kAll), events)));
  phase_("all events");
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                                 QuoteIdent(kSteps),
                                                 StepsSql(cols_, QuoteIdent(kAll)))));
  phase_("steps");
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                                 QuoteIdent(kTouched),
                                                 TouchedKeysSql(cols_, QuoteIdent(kSteps)))));
  phase_("touched keys");
  return engine_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS {}", QuoteIdent(kVersions),
      VersionsSql(cols_, QuoteIdent(kSteps), QuoteIdent(kTouched), QuoteIdent(kAll))));
}

// The files of the table holding a touched key: exactly the ones the commit replaces.
Result<std::vector<delta::AddFile>> Scd2Batch::RewrittenFiles() {
  std::vector<delta::AddFile> out;
  if (!snapshot_ || key_files_.empty()) return out;
  DL_ASSIGN_OR_RETURN(auto hit, engine_.Query(fmt::format(
                                    "SELECT DISTINCT o._dl_file FROM {} o SEMI JOIN {} t ON {}",
                                    QuoteIdent(kOld), QuoteIdent(kTouched),
                                    KeyMatch(cols_.keys, "t", "o"))));
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
  std::vector<std::string> cols = QuotedAs(cols_.columns, "");
  cols.push_back(fmt::format("{} AS {}", QuoteIdent(kDelete), QuoteIdent(kStoreDelete)));
  cols.push_back(fmt::format("{} AS {}", QuoteIdent(kBatch), QuoteIdent(kStoreBatch)));
  cols.push_back(fmt::format("CAST({} AS BIGINT) AS {}", QuoteIdent(kFileOrderColumn),
                             QuoteIdent(kStoreFile)));
  cols.push_back(fmt::format("CAST({} AS BIGINT) AS {}", QuoteIdent(kRowOrderColumn),
                             QuoteIdent(kStoreRow)));
  std::string rows = fmt::format("SELECT {} FROM {}", Join(cols), QuoteIdent(kEvents));
  if (store_relation_ == QuoteIdent(kSeed)) {
    rows = fmt::format("SELECT * FROM {} UNION ALL BY NAME {}", QuoteIdent(kSeed), rows);
  }
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
