// Source files as a DuckDB table function call: read_parquet / read_csv / read_json with
// reader options from an allow-list, every value validated or quoted.
#pragma once

#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

/// "read_csv(['a.csv'], union_by_name=true, header=true, ...)". Config naming the key for an
/// unknown format or option, or a value of the wrong kind.
Result<std::string> SourceReaderCall(const std::vector<std::string>& files,
                                     const SourceOptions& options, bool union_by_name = true);

/// Re-emit a DuckDB struct literal of string pairs ({'a': 'INTEGER', "b": 'VARCHAR'}) with every
/// key and value quoted by QuoteLiteral; Config if it is anything else.
Result<std::string> SanitizeColumnsLiteral(std::string_view text);

/// "'a.parquet'" or "3 files ('a', 'b', ...)": names source files in error context.
std::string DescribeFiles(const std::vector<std::string>& files);

}  // namespace dl::engine::duck
