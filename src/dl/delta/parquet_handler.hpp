// The engine services the Delta module needs: reading and writing checkpoint Parquet.
// The Delta module never sees an engine; engines (DuckDB today) implement this interface.
#pragma once

#include <string>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::delta {

class ParquetHandler {
 public:
  virtual ~ParquetHandler() = default;

  /// Read checkpoint Parquet files (classic, multi-part parts, or v2 sidecars) and return each
  /// non-null top-level action struct of every row as one JSON line, e.g.
  /// {"add":{"path":...,"partitionValues":{...},...}}. Maps become JSON objects, and
  /// `*_parsed` columns may be dropped. CorruptLog naming the file if it cannot be read.
  virtual Result<std::vector<std::string>> ReadCheckpointActions(
      const std::vector<std::string>& files) = 0;

  /// Write `action_lines` (one action per line, as SerializeAction produces) as a checkpoint
  /// Parquet file at `path`, with the schema Spark writes (see delta-lake-notes: one row per
  /// action, top-level columns txn, add, remove, metaData, protocol, domainMetadata, every
  /// field optional, maps as key_value, lists as list/element, feature lists null unless set).
  /// Must write to a temp name then rename, so a reader never sees a partial file.
  virtual Status WriteCheckpoint(const std::string& path,
                                 const std::vector<std::string>& action_lines) = 0;
};

}  // namespace dl::delta
