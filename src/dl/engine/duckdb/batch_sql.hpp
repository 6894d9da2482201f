// DuckDB spellings the file-reading strategies (strategy/source.cpp, bad_rows.cpp,
// replace_where.cpp) build a batch's projection from: they run only on the DuckDB engine (a
// remote engine reads the files itself: engine/remote_load.hpp).
#pragma once

#include <string>
#include <vector>

namespace dl::engine::duck {

/// A timestamp-with-time-zone constant from `utc_text` ("2024-01-02 03:04:05.678+00").
std::string TimestampConstant(const std::string& utc_text);

/// The rescued-data value of a row: its values of `columns` as a JSON object (text), NULL
/// when all are NULL or there are none.
std::string RescuedDataSql(const std::vector<std::string>& columns);

/// The 1-based position of `file_column`'s value in `files` (the file's place in the batch).
std::string FilePositionSql(const std::vector<std::string>& files, const std::string& file_column);
/// The file of `files` at the 1-based position held by `position_column`.
std::string FileAtPositionSql(const std::vector<std::string>& files,
                              const std::string& position_column);

/// The rows of `batch`, then the rows of `kept` (same columns, in any order) where
/// `predicate` is not TRUE.
std::string BatchAndKeptRowsSql(const std::string& batch, const std::string& kept,
                                const std::string& predicate);

}  // namespace dl::engine::duck
