// JSON text straight from DuckDB vectors, for reading checkpoints fast: struct members that are
// NULL are omitted (as Spark writes actions), map values and list elements that are NULL stay
// null (a partition value can be null). Maps become objects.
#pragma once

#include <duckdb.h>

#include <string>
#include <vector>

namespace dl::engine::duck {

/// How to print one DuckDB type, computed once per column.
struct JsonPlan {
  duckdb_type id = DUCKDB_TYPE_INVALID;
  std::vector<std::string> member_prefixes;  // struct: "\"name\":" per member
  std::vector<JsonPlan> children;            // struct members, list element, map key + value
  size_t array_size = 0;                     // fixed-size ARRAY
};

JsonPlan MakeJsonPlan(duckdb_logical_type type);

/// Append the JSON of the (valid) value at `row` of flat vector `v`.
void AppendJson(const JsonPlan& plan, duckdb_vector v, idx_t row, std::string& out);

/// Append `text` as a JSON string literal.
void AppendJsonString(std::string_view text, std::string& out);

}  // namespace dl::engine::duck
