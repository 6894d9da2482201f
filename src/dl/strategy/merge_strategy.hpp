// Keyed and predicate rewrites of a table by one batch: merge (upsert, SCD Type 1) and
// overwrite's replace_where. Both are copy-on-write: only data files that hold affected rows
// are rewritten, and the commit removes exactly those (private to dl/strategy).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dl/strategy/load_strategy.hpp"

namespace dl::strategy {

/// loading_strategy: merge. The batch is deduplicated per primary key (the highest
/// sequence_column value, then the last delivered: file order, then row order), matched target
/// rows are updated (all columns, update_columns or all but except_columns) when
/// merge_condition holds, or deleted when delete_condition holds for the source row; other
/// batch rows are inserted. with when_not_matched_by_source: delete, target rows whose key is
/// not in the batch are deleted. A lost commit race is re-planned against the new snapshot a
/// bounded number of times.
Result<BatchOutcome> LoadMerge(table::TableContext& ctx, const Target& target, const Batch& batch,
                               const delta::CommitOptions& commit_options);

/// loading_strategy: overwrite with replace_where: target rows matching the predicate are
/// replaced by the batch; other rows stay. Every batch row must match the predicate.
Result<BatchOutcome> LoadReplaceWhere(table::TableContext& ctx, const Target& target,
                                      const Batch& batch,
                                      const delta::CommitOptions& commit_options);

namespace internal {

/// Config error naming `key` when `select` (a query using a config SQL fragment) does not
/// bind: an unknown column, a wrong type. Nothing is read: the query runs with LIMIT 0.
Status CheckBinds(engine::Engine& engine, const std::string& select, const char* key,
                  const Target& target);

/// A SELECT over `sql` (Delta-compatible columns) whose columns keep their names and order but
/// take the table's types where the table has them (new columns keep theirs). A type the
/// table cannot take is a SchemaMismatch naming the column.
Result<std::string> TypedLikeTable(engine::Engine& engine, const std::string& sql,
                                   const delta::Snapshot* snapshot);

/// The top-level column names of a query.
Result<std::vector<std::string>> ColumnsOf(engine::Engine& engine, const std::string& sql);

/// Run `attempt` (which plans against the latest snapshot and commits) until it succeeds or
/// fails without losing a commit race (it sets its flag when it lost one); after a bounded
/// number of re-plans, a CommitConflict naming the table and `what`.
Result<BatchOutcome> Replanning(const char* what, const Target& target,
                                const std::function<Result<BatchOutcome>(bool*)>& attempt);

/// Drop temp tables and views (errors ignored: they may not exist).
void DropRelations(engine::Engine& engine, const std::vector<std::string>& names);

}  // namespace internal
}  // namespace dl::strategy
