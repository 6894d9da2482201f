// Per-file statistics in add.stats (PROTOCOL.md "Per-file Statistics").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/schema.hpp"

namespace dl::delta {

/// Raw column statistics as an engine reports them for one data file. Values are text:
/// numbers as decimal literals, dates "YYYY-MM-DD", timestamps "YYYY-MM-DD HH:MM:SS[.ffffff][+00]".
struct ColumnStats {
  std::optional<std::string> min;
  std::optional<std::string> max;
  std::optional<int64_t> null_count;
  bool has_nan = false;
};

/// Column path (top-level name, then nested struct field names) -> stats.
using FileColumnStats = std::map<std::vector<std::string>, ColumnStats>;

/// Build the add.stats JSON string for a file with `data_schema` (partition columns already
/// excluded): numRecords, and minValues/maxValues/nullCount nested like the schema, for the
/// first `num_indexed_cols` leaf columns (delta.dataSkippingNumIndexedCols, default 32).
/// min/max only for numeric, date, timestamp, timestamp_ntz and string columns; strings cut
/// to 32 characters (a cut max gets a U+10FFFF tie-breaker... per protocol notes); timestamps
/// as ISO-8601 with milliseconds ("2024-01-01T10:00:00.000Z"; ntz without the Z); NaN and
/// infinite bounds omitted; nullCount for every indexed leaf whose count is known.
std::string BuildStatsJson(const Schema& data_schema, int64_t num_records,
                           const FileColumnStats& columns, int num_indexed_cols = 32);

/// Parsed view of add.stats, for pruning and reporting. Missing stats -> nullopt fields.
struct FileStats {
  std::optional<int64_t> num_records;
  nlohmann::json min_values = nlohmann::json::object();
  nlohmann::json max_values = nlohmann::json::object();
  nlohmann::json null_count = nlohmann::json::object();
};
FileStats ParseStats(const std::optional<std::string>& stats_json);

/// add.stats for a file that gets a deletion vector: the same JSON text with
/// "tightBounds":false (PROTOCOL.md "Per-file Statistics": min/max may now be wide). Every
/// other byte is kept, so number literals (e.g. decimal(38,s) bounds) are not re-rounded.
/// InvalidArgument when the stats are not a JSON object with an integer numRecords (which
/// the protocol requires for any file with a DV) or tightBounds is not a boolean.
Result<std::string> WithWideBounds(const std::string& stats_json);

}  // namespace dl::delta
