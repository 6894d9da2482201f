// SQL of the change data feed (delta.enableChangeDataFeed): the change rows a write records in
// its cdc files, and the rows `table changes` shows for a range of commits. The views named
// here are registered by the caller (RegisterSnapshot / RegisterSnapshotWithFileColumn).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dl::engine {

inline constexpr const char* kChangeTypeColumn = "_change_type";
inline constexpr const char* kCommitVersionColumn = "_commit_version";
inline constexpr const char* kCommitTimestampColumn = "_commit_timestamp";

/// The rows a write changes, `columns` then `_change_type`. `old_view` holds the rows of the
/// files the write removes (as they were), `new_view` those of the files it adds. Rows of old
/// that new lacks (as multisets: copied rows cancel out) are deleted and rows of new that old
/// lacks inserted; a deleted and an inserted row with NULL-safe equal `keys` are an update's
/// `update_preimage` and `update_postimage`. Without keys: only deletes and inserts.
std::string WriteChangeRowsSql(const std::string& old_view, const std::string& new_view,
                               const std::vector<std::string>& columns,
                               const std::vector<std::string>& keys);

/// The change rows of a commit without cdc files, `columns` then `_change_type`: rows of
/// `removed_view` (the commit's data-changing removes) that no add of the commit keeps are
/// deletes, rows of `added_view` that were not there before are inserts. Both views come from
/// RegisterSnapshotWithFileColumn; a row is the same when its file path and row index are, so
/// a file re-added with a larger deletion vector yields only the rows newly deleted.
std::string InferredChangeRowsSql(const std::string& removed_view, const std::string& added_view,
                                  const std::vector<std::string>& columns);

/// One commit's change rows (a query with `_change_type`, e.g. over its cdc files).
struct CommitChanges {
  std::string sql;
  int64_t version = 0;
  int64_t timestamp_ms = 0;
};

/// The change feed of `commits` (at least one): their rows (matched by column name; columns a
/// commit lacks are NULL), `_commit_version` (BIGINT) and `_commit_timestamp` (TIMESTAMP, UTC),
/// in commit order.
std::string ChangeFeedSql(const std::vector<CommitChanges>& commits);

}  // namespace dl::engine
