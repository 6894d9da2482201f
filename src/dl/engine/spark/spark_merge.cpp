// Merge on Spark: the batch as a temp view (files, audit columns, delivery order), checked for
// NULL keys, deduplicated per key (last delivered wins) with each row's delete_condition, then
// ONE `MERGE INTO delta.`root`` whose commit carries our txn and metadata (Delta's session
// confs: a retried MERGE whose txn version was applied is skipped, as a retried write is).
// Without a table, the batch's inserts create it in one write with the same txn options.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "dl/engine/spark/spark_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_table.hpp"

namespace dl::engine::spark {
namespace {

constexpr const char* kBatchView = "__dl_merge_batch";
constexpr const char* kSourceView = "__dl_merge_src";
constexpr const char* kDeleteColumn = "__dl_delete";

std::string Q(const char* alias, const std::string& column) {
  return fmt::format("`{}`.{}", alias, SparkIdent(column));
}

std::string KeyJoin(const std::vector<std::string>& keys) {
  std::vector<std::string> eq;
  for (const auto& k : keys) eq.push_back(fmt::format("{} = {}", Q("target", k), Q("source", k)));
  return fmt::format("{}", fmt::join(eq, " AND "));
}

// Keys never change (they matched); audit columns always say which load wrote the row.
bool Updatable(const MergeOperation& op, const std::string& column) {
  const auto& keys = op.rows.dedup->keys;
  if (std::find(keys.begin(), keys.end(), column) != keys.end()) return false;
  const AppendOperation& r = op.rows;
  if (column == r.source_file_column || column == r.load_timestamp_column ||
      column == r.batch_id_column) {
    return true;
  }
  const auto& only = op.update_columns;
  if (!only.empty()) return std::find(only.begin(), only.end(), column) != only.end();
  const auto& except = op.except_columns;
  return std::find(except.begin(), except.end(), column) == except.end();
}

// Per source file and outcome (insert, update, delete, unchanged, absent_delete): rows.
std::string OutcomesQuery(const MergeOperation& op) {
  const std::string unmatched = fmt::format(
      "CASE WHEN {} THEN 'absent_delete' ELSE 'insert' END", Q("source", kDeleteColumn));
  if (!op.rows.table_columns) {
    return fmt::format("SELECT {}, {}, count(1) FROM {} AS `source` GROUP BY 1, 2",
                       Q("source", kFileColumn), unmatched, SparkIdent(kSourceView));
  }
  std::string cond;
  if (op.merge_condition) {
    cond = fmt::format(" WHEN NOT coalesce(({}), false) THEN 'unchanged'", *op.merge_condition);
  }
  return fmt::format(
      "SELECT {0}, CASE WHEN `target`.`__dl_hit` IS NULL THEN {1}{2} WHEN {3} THEN 'delete' "
      "ELSE 'update' END, count(1) FROM {4} AS `source` LEFT JOIN (SELECT *, true AS "
      "`__dl_hit` FROM delta.{5}) AS `target` ON {6} GROUP BY 1, 2",
      Q("source", kFileColumn), unmatched, cond, Q("source", kDeleteColumn),
      SparkIdent(kSourceView), SparkIdent(op.rows.table_root), KeyJoin(op.rows.dedup->keys));
}

std::string MergeStatement(const MergeOperation& op, const std::vector<Column>& written) {
  const std::string cond =
      op.merge_condition ? fmt::format(" AND coalesce(({}), false)", *op.merge_condition) : "";
  std::vector<std::string> sets, cols, values;
  for (const auto& c : written) {
    if (Updatable(op, c.name)) {
      sets.push_back(fmt::format("{} = {}", Q("target", c.name), Q("source", c.name)));
    }
    cols.push_back(SparkIdent(c.name));
    values.push_back(Q("source", c.name));
  }
  std::string sql = fmt::format(
      "MERGE INTO delta.{} AS `target` USING {} AS `source` ON {} WHEN MATCHED{} AND {} THEN "
      "DELETE",
      SparkIdent(op.rows.table_root), SparkIdent(kSourceView), KeyJoin(op.rows.dedup->keys), cond,
      Q("source", kDeleteColumn));
  if (!sets.empty()) {
    sql += fmt::format(" WHEN MATCHED{} THEN UPDATE SET {}", cond, fmt::join(sets, ", "));
  }
  sql += fmt::format(" WHEN NOT MATCHED AND NOT {} THEN INSERT ({}) VALUES ({})",
                     Q("source", kDeleteColumn), fmt::join(cols, ", "), fmt::join(values, ", "));
  if (op.delete_unmatched) sql += " WHEN NOT MATCHED BY SOURCE THEN DELETE";
  return sql;
}

// The configured columns must be in the files.
Status CheckColumns(const MergeOperation& op, const std::vector<Column>& columns) {
  const AppendOperation& rows = op.rows;
  const std::vector<std::string> data = DataColumns(rows, columns);
  for (const auto& k : rows.dedup->keys) {
    DL_RETURN_IF_ERROR(CheckPresent(data, k, "primary_keys", rows));
  }
  if (rows.dedup->sequence_column) {
    DL_RETURN_IF_ERROR(CheckPresent(data, *rows.dedup->sequence_column, "sequence_column", rows));
  }
  for (const auto& c : op.update_columns) {
    DL_RETURN_IF_ERROR(CheckPresent(data, c, "update_columns", rows));
  }
  for (const auto& c : op.except_columns) {
    DL_RETURN_IF_ERROR(CheckPresent(data, c, "except_columns", rows));
  }
  return Status::OK();
}

// kSourceView: the batch deduplicated, with each row's delete_condition; the fragments are
// analysed here (a Config error naming the key when they do not fit the data).
Status CreateSourceView(SparkSession& session, const MergeOperation& op, const Ranked& ranked) {
  const AppendOperation& rows = op.rows;
  const std::string is_delete =
      op.delete_condition ? fmt::format("coalesce(({}), false)", *op.delete_condition) : "false";
  const std::string source = fmt::format("SELECT `source`.*, {} AS {} FROM ({}) AS `source`",
                                         is_delete, SparkIdent(kDeleteColumn), KeptRows(ranked));
  Status st = CreateView(session, kSourceView, SqlRelation(source));
  if (!st.ok()) return op.delete_condition ? FragmentError(st, "delete_condition", op.rows) : st;
  if (!op.merge_condition) return Status::OK();
  // Before the table exists, the batch stands in for it (as on DuckDB).
  const std::string target =
      rows.table_columns ? "delta." + SparkIdent(rows.table_root) : SparkIdent(kSourceView);
  auto checked = ColumnsOf(session, fmt::format("SELECT coalesce(({}), false) FROM {} AS "
                                                "`source`, {} AS `target`",
                                                *op.merge_condition, SparkIdent(kSourceView),
                                                target));
  return checked.ok() ? Status::OK() : FragmentError(checked.status(), "merge_condition", op.rows);
}

// Without merge_condition, into a table: the batch's rows, the rows dedup keeps and those of
// them that are not deletes (the tracker's rows per file, all inserts until the MERGE's
// metrics split them into inserts and updates), and the NULL-key check, in one scan of the
// ranked batch; the MERGE's own is the only other.
Status CountKept(SparkSession& session, const MergeOperation& op, const Ranked& ranked,
                 MergeOutcome& out) {
  const AppendOperation& rows = op.rows;
  const std::string is_delete =
      op.delete_condition ? fmt::format("coalesce(({}), false)", *op.delete_condition) : "false";
  const NullKeyTests nulls = NullKeysOf(rows.dedup->keys, rows.dedup->sequence_column);
  DL_ASSIGN_OR_RETURN(
      auto counted,
      session.Sql(fmt::format("SELECT {0}, count(1), count_if({1} = 1), count_if({1} = 1 AND NOT "
                              "{2}), count_if({3}) FROM ({4}) AS `source` GROUP BY 1",
                              SparkIdent(kFileColumn), SparkIdent(kRankColumn), is_delete,
                              nulls.any_null, ranked.sql)));
  int64_t kept = 0, null_keys = 0;
  for (const auto& r : counted.rows) {
    out.source_rows += std::stoll(r.at(1).value_or("0"));
    kept += std::stoll(r.at(2).value_or("0"));
    const int64_t n = std::stoll(r.at(3).value_or("0"));
    out.inserted += n;
    null_keys += std::stoll(r.at(4).value_or("0"));
    if (!rows.source_file_column.empty()) out.rows_per_file[r.at(0).value_or("")] += n;
  }
  if (null_keys > 0) {
    DL_RETURN_IF_ERROR(
        CheckNullKeys(session, rows, kBatchView, rows.dedup->keys, rows.dedup->sequence_column));
    return Status::Internal("Spark counted NULL keys in {} that it then did not find",
                            rows.display_name);
  }
  out.collapsed = out.source_rows - kept;
  return Status::OK();
}

// The tracker's counts from each kept row's outcome against the table (a join with it).
Status CountOutcomes(SparkSession& session, const MergeOperation& op, MergeOutcome& out) {
  DL_ASSIGN_OR_RETURN(auto outcomes, session.Sql(OutcomesQuery(op)));
  int64_t kept = 0;
  for (const auto& r : outcomes.rows) {
    const std::string kind = r.at(1).value_or("");
    const int64_t n = std::stoll(r.at(2).value_or("0"));
    kept += n;
    if (kind == "insert") out.inserted += n;
    if (kind == "update") out.updated += n;
    if (kind == "delete") out.deleted += n;
    if (kind == "unchanged") out.unchanged += n;
    if (!op.rows.source_file_column.empty() && (kind == "insert" || kind == "update")) {
      out.rows_per_file[r.at(0).value_or("")] += n;
    }
  }
  out.collapsed = out.source_rows - kept;
  return Status::OK();
}

// Everything after the batch view exists; the caller drops the views.
Result<MergeOutcome> MergeViews(SparkSession& session, MergeOperation op) {
  const AppendOperation& rows = op.rows;
  DL_ASSIGN_OR_RETURN(auto columns, ColumnsOf(session, "SELECT * FROM " + SparkIdent(kBatchView)));
  DL_RETURN_IF_ERROR(CheckColumns(op, columns));
  // With quarantine, the bad rows leave the batch view here (and the commit records them).
  // Without, the counting scan below checks them: no scan of its own.
  if (op.quarantine) {
    DL_ASSIGN_OR_RETURN(auto recorded, SeparateNullKeys(session, rows, op.quarantine, kBatchView,
                                                        rows.dedup->keys,
                                                        rows.dedup->sequence_column));
    if (recorded) op.rows.user_metadata = std::move(*recorded);
  }
  MergeOutcome out;
  // Without merge_condition, every row dedup keeps is an insert or an update unless it is a
  // delete, so its file's count needs no join with the table (a scan of it as costly as the
  // MERGE's own): the MERGE's metrics then split inserts from updates, and CountKept checks
  // the keys. merge_condition leaves rows unchanged, which only the join tells.
  const bool split_by_merge = rows.table_columns && !op.merge_condition;
  if (!split_by_merge) {
    // Keys and sequence values must not be NULL; one scan also counts the batch's rows.
    DL_ASSIGN_OR_RETURN(out.source_rows,
                        CountRowsCheckingNullKeys(session, rows, kBatchView, rows.dedup->keys,
                                                  rows.dedup->sequence_column));
  }
  DL_ASSIGN_OR_RETURN(Ranked ranked, RankedQuery(rows, kBatchView, columns));
  DL_RETURN_IF_ERROR(CreateSourceView(session, op, ranked));
  // What is written: the batch's data and audit columns, not the hidden ones.
  std::vector<Column> written;
  for (const auto& c : columns) {
    if (c.name != kFileColumn && c.name != kFileOrderColumn && c.name != kRowOrderColumn) {
      written.push_back(c);
    }
  }

  DL_RETURN_IF_ERROR(split_by_merge ? CountKept(session, op, ranked, out)
                                    : CountOutcomes(session, op, out));

  if (!rows.table_columns) {
    std::vector<std::string> cols;
    for (const auto& c : written) cols.push_back(SparkIdent(c.name));
    const std::string inserts =
        fmt::format("SELECT {} FROM {} WHERE NOT {}", fmt::join(cols, ", "),
                    SparkIdent(kSourceView), SparkIdent(kDeleteColumn));
    DL_RETURN_IF_ERROR(WriteBatch(session, rows, SqlRelation(inserts)));
    return out;
  }
  DL_RETURN_IF_ERROR(AlignTableTypes(session, rows, written));
  DL_RETURN_IF_ERROR(AddNewColumns(session, rows, written));
  DL_RETURN_IF_ERROR(SetTableProperties(session, rows));
  DL_ASSIGN_OR_RETURN(auto merged, SqlWithTxn(session, rows, MergeStatement(op, written)));
  // num_affected_rows, num_updated_rows, num_deleted_rows, num_inserted_rows; none when
  // Delta skipped the MERGE (its txn version was applied): the caller finds that commit, and
  // the kept rows count as inserts. A matched row counts as updated even when no column is
  // updatable (no UPDATE clause), as on DuckDB and with the join.
  if (!merged.rows.empty() && merged.rows[0].size() == 4) {
    out.deleted = std::stoll(merged.rows[0][2].value_or("0"));  // with unmatched deletes
    if (split_by_merge) {
      const int64_t upserts = out.inserted;
      out.inserted = std::stoll(merged.rows[0][3].value_or("0"));
      out.updated = upserts - out.inserted;
    }
  }
  return out;
}

}  // namespace

Result<MergeOutcome> SparkLoadEngine::Merge(const MergeOperation& given) {
  MergeOperation op = given;  // its fragments in Spark SQL
  DL_RETURN_IF_ERROR(InSparkDialect(op.merge_condition, "merge_condition", op.rows));
  DL_RETURN_IF_ERROR(InSparkDialect(op.delete_condition, "delete_condition", op.rows));
  DL_RETURN_IF_ERROR(PrepareSession(*session_, op.rows));
  // Each row's file is mapped back to the plan's path in the view's own scan (no count
  // before: the NULL check counts the rows), except with explicit columns, where the count
  // parses every value so a file that does not fit fails by name before the MERGE.
  ReadFiles files;
  if (!op.rows.columns.empty()) {
    DL_RETURN_IF_ERROR(CountRowsPerFile(*session_, op.rows, files));
  }
  DL_RETURN_IF_ERROR(ReadSourceColumns(*session_, op.rows, files));
  Status st =
      CreateTypedView(*session_, op.rows, kBatchView, WithAuditColumns(op.rows, files, true));
  Result<MergeOutcome> out = st.ok() ? MergeViews(*session_, op) : Result<MergeOutcome>(st);
  (void)session_->Sql("DROP VIEW IF EXISTS " + SparkIdent(kSourceView));
  DropView(*session_, kBatchView, op.rows);
  if (!out.ok()) return ClassifyLoadError(*session_, out.status(), op.rows);
  return out;
}

}  // namespace dl::engine::spark
