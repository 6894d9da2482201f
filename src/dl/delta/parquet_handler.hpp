// The engine services the Delta module needs: reading and writing checkpoint Parquet.
// The Delta module never sees an engine; engines (DuckDB today) implement this interface.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"

namespace dl::delta {

/// A v2 checkpoint's `sidecar` action: a Parquet file of some of its adds and removes.
struct SidecarFile {
  std::string path;  ///< URI-encoded, relative to _delta_log/_sidecars (or absolute)
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;
};

/// The actions of a checkpoint as structs, grouped for log replay. A checkpoint holds at most
/// one action per logical file, so the order of adds against removes carries no meaning.
struct CheckpointActions {
  std::vector<AddFile> adds;
  std::vector<RemoveFile> removes;
  std::vector<Action> others;  ///< protocol, metaData, txn, domainMetadata, in file order
  std::vector<SidecarFile> sidecars;  ///< v2 spec: their files are not read here
  std::optional<int64_t> checkpoint_metadata_version;  ///< v2 spec: checkpointMetadata.version
};

class ParquetHandler {
 public:
  virtual ~ParquetHandler() = default;

  /// Read checkpoint Parquet files (classic, multi-part parts, or v2 sidecars) and return each
  /// non-null top-level action struct of every row as one JSON line, e.g.
  /// {"add":{"path":...,"partitionValues":{...},...}}. Maps become JSON objects, and
  /// `*_parsed` columns may be dropped. CorruptLog naming the file if it cannot be read.
  virtual Result<std::vector<std::string>> ReadCheckpointActions(
      const std::vector<std::string>& files) = 0;

  /// The same actions as structs, as log replay wants them; without adds and removes unless
  /// `with_files` (a blind append needs only the table's metadata). This default parses the
  /// lines of ReadCheckpointActions; engines override it to build the structs straight from
  /// columns (a JSON round trip per file action dominates replay of big tables).
  virtual Result<CheckpointActions> ReadCheckpoint(const std::vector<std::string>& files,
                                                   bool with_files);

  /// Write `action_lines` (one action per line, as SerializeAction produces) as a checkpoint
  /// Parquet file at `path`, with the schema Spark writes (see delta-lake-notes: one row per
  /// action, top-level columns txn, add, remove, metaData, protocol, domainMetadata, every
  /// field optional, maps as key_value, lists as list/element, feature lists null unless set;
  /// a first line {"checkpointMetadata":...} adds that column, for a v2 spec checkpoint).
  /// Writes `path` itself; WriteCheckpoint (maintenance.hpp) passes a temp name where a
  /// reader could otherwise see a partial file, and renames it through the FileSystem.
  virtual Status WriteCheckpoint(const std::string& path,
                                 const std::vector<std::string>& action_lines) = 0;
};

/// Parse checkpoint action lines into `out` (the default ReadCheckpoint, also used for JSON
/// checkpoints). Errors name `source` and the action's position.
Status ParseCheckpointLines(const std::vector<std::string>& lines, const std::string& source,
                            CheckpointActions* out);

/// Put one parsed checkpoint action into its group of `out`; commitInfo and cdc are dropped.
void AddCheckpointAction(Action&& action, CheckpointActions* out);

/// A line ParseAction does not know: a v2 checkpoint's sidecar or checkpointMetadata goes into
/// `out` (true); anything else is ignored (false). CorruptLog when one lacks a required field.
Result<bool> ParseCheckpointOnlyAction(std::string_view line, CheckpointActions* out);

}  // namespace dl::delta
