// The change store of an SCD2 plan with sequence_column (Scd2Plan, spark_scd2_plan.hpp):
// which of its events are read (of attempts whose MERGE landed), the clean-up of those that
// never land, the batch's events appended before its MERGE, the late keys replayed from it,
// and a clustered table created empty before the store is written in its directory. Why each
// event is read exactly once: the header comment of spark_scd2.cpp.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dl/delta/type_widening.hpp"
#include "dl/engine/spark/spark_scd2_plan.hpp"
#include "dl/engine/spark/spark_table.hpp"

namespace dl::engine::spark {

// kBatchKeys: every key of the events, with its earliest sequence value.
Status Scd2Plan::CreateBatchKeys() {
  std::vector<std::string> keys;
  for (const auto& k : op_.keys) keys.push_back(Id(k));
  return Sql(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {0} AS SELECT {1}, min({2}) AS `__dl_min` FROM {3} GROUP BY {1}",
      Id(kBatchKeys), fmt::join(keys, ", "), Id(kSeq), Id(kEvents)));
}

// kLateKeys: keys with an event earlier than their latest stored one (their history is
// replayed from the change store), from kStoreKeys: the latest sequence value of each batch
// key's stored events, of landed pairs at or below the applied version (as Stored() reads).
Status Scd2Plan::CreateLateKeys() {
  std::vector<std::string> keys, b_keys, s_keys;
  for (const auto& k : op_.keys) {
    keys.push_back(Id(k));
    b_keys.push_back("`b`." + Id(k));
    s_keys.push_back("`s`." + Id(k));
  }
  if (!op_.change_store_columns) {
    return Sql(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT {} FROM {} WHERE false",
                           Id(kLateKeys), fmt::join(keys, ", "), Id(kBatchKeys)));
  }
  DL_RETURN_IF_ERROR(Materialize(
      kLateKeys,
      fmt::format("SELECT {0} FROM {1} AS `b` JOIN (SELECT {2}, max(`s`.`__dl_max`) AS `__dl_max` "
                  "FROM {3} AS `s` LEFT JOIN {4} AS `l` ON `s`.`__dl_v` = `l`.`v` AND "
                  "`s`.`__dl_bid` = `l`.`id` WHERE {5} IS NOT NULL AND `s`.`__dl_v` <= {6} AND "
                  "(`s`.`__dl_bid` IS NULL OR `l`.`v` IS NOT NULL) GROUP BY {2}) AS `s` ON {7} "
                  "WHERE `b`.`__dl_min` < `s`.`__dl_max`",
                  fmt::join(b_keys, ", "), Id(kBatchKeys), fmt::join(s_keys, ", "), Id(kStoreKeys),
                  Id(kLanded), s_keys.front(), op_.applied_txn_version,
                  Match(op_.keys, "b", "s"))));
  // Without late keys the versions need no stored event (CreateVersions reads none).
  DL_ASSIGN_OR_RETURN(auto any, s_.Sql(fmt::format("SELECT 1 FROM {} LIMIT 1", Id(kLateKeys))));
  late_ = !any.rows.empty();
  return Status::OK();
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
  // Materialized, from one scan of the store: per (txn version, batch id) pair and key of the
  // batch (NULL for other keys' events and for markers), whether a marker says the pair
  // landed and its events' latest sequence value. Scanned: the rows at or below the applied
  // version, and old-layout ones (NULL batch id) above it for the clean-up; never those of
  // attempts in flight. The attempt's id makes a cached plan (servers before Spark 4.0) its
  // own: Spark's cache is shared by the server's sessions, and another loader's UNCACHE of an
  // equal plan would drop ours.
  std::vector<std::string> keys, k_keys;
  for (const auto& k : op_.keys) {
    keys.push_back(fmt::format("`k`.{0} AS {0}", Id(k)));
    k_keys.push_back("`k`." + Id(k));
  }
  DL_RETURN_IF_ERROR(Materialize(
      kStoreKeys,
      fmt::format("SELECT `s`.{0} AS `__dl_v`, `s`.{1} AS `__dl_bid`, {2}, bool_or(`s`.{3} IS "
                  "NULL) AS `__dl_marked`, max(`s`.{4}) FILTER (WHERE `s`.{3} IS NOT NULL) AS "
                  "`__dl_max`, {5} AS `__dl_owner` FROM {6} AS `s` LEFT JOIN {7} AS `k` ON {8} "
                  "WHERE `s`.{0} <= {9} OR `s`.{1} IS NULL GROUP BY `s`.{0}, `s`.{1}, {10}",
                  Id(kStoreBatch), Id(kStoreBatchId), fmt::join(keys, ", "), Id(kStoreDelete),
                  Id(*op_.sequence_column), SparkLiteral(op_.rows.batch_id), Store(),
                  Id(kBatchKeys), Match(op_.keys, "k", "s"), applied, fmt::join(k_keys, ", "))));
  // The pairs the plan needs: each of an applied version, and old-layout ones above it.
  DL_RETURN_IF_ERROR(Sql(fmt::format(
      "CREATE OR REPLACE TEMP VIEW {0} AS SELECT `__dl_v` AS `v`, `__dl_bid` AS `id`, "
      "bool_or(`__dl_marked`) AS `marked` FROM {1} WHERE (`__dl_bid` IS NOT NULL AND `__dl_v` <= "
      "{2}) OR (`__dl_bid` IS NULL AND `__dl_v` > {2}) GROUP BY `__dl_v`, `__dl_bid`",
      Id(kPairs), Id(kStoreKeys), applied)));
  DL_RETURN_IF_ERROR(ResolveLanded());
  std::string landed =
      fmt::format("SELECT `v`, `id` FROM {} WHERE `marked` AND `id` IS NOT NULL AND `v` <= {}",
                  Id(kPairs), applied);
  if (landed_) {
    landed += fmt::format(" UNION SELECT CAST({} AS BIGINT), {}", applied, SparkLiteral(*landed_));
  }
  DL_RETURN_IF_ERROR(Sql(fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", Id(kLanded), landed)));
  // For the clean-up: pairs of applied versions that did not land (known: the version's
  // landed id is), and old-layout rows above the applied version.
  DL_ASSIGN_OR_RETURN(
      auto dead,
      s_.Sql(fmt::format(
          "SELECT `p`.`v`, `p`.`id`, `p`.`id` IS NULL OR `k`.`v` IS NOT NULL FROM {0} AS `p` "
          "LEFT ANTI JOIN {1} AS `l` ON `p`.`v` = `l`.`v` AND `p`.`id` = `l`.`id` LEFT JOIN "
          "(SELECT DISTINCT `v` FROM {1}) AS `k` ON `p`.`v` = `k`.`v`",
          Id(kPairs), Id(kLanded))));
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
  DL_ASSIGN_OR_RETURN(auto ids, s_.Sql(fmt::format("SELECT `id`, `marked` FROM {} WHERE `v` = "
                                                   "{} AND `id` IS NOT NULL ORDER BY 2 DESC",
                                                   Id(kPairs), op_.applied_txn_version)));
  if (ids.rows.empty()) return Status::OK();
  if (ids.rows.size() == 1 || ids.rows[0].at(1).value_or("") == "true") {
    landed_ = ids.rows[0].at(0);
    return Status::OK();
  }
  return Status::InvalidArgument(
      "sequence_column: the SCD2 change store {} holds events of {} attempts at txn version {} "
      "of {} and the commit that applied it is no longer in the table's log: which attempt "
      "landed cannot be told",
      op_.change_store_root, ids.rows.size(), op_.applied_txn_version, op_.rows.display_name);
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

// The store's columns widened to the events' where the table's were (AlignTableTypes): an
// append of a wider type fails (DELTA_FAILED_TO_MERGE_FIELDS). The store is our own table, so
// it takes type widening whenever its table did (as the DuckDB engine's companion tables).
Status Scd2Plan::WidenStore() {
  DL_ASSIGN_OR_RETURN(auto stored, ColumnsOf(s_, "SELECT * FROM " + Store()));
  std::vector<std::string> changes;
  for (const auto& c : stored) {
    auto event = c_.type.find(c.name);
    if (event == c_.type.end() || event->second == c.type) continue;
    auto from = DeltaTypeOfSpark(c.type), to = DeltaTypeOfSpark(event->second);
    if (from && to && delta::IsTypeWidening(*from, *to)) {
      changes.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {}", Store(), Id(c.name),
                                    SparkType(*to)));
    }
  }
  if (changes.empty()) return Status::OK();
  DL_RETURN_IF_ERROR(Sql(fmt::format("ALTER TABLE {} SET TBLPROPERTIES ({} = 'true')", Store(),
                                     SparkLiteral(delta::kEnableTypeWideningKey))));
  for (const auto& change : changes) DL_RETURN_IF_ERROR(Sql(change));
  return Status::OK();
}

// Every event of the batch, tagged with its txn version and batch id, and a marker of the
// batch id that landed the applied version (so it is known once the log has moved on).
Status Scd2Plan::WriteChangeStore() {
  if (!op_.sequence_column || op_.rows.txn_version <= op_.applied_txn_version) {
    return Status::OK();  // no store; or the batch landed already (Delta skips the MERGE)
  }
  if (op_.change_store_columns) {
    DL_RETURN_IF_ERROR(CleanStore());
    DL_RETURN_IF_ERROR(WidenStore());
  }
  std::vector<std::string> cols, nulls;
  for (const auto& col : c_.all) {
    cols.push_back(Id(col));
    nulls.push_back(fmt::format("CAST(NULL AS {}) AS {}", SparkSqlType(c_.type.at(col)), Id(col)));
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

}  // namespace dl::engine::spark
