// Helpers shared by the table operations (private to dl/table).
#pragma once

#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/delta/transaction.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/table/table.hpp"

namespace dl::table {
struct RowDeletes;
struct TableContext;
struct WriteResult;
}  // namespace dl::table

namespace dl::table::internal {

/// Add to `actions`, per file of `deletes`, the remove of its current version and the add of
/// the same file with a deletion vector of its old and new deleted rows (written under root);
/// a file left with no row is only removed. Counts go to `result`.
Status AddRowDeletes(FileSystem& fs, const std::string& root,
                     const std::vector<RowDeletes>& deletes, int64_t now_ms,
                     std::vector<delta::Action>& actions, WriteResult& result);

/// Change data feed: when `metadata` enables it and `actions` (a commit's file actions) both
/// remove and add data, write the changed rows (the removed files' rows against the added
/// files' rows, see engine::WriteChangeRowsSql; `keys` pair deletes and inserts into updates)
/// as cdc files under root/_change_data and append their cdc actions. When nothing changed
/// (rows only moved) the adds and removes become dataChange=false instead.
Status AddChangeData(TableContext& ctx, const std::string& root, const delta::Protocol& protocol,
                     const delta::Metadata& metadata, const delta::Schema& schema,
                     const std::vector<std::string>& keys, std::vector<delta::Action>& actions);

/// The remove action that retires `add` (carrying its deletion vector, per the protocol).
delta::RemoveFile RemoveFor(const delta::AddFile& add, int64_t now_ms, bool data_change);

/// Sum of numRecords over adds (files without stats count as 0).
int64_t CountRecords(const std::vector<delta::AddFile>& adds);
int64_t TotalBytes(const std::vector<delta::AddFile>& adds);

/// Unsupported naming the table and the rowTracking feature when row tracking is enabled on
/// `snapshot`: `what` would copy or update rows whose row ids its rows do not carry (see
/// WriteRequest::carries_row_ids).
Status RefuseRowIdRewrite(const delta::Snapshot* snapshot, const std::string& root,
                          std::string_view what);

/// The table's materialized row id and row commit version columns (BIGINT, in that order),
/// which files rewritten by a write carry beside the schema's columns to keep row ids stable
/// (PROTOCOL.md "Row Tracking"). Unsupported naming the table and the property when one is
/// not set.
Result<std::vector<delta::StructField>> MaterializedRowIdColumns(const delta::Snapshot& snapshot,
                                                                 const std::string& root);

/// Rows of `files` copied unchanged into new files (copy-on-write DELETE, OPTIMIZE): a query
/// over view `view` (registered here) and the schema to write it with. On a table with row
/// tracking enabled the query also has the materialized row tracking columns, so copied rows
/// keep their row ids and row commit versions.
struct CopiedRows {
  std::string sql;
  delta::Schema file_schema;
};
Result<CopiedRows> CopyRows(TableContext& ctx, const delta::Snapshot& snapshot,
                            const std::string& view, const std::vector<delta::AddFile>& files,
                            const std::string& root);

/// JSON array text of names, as Spark writes partitionBy/zOrderBy: ["a","b"].
std::string JsonList(const std::vector<std::string>& names);

}  // namespace dl::table::internal
