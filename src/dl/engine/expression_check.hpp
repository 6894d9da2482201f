// The SQL fragments a config or a command line may give (merge_condition, delete_condition,
// replace_where, `table scan|delete --where`) are checked here before any query uses them:
// parsed by the engine's own parser and accepted only as one scalar expression over the row,
// built from an allowlist of operators, functions and casts (docs/security.md). Anything
// else (subqueries, table functions, file/network/environment/settings access, lambdas,
// parameters, unknown functions) is refused.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine {

/// Which column qualifiers a fragment may use.
enum class Qualifiers {
  kAny,             ///< replace_where, --where: the table's columns (struct fields as a.b)
  kSourceOrTarget,  ///< merge_condition: every column as source.col or target.col
  kNotTarget,       ///< delete_condition: bare or source.col, never target.col
};

/// Longest fragment accepted, in bytes, and deepest expression nesting.
inline constexpr size_t kMaxFragmentBytes = 4096;
inline constexpr int kMaxFragmentDepth = 64;

/// The functions and operators (DuckDB's names, lower case) and the cast target types
/// (DuckDB's type ids: "INTEGER", "TIMESTAMP WITH TIME ZONE") a fragment may use.
const std::set<std::string, std::less<>>& AllowedFunctions();
const std::set<std::string, std::less<>>& AllowedCastTypes();

/// Checks `fragment` (named `key` in messages) and returns the name parts of every column it
/// references. InvalidArgument "<key>: <why>" naming the offending part on refusal.
Result<std::vector<std::vector<std::string>>> CheckExpression(Engine& engine,
                                                              std::string_view fragment,
                                                              std::string_view key,
                                                              Qualifiers qualifiers);

}  // namespace dl::engine
