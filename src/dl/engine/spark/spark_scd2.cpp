// SCD2 on Spark, the same rule as the DuckDB engine (docs/architecture.md, "SCD Type 2";
// strategy/scd2_sql.hpp explains the window functions): the batch's rows become events; with
// the table's current rows of their keys (as "pseudo events") and, for keys with a late event,
// their stored events from the change store, window functions per key give every version;
// ONE `MERGE INTO` then deletes the touched keys' replaced rows and inserts their versions,
// committed with our txn and metadata as a merge is. The change store (with sequence_column)
// is appended to before that MERGE, each event tagged with the batch's txn version and the
// attempt's batch id. Loaders may run the same table at once, so an attempt's events are
// read only once its MERGE landed: of an applied txn version, only the rows of the batch id
// that landed it (a "landed" marker row written by a later attempt, or the table's log for the
// latest version); rows above the applied version are in flight or dead, never read, and
// never deleted (but old-layout rows, with no batch id); rows of an applied version with
// another batch id can never land (Delta skips a second write of a txn version) and are
// deleted.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "dl/engine/spark/spark_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_table.hpp"

namespace dl::engine::spark {
namespace {

constexpr const char* kBatchView = "__dl_scd2_batch";
constexpr const char* kNewEvents = "__dl_scd2_new";
constexpr const char* kEvents = "__dl_scd2_events";  // cached: read by every later step
constexpr const char* kBatchKeys = "__dl_scd2_keys";
constexpr const char* kLateKeys = "__dl_scd2_late";  // cached with a store (read 3 times)
constexpr const char* kSteps = "__dl_scd2_steps";  // cached
constexpr const char* kTouched = "__dl_scd2_touched";
constexpr const char* kVersions = "__dl_scd2_versions";  // cached
constexpr const char* kLanded = "__dl_scd2_landed";  // (txn version, batch id) landed: cached

// Event columns beside the row's (as in strategy/scd2_sql.hpp) and the change store's.
constexpr const char* kSeq = "__dl_seq";
constexpr const char* kEff = "__dl_eff";
constexpr const char* kDelete = "__dl_delete";
constexpr const char* kPseudo = "__dl_pseudo";
constexpr const char* kOrdinal = "__dl_batch";
constexpr const char* kLate = "__dl_late";
constexpr const char* kStoreDelete = "_dl_event_delete";
constexpr const char* kStoreBatch = "_dl_event_batch";
constexpr const char* kStoreFile = "_dl_event_file";
constexpr const char* kStoreRow = "_dl_event_row";
// The attempt's batch id (NULL: written before it existed, read as landed). A row whose
// delete flag is NULL is no event but a marker: its batch id landed its txn version.
constexpr const char* kStoreBatchId = "_dl_event_batch_id";

std::string Id(const std::string& name) { return SparkIdent(name); }

std::string Match(const std::vector<std::string>& keys, const std::string& a,
                  const std::string& b) {
  std::vector<std::string> eq;
  for (const auto& k : keys) eq.push_back(fmt::format("`{0}`.{2} = `{1}`.{2}", a, b, Id(k)));
  return fmt::format("{}", fmt::join(eq, " AND "));
}

bool In(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The columns of one batch's plan: keys and values (the table's, then the batch's new ones),
// then the audit columns; each with its type (the table's where it has the column).
struct Scd2Columns {
  std::vector<std::string> all, values, tracked, untracked;
  std::map<std::string, std::string> type;
  std::set<std::string> in_batch, in_table;
  std::string seq_type, open_end = "NULL";
};

// `alias`.col for the columns `have` holds, a typed NULL for the others.
std::string RowOf(const Scd2Columns& c, const std::set<std::string>& have,
                  const std::string& alias) {
  std::vector<std::string> out;
  for (const auto& col : c.all) {
    out.push_back(have.count(col) ? fmt::format("`{}`.{} AS {}", alias, Id(col), Id(col))
                                  : fmt::format("CAST(NULL AS {}) AS {}", c.type.at(col), Id(col)));
  }
  return fmt::format("{}", fmt::join(out, ", "));
}

std::string Pack(const std::vector<std::string>& cols) {
  if (cols.empty()) return "0";
  std::vector<std::string> fields;
  for (const auto& c : cols) fields.push_back(fmt::format("{}, {}", SparkLiteral(c), Id(c)));
  return fmt::format("named_struct({})", fmt::join(fields, ", "));
}

class Scd2Plan {
 public:
  Scd2Plan(SparkSession& session, const Scd2Operation& op) : s_(session), op_(op) {}
  Result<Scd2Outcome> Run(const ReadFiles& files);
  void Release();

 private:
  Status ResolveColumns();
  Status CreateEvents();
  Status OpenStore();
  Status ResolveLanded();
  Status CreateLateKeys();
  Status CreateVersions();
  Status CleanStore();
  Status CreateClusteredTable();
  Status WriteChangeStore();
  Status Commit();
  Status Sql(const std::string& sql) { return s_.Sql(sql).status(); }
  std::string Table() const { return "delta." + Id(op_.rows.table_root); }
  std::string Ordinal() const { return fmt::format("CAST({} AS BIGINT)", op_.rows.txn_version); }
  std::string Store() const { return "delta." + Id(op_.change_store_root); }
  std::string Stored() const;

  SparkSession& s_;
  Scd2Operation op_;  // a copy: quarantine changes its userMetadata
  Scd2Columns c_;
  std::optional<std::string> landed_;  ///< the batch id that applied applied_txn_version
  /// (txn version, batch id) pairs of the store that never land: of an applied version whose
  /// landed id is known (deleted by the clean-up) or not (left alone); with a NULL id, above
  /// the applied one. None of them is read (Stored()).
  struct DeadPair {
    int64_t version = 0;
    std::optional<std::string> id;
    bool known = false;
    std::string Condition() const {
      return fmt::format("({} = {} AND {})", Id(kStoreBatch), version,
                         id ? fmt::format("{} = {}", Id(kStoreBatchId), SparkLiteral(*id))
                            : fmt::format("{} IS NULL", Id(kStoreBatchId)));
    }
  };
  std::vector<DeadPair> dead_;
  bool created_ = false;  ///< the table was created empty by CreateClusteredTable
};

Status Scd2Plan::ResolveColumns() {
  const AppendOperation& rows = op_.rows;
  DL_ASSIGN_OR_RETURN(auto batch, ColumnsOf(s_, "SELECT * FROM " + Id(kBatchView)));
  const std::vector<std::string> data = DataColumns(rows, batch);
  const std::vector<std::string> scd2 = {op_.effective_column, op_.end_column,
                                         op_.current_column};
  for (const auto& col : scd2) {
    if (In(data, col)) {
      return Status::SchemaMismatch("column '{}' of the files clashes with the SCD2 column of {}",
                                    col, rows.display_name);
    }
  }
  for (const auto& k : op_.keys) DL_RETURN_IF_ERROR(CheckPresent(data, k, "primary_keys", rows));
  if (op_.sequence_column) {
    DL_RETURN_IF_ERROR(CheckPresent(data, *op_.sequence_column, "sequence_column", rows));
  }
  // With quarantine, the bad rows leave the batch view here (and the commit records them).
  DL_ASSIGN_OR_RETURN(auto recorded, SeparateNullKeys(s_, rows, op_.quarantine, kBatchView,
                                                      op_.keys, op_.sequence_column));
  if (recorded) op_.rows.user_metadata = std::move(*recorded);

  std::vector<std::string> audit;
  for (const auto* a : {&rows.load_timestamp_column, &rows.source_file_column,
                        &rows.batch_id_column}) {
    if (!a->empty()) audit.push_back(*a);
  }
  std::vector<Column> table;
  if (rows.table_columns) {
    DL_ASSIGN_OR_RETURN(table, ColumnsOf(s_, "SELECT * FROM " + Table()));
    for (const auto& col : scd2) {
      if (!HasColumn(*rows.table_columns, col)) {
        return Status::InvalidArgument(
            "{} has no column '{}': it was not written by loading_strategy: scd2 with these "
            "scd2_*_column names",
            rows.display_name, col);
      }
    }
  }
  for (const auto& col : table) {
    c_.in_table.insert(col.name);
    c_.type.emplace(col.name, col.type);
    if (!In(scd2, col.name) && !In(audit, col.name)) c_.all.push_back(col.name);
  }
  for (const auto& col : batch) {
    c_.type.emplace(col.name, col.type);
    if (In(data, col.name) || In(audit, col.name)) c_.in_batch.insert(col.name);
    if (In(data, col.name) && !In(c_.all, col.name)) {
      c_.all.push_back(col.name);
    }
  }
  std::vector<std::string> compared;  // neither key nor sequence
  for (const auto& col : c_.all) {
    if (!In(op_.keys, col)) c_.values.push_back(col);
    if (!In(op_.keys, col) && col != op_.sequence_column.value_or("")) compared.push_back(col);
  }
  for (const auto& a : audit) {
    c_.all.push_back(a);
    c_.values.push_back(a);
  }
  if (op_.tracking_columns.empty()) {
    c_.tracked = compared;
  } else {
    for (const auto& col : op_.tracking_columns) {
      if (col == op_.sequence_column.value_or("")) continue;  // it orders, it is never compared
      DL_RETURN_IF_ERROR(CheckPresent(compared, col, "tracking_columns", rows));
      c_.tracked.push_back(col);
    }
  }
  for (const auto& col : compared) {
    if (!In(c_.tracked, col)) c_.untracked.push_back(col);
  }
  c_.seq_type = op_.sequence_column ? c_.type.at(*op_.sequence_column) : "timestamp";
  if (!op_.open_end_value) return Status::OK();
  // seq_type comes from Spark (DESCRIBE), not from the user.
  const std::string value =
      fmt::format("CAST({} AS {})", SparkLiteral(*op_.open_end_value), c_.seq_type);
  auto ok = s_.Sql("SELECT try_" + value);
  if (!ok.ok() || ok->rows.empty() || ok->rows[0].empty() || !ok->rows[0][0]) {
    return Status::InvalidArgument(
        "scd2_open_end_value '{}' of {} is not a value of the effective/end columns' type {} "
        "(the {})",
        *op_.open_end_value, rows.display_name, c_.seq_type,
        op_.sequence_column ? "sequence column's type" : "load time");
  }
  c_.open_end = value;
  return Status::OK();
}

// kEvents: the batch's rows as events (delete flag, place in event order) and, with
// retire_absent_keys, a delete for every current key the batch lacks, at its latest sequence
// value and after all of its rows.
Status Scd2Plan::CreateEvents() {
  const AppendOperation& rows = op_.rows;
  std::string nulls;  // columns delete_condition names that neither side has: NULL
  for (const auto& col : op_.delete_columns) {
    if (!c_.type.count(col)) nulls += fmt::format(", CAST(NULL AS STRING) AS {}", Id(col));
  }
  const std::string seq =
      op_.sequence_column ? Id(*op_.sequence_column)
                          : fmt::format("timestamp_micros({})", rows.load_time_ms * 1000);
  const std::string is_delete =
      op_.delete_condition ? fmt::format("coalesce(({}), false)", *op_.delete_condition) : "false";
  std::vector<std::string> cols;
  for (const auto& col : c_.all) cols.push_back(Id(col));
  Status st = Sql(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {0} AS SELECT {1}, {2} AS {3}, {2} AS {4}, {5} AS {6}, false "
      "AS {7}, {8} AS {9}, false AS {10}, CAST({11} AS BIGINT) AS {11}, CAST({12} AS BIGINT) AS "
      "{12} FROM (SELECT {13}{14}, `b`.{11}, `b`.{12} FROM {15} AS `b`) AS `__dl_row`",
      Id(kNewEvents), fmt::join(cols, ", "), seq, Id(kSeq), Id(kEff), is_delete, Id(kDelete),
      Id(kPseudo), Ordinal(), Id(kOrdinal), Id(kLate), Id(kFileOrderColumn), Id(kRowOrderColumn),
      RowOf(c_, c_.in_batch, "b"), nulls, Id(kBatchView)));
  if (!st.ok()) return op_.delete_condition ? FragmentError(st, "delete_condition", rows) : st;

  std::string events = "SELECT * FROM " + Id(kNewEvents);
  if (op_.retire_absent_keys && rows.table_columns) {
    std::vector<std::string> retired;
    for (const auto& col : c_.all) {
      if (In(op_.keys, col)) {
        retired.push_back(fmt::format("`c`.{0} AS {0}", Id(col)));
      } else if (col == op_.sequence_column.value_or("")) {
        retired.push_back(fmt::format("`m`.`s` AS {}", Id(col)));
      } else {
        retired.push_back(fmt::format("CAST(NULL AS {}) AS {}", c_.type.at(col), Id(col)));
      }
    }
    std::vector<std::string> keys;
    for (const auto& k : op_.keys) keys.push_back(Id(k));
    events += fmt::format(
        " UNION ALL SELECT {0}, `m`.`s`, `m`.`s`, true, false, {1}, false, CAST(2147483647 AS "
        "BIGINT), CAST(0 AS BIGINT) FROM (SELECT DISTINCT {2} FROM {3} WHERE {4} IS TRUE) AS "
        "`c` LEFT ANTI JOIN {5} AS `e` ON {6} CROSS JOIN (SELECT max({7}) AS `s` FROM {5}) AS "
        "`m` WHERE `m`.`s` IS NOT NULL",
        fmt::join(retired, ", "), Ordinal(), fmt::join(keys, ", "), Table(),
        Id(op_.current_column), Id(kNewEvents), Match(op_.keys, "e", "c"), Id(kSeq));
  }
  return Sql(fmt::format("CACHE TABLE {} AS {}", Id(kEvents), events));
}

// kLateKeys: keys with an event earlier than their latest stored one (their history is
// replayed from the change store); kBatchKeys: every key of the events.
Status Scd2Plan::CreateLateKeys() {
  std::vector<std::string> keys, b_keys, s_keys;
  for (const auto& k : op_.keys) {
    keys.push_back(Id(k));
    b_keys.push_back("`b`." + Id(k));
    s_keys.push_back("`s`." + Id(k));
  }
  DL_RETURN_IF_ERROR(Sql(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {0} AS SELECT {1}, min({2}) AS `__dl_min` FROM {3} GROUP BY {1}",
      Id(kBatchKeys), fmt::join(keys, ", "), Id(kSeq), Id(kEvents))));
  if (!op_.change_store_columns) {
    return Sql(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT {} FROM {} WHERE false",
                           Id(kLateKeys), fmt::join(keys, ", "), Id(kBatchKeys)));
  }
  return Sql(fmt::format(
      "CACHE TABLE {0} AS SELECT {1} FROM {2} AS `b` JOIN (SELECT {3}, max({4}) "
      "AS `__dl_max` FROM {5} AS `s` GROUP BY {3}) AS `s` ON {6} WHERE `b`.`__dl_min` < "
      "`s`.`__dl_max`",
      Id(kLateKeys), fmt::join(b_keys, ", "), Id(kBatchKeys), fmt::join(keys, ", "),
      Id(*op_.sequence_column), Stored(), Match(op_.keys, "b", "s")));
}

// kLanded and dead_. The store is read at its latest version, never by time travel (Delta
// rebuilds an older version's state on every read: seconds each). No pinned version is
// needed: only events of (txn version, batch id) pairs that landed are read (kLanded: the
// markers, and the applied version's id from the table's log), at or below the applied
// version, and such an attempt's events were complete before its MERGE landed and are never
// deleted. What other loaders append meanwhile (attempts in flight above the applied version,
// markers, attempts that lost) is never read. A store written before batch ids were gets the
// column (its rows stay NULL: landed, as the old layout's rows at or below the applied
// version all are).
Status Scd2Plan::OpenStore() {
  const int64_t applied = op_.applied_txn_version;
  landed_ = op_.applied_batch_id;
  if (!In(*op_.change_store_columns, kStoreBatchId)) {
    Status added = Sql(fmt::format("ALTER TABLE {} ADD COLUMNS ({} STRING)", Store(),
                                   Id(kStoreBatchId)));
    if (!added.ok()) {  // another loader may have added it meanwhile
      DL_ASSIGN_OR_RETURN(auto now, ColumnsOf(s_, "SELECT * FROM " + Store()));
      if (std::none_of(now.begin(), now.end(),
                       [](const Column& c) { return c.name == kStoreBatchId; })) {
        return added;
      }
    }
  }
  DL_RETURN_IF_ERROR(ResolveLanded());
  std::string landed = fmt::format(
      "SELECT {0} AS `v`, {1} AS `id` FROM {2} WHERE {3} IS NULL AND {1} IS NOT NULL AND {0} "
      "<= {4}",
      Id(kStoreBatch), Id(kStoreBatchId), Store(), Id(kStoreDelete), applied);
  if (landed_) {
    landed += fmt::format(" UNION SELECT CAST({} AS BIGINT), {}", applied, SparkLiteral(*landed_));
  }
  // Cached: every later read of the store joins it (a few rows per batch ever loaded). The
  // attempt's id makes the cached plan its own: Spark's cache is shared by the server's
  // sessions, and another loader's UNCACHE of an equal plan would drop ours.
  DL_RETURN_IF_ERROR(Sql(fmt::format("CACHE TABLE {} AS SELECT DISTINCT *, {} AS `__dl_owner` "
                                     "FROM ({})",
                                     Id(kLanded), SparkLiteral(op_.rows.batch_id), landed)));
  // For the clean-up: pairs of applied versions that did not land (known: the version's
  // landed id is), and old-layout rows above the applied version.
  DL_ASSIGN_OR_RETURN(
      auto dead,
      s_.Sql(fmt::format(
          "SELECT DISTINCT `s`.{0}, `s`.{1}, `k`.`v` IS NOT NULL FROM {2} AS `s` LEFT ANTI JOIN "
          "{3} AS `l` ON `s`.{0} = `l`.`v` AND `s`.{1} = `l`.`id` LEFT JOIN (SELECT DISTINCT "
          "`v` FROM {3}) AS `k` ON `s`.{0} = `k`.`v` WHERE `s`.{1} IS NOT NULL AND `s`.{0} <= "
          "{4} UNION SELECT DISTINCT {0}, {1}, true FROM {2} WHERE {1} IS NULL AND {0} > {4}",
          Id(kStoreBatch), Id(kStoreBatchId), Store(), Id(kLanded), applied)));
  for (const auto& r : dead.rows) {
    dead_.push_back(
        DeadPair{std::stoll(r.at(0).value_or("0")), r.at(1), r.at(2).value_or("") == "true"});
  }
  return Status::OK();
}

// The store's events that are read (a subquery): of landed attempts, at or below the applied
// version (OpenStore).
std::string Scd2Plan::Stored() const {
  return fmt::format(
      "(SELECT `s`.* FROM {0} AS `s` LEFT JOIN {1} AS `l` ON `s`.{2} = `l`.`v` AND `s`.{3} = "
      "`l`.`id` WHERE `s`.{4} IS NOT NULL AND `s`.{2} <= {5} AND (`s`.{3} IS NULL OR `l`.`v` IS "
      "NOT NULL))",
      Store(), Id(kLanded), Id(kStoreBatch), Id(kStoreBatchId), Id(kStoreDelete),
      op_.applied_txn_version);
}

// landed_: from the table's log; when its commit is gone from the log, a marker of it in the
// store, else the one batch id the store holds at that version (several: cannot tell).
Status Scd2Plan::ResolveLanded() {
  if (landed_ || op_.applied_txn_version <= 0) return Status::OK();
  DL_ASSIGN_OR_RETURN(
      auto ids, s_.Sql(fmt::format("SELECT {0}, max(CAST({1} IS NULL AS INT)) FROM {2} WHERE {3} "
                                   "= {4} AND {0} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC",
                                   Id(kStoreBatchId), Id(kStoreDelete), Store(), Id(kStoreBatch),
                                   op_.applied_txn_version)));
  if (ids.rows.empty()) return Status::OK();
  if (ids.rows.size() == 1 || ids.rows[0].at(1).value_or("0") == "1") {
    landed_ = ids.rows[0].at(0);
    return Status::OK();
  }
  return Status::InvalidArgument(
      "sequence_column: the SCD2 change store {} holds events of {} attempts at txn version {} "
      "of {} and the commit that applied it is no longer in the table's log: which attempt "
      "landed cannot be told",
      op_.change_store_root, ids.rows.size(), op_.applied_txn_version, op_.rows.display_name);
}

// kSteps, kTouched and kVersions over every event of the batch's keys: the new ones, the
// stored ones of late keys and the current versions of the others.
Status Scd2Plan::CreateVersions() {
  std::vector<std::string> parts;
  std::vector<std::string> cols;
  for (const auto& col : c_.all) cols.push_back("`e`." + Id(col));
  parts.push_back(fmt::format(
      "SELECT {0}, `e`.{1}, `e`.{2}, `e`.{3}, `e`.{4}, `e`.{5}, `l`.`__dl_hit` IS NOT NULL AS "
      "{6}, `e`.{7}, `e`.{8} FROM {9} AS `e` LEFT JOIN (SELECT *, true AS `__dl_hit` FROM {10}) "
      "AS `l` ON {11}",
      fmt::join(cols, ", "), Id(kSeq), Id(kEff), Id(kDelete), Id(kPseudo), Id(kOrdinal),
      Id(kLate), Id(kFileOrderColumn), Id(kRowOrderColumn), Id(kEvents), Id(kLateKeys),
      Match(op_.keys, "l", "e")));
  if (op_.change_store_columns) {
    const std::set<std::string> stored(op_.change_store_columns->begin(),
                                       op_.change_store_columns->end());
    const std::string seq = "`s`." + Id(*op_.sequence_column);
    parts.push_back(fmt::format(
        "SELECT {0}, {1}, {1}, `s`.{2}, false, `s`.{3}, true, `s`.{4}, `s`.{5} FROM {6} AS `s` "
        "LEFT SEMI JOIN {7} AS `l` ON {8}",
        RowOf(c_, stored, "s"), seq, Id(kStoreDelete), Id(kStoreBatch), Id(kStoreFile),
        Id(kStoreRow), Stored(), Id(kLateKeys), Match(op_.keys, "l", "s")));
  }
  if (op_.rows.table_columns) {
    parts.push_back(fmt::format(
        "SELECT {0}, CAST(NULL AS {1}), `o`.{2}, false, true, CAST(-1 AS BIGINT), false, CAST(0 "
        "AS BIGINT), CAST(0 AS BIGINT) FROM {3} AS `o` LEFT SEMI JOIN {4} AS `b` ON {5} LEFT "
        "ANTI JOIN {6} AS `l` ON {7} WHERE `o`.{8} IS TRUE",
        RowOf(c_, c_.in_table, "o"), c_.seq_type, Id(op_.effective_column), Table(),
        Id(kBatchKeys), Match(op_.keys, "b", "o"), Id(kLateKeys), Match(op_.keys, "l", "o"),
        Id(op_.current_column)));
  }
  std::vector<std::string> keys;
  for (const auto& k : op_.keys) keys.push_back(Id(k));
  const std::string by_key = fmt::format("{}", fmt::join(keys, ", "));
  const std::string del = Id(kDelete);
  // A key's current version (pseudo event) first, then event order: sequence value, batch,
  // file, row. The flags are those of strategy/scd2_sql.cpp StepsSql.
  const std::string flags = fmt::format(
      "SELECT *, row_number() OVER w AS `__dl_rn`, "
      "NOT {0} AND (lag({0}) OVER w IS DISTINCT FROM false OR `__dl_t` IS DISTINCT FROM "
      "lag(`__dl_t`) OVER w) AS `__dl_opener`, "
      "NOT {0} AND (lag({0}) OVER w IS DISTINCT FROM false OR `__dl_t` IS DISTINCT FROM "
      "lag(`__dl_t`) OVER w OR `__dl_u` IS DISTINCT FROM lag(`__dl_u`) OVER w) AS `__dl_writer`, "
      "{0} AND lag({0}) OVER w = false AS `__dl_closes`, "
      "NOT {0} AND (lead({0}) OVER w IS DISTINCT FROM false OR `__dl_t` IS DISTINCT FROM "
      "lead(`__dl_t`) OVER w) AS `__dl_last`, lead({1}) OVER w AS `__dl_next` "
      "FROM (SELECT *, {2} AS `__dl_t`, {3} AS `__dl_u` FROM ({4}) AS `__dl_all`) AS `__dl_p` "
      "WINDOW w AS (PARTITION BY {5} ORDER BY {6} DESC, {1}, {7}, {8}, {9})",
      del, Id(kSeq), Pack(c_.tracked), Pack(c_.untracked), fmt::join(parts, " UNION ALL "), by_key,
      Id(kPseudo), Id(kOrdinal), Id(kFileOrderColumn), Id(kRowOrderColumn));
  DL_RETURN_IF_ERROR(Sql(fmt::format(
      "CACHE TABLE {} AS SELECT *, sum(CAST(`__dl_opener` AS INT)) OVER (PARTITION BY {} ORDER "
      "BY `__dl_rn` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `__dl_vid` FROM ({}) AS "
      "`__dl_f`",
      Id(kSteps), by_key, flags)));
  DL_RETURN_IF_ERROR(Sql(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {0} AS SELECT {1}, bool_or({2}) AS {2} FROM {3} GROUP BY {1} "
      "HAVING bool_or(NOT {4} AND (`__dl_opener` OR `__dl_writer` OR `__dl_closes`))",
      Id(kTouched), by_key, Id(kLate), Id(kSteps), Id(kPseudo))));
  // A version's row is its last writer's; it starts at its opener's effective value.
  std::vector<std::string> s_keys, g_cols, packed;
  for (const auto& k : op_.keys) s_keys.push_back("`s`." + Id(k));
  for (const auto& col : c_.all) {
    const bool key = In(op_.keys, col);
    g_cols.push_back(key ? "`g`." + Id(col) : fmt::format("`g`.`__dl_w`.{0} AS {0}", Id(col)));
    if (!key) packed.push_back(fmt::format("{}, `s`.{}", SparkLiteral(col), Id(col)));
  }
  const std::string writer =
      packed.empty() ? "" : fmt::format("max_by(named_struct({}), `s`.`__dl_rn`) FILTER (WHERE "
                                        "`s`.`__dl_writer`) AS `__dl_w`, ",
                                        fmt::join(packed, ", "));
  return Sql(fmt::format(
      "CACHE TABLE {0} AS SELECT {1}, `g`.`__dl_e` AS {2}, CASE WHEN `g`.`__dl_cur` THEN {3} ELSE "
      "`g`.`__dl_end` END AS {4}, `g`.`__dl_cur` AS {5} FROM (SELECT {6}, {7}max(`s`.{8}) FILTER "
      "(WHERE `s`.`__dl_opener`) AS `__dl_e`, max(`s`.`__dl_next`) FILTER (WHERE `s`.`__dl_last`) "
      "AS `__dl_end`, bool_or(`s`.`__dl_last` AND `s`.`__dl_next` IS NULL) AS `__dl_cur` FROM {9} "
      "AS `s` LEFT SEMI JOIN {10} AS `t` ON {11} WHERE NOT `s`.{12} GROUP BY {6}, `s`.`__dl_vid`) "
      "AS `g`",
      Id(kVersions), fmt::join(g_cols, ", "), Id(op_.effective_column), c_.open_end,
      Id(op_.end_column), Id(op_.current_column), fmt::join(s_keys, ", "), writer, Id(kEff),
      Id(kSteps), Id(kTouched), Match(op_.keys, "t", "s"), del));
}

// Rows of applied txn versions whose batch id is not the one that landed it (attempts that
// lost a race or died before their MERGE): they can never land. Versions whose landed batch
// id is unknown are left alone (their rows are not read either), and so are rows above the
// applied version: another loader's attempt may be in flight. Old-layout rows (NULL batch
// id) above it were left by a crash before batch ids were: no attempt writes those now.
Status Scd2Plan::CleanStore() {
  std::vector<std::string> which;
  for (const auto& d : dead_) {
    if (d.known) which.push_back(d.Condition());
  }
  if (which.empty()) return Status::OK();
  return Sql(fmt::format("DELETE FROM {} WHERE {}", Store(), fmt::join(which, " OR ")));
}

// A clustered table is created by CREATE TABLE ... AS SELECT, which refuses a directory that
// holds anything, and the change store is written inside the table's directory before the
// batch's commit: so a clustered table's first batch with a store creates the table empty
// first (a commit carrying no batch), then stores its events and MERGEs into it as into an
// existing table (docs/spark_engine.md: the exactly-once argument is unchanged).
Status Scd2Plan::CreateClusteredTable() {
  const AppendOperation& rows = op_.rows;
  if (rows.table_columns || rows.clustering_columns.empty() || !op_.sequence_column) {
    return Status::OK();
  }
  // The versions' columns (CreateVersions), the SCD2 ones of the sequence type.
  std::vector<std::string> cols;
  for (const auto& col : c_.all) cols.push_back(Id(col));
  DL_RETURN_IF_ERROR(CreateEmptyTable(
      s_, rows,
      SqlRelation(fmt::format("SELECT {}, {} AS {}, {} AS {}, true AS {} FROM {}",
                              fmt::join(cols, ", "), Id(kEff), Id(op_.effective_column), Id(kSeq),
                              Id(op_.end_column), Id(op_.current_column), Id(kEvents)))));
  created_ = true;
  return Status::OK();
}

// Every event of the batch, tagged with its txn version and batch id, and a marker of the
// batch id that landed the applied version (so it is known once the log has moved on).
Status Scd2Plan::WriteChangeStore() {
  if (!op_.sequence_column || op_.rows.txn_version <= op_.applied_txn_version) {
    return Status::OK();  // no store; or the batch landed already (Delta skips the MERGE)
  }
  if (op_.change_store_columns) DL_RETURN_IF_ERROR(CleanStore());
  std::vector<std::string> cols, nulls;
  for (const auto& col : c_.all) {
    cols.push_back(Id(col));
    nulls.push_back(fmt::format("CAST(NULL AS {}) AS {}", c_.type.at(col), Id(col)));
  }
  AppendOperation store;
  store.table_root = op_.change_store_root;
  store.merge_schema = true;
  std::string rows = fmt::format(
      "SELECT {}, {} AS {}, {} AS {}, {} AS {}, {} AS {}, {} AS {} FROM {}",
      fmt::join(cols, ", "), Id(kDelete), Id(kStoreDelete), Id(kOrdinal), Id(kStoreBatch),
      Id(kFileOrderColumn), Id(kStoreFile), Id(kRowOrderColumn), Id(kStoreRow),
      SparkLiteral(op_.rows.batch_id), Id(kStoreBatchId), Id(kEvents));
  if (landed_) {
    rows += fmt::format(
        " UNION ALL SELECT {}, CAST(NULL AS BOOLEAN), CAST({} AS BIGINT), CAST(NULL AS BIGINT), "
        "CAST(NULL AS BIGINT), {}",
        fmt::join(nulls, ", "), op_.applied_txn_version, SparkLiteral(*landed_));
  }
  return s_.Execute(WritePlan(store, SqlRelation(rows))).status();
}

// The table's replaced rows (every row of a late key, the current row of another touched key)
// deleted and the versions inserted, in one MERGE; without a table, the versions create it
// (unless CreateClusteredTable did, with their columns and the properties).
Status Scd2Plan::Commit() {
  const AppendOperation& rows = op_.rows;
  DL_ASSIGN_OR_RETURN(auto written, ColumnsOf(s_, "SELECT * FROM " + Id(kVersions)));
  if (!rows.table_columns && !created_) {
    return WriteBatch(s_, rows, SqlRelation("SELECT * FROM " + Id(kVersions)));
  }
  if (rows.table_columns) {
    DL_RETURN_IF_ERROR(AddNewColumns(s_, rows, written));
    DL_RETURN_IF_ERROR(SetTableProperties(s_, rows));
  }
  std::vector<std::string> old, cols, values;
  for (const auto& c : written) {
    old.push_back(In(op_.keys, c.name) ? "`t`." + Id(c.name)
                                       : fmt::format("CAST(NULL AS {}) AS {}", c.type, Id(c.name)));
    cols.push_back(Id(c.name));
    values.push_back("`source`." + Id(c.name));
  }
  const std::string source = fmt::format(
      "SELECT {0}, true AS `__dl_old`, `t`.{1} AS `__dl_lk` FROM {2} AS `t` UNION ALL SELECT "
      "*, false, false FROM {3}",
      fmt::join(old, ", "), Id(kLate), Id(kTouched), Id(kVersions));
  const std::string merge = fmt::format(
      "MERGE INTO {0} AS `target` USING ({1}) AS `source` ON {2} AND `source`.`__dl_old` AND "
      "(`source`.`__dl_lk` OR `target`.{3} IS TRUE) WHEN MATCHED THEN DELETE WHEN NOT MATCHED "
      "AND NOT `source`.`__dl_old` THEN INSERT ({4}) VALUES ({5})",
      Table(), source, Match(op_.keys, "target", "source"), Id(op_.current_column),
      fmt::join(cols, ", "), fmt::join(values, ", "));
  return SqlWithTxn(s_, rows, merge).status();
}

Result<Scd2Outcome> Scd2Plan::Run(const ReadFiles& files) {
  DL_RETURN_IF_ERROR(
      CreateTypedView(s_, op_.rows, kBatchView, WithAuditColumns(op_.rows, files, true)));
  DL_RETURN_IF_ERROR(ResolveColumns());
  DL_RETURN_IF_ERROR(CreateEvents());
  if (op_.change_store_columns) DL_RETURN_IF_ERROR(OpenStore());
  DL_RETURN_IF_ERROR(CreateClusteredTable());
  // Stored before the steps read the store: a write after would make Spark re-plan the
  // cached steps, which read it, under the MERGE. (kLanded, read before, is re-read after
  // this write: the pairs it holds are facts, the same at any version.)
  DL_RETURN_IF_ERROR(WriteChangeStore());
  DL_RETURN_IF_ERROR(CreateLateKeys());
  DL_RETURN_IF_ERROR(CreateVersions());
  // The versions in all and per source file (the tracker's counts), in one query.
  Scd2Outcome out;
  const std::string& source_file = op_.rows.source_file_column;
  const std::string by_file = source_file.empty() ? "NULL" : Id(source_file);
  DL_ASSIGN_OR_RETURN(auto counted, s_.Sql(fmt::format("SELECT {}, count(1) FROM {} GROUP BY 1",
                                                       by_file, Id(kVersions))));
  for (const auto& r : counted.rows) {
    const int64_t n = std::stoll(r.at(1).value_or("0"));
    out.versions += n;
    if (!source_file.empty() && r.at(0)) out.rows_per_file[*r.at(0)] = n;
  }
  DL_RETURN_IF_ERROR(Commit());
  return out;
}

void Scd2Plan::Release() {
  for (const char* cached : {kVersions, kSteps, kLateKeys, kLanded, kEvents}) {
    (void)s_.Sql(fmt::format("UNCACHE TABLE IF EXISTS {}", Id(cached)));
  }
  for (const char* view :
       {kVersions, kTouched, kSteps, kLateKeys, kLanded, kBatchKeys, kEvents, kNewEvents}) {
    (void)s_.Sql("DROP VIEW IF EXISTS " + Id(view));
  }
  DropView(s_, kBatchView);
}

}  // namespace

Result<Scd2Outcome> SparkLoadEngine::Scd2(const Scd2Operation& given) {
  Scd2Operation op = given;  // its delete_condition in Spark SQL
  DL_RETURN_IF_ERROR(InSparkDialect(op.delete_condition, "delete_condition", op.rows));
  DL_RETURN_IF_ERROR(PrepareSession(*session_, op.rows));
  // As for merge: each row's file is mapped back to the plan's path in the batch view's own
  // scan (the tracker's counts are the versions per file), except with explicit columns,
  // where a count parses every value so a file that does not fit fails by name first.
  ReadFiles files;
  if (!op.rows.columns.empty()) {
    DL_RETURN_IF_ERROR(CountRowsPerFile(*session_, op.rows, files));
  }
  DL_RETURN_IF_ERROR(ReadSourceColumns(*session_, op.rows, files));
  Scd2Plan plan(*session_, op);
  Result<Scd2Outcome> out = plan.Run(files);
  plan.Release();
  if (!out.ok()) return ClassifyError(out.status(), op.rows);
  return out;
}

}  // namespace dl::engine::spark
