#include "dl/engine/duckdb/merge_sql.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "dl/engine/engine.hpp"

namespace dl::engine::duck {
namespace {

const std::string kSource = QuoteIdent("source");
const std::string kTarget = QuoteIdent("target");
const std::string kAction = QuoteIdent("__dl_action");
const std::string kFile = QuoteIdent("__dl_file");

std::string Q(const std::string& alias, const std::string& column) {
  return alias + "." + QuoteIdent(column);
}

std::string Slot(char side, size_t i) { return QuoteIdent(fmt::format("__dl_{}{}", side, i)); }

// The rows of `source_sql` passing `keep` (a condition on its columns; empty: every row).
std::string Kept(const std::string& source_sql, const std::string& keep) {
  return fmt::format("SELECT * FROM ({}) AS \"_dl_kept\" WHERE {}", source_sql,
                     keep.empty() ? "true" : "(" + keep + ")");
}

}  // namespace

MergeSql::MergeSql(MergeRules rules, std::vector<std::string> target_columns)
    : rules_(std::move(rules)),
      keys_(rules_.keys),
      target_columns_(std::move(target_columns)),
      audit_columns_(rules_.audit_columns) {}

void MergeSql::set_source_columns(std::vector<std::string> columns) {
  source_columns_ = std::move(columns);
}

// Keys never change (they matched); audit columns always say which load wrote the row.
bool MergeSql::Updatable(const std::string& column) const {
  if (std::count(keys_.begin(), keys_.end(), column)) return false;
  if (audit_columns_.count(column)) return true;
  const auto& only = rules_.update_columns;
  const auto& except = rules_.except_columns;
  if (!only.empty()) return std::count(only.begin(), only.end(), column) > 0;
  return std::count(except.begin(), except.end(), column) == 0;
}

std::string MergeSql::KeyJoin(const std::string& left, const std::string& right) const {
  std::vector<std::string> eq;
  for (const auto& k : keys_) eq.push_back(fmt::format("{} = {}", Q(left, k), Q(right, k)));
  return fmt::format("{}", fmt::join(eq, " AND "));
}

std::string MergeSql::Deduplicated(const Engine& engine, const std::string& source_sql,
                                   const std::string& keep) const {
  Deduplication dedup{keys_, {}, {kFileOrderColumn, kRowOrderColumn}, kDupCountColumn};
  if (rules_.sequence_column) dedup.order.push_back({*rules_.sequence_column, true});
  dedup.order.push_back({kFileOrderColumn, true});
  dedup.order.push_back({kRowOrderColumn, true});
  return engine.Deduplicate(Kept(source_sql, keep), dedup);
}

std::string MergeSql::DuplicateKeys(const std::string& source_sql, const std::string& keep) const {
  std::vector<std::string> partition;
  for (const auto& k : keys_) partition.push_back(QuoteIdent(k));
  return fmt::format(
      "SELECT count(*) FROM (SELECT 1 FROM ({}) WHERE {} GROUP BY {} HAVING count(*) > 1 LIMIT 1)",
      source_sql, keep.empty() ? "true" : "(" + keep + ")", fmt::join(partition, ", "));
}

std::string MergeSql::Distinct(const Engine& engine, const std::string& source_sql,
                               const std::string& keep) const {
  return fmt::format(
      "SELECT *, CAST(0 AS BIGINT) AS {} FROM ({}) AS \"_dl_distinct\"",
      QuoteIdent(kDupCountColumn),
      engine.WithoutColumns(Kept(source_sql, keep), {kFileOrderColumn, kRowOrderColumn}));
}

std::string MergeSql::CreateSource(const std::string& typed) const {
  const std::string is_delete =
      rules_.delete_condition ? fmt::format("coalesce(({}), false)", *rules_.delete_condition)
                              : "false";
  return fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT {}.*, {} AS {} FROM ({}) AS {}",
                     QuoteIdent(kSourceTable), kSource, is_delete, QuoteIdent(kDeleteColumn),
                     typed, kSource);
}

std::string MergeSql::SourceStats() const {
  return fmt::format("SELECT count(*) + coalesce(sum({0}), 0), coalesce(sum({0}), 0) FROM {1}",
                     QuoteIdent(kDupCountColumn), QuoteIdent(kSourceTable));
}

std::string MergeSql::SourceKeys() const {
  std::vector<std::string> cols;
  for (const auto& k : keys_) cols.push_back(QuoteIdent(k));
  return fmt::format("SELECT {} FROM {}", fmt::join(cols, ", "), QuoteIdent(kSourceTable));
}

std::string MergeSql::MatchPredicate() const { return KeyJoin("target", "source"); }

std::string MergeSql::MatchedAction() const {
  const std::string del = Q(kSource, kDeleteColumn);
  if (!rules_.merge_condition) return fmt::format("CASE WHEN {} THEN 2 ELSE 1 END", del);
  return fmt::format("CASE WHEN NOT coalesce(({}), false) THEN 0 WHEN {} THEN 2 ELSE 1 END",
                     *rules_.merge_condition, del);
}

std::string MergeSql::CreateHits(bool with_target_rows) const {
  std::vector<std::string> cols{
      fmt::format("{}.{} AS {}", kTarget, QuoteIdent("_dl_file"), kFile)};
  if (with_target_rows) {
    for (const auto& c : TargetColumnsUpdatesKeep()) cols.push_back(Q(kTarget, c));
    cols.push_back(Q(kTarget, "_dl_row"));
    if (row_ids_) cols.push_back(Q(kTarget, kRowIdColumn));
  }
  for (const auto& k : keys_) cols.push_back(Q(kSource, k));
  cols.push_back(MatchedAction() + " AS " + kAction);
  return fmt::format(
      "CREATE OR REPLACE TEMP TABLE {} AS SELECT {} FROM {} AS {} JOIN {} AS {} ON {}",
      QuoteIdent(kHitTable), fmt::join(cols, ", "), QuoteIdent(kScanView), kTarget,
      QuoteIdent(kSourceTable), kSource, KeyJoin(kTarget, kSource));
}

std::string MergeSql::SourceOutcomes(const std::string& file_column, bool with_hits) const {
  const std::string file = file_column.empty() ? "''" : Q(kSource, file_column);
  const std::string unmatched =
      fmt::format("CASE WHEN {} THEN 'absent_delete' ELSE 'insert' END", Q(kSource, kDeleteColumn));
  if (!with_hits) {
    return fmt::format("SELECT {}, {}, count(*) FROM {} AS {} GROUP BY 1, 2", file, unmatched,
                       QuoteIdent(kSourceTable), kSource);
  }
  std::vector<std::string> keys;
  for (const auto& k : keys_) keys.push_back(QuoteIdent(k));
  const std::string h = QuoteIdent("h");
  return fmt::format(
      "SELECT {0}, CASE WHEN {1}.{2} IS NULL THEN {3} WHEN {1}.{2} = 2 THEN 'delete' "
      "WHEN {1}.{2} = 1 THEN 'update' ELSE 'unchanged' END, count(*) FROM {4} AS {5} LEFT JOIN "
      "(SELECT {6}, max({2}) AS {2} FROM {7} GROUP BY ALL) AS {1} ON {8} GROUP BY 1, 2",
      file, h, kAction, unmatched, QuoteIdent(kSourceTable), kSource, fmt::join(keys, ", "),
      QuoteIdent(kHitTable), KeyJoin(kSource, h));
}

std::vector<std::string> MergeSql::TargetColumnsUpdatesKeep() const {
  std::vector<std::string> out;
  for (const auto& c : target_columns_) {
    if (std::count(keys_.begin(), keys_.end(), c)) continue;  // equal to the source's
    bool in_source = std::count(source_columns_.begin(), source_columns_.end(), c) > 0;
    // merge_condition may read any target column.
    if (rules_.merge_condition || !in_source || !Updatable(c)) out.push_back(c);
  }
  return out;
}

std::string MergeSql::CreateUpdatedTargetRows() const {
  // Columns an update overwrites are never read from the target (Output takes the source's).
  const auto kept = TargetColumnsUpdatesKeep();
  std::vector<std::string> cols;
  for (const auto& c : target_columns_) {
    bool key = std::count(keys_.begin(), keys_.end(), c) > 0;
    bool read = key || std::count(kept.begin(), kept.end(), c) > 0;
    cols.push_back(read ? QuoteIdent(c) : "NULL AS " + QuoteIdent(c));
  }
  if (row_ids_) {  // updated rows keep their id and take this commit's version
    cols.push_back(QuoteIdent(kRowIdColumn));
    cols.push_back("CAST(NULL AS BIGINT) AS " + QuoteIdent(kRowCommitVersionColumn));
  }
  return fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT {} FROM {} WHERE {} = 1",
                     QuoteIdent(kRewriteView), fmt::join(cols, ", "), QuoteIdent(kHitTable),
                     kAction);
}

std::string MergeSql::DeletedTargetRows() const {
  return fmt::format("SELECT {} AS {}, {} FROM {} WHERE {} > 0", kFile, QuoteIdent("_dl_file"),
                     QuoteIdent("_dl_row"), QuoteIdent(kHitTable), kAction);
}

std::string MergeSql::ChangedFiles() const {
  return fmt::format("SELECT DISTINCT {} FROM {} WHERE {} > 0", kFile, QuoteIdent(kHitTable),
                     kAction);
}

std::string MergeSql::CountUnmatchedTargetRows() const {
  return fmt::format("SELECT (SELECT count(*) FROM {}) - (SELECT count(*) FROM {})",
                     QuoteIdent(kTargetView), QuoteIdent(kHitTable));
}

std::string MergeSql::Output() const {
  const bool delete_unmatched = rules_.delete_unmatched;
  std::vector<std::string> inner, outer, inserts;
  for (size_t i = 0; i < target_columns_.size(); ++i) {
    inner.push_back(fmt::format("{} AS {}", Q(kTarget, target_columns_[i]), Slot('t', i)));
  }
  for (size_t j = 0; j < source_columns_.size(); ++j) {
    inner.push_back(fmt::format("{} AS {}", Q(kSource, source_columns_[j]), Slot('s', j)));
  }
  // Unmatched target rows have a NULL kDeleteColumn (it is never NULL in the source).
  inner.push_back(fmt::format("CASE WHEN {} IS NULL THEN {} ELSE {} END AS {}",
                              Q(kSource, kDeleteColumn), delete_unmatched ? 2 : 0, MatchedAction(),
                              kAction));
  auto source_index = [&](const std::string& c) {
    return std::find(source_columns_.begin(), source_columns_.end(), c) - source_columns_.begin();
  };
  for (size_t i = 0; i < target_columns_.size(); ++i) {
    const std::string& c = target_columns_[i];
    size_t j = source_index(c);
    bool in_source = j < source_columns_.size();
    outer.push_back(in_source && Updatable(c)
                        ? fmt::format("CASE WHEN {} = 1 THEN {} ELSE {} END AS {}", kAction,
                                      Slot('s', j), Slot('t', i), QuoteIdent(c))
                        : fmt::format("{} AS {}", Slot('t', i), QuoteIdent(c)));
    inserts.push_back(in_source ? Q(kSource, c) : "NULL");
  }
  for (size_t j = 0; j < source_columns_.size(); ++j) {
    const std::string& c = source_columns_[j];
    if (std::count(target_columns_.begin(), target_columns_.end(), c)) continue;
    outer.push_back(Updatable(c) ? fmt::format("CASE WHEN {} = 1 THEN {} END AS {}", kAction,
                                               Slot('s', j), QuoteIdent(c))
                                 : fmt::format("NULL AS {}", QuoteIdent(c)));
    inserts.push_back(Q(kSource, c));
  }
  if (row_ids_) {
    // A target row keeps its id; an updated one takes this commit's version (NULL), a copied
    // one keeps its version; inserts get fresh ids (NULL).
    const std::string id = QuoteIdent(kRowIdColumn);
    const std::string version = QuoteIdent(kRowCommitVersionColumn);
    inner.push_back(fmt::format("{} AS {}", Q(kTarget, kRowIdColumn), Slot('r', 0)));
    inner.push_back(
        fmt::format("{} AS {}", Q(kTarget, kRowCommitVersionColumn), Slot('r', 1)));
    outer.push_back(fmt::format("{} AS {}", Slot('r', 0), id));
    outer.push_back(fmt::format("CASE WHEN {} = 1 THEN NULL ELSE {} END AS {}", kAction,
                                Slot('r', 1), version));
    inserts.push_back("CAST(NULL AS BIGINT)");
    inserts.push_back("CAST(NULL AS BIGINT)");
  }
  std::vector<std::string> keys;
  for (const auto& k : keys_) keys.push_back(QuoteIdent(k));
  const std::string h = QuoteIdent("h");
  return fmt::format(
      "SELECT {0} FROM (SELECT {1} FROM {2} AS {3} LEFT JOIN {4} AS {5} ON {6}) WHERE {7} IN "
      "(0, 1) UNION ALL SELECT {8} FROM {4} AS {5} WHERE NOT {9} AND NOT EXISTS (SELECT 1 FROM "
      "{10} AS {11} WHERE {12})",
      fmt::join(outer, ", "), fmt::join(inner, ", "), QuoteIdent(kRewriteView), kTarget,
      QuoteIdent(kSourceTable), kSource, KeyJoin(kTarget, kSource), kAction,
      fmt::join(inserts, ", "), Q(kSource, kDeleteColumn), QuoteIdent(kHitTable), h,
      KeyJoin(h, kSource));
}

std::string MergeSql::InsertsOnly() const {
  std::vector<std::string> cols;
  for (const auto& c : source_columns_) cols.push_back(QuoteIdent(c));
  return fmt::format("SELECT {} FROM {} WHERE NOT {}", fmt::join(cols, ", "),
                     QuoteIdent(kSourceTable), QuoteIdent(kDeleteColumn));
}

}  // namespace dl::engine::duck
