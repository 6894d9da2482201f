// Json decimals read exactly: DuckDB's json reader parses numbers into doubles, so the
// decimal columns (and decimals inside struct, list and map columns) are read as JSON and
// cast from their text.
#pragma once

#include <string>

#include "dl/common/status.hpp"
#include "dl/engine/duckdb/duckdb_handle.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

/// ` REPLACE (...)` for `SELECT *` over a json reader that read options.json_decimal_columns
/// as JSON: each column as its declared type, every decimal in it from its json text; a
/// number a double may have rounded (over 15 significant digits) fails naming the file and
/// the column (st.d, arr.element, m.value). Empty without such columns.
Result<std::string> ExactJsonDecimals(Connection& conn, const SourceOptions& options);

}  // namespace dl::engine::duck
