// The rules a Delta table puts on every row written to it, as the table stores them (Spark SQL
// text): CHECK constraints (metaData.configuration `delta.constraints.<name>`), column
// invariants (field metadata `delta.invariants`) and generated columns (field metadata
// `delta.generationExpression`). Evaluating them is the engine's job (engine/table_rules.hpp).
#pragma once

#include <cstdint>
#include <optional>
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

/// An identity column (field metadata delta.identity.*): values start + k * step, k >= 0,
/// allocated above the high-water mark (the highest value generated so far; none yet: absent).
struct IdentityColumn {
  std::string name;
  int64_t start = 1;
  int64_t step = 1;
  std::optional<int64_t> high_water_mark;
  bool allow_explicit_insert = false;
};
inline constexpr std::string_view kIdentityStartKey = "delta.identity.start";
inline constexpr std::string_view kIdentityStepKey = "delta.identity.step";
inline constexpr std::string_view kIdentityHighWaterMarkKey = "delta.identity.highWaterMark";
inline constexpr std::string_view kIdentityAllowExplicitInsertKey =
    "delta.identity.allowExplicitInsert";

/// Identity columns (top-level, as Spark allows them). CorruptLog naming the column when
/// start or step is missing or not an integer, or step is 0.
Result<std::vector<IdentityColumn>> IdentityColumns(const Schema& schema);

/// `schema` with the high-water mark of identity column `column` set to `value`.
Schema WithHighWaterMark(const Schema& schema, const std::string& column, int64_t value);

/// The configuration key of constraint `name`, and the name as tables store it (lower case).
/// InvalidArgument for an empty name or one with characters other than letters, digits and _.
Result<std::string> ConstraintKey(std::string_view name);

}  // namespace dl::delta
