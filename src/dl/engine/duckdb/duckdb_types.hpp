// Two-way mapping between DuckDB types and Delta types.
//
// DuckDB -> Delta:
//   BIGINT long, INTEGER integer, SMALLINT short, TINYINT byte, FLOAT float, DOUBLE double,
//   DECIMAL(p,s) decimal(p,s), VARCHAR string, BLOB binary, BOOLEAN boolean, DATE date,
//   TIMESTAMP WITH TIME ZONE timestamp, TIMESTAMP timestamp_ntz, LIST/ARRAY array, MAP map,
//   STRUCT struct. DuckDB has no NOT NULL in result types, so every field is nullable.
// Types with no Delta equivalent are cast before writing:
//   UTINYINT->SMALLINT, USMALLINT->INTEGER, UINTEGER->BIGINT, UBIGINT->DECIMAL(20,0),
//   HUGEINT->DECIMAL(38,0), TIMESTAMP_S/MS/NS->TIMESTAMP, UUID/ENUM/JSON->VARCHAR,
//   TIME/TIME WITH TIME ZONE->VARCHAR ("HH:MM:SS[.ffffff]" text: Delta has no time type),
//   NULL-typed columns->VARCHAR.
// Rejected (Unsupported naming the column and the type): UHUGEINT, INTERVAL, BIT, UNION,
//   BIGNUM and anything else unknown.
#pragma once

#include <duckdb.h>

#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/schema.hpp"
#include "dl/engine/duckdb/duckdb_handle.hpp"

namespace dl::engine::duck {

/// The Delta type for a DuckDB type, and whether values need a cast to reach it.
struct DeltaTypeMapping {
  delta::DataTypePtr type;
  bool needs_cast = false;
};

/// `column` names the column in errors (a dotted path for nested fields).
Result<DeltaTypeMapping> DeltaTypeFromDuckDb(duckdb_logical_type type, const std::string& column);

/// The DuckDB type (SQL text) that stores a Delta type: "BIGINT", "STRUCT(\"a\" INTEGER)[]".
/// Unsupported for variant and unknown primitives.
Result<std::string> DuckDbTypeFromDelta(const delta::DataType& type);

/// Readable DuckDB type for messages and comparisons: "INTERVAL", "STRUCT(a INTEGER)".
std::string DuckDbTypeName(duckdb_logical_type type);

/// The Delta schema of result columns (all nullable). Duplicate names (case-insensitive, as
/// in Delta) are InvalidArgument.
Result<delta::Schema> SchemaFromColumns(const std::vector<Column>& columns);

/// SELECT over (`sql`) that casts `columns` (its result columns) to Delta-compatible types.
Result<std::string> DeltaCompatibleSelectSql(const std::string& sql,
                                             const std::vector<Column>& columns);

}  // namespace dl::engine::duck
