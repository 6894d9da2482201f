// Small SQL-building helpers shared by the engine implementation (QuoteIdent/QuoteLiteral
// live in engine.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dl::engine {

/// A DuckDB list literal of quoted strings: ['a', 'b'].
std::string SqlStringList(const std::vector<std::string>& values);
/// `sql` without trailing semicolons and whitespace, so it can be nested as a subquery.
std::string StripStatementEnd(std::string_view sql);

}  // namespace dl::engine
