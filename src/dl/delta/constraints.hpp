// The rules a Delta table puts on every row written to it, as the table stores them (Spark SQL
// text): CHECK constraints (metaData.configuration `delta.constraints.<name>`), column
// invariants (field metadata `delta.invariants`) and generated columns (field metadata
// `delta.generationExpression`). Evaluating them is the engine's job (engine/table_rules.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"

namespace dl::delta {

inline constexpr std::string_view kConstraintPrefix = "delta.constraints.";
inline constexpr std::string_view kInvariantsKey = "delta.invariants";
inline constexpr std::string_view kGenerationExpressionKey = "delta.generationExpression";

/// One rule: its name for messages (the constraint name, or the column) and the SQL text.
struct TableExpression {
  std::string name;
  std::string expression;
};

/// CHECK constraints of a table configuration, by name (as stored: Spark lower-cases them).
std::vector<TableExpression> CheckConstraints(const StringMap& configuration);

/// Column invariants (`{"expression": {"expression": "<sql>"}}`), named by their column's path.
/// CorruptLog naming the column when the metadata value is not that JSON.
Result<std::vector<TableExpression>> ColumnInvariants(const Schema& schema);

/// Generated columns (top-level, as Spark allows them), named by the column.
std::vector<TableExpression> GeneratedColumns(const Schema& schema);

/// The configuration key of constraint `name`, and the name as tables store it (lower case).
/// InvalidArgument for an empty name or one with characters other than letters, digits and _.
Result<std::string> ConstraintKey(std::string_view name);

}  // namespace dl::delta
