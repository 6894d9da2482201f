// The SCD2 strategy's DuckDB SQL: how a key's events (in event order) become its versions.
// The strategy (strategy/scd2_*.cpp) asks for these relations and runs them on the DuckDB
// engine; the Spark engine plans SCD2 itself (engine/spark/spark_scd2.cpp).
//
// Every key's timeline is the result of applying its events one at a time, but that replay is
// expressible with window functions because of two facts:
// - after an upsert event, the current version's tracked values are that event's (it either
//   matched them or opened a new version with them), so an upsert opens a new version exactly
//   when the previous event is absent, a delete, or has other tracked values;
// - likewise the current version's untracked values are the previous event's, so an upsert
//   rewrites the version in place exactly when it opens it or its untracked values differ
//   from the previous event's. The version's row is its last such "writer".
// A version ends at the event after its last member (the next opener or a delete).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dl/engine/engine.hpp"

namespace dl::engine::duck::scd2 {

// Columns of the event relation (beside the keys and value columns) and of the change store.
inline constexpr const char* kSeq = "__dl_seq";        ///< the event's position in time
inline constexpr const char* kEff = "__dl_eff";        ///< effective value if it opens a version
inline constexpr const char* kDelete = "__dl_delete";  ///< the event is a delete
inline constexpr const char* kPseudo = "__dl_pseudo";  ///< a key's current version, as an event
inline constexpr const char* kBatch = "__dl_batch";    ///< the batch's ordinal (ties on seq)
inline constexpr const char* kLate = "__dl_late";      ///< the key's history is replayed
inline constexpr const char* kId = "__dl_id";          ///< the event's unique id

inline constexpr const char* kStoreDelete = "_dl_event_delete";
inline constexpr const char* kStoreBatch = "_dl_event_batch";
inline constexpr const char* kStoreFile = "_dl_event_file";
inline constexpr const char* kStoreRow = "_dl_event_row";

/// Column names the SQL is built from (quoted here, never by the caller).
struct Columns {
  std::vector<std::string> keys;
  std::vector<std::string> tracked;    ///< a change here opens a new version
  std::vector<std::string> untracked;  ///< a change here updates the current one in place
  /// Every column a version row carries besides keys and the SCD2 columns: tracked,
  /// untracked, the sequence column and the audit columns.
  std::vector<std::string> values;
  std::vector<std::string> columns;  ///< keys and values, in the order the table has them
  std::string effective, end, current;
  std::string open_end = "NULL";  ///< SQL expression of the open end value
  /// The events' unique id: the rowid of a table, or a column.
  std::string event_id = "rowid";
};

/// "a.k1 = b.k1 AND a.k2 = b.k2"
std::string KeyMatch(const std::vector<std::string>& keys, const std::string& a,
                     const std::string& b);

/// The step flags of each event of `events` (a relation with keys, tracked and untracked
/// columns, the event id, kSeq, kEff, kDelete, kPseudo, kLate, kBatch and the file/row order
/// columns): keys, kId, kDelete, kEff, kPseudo, kLate, __dl_rn (position in its key),
/// __dl_opener, __dl_writer, __dl_closes (a delete that closes a version), __dl_last (last
/// member of its version), __dl_next (the next event's kSeq) and __dl_vid (version number
/// within the key).
std::string StepsSql(const Columns& c, const std::string& events);

// `steps`, `touched`, `versions` and `rewritten` below are relations: a (quoted) table name
// or a parenthesised query.

/// Keys (and kLate) whose versions change: some non-pseudo event opens, writes or closes.
std::string TouchedKeysSql(const Columns& c, const std::string& steps);

/// The version rows (keys, values, effective, end, current) of the keys in `touched`; the
/// values are the writing event's row of `events` (a relation with kId).
std::string VersionsSql(const Columns& c, const std::string& steps, const std::string& touched,
                        const std::string& events);

/// The rows a copy-on-write commit writes: rows of `rewritten` (the old files' rows) whose
/// key is untouched, closed versions of touched keys folded onto their current version (not
/// late), and `versions`. `rewritten` empty: only the versions (a new table).
std::string OutputSql(const Columns& c, const std::string& rewritten, const std::string& touched,
                      const std::string& versions);

/// The rows of `old` (the table's files holding batch keys) that OutputSql would not copy:
/// every row of a late key (its history is rebuilt) and the current row of every other touched
/// key (closed or replaced).
std::string ReplacedSql(const Columns& c, const std::string& old, const std::string& touched);

/// Deletion vectors: the `_dl_file`, `_dl_row` of ReplacedSql's rows.
std::string ReplacedRowsSql(const Columns& c, const std::string& old, const std::string& touched);

/// What a version keeps of the row it replaces: the replaced row (of `replaced`, ReplacedSql)
/// of its key with its effective value (one to one: ties on both sides are paired in end
/// order) is the same row, closed or updated.
struct KeptFromReplaced {
  /// Row tracking (`replaced` over a view with row ids): the version gets engine::kRowIdColumn
  /// and kRowCommitVersionColumn: the row's id, and its commit version too when none of the
  /// `compared` columns (those the table had) changed; new versions get none (fresh ids, this
  /// commit's version).
  bool row_ids = false;
  std::vector<std::string> compared;
  /// Identity columns: a version whose events left them NULL keeps the row's values; new
  /// versions stay NULL (allocated by the write).
  std::vector<std::string> identity;
};
std::string VersionsKeepingSql(const Columns& c, const std::string& versions,
                               const std::string& replaced, const KeptFromReplaced& kept);

// -- Around the steps (scd2_history_sql.cpp; strategy/scd2_strategy.cpp and scd2_history.cpp
// run them): the open end, the batch's events, retire events, stored events, late keys, all
// events, the files and the change-store rows.

/// `value` (text) as a value of `type` (an engine type: DescribeColumns), for Columns::open_end;
/// and a query of one row and column: that value, or NULL when `value` is not one of `type`.
std::string OpenEndSql(const std::string& value, const std::string& type);
std::string OpenEndCheckSql(const std::string& value, const std::string& type);

/// `column` as a NULL text column (what delete_condition reads of a column no row has).
std::string NullColumnSql(const std::string& column);

/// The batch's events: the rows of `rows` at their `sequence_column` value or, without one
/// (empty), at the batch's load time `load_time` (text, UTC), in batch `batch`.
std::string BatchEventsSql(const std::string& sequence_column, const std::string& load_time,
                           int64_t batch, const std::string& rows);

/// INSERT into `events` a delete for every current key of `target` (a snapshot relation)
/// that `events` lacks, at `events`' latest kSeq (also as `sequence_column` unless empty),
/// in batch `batch` after every file of it (`file_order`).
std::string InsertRetireEventsSql(const Columns& c, const std::string& events,
                                  const std::string& target, const std::string& sequence_column,
                                  int64_t batch, const std::string& file_order);

/// The stored events rebuilt from `target`'s versions: each version as an upsert at its
/// effective value (`columns`: the target's columns it carries besides the sequence column),
/// and a delete where a closed version ends without another starting.
std::string SeedStoreSql(const Columns& c, const std::string& target,
                         const std::string& sequence_column,
                         const std::vector<std::string>& columns);

/// Per key of `events`: its earliest kSeq (__dl_min).
std::string BatchKeysSql(const Columns& c, const std::string& events);
/// No late keys: the key columns of `batch_keys`, no row.
std::string NoLateKeysSql(const Columns& c, const std::string& batch_keys);
/// The keys of `batch_keys` with an event earlier than their latest one in `store`.
std::string LateKeysSql(const Columns& c, const std::string& batch_keys,
                        const std::string& sequence_column, const std::string& store);
/// UPDATE `events`: kLate for the keys of `late`.
std::string MarkLateSql(const Columns& c, const std::string& events, const std::string& late);

/// The events of `store` (`columns`: the row columns it has) of the keys in `late`.
std::string StoredEventsSql(const Columns& c, const std::string& store,
                            const std::vector<std::string>& columns,
                            const std::string& sequence_column, const std::string& late);
/// The current versions (of `key_rows`, the table's rows; `columns`: the row columns the
/// table has) of the keys in `batch_keys` but not in `late`, as pseudo events with a NULL
/// kSeq of type `seq_type`.
std::string PseudoEventsSql(const Columns& c, const std::string& key_rows,
                            const std::vector<std::string>& columns, const std::string& seq_type,
                            const std::string& batch_keys, const std::string& late);
/// `events`, then `stored` and `pseudo` (each empty when absent), by column name.
std::string AllEventsSql(const std::string& events, const std::string& stored,
                         const std::string& pseudo);

/// The distinct `_dl_file` of the rows of `old` whose key is in `touched`.
std::string TouchedFilesSql(const Columns& c, const std::string& old, const std::string& touched);

/// The change store's rows of `events` (kDelete, kBatch and the order columns as kStore*),
/// after every row of `seed` (a rebuilt store; empty: none).
std::string ChangeStoreRowsSql(const Columns& c, const std::string& events,
                               const std::string& seed);

}  // namespace dl::engine::duck::scd2
