// The DuckDB SQL of a merge (the steps are the strategy's: strategy/merge_strategy.cpp; the
// Spark engine plans its own MERGE INTO: engine/spark/spark_merge.cpp). Every identifier goes
// through QuoteIdent; config fragments (merge_condition, delete_condition) are parenthesised
// and were checked to be single balanced expressions when the config was read.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dl::engine {
class Engine;
}

namespace dl::engine::duck {

inline constexpr const char* kBatchView = "__dl_merge_batch";    ///< the projected batch
inline constexpr const char* kSourceTable = "__dl_merge_src";    ///< deduplicated, typed
inline constexpr const char* kTargetView = "__dl_merge_target";  ///< the whole table
inline constexpr const char* kScanView = "__dl_merge_scan";      ///< candidate files + _dl_file
inline constexpr const char* kHitTable = "__dl_merge_hits";      ///< matched target rows
inline constexpr const char* kRewriteView = "__dl_merge_rewrite";  ///< files rewritten
inline constexpr const char* kDupCountColumn = "__dl_dups";  ///< rows collapsed into this one
inline constexpr const char* kDeleteColumn = "__dl_delete";  ///< delete_condition held

/// What a merge does, from the table's config (the strategy's MergeRulesFor).
struct MergeRules {
  std::vector<std::string> keys;  ///< primary_keys
  std::optional<std::string> sequence_column;
  std::set<std::string> audit_columns;  ///< always updated: they say which load wrote the row
  std::vector<std::string> update_columns, except_columns;
  /// Checked config fragments: merge_condition over source.col and target.col,
  /// delete_condition over the source row.
  std::optional<std::string> merge_condition, delete_condition;
  bool delete_unmatched = false;  ///< when_not_matched_by_source: delete
};

class MergeSql {
 public:
  MergeSql(MergeRules rules, std::vector<std::string> target_columns);

  const std::vector<std::string>& keys() const { return keys_; }
  /// The columns of kSourceTable that came from the batch (data and audit columns).
  void set_source_columns(std::vector<std::string> columns);
  /// Row tracking: the scans carry row ids (engine::kRowIdColumn, kRowCommitVersionColumn) and
  /// Output gives each row the ids it keeps (table::WriteRequest::carries_row_ids): copied rows
  /// their id and commit version, updated rows their id, inserts none.
  void set_row_ids(bool row_ids) { row_ids_ = row_ids; }

  /// The batch rows passing `keep` (empty: all), one per key: the highest sequence_column,
  /// then the last delivered (file order, then row order); kDupCountColumn counts the others.
  std::string Deduplicated(const engine::Engine& engine, const std::string& source_sql,
                           const std::string& keep) const;
  /// One row, one column: 1 when two rows passing `keep` share a key, else 0 (reads only the
  /// key columns, so the windows of Deduplicated can be skipped for a batch without repeats).
  std::string DuplicateKeys(const std::string& source_sql, const std::string& keep) const;
  /// Deduplicated for a batch whose keys are all distinct: the rows passing `keep` as they are.
  std::string Distinct(const engine::Engine& engine, const std::string& source_sql,
                       const std::string& keep) const;
  /// CREATE kSourceTable from `typed` with kDeleteColumn (delete_condition IS TRUE).
  std::string CreateSource(const std::string& typed) const;
  /// Rows kept and rows collapsed, from kSourceTable.
  std::string SourceStats() const;
  /// The key columns of kSourceTable.
  std::string SourceKeys() const;
  /// "target.k = source.k AND ...".
  std::string MatchPredicate() const;
  /// CREATE kHitTable: per matched row of kScanView, its file, key and action (0 keep,
  /// 1 update, 2 delete); `with_target_rows` adds its `_dl_row` and the target columns an
  /// update keeps (for deletion vectors: the updated rows are written from kHitTable).
  std::string CreateHits(bool with_target_rows) const;
  /// Deletion vectors: kRewriteView as the matched target rows that are updated (from a
  /// kHitTable made with target rows); Output then writes just their new versions.
  std::string CreateUpdatedTargetRows() const;
  /// Deletion vectors: `_dl_file`, `_dl_row` of the target rows updated or deleted.
  std::string DeletedTargetRows() const;
  /// Per source row: (source file or '', outcome, count); outcome is insert, update, delete,
  /// unchanged or absent_delete. Without kHitTable (no table yet) every row is unmatched.
  std::string SourceOutcomes(const std::string& file_column, bool with_hits) const;
  /// Files of kHitTable with an update or delete.
  std::string ChangedFiles() const;
  /// Target rows no batch key matched (kTargetView minus kHitTable).
  std::string CountUnmatchedTargetRows() const;
  /// The rows to write: kRewriteView's rows as planned, then the inserts.
  std::string Output() const;
  /// The rows to write when there is no table yet: every row that is not a delete.
  std::string InsertsOnly() const;

 private:
  std::string MatchedAction() const;  // over source/target of a matched pair
  // Non-key target columns an update keeps or may read (not overwritten by the source).
  std::vector<std::string> TargetColumnsUpdatesKeep() const;
  bool Updatable(const std::string& column) const;
  std::string KeyJoin(const std::string& left, const std::string& right) const;

  MergeRules rules_;
  std::vector<std::string> keys_;
  std::vector<std::string> target_columns_;
  std::vector<std::string> source_columns_;
  std::set<std::string> audit_columns_;
  bool row_ids_ = false;
};

}  // namespace dl::engine::duck
