// The SQL of a merge (see merge_strategy.cpp for the steps). Every identifier goes through
// QuoteIdent; config fragments (merge_condition, delete_condition) are parenthesised and were
// checked to be single balanced expressions when the config was read.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"

namespace dl::engine {
class Engine;
}

namespace dl::strategy {

inline constexpr const char* kBatchView = "__dl_merge_batch";    ///< the projected batch
inline constexpr const char* kSourceTable = "__dl_merge_src";    ///< deduplicated, typed
inline constexpr const char* kTargetView = "__dl_merge_target";  ///< the whole table
inline constexpr const char* kScanView = "__dl_merge_scan";      ///< candidate files + _dl_file
inline constexpr const char* kHitTable = "__dl_merge_hits";      ///< matched target rows
inline constexpr const char* kRewriteView = "__dl_merge_rewrite";  ///< files rewritten
inline constexpr const char* kDupCountColumn = "__dl_dups";  ///< rows collapsed into this one
inline constexpr const char* kDeleteColumn = "__dl_delete";  ///< delete_condition held

/// What a merge did, per source row (after dedup) unless said otherwise.
struct MergeCounts {
  int64_t source_rows = 0;     ///< batch rows without bad rows, before dedup
  int64_t collapsed = 0;       ///< rows dropped as older deliveries of a key
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t deleted = 0;         ///< delete rows that matched the table
  int64_t unchanged = 0;       ///< matched, but merge_condition did not hold
  int64_t absent_deletes = 0;  ///< delete rows for keys the table does not hold
  int64_t unmatched_deleted = 0;  ///< target rows deleted by when_not_matched_by_source
  int64_t candidate_files = 0;    ///< files left after pruning by key stats
  int64_t rewritten_files = 0;
  int64_t deletion_vector_files = 0;  ///< files whose deletion vector grew instead
};

class MergeSql {
 public:
  MergeSql(const config::TableConfig& table, std::vector<std::string> target_columns);

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

  const config::TableConfig& table_;
  std::vector<std::string> keys_;
  std::vector<std::string> target_columns_;
  std::vector<std::string> source_columns_;
  std::set<std::string> audit_columns_;
  bool row_ids_ = false;
};

}  // namespace dl::strategy
