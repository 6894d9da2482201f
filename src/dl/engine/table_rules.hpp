// The SQL a Delta table stores (CHECK constraints, column invariants, generation expressions)
// is Spark SQL. The common subset is translated to the engine's dialect here; what does not
// translate, or what the engine would compute differently, is refused naming the rule.
#pragma once

#include <string>
#include <string_view>

#include "dl/common/status.hpp"
#include "dl/delta/schema.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine {

/// Spark SQL -> DuckDB: `ident` -> "ident", 'a\'b' and "a'b" -> 'a''b', <=> -> IS NOT
/// DISTINCT FROM, == -> =, div -> //, cast types (STRING, LONG, SHORT, BYTE, BINARY,
/// TIMESTAMP (with the session zone) -> TIMESTAMPTZ, TIMESTAMP_NTZ -> TIMESTAMP). Functions
/// outside a list whose Spark and DuckDB meanings agree, typed-literal suffixes (10L), ^ (XOR
/// in Spark), RLIKE and adjacent string literals are InvalidArgument saying what.
Result<std::string> TranslateSparkExpression(std::string_view spark_sql);

/// `spark_sql` translated and checked as a user fragment (expression_check: one scalar
/// expression, no file or network access), its columns present in `schema`. Unsupported
/// "<what> (<spark_sql>) cannot be evaluated by data_loader: <why>" otherwise.
Result<std::string> CompileTableExpression(Engine& engine, std::string_view spark_sql,
                                           const delta::Schema& schema, std::string_view what);

/// The rule of an identity column whose values only the table allocates
/// (delta.identity.allowExplicitInsert false): broken by a row that gives a value (not NULL).
RowRule IdentityValueGivenRule(const std::string& column);

/// `sql` with the NULLs of BIGINT `column` replaced by first, first + step, ... one value per
/// NULL (unique; which row gets which is the engine's choice), and how many were allocated.
struct IdentityAllocation {
  std::string sql;
  int64_t allocated = 0;
};
Result<IdentityAllocation> AllocateIdentityValues(Engine& engine, const std::string& sql,
                                                  const std::string& column, int64_t first,
                                                  int64_t step);

}  // namespace dl::engine
