// The `table` verbs that read, as functions for the Python package (data_loader.table): the
// same checks, snapshots and SQL as `data_loader table scan|describe|history`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"

struct ArrowArrayStream;

namespace dl::cli {

struct TableRequest {
  std::string path;
  std::optional<int64_t> version;
  std::string timestamp;                     ///< ISO-8601; empty: none
  std::vector<std::string> columns;          ///< empty: all
  std::string where;                         ///< SQL filter, checked as `table scan --where` is
  std::optional<int64_t> limit;              ///< rows for a scan, commits for a history
  std::optional<int64_t> from_version, to_version;  ///< changes
  std::vector<std::string> storage_options;  ///< KEY=VALUE, as --storage-option
};

/// `table scan` as an Arrow C stream in `out`: rows are read as the consumer pulls batches.
/// The stream owns the engine session and the storage; the consumer releases it. Errors, of
/// opening and of reading, name the table.
Status ScanTableToArrow(const TableRequest& request, ArrowArrayStream* out);

/// `table changes` as an Arrow C stream in `out`, as ScanTableToArrow.
Status TableChangesToArrow(const TableRequest& request, ArrowArrayStream* out);

/// `table describe --json`.
Result<nlohmann::ordered_json> DescribeTable(const TableRequest& request);

/// `table history --json`.
Result<nlohmann::ordered_json> TableHistory(const TableRequest& request);

}  // namespace dl::cli
