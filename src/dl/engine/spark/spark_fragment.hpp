// Config fragments (merge_condition, delete_condition, replace_where) are DuckDB SQL, checked
// by DuckDB's own parser against an allowlist (engine/expression_check). Spark reads some of
// the same text otherwise ("x" is a string to it, a backslash escapes in its strings) and
// some functions and operators mean otherwise there (^ is XOR, log is natural, casts
// truncate). Each fragment reaches Spark compiled into Spark SQL that means the same, or is
// refused naming what to write instead (docs/spark_engine.md, "Config fragments on Spark").
#pragma once

#include <string>
#include <string_view>

#include "dl/common/status.hpp"

namespace dl::engine::spark {

/// `fragment` (DuckDB SQL that engine/expression_check accepted) as Spark SQL with the same
/// meaning under the session PrepareSession sets (ANSI on, UTC), read as DuckDB's lexer
/// (libpg_query's scan.l) splits it and grouped by its parentheses:
/// - names and strings get Spark's quoting ("a" -> `a`, '\' -> '\\'); comments become a
///   space;
/// - each allowlisted function, operator and cast becomes Spark SQL meaning what it means
///   on DuckDB (log -> refused, strpos -> instr, CAST(x AS INTEGER) rounds, LIKE patterns
///   keep backslashes literal, ...), with a run time error (raise_error) naming why where
///   only the value's type or value tells the meanings apart;
/// - operators the two grammars group otherwise (x LIKE 'a' = true) need parentheses.
/// InvalidArgument naming what cannot be carried over and what to write instead, as a
/// phrase ("`^` (power on DuckDB, XOR on Spark; ...) at '^ 2'").
Result<std::string> SparkFragment(std::string_view fragment);

}  // namespace dl::engine::spark
