// A Delta schema as Unity Catalog ColumnInfo objects (name, type_name, type_text, type_json,
// type_precision/scale, position, nullable, partition_index).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "dl/delta/schema.hpp"

namespace dl::catalog {

/// Spark's catalogString of a type: "bigint", "decimal(10,2)", "array<string>",
/// "struct<a:int,b:string>", "map<string,bigint>".
std::string TypeText(const delta::DataType& type);
/// Unity Catalog's ColumnTypeName: LONG, INT, STRING, DECIMAL, ARRAY, STRUCT, MAP, ...
std::string TypeName(const delta::DataType& type);

/// The table's columns in schema order; partition columns get partition_index.
nlohmann::json ColumnsJson(const delta::Schema& schema,
                           const std::vector<std::string>& partition_columns);

/// True when two ColumnInfo lists describe the same columns (name, type_text, nullable,
/// position, partition_index), whatever else a server adds.
bool SameColumns(const nlohmann::json& registered, const nlohmann::json& wanted);

}  // namespace dl::catalog
