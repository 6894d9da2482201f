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

#include <set>
#include <string>
#include <vector>

#include "dl/delta/constraints.hpp"
#include "dl/engine/spark/spark_scd2_plan.hpp"
#include "dl/engine/spark/spark_table.hpp"

namespace dl::engine::spark {
namespace {

// `alias`.col for the columns `have` holds, a typed NULL for the others.
std::string RowOf(const Scd2Columns& c, const std::set<std::string>& have,
                  const std::string& alias) {
  std::vector<std::string> out;
  for (const auto& col : c.all) {
    out.push_back(have.count(col) ? fmt::format("`{}`.{} AS {}", alias, Id(col), Id(col))
                                  : fmt::format("CAST(NULL AS {}) AS {}",
                                                SparkSqlType(c.type.at(col)), Id(col)));
  }
  return fmt::format("{}", fmt::join(out, ", "));
}

// The MERGE's INSERT names every version column but generated ones the batch lacks, which
// Delta computes (a version's NULL there broke the generation expression's constraint). An identity
// column is refused: the DuckDB engine keeps a replaced row's value in its versions, which Delta's
// MERGE cannot (GENERATED ALWAYS refuses given values; BY DEFAULT would take the NULL of a new
// version), so each closed version would change its surrogate key.
Result<std::set<std::string>> ComputedByDelta(const AppendOperation& rows) {
  std::set<std::string> out;
  if (!rows.table_columns) return out;
  const delta::Schema schema{*rows.table_columns};
  DL_ASSIGN_OR_RETURN(auto identities, delta::IdentityColumns(schema));
  if (!identities.empty()) {
    return Status::Unsupported(
        "table {} has identity column {} (writer feature identityColumns): SCD2 on the Spark "
        "engine cannot keep its values in the versions that replace rows; nothing was written "
        "(load it with engine: duckdb)",
        rows.display_name, identities.front().name);
  }
  for (const auto& g : delta::GeneratedColumns(schema)) out.insert(g.name);
  return out;
}

// The columns as one comparable value (a map's type comes from Spark's schema, `types`).
std::string Pack(const std::vector<std::string>& cols,
                 const std::map<std::string, std::string>& types) {
  if (cols.empty()) return "0";
  std::vector<std::string> fields;
  for (const auto& c : cols) {
    const auto type = DeltaTypeOfSpark(types.at(c));
    fields.push_back(
        fmt::format("{}, {}", SparkLiteral(c), type ? SparkComparable(Id(c), *type) : Id(c)));
  }
  return fmt::format("named_struct({})", fmt::join(fields, ", "));
}

}  // namespace

Status Scd2Plan::ResolveColumns() {
  const AppendOperation& rows = op_.rows;
  DL_ASSIGN_OR_RETURN(computed_, ComputedByDelta(rows));
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
  if (rows.table_columns) {
    // The batch's types against the table's, before anything is written (the table read
    // below then has any widened type). The effective and end columns hold the sequence
    // column's values: they widen with it.
    std::vector<Column> checked = batch;
    for (const auto& c : batch) {
      if (op_.sequence_column && c.name == *op_.sequence_column) {
        checked.push_back({op_.effective_column, c.type});
        checked.push_back({op_.end_column, c.type});
      }
    }
    DL_RETURN_IF_ERROR(AlignTableTypes(s_, rows, checked));
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
  // seq_type comes from Spark (its schema), not from the user.
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
        retired.push_back(
            fmt::format("CAST(NULL AS {}) AS {}", SparkSqlType(c_.type.at(col)), Id(col)));
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
  return Materialize(kEvents, events);
}

// kSteps, kTouched and kVersions over every event of the batch's keys: the new ones, the
// stored ones of late keys and the current versions of the others.
Status Scd2Plan::CreateVersions() {
  std::vector<std::string> parts;
  std::vector<std::string> cols;
  for (const auto& col : c_.all) cols.push_back("`e`." + Id(col));
  // Without late keys (the usual batch) no stored event is read and no key is late.
  const std::string late_join =
      late_ ? fmt::format(" LEFT JOIN (SELECT *, true AS `__dl_hit` FROM {}) AS `l` ON {}",
                          Id(kLateKeys), Match(op_.keys, "l", "e"))
            : "";
  parts.push_back(fmt::format(
      "SELECT {0}, `e`.{1}, `e`.{2}, `e`.{3}, `e`.{4}, `e`.{5}, {6} AS {7}, `e`.{8}, `e`.{9} "
      "FROM {10} AS `e`{11}",
      fmt::join(cols, ", "), Id(kSeq), Id(kEff), Id(kDelete), Id(kPseudo), Id(kOrdinal),
      late_ ? "`l`.`__dl_hit` IS NOT NULL" : "false", Id(kLate), Id(kFileOrderColumn),
      Id(kRowOrderColumn), Id(kEvents), late_join));
  if (late_) {
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
    const std::string not_late = late_ ? fmt::format(" LEFT ANTI JOIN {} AS `l` ON {}",
                                                     Id(kLateKeys), Match(op_.keys, "l", "o"))
                                       : "";
    parts.push_back(fmt::format(
        "SELECT {0}, CAST(NULL AS {1}), `o`.{2}, false, true, CAST(-1 AS BIGINT), false, CAST(0 "
        "AS BIGINT), CAST(0 AS BIGINT) FROM {3} AS `o` LEFT SEMI JOIN {4} AS `b` ON {5}{6} WHERE "
        "`o`.{7} IS TRUE",
        RowOf(c_, c_.in_table, "o"), c_.seq_type, Id(op_.effective_column), Table(), Id(kBatchKeys),
        Match(op_.keys, "b", "o"), not_late, Id(op_.current_column)));
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
      del, Id(kSeq), Pack(c_.tracked, c_.type), Pack(c_.untracked, c_.type),
      fmt::join(parts, " UNION ALL "), by_key, Id(kPseudo), Id(kOrdinal), Id(kFileOrderColumn),
      Id(kRowOrderColumn));
  DL_RETURN_IF_ERROR(Materialize(
      kSteps, fmt::format("SELECT *, sum(CAST(`__dl_opener` AS INT)) OVER (PARTITION BY {} ORDER "
                          "BY `__dl_rn` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS "
                          "`__dl_vid` FROM ({}) AS `__dl_f`",
                          by_key, flags)));
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
  return Materialize(
      kVersions,
      fmt::format(
          "SELECT {0}, `g`.`__dl_e` AS {1}, CASE WHEN `g`.`__dl_cur` THEN {2} ELSE `g`.`__dl_end` "
          "END AS {3}, `g`.`__dl_cur` AS {4} FROM (SELECT {5}, {6}max(`s`.{7}) FILTER (WHERE "
          "`s`.`__dl_opener`) AS `__dl_e`, max(`s`.`__dl_next`) FILTER (WHERE `s`.`__dl_last`) AS "
          "`__dl_end`, bool_or(`s`.`__dl_last` AND `s`.`__dl_next` IS NULL) AS `__dl_cur` FROM {8} "
          "AS `s` LEFT SEMI JOIN {9} AS `t` ON {10} WHERE NOT `s`.{11} GROUP BY {5}, "
          "`s`.`__dl_vid`) AS `g`",
          fmt::join(g_cols, ", "), Id(op_.effective_column), c_.open_end, Id(op_.end_column),
          Id(op_.current_column), fmt::join(s_keys, ", "), writer, Id(kEff), Id(kSteps),
          Id(kTouched), Match(op_.keys, "t", "s"), del));
}

// The table's replaced rows (every row of a late key, the current row of another touched key)
// deleted and the versions inserted, in one MERGE; without a table, the versions create it
// (unless CreateClusteredTable did, with their columns and the properties).
// Returns the MERGE's inserted rows (the versions): none after a write, or when Delta skipped
// the MERGE (its txn version was applied).
Result<std::optional<int64_t>> Scd2Plan::Commit() {
  const AppendOperation& rows = op_.rows;
  DL_ASSIGN_OR_RETURN(auto written, ColumnsOf(s_, "SELECT * FROM " + Id(kVersions)));
  if (!rows.table_columns && !created_) {
    DL_RETURN_IF_ERROR(WriteBatch(s_, rows, SqlRelation("SELECT * FROM " + Id(kVersions))));
    return std::optional<int64_t>();
  }
  if (rows.table_columns) {
    DL_RETURN_IF_ERROR(AddNewColumns(s_, rows, written));
    DL_RETURN_IF_ERROR(SetTableProperties(s_, rows));
  }
  std::vector<std::string> old, cols, values;
  for (const auto& c : written) {
    old.push_back(In(op_.keys, c.name)
                      ? "`t`." + Id(c.name)
                      : fmt::format("CAST(NULL AS {}) AS {}", SparkSqlType(c.type), Id(c.name)));
    // A generated column the batch holds is written: Delta refuses a value that disagrees.
    if (computed_.count(c.name) && !c_.in_batch.count(c.name)) continue;
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
  DL_ASSIGN_OR_RETURN(auto merged, SqlWithTxn(s_, rows, merge));
  // num_affected_rows, num_updated_rows, num_deleted_rows, num_inserted_rows
  if (merged.rows.empty() || merged.rows[0].size() != 4) return std::optional<int64_t>();
  return std::optional<int64_t>(std::stoll(merged.rows[0][3].value_or("0")));
}

// The versions in all and per source file (the tracker's counts), in one query.
Status Scd2Plan::CountVersions(Scd2Outcome& out) {
  const std::string& source_file = op_.rows.source_file_column;
  const std::string by_file = source_file.empty() ? "NULL" : Id(source_file);
  DL_ASSIGN_OR_RETURN(auto counted, s_.Sql(fmt::format("SELECT {}, count(1) FROM {} GROUP BY 1",
                                                       by_file, Id(kVersions))));
  for (const auto& r : counted.rows) {
    const int64_t n = std::stoll(r.at(1).value_or("0"));
    out.versions += n;
    if (!source_file.empty() && r.at(0)) out.rows_per_file[*r.at(0)] = n;
  }
  return Status::OK();
}

Result<Scd2Outcome> Scd2Plan::Run(const ReadFiles& files) {
  DL_RETURN_IF_ERROR(
      CreateTypedView(s_, op_.rows, kBatchView, WithAuditColumns(op_.rows, files, true)));
  DL_RETURN_IF_ERROR(ResolveColumns());
  DL_RETURN_IF_ERROR(CreateEvents());
  DL_RETURN_IF_ERROR(CreateBatchKeys());
  if (op_.change_store_columns) DL_RETURN_IF_ERROR(OpenStore());
  DL_RETURN_IF_ERROR(CreateClusteredTable());
  // The batch's events are stored before the MERGE that lands them, after the plan read the
  // store where the server checkpoints (a read after a write to it pays Delta's update of the
  // store's snapshot). Where it caches instead (Materialize), a write to the store re-plans
  // every cached result that read it, and the MERGE then computes them all again (most of a
  // batch's time on Spark 3.5): there the store is written as soon as its clean-up is known
  // (OpenStore), so only the store's pairs are read again. Either way the late keys and the
  // versions read only landed events at or below the applied version: the batch's own, at
  // its txn version above it, are never among them.
  DL_ASSIGN_OR_RETURN(const bool checkpoints, s_.CanCheckpoint());
  if (!checkpoints) DL_RETURN_IF_ERROR(WriteChangeStore());
  DL_RETURN_IF_ERROR(CreateLateKeys());
  DL_RETURN_IF_ERROR(CreateVersions());
  if (checkpoints) DL_RETURN_IF_ERROR(WriteChangeStore());
  // Without the source file column the MERGE's inserted rows are the versions (a job
  // fewer): they are counted only where no MERGE tells (a write, or a MERGE Delta skipped).
  Scd2Outcome out;
  const bool merge_counts =
      op_.rows.source_file_column.empty() && (op_.rows.table_columns || created_);
  if (!merge_counts) DL_RETURN_IF_ERROR(CountVersions(out));
  DL_ASSIGN_OR_RETURN(auto inserted, Commit());
  if (merge_counts && inserted) {
    out.versions = *inserted;
  } else if (merge_counts) {
    DL_RETURN_IF_ERROR(CountVersions(out));
  }
  return out;
}

// View `view` over the rows of `query`, computed once now: the plan's intermediate results,
// each read more than once. A local checkpoint where the server has them: its plan is just
// its rows, so the plan's writes (the change store, the MERGE) re-plan nothing that read
// the table or the store; a cached table's plan (CACHE TABLE, on servers before Spark 4.0)
// is re-planned on each such write, and the MERGE analyses it whole (seconds of a batch:
// docs/benchmarks.md).
Status Scd2Plan::Materialize(const char* view, const std::string& query) {
  DL_ASSIGN_OR_RETURN(auto checkpoint, s_.LocalCheckpoint(SqlRelation(query)));
  if (!checkpoint) return Sql(fmt::format("CACHE TABLE {} AS {}", Id(view), query));
  checkpoints_.push_back(*checkpoint);
  return CreateView(s_, view, std::move(*checkpoint));
}

void Scd2Plan::Release() {
  if (checkpoints_.empty()) {
    for (const char* cached : {kVersions, kSteps, kLateKeys, kStoreKeys, kEvents}) {
      (void)s_.Sql(fmt::format("UNCACHE TABLE IF EXISTS {}", Id(cached)));
    }
  }
  for (const auto& checkpoint : checkpoints_) (void)s_.ReleaseCheckpoint(checkpoint);
  for (const char* view : {kVersions, kTouched, kSteps, kLateKeys, kLanded, kPairs, kStoreKeys,
                           kBatchKeys, kEvents, kNewEvents}) {
    (void)s_.Sql("DROP VIEW IF EXISTS " + Id(view));
  }
  DropView(s_, kBatchView, op_.rows);
}

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
  if (!out.ok()) return ClassifyLoadError(*session_, out.status(), op.rows);
  return out;
}

}  // namespace dl::engine::spark
