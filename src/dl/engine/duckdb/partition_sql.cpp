#include "dl/engine/duckdb/partition_sql.hpp"

#include <fmt/format.h>

#include "dl/engine/duckdb/duckdb_types.hpp"

namespace dl::engine::duck {

namespace {

bool IsPlainPrimitive(const delta::DataType& type) {
  if (type.kind == delta::DataType::Kind::kDecimal) return true;
  if (type.kind != delta::DataType::Kind::kPrimitive) return false;
  for (const char* name : {"string", "long", "integer", "short", "byte", "float", "double",
                           "boolean", "date", "timestamp", "timestamp_ntz"}) {
    if (type.name == name) return true;
  }
  return false;
}

Status NotPartitionable(const delta::DataType& type, const std::string& column) {
  return Status::Unsupported(
      "partition column '{}' has type {}, which cannot be a partition "
      "column",
      column, type.ToString());
}

}  // namespace

Result<std::string> PartitionToStringSql(const std::string& expr, const delta::DataType& type,
                                         const std::string& column) {
  if (!IsPlainPrimitive(type)) return NotPartitionable(type, column);
  if (type.is_primitive("timestamp")) {
    return fmt::format("strftime(timezone('UTC', {}), '%Y-%m-%dT%H:%M:%S.%fZ')", expr);
  }
  if (type.is_primitive("timestamp_ntz")) {
    return fmt::format("strftime({}, '%Y-%m-%d %H:%M:%S.%f')", expr);
  }
  if (type.is_primitive("string")) return fmt::format("NULLIF(CAST({} AS VARCHAR), '')", expr);
  // DuckDB prints dates as YYYY-MM-DD, booleans as true/false, decimals with their scale.
  return fmt::format("CAST({} AS VARCHAR)", expr);
}

Result<std::string> PartitionFromStringSql(const std::string& expr, const delta::DataType& type,
                                           const std::string& column) {
  if (!IsPlainPrimitive(type)) return NotPartitionable(type, column);
  if (type.is_primitive("string")) return fmt::format("NULLIF({}, '')", expr);
  if (type.is_primitive("timestamp")) {
    // With Z or an explicit offset the string is an instant; without, it is UTC wall time.
    return fmt::format(
        "CASE WHEN regexp_matches({0}, '(Z|[+-][0-9][0-9](:?[0-9][0-9])?)$') "
        "THEN CAST({0} AS TIMESTAMPTZ) ELSE timezone('UTC', CAST({0} AS TIMESTAMP)) END",
        fmt::format("NULLIF({}, '')", expr));
  }
  DL_ASSIGN_OR_RETURN(std::string duck_type, DuckDbTypeFromDelta(type));
  return fmt::format("CAST(NULLIF({}, '') AS {})", expr, duck_type);
}

}  // namespace dl::engine::duck
