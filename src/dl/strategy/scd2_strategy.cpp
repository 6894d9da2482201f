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

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/strategy/bad_rows.hpp"
#include "dl/strategy/companion.hpp"
#include "dl/strategy/key_files.hpp"
#include "dl/strategy/scd2_sql.hpp"
#include "dl/strategy/strategy_internal.hpp"

namespace dl::strategy {
namespace {

using config::TableConfig;
using engine::QuoteIdent;
using engine::QuoteLiteral;
using namespace internal;
using namespace scd2;

// Commits that conflict are re-planned against the new snapshot at most this many times.
constexpr int kMaxPlans = 4;
// After every file of the batch: where retire events (retire_absent_keys) sort.
constexpr const char* kRetireFileOrder = "2147483647";

constexpr const char* kView = "__dl_scd2_src";
constexpr const char* kEvents = "__dl_scd2_events";
constexpr const char* kBatchKeys = "__dl_scd2_keys";
constexpr const char* kLateKeys = "__dl_scd2_late";
constexpr const char* kStoreView = "__dl_scd2_store";
constexpr const char* kSeed = "__dl_scd2_seed";
constexpr const char* kTargetView = "__dl_scd2_target";
constexpr const char* kOld = "__dl_scd2_old";  // key files' rows with their file
constexpr const char* kKeyRows = "__dl_scd2_key_rows";  // the same rows, read without the file
constexpr const char* kAll = "__dl_scd2_all";
constexpr const char* kSteps = "__dl_scd2_steps";
constexpr const char* kTouched = "__dl_scd2_touched";
constexpr const char* kVersions = "__dl_scd2_versions";
constexpr const char* kRewritten = "__dl_scd2_rewritten";

std::string Join(const std::vector<std::string>& quoted, const char* sep = ", ") {
  return fmt::format("{}", fmt::join(quoted, sep));
}

std::vector<std::string> QuotedAs(const std::vector<std::string>& cols, const std::string& alias) {
  std::vector<std::string> out;
  for (const auto& c : cols) out.push_back((alias.empty() ? "" : alias + ".") + QuoteIdent(c));
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// One planning of a batch against one snapshot of the target.
class Scd2Batch {
 public:
  Scd2Batch(table::TableContext& ctx, const Target& target, const Batch& batch)
      : ctx_(ctx), engine_(ctx.engine), target_(target), t_(target.config), batch_(batch) {}
  ~Scd2Batch() { Release(); }

  // Plan and commit. `*replan` is set when the commit lost to a conflicting writer.
  Result<BatchOutcome> Run(const delta::CommitOptions& commit_options, bool* replan);

 private:
  // Everything up to the target commit: events, versions, the files to rewrite, the change
  // store's new files.
  Status Plan(const delta::CommitOptions& commit_options);
  // Debug log of the time since the last phase (what a slow batch spent its time on).
  void Phase(const char* name);
  Status LoadTables(const delta::CommitOptions& commit_options);
  Status ReadEvents();
  Result<std::string> EventsWithDeleteFlag(const std::string& aligned,
                                           const delta::Schema& event_schema);
  Status ResolveColumns(const delta::Schema& event_schema);
  Status ResolveOpenEnd();
  Status AddRetireEvents();
  std::set<std::string> TableColumns() const;
  Status OpenStore();
  Status SeedStore();
  Status FindLateKeys();
  Status BuildVersions();
  Result<std::vector<delta::AddFile>> RewrittenFiles();
  Result<std::optional<CompanionFiles>> WriteChangeStore();
  Result<std::map<std::string, int64_t>> RowsPerSourceFile();
  Result<int64_t> Count(const std::string& relation);
  void Release();

  table::TableContext& ctx_;
  engine::Engine& engine_;
  const Target& target_;
  const TableConfig& t_;
  const Batch& batch_;

  std::shared_ptr<const delta::Snapshot> snapshot_;  // null: no table yet
  std::shared_ptr<const delta::Snapshot> store_;     // the change store (sequence_column)
  // The stored events as a relation (the store, or kSeed rebuilt from the table) and its
  // columns; empty when there is no history to replay.
  std::string store_relation_;
  std::set<std::string> store_columns_;
  std::vector<delta::AddFile> key_files_;            // files holding the batch's keys
  SourceProjection source_;
  BadRows bad_;
  Columns cols_;
  std::string seq_type_;  // the engine type of kSeq
  std::vector<std::string> delete_columns_;  // the columns delete_condition names
  int64_t ordinal_ = 0;   // this batch's place in event order (ties on the sequence value)
  std::vector<delta::AddFile> rewritten_;  // files the commit replaces
  std::optional<CompanionFiles> changes_;  // the change store's files of this batch
  std::chrono::steady_clock::time_point phase_start_ = std::chrono::steady_clock::now();
};

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
  DL_RETURN_IF_ERROR(CheckCommitsSince(ctx_, target_.root, batch_.checked_version,
                                       snapshot_->version(), commit_options));
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
    DL_ASSIGN_OR_RETURN(schema, delta::MergeSchema(snapshot_->schema(), schema));
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
  const std::string seq =
      t_.sequence_column
          ? QuoteIdent(*t_.sequence_column)
          : fmt::format("CAST({} AS TIMESTAMPTZ)",
                        QuoteLiteral(FormatTimestampMs(batch_.load_time_ms)));
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format(
      "CREATE OR REPLACE TEMP TABLE {0} AS SELECT *, {1} AS {2}, {1} AS {3}, false AS {4}, "
      "CAST({5} AS BIGINT) AS {6}, false AS {7} FROM ({8})",
      QuoteIdent(kEvents), seq, QuoteIdent(kSeq), QuoteIdent(kEff), QuoteIdent(kPseudo),
      ordinal_, QuoteIdent(kBatch), QuoteIdent(kLate), from)));
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
    for (const auto& c : missing) cols.push_back("CAST(NULL AS VARCHAR) AS " + QuoteIdent(c));
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
  DL_ASSIGN_OR_RETURN(auto type, engine_.Query(fmt::format(
                                     "SELECT column_type FROM (DESCRIBE SELECT {} FROM {})",
                                     QuoteIdent(kSeq), QuoteIdent(kEvents))));
  seq_type_ = type.rows.at(0).at(0).value_or("VARCHAR");
  return ResolveOpenEnd();
}

Status Scd2Batch::ResolveOpenEnd() {
  if (!t_.scd2_open_end_value) return Status::OK();
  // seq_type_ comes from the engine (DESCRIBE), not from the user.
  std::string value = fmt::format("CAST({} AS {})", QuoteLiteral(*t_.scd2_open_end_value),
                                  seq_type_);
  auto ok = engine_.Query(fmt::format("SELECT TRY_{}", value));
  if (!ok.ok() || ok->rows.empty() || !ok->rows[0][0]) {
    return Status::InvalidArgument(
        "scd2_open_end_value '{}' of {} is not a value of the effective/end columns' type {} "
        "(the {})",
        *t_.scd2_open_end_value, target_.display_name, seq_type_,
        t_.sequence_column ? "sequence column's type" : "load time");
  }
  cols_.open_end = value;
  return Status::OK();
}

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
        present(store_columns_, "s"), "s." + seq, QuoteIdent(kSeq), QuoteIdent(kEff), QuoteIdent(kStoreDelete),
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
  Phase("all events");
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                                 QuoteIdent(kSteps),
                                                 StepsSql(cols_, QuoteIdent(kAll)))));
  Phase("steps");
  DL_RETURN_IF_ERROR(engine_.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} AS {}",
                                                 QuoteIdent(kTouched),
                                                 TouchedKeysSql(cols_, QuoteIdent(kSteps)))));
  Phase("touched keys");
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

void Scd2Batch::Phase(const char* name) {
  auto now = std::chrono::steady_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - phase_start_).count();
  log::Debug("scd2 phase", {{"table", target_.display_name}, {"phase", name}, {"ms", ms}});
  phase_start_ = now;
}

Status Scd2Batch::Plan(const delta::CommitOptions& commit_options) {
  auto phase = [&](const char* name, const Status& st) {
    Phase(name);
    return st;
  };
  if (t_.delete_condition) {
    // Checked before anything is read: one expression over the row, nothing else.
    DL_ASSIGN_OR_RETURN(delete_columns_,
                        PredicateColumns(engine_, *t_.delete_condition, "delete_condition"));
  }
  DL_RETURN_IF_ERROR(phase("snapshot", LoadTables(commit_options)));
  DL_RETURN_IF_ERROR(phase("events", ReadEvents()));
  DL_RETURN_IF_ERROR(phase("retire", AddRetireEvents()));
  DL_RETURN_IF_ERROR(phase("late keys", FindLateKeys()));
  if (snapshot_) {
    DL_ASSIGN_OR_RETURN(auto found,
                        FindFilesWithKeys(engine_, *snapshot_, cols_.keys,
                                          fmt::format("SELECT * FROM {}", QuoteIdent(kBatchKeys))));
    key_files_ = std::move(found.files);
    DL_RETURN_IF_ERROR(engine_.RegisterSnapshotWithFileColumn(kOld, *snapshot_, &key_files_));
    DL_RETURN_IF_ERROR(
        phase("key files", engine_.RegisterSnapshot(kKeyRows, *snapshot_, &key_files_)));
  }
  DL_RETURN_IF_ERROR(phase("versions", BuildVersions()));
  DL_ASSIGN_OR_RETURN(rewritten_, RewrittenFiles());
  if (!rewritten_.empty()) {
    DL_RETURN_IF_ERROR(engine_.RegisterSnapshot(kRewritten, *snapshot_, &rewritten_));
  }
  Phase("rewritten files");
  DL_ASSIGN_OR_RETURN(changes_, WriteChangeStore());
  Phase("change store");
  return Status::OK();
}

Result<BatchOutcome> Scd2Batch::Run(const delta::CommitOptions& commit_options, bool* replan) {
  *replan = false;
  DL_RETURN_IF_ERROR(Plan(commit_options));
  auto& rewritten = rewritten_;
  auto& changes = changes_;
  table::WriteRequest req;
  req.source_sql = OutputSql(cols_, rewritten.empty() ? "" : QuoteIdent(kRewritten),
                             QuoteIdent(kTouched), QuoteIdent(kVersions));
  req.read_snapshot = snapshot_;
  req.reads_table = snapshot_ != nullptr;
  req.rewritten_files = rewritten;
  req.partition_by = t_.partition_columns;
  req.schema_evolution = WriteEvolution(t_);
  req.operation = "MERGE";
  req.operation_parameters = {
      {"predicate", nlohmann::json::array({"scd2 on " + fmt::format("{}", fmt::join(
                                                                         cols_.keys, ", "))})
                        .dump()}};
  if (changes) RecordCompanion(req.data_loader_info, *changes);
  if (bad_.quarantine) RecordCompanion(req.data_loader_info, *bad_.quarantine);
  std::string app_id = PrepareBatchCommit(ctx_, batch_, snapshot_.get(), commit_options, req);
  auto written = table::Write(ctx_, target_.root, req);
  Phase("target commit");
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
  auto rows = RowsPerSourceFile();
  if (rows.ok()) out.rows_per_file = std::move(*rows);
  return out;
}

void Scd2Batch::Release() {
  ReleaseSource(engine_, kView);
  for (const char* table :
       {kEvents, kBatchKeys, kLateKeys, kSeed, kAll, kSteps, kTouched, kVersions}) {
    (void)engine_.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdent(table)));
  }
  for (const char* view : {kStoreView, kTargetView, kOld, kKeyRows, kRewritten}) {
    (void)engine_.Execute(fmt::format("DROP VIEW IF EXISTS {}", QuoteIdent(view)));
  }
}

}  // namespace

Result<BatchOutcome> LoadScd2(table::TableContext& ctx, const Target& target, const Batch& batch,
                              const delta::CommitOptions& commit_options) {
  for (int plan = 1;; ++plan) {
    bool replan = false;
    Result<BatchOutcome> out = Scd2Batch(ctx, target, batch).Run(commit_options, &replan);
    if (out.ok() || !replan) return out;
    if (plan >= kMaxPlans) {
      return Status::CommitConflict(
          "SCD2 batch of {} conflicted with concurrent commits {} times (re-planned against "
          "each new snapshot); last conflict: {}",
          target.display_name, plan, out.status().message());
    }
    log::Info("SCD2 batch conflicted with a concurrent commit; re-planning",
              {{"table", target.display_name}, {"attempt", plan}, {"error", out.status().message()}});
  }
}

}  // namespace dl::strategy
