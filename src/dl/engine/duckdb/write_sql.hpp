// SQL for WriteDataFiles: the SELECT that shapes rows into the table's data columns plus
// serialized partition keys, the row order (plain or Z-order), and parsing of COPY's stats.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/schema.hpp"
#include "dl/engine/duckdb/duckdb_handle.hpp"
#include "dl/engine/duckdb/row_tally.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

/// Engine::AlignToSchema's SELECT over (`sql`, whose result columns are `query_columns`).
/// InvalidArgument naming the column when a (nested) query column is not in the schema or its
/// type cannot become the schema's.
Result<std::string> AlignToSchemaSql(const std::string& sql,
                                     const std::vector<Column>& query_columns,
                                     const delta::Schema& schema);

/// Name of the i-th serialized partition key column in the COPY query (never written to files:
/// COPY's PARTITION_BY drops it from the data).
std::string PartitionKeyColumn(size_t i);

/// The SELECT over (`sql`, whose result columns are `query_columns`) that yields the table's
/// data columns in schema order, cast to the table types (NULL for columns the query lacks),
/// then one PartitionKeyColumn per partition column, in the requested order.
/// With `tally`, the string column options.count_rows_by goes through it (counted per value).
/// SchemaMismatch for query columns the table lacks; InvalidArgument for unknown partition or
/// order columns.
Result<std::string> BuildWriteSelect(const std::string& sql,
                                     const std::vector<Column>& query_columns,
                                     const delta::Schema& table_schema, const WriteOptions& options,
                                     const RowTally* tally = nullptr);

/// ORDER BY key for a Z-order over `columns` (already quoted references to rank columns in
/// [0, 2^bits)). Exposed for tests.
std::string ZOrderKeySql(const std::vector<std::string>& rank_columns, int bits);
/// Bits per column so the interleaved key fits a positive BIGINT.
int ZOrderBitsPerColumn(size_t num_columns);

/// '"st"."x"' (COPY ... RETURN_STATS column_statistics key) -> {"st", "x"}.
std::optional<std::vector<std::string>> ParseStatsKey(std::string_view key);

/// The table schema without the partition columns.
delta::Schema DataSchema(const delta::Schema& table_schema,
                         const std::vector<std::string>& partition_columns);

}  // namespace dl::engine::duck
