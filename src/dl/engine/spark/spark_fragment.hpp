// Config fragments (merge_condition, delete_condition, replace_where) are DuckDB SQL, checked
// by DuckDB's own parser (engine/expression_check). Spark reads some of the same text
// otherwise: "x" is a string to it, a backslash escapes in its string literals, and its LIKE
// escapes with a backslash where DuckDB's has no escape character. Each fragment reaches Spark
// compiled into Spark SQL that means the same.
#pragma once

#include <string>
#include <string_view>

#include "dl/common/status.hpp"

namespace dl::engine::spark {

/// `fragment` (DuckDB SQL that engine/expression_check accepted) as Spark SQL with the same
/// meaning, rewritten token by token as DuckDB's lexer (libpg_query's scan.l) splits it:
/// - "name" ("" a quote) -> `name` (`` a backquote); a bare name with a character Spark's
///   bare names lack ($, non-ASCII) is backquoted too;
/// - '...' ('' a quote, a backslash a plain character; strings split only by whitespace with
///   a newline are one) and $tag$...$tag$ -> '...' with Spark's escapes (\\ and \');
/// - the pattern of a LIKE or ILIKE without ESCAPE that is one string: each backslash doubled;
/// - comments -> a space, 1_000 -> 1000; everything else as written.
/// InvalidArgument naming what cannot be carried over, as a phrase ("an E'...' string at
/// ..."): E'', B'', X'', N'' and U&'' strings, U&"" names, parameters, a character outside
/// DuckDB's operators and punctuation, a backslash in a string after a LIKE or ILIKE whose
/// pattern is not one string.
Result<std::string> SparkFragment(std::string_view fragment);

}  // namespace dl::engine::spark
