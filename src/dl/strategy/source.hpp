// Reading a batch's source files: the table's reader options, and the audit/evolution
// projection every strategy starts from.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/delta/schema.hpp"
#include "dl/engine/engine.hpp"

namespace dl::strategy {

/// The column the reader adds with each row's source file (dropped or renamed to the audit
/// column before anything is written).
inline constexpr const char* kSourceFileColumn = "__dl_source_file";
/// The column the reader adds with each row's position in its file (with `with_order`).
inline constexpr const char* kSourceRowColumn = "__dl_source_row";
/// With `with_order`, the projection ends with these: the row's file position in the batch
/// and its position within the file (delivery order, for "first/last wins" decisions).
using engine::kFileOrderColumn;
using engine::kRowOrderColumn;

/// Reader format and options for a table's file_format and csv_options/json_options.
Result<engine::SourceOptions> SourceOptionsFor(const config::TableConfig& table);

/// A Delta table as a batch's source: the new data files of its versions after the last one
/// loaded (or all of them, the first time).
struct DeltaSource {
  std::shared_ptr<const delta::Snapshot> snapshot;  ///< the source at `version`
  std::vector<delta::AddFile> adds;                 ///< the files to load
  int64_t version = -1;                             ///< loaded up to and including this
  std::string app_id;                               ///< the target txn that records `version`
  /// The version loaded per the target's latest loader commit (a remote engine's) whose txn
  /// commit did not follow: the run commits `app_id` = this before its batches.
  std::optional<int64_t> unrecorded;
};

/// The path a Delta source's data file is known by (audit column, tracker, commitInfo).
std::string DeltaSourceFilePath(const delta::Snapshot& source, const delta::AddFile& add);

/// What a batch's rows look like before they meet the table.
struct SourceProjection {
  std::string sql;  ///< SELECT over the registered files: data columns, then audit columns
  std::vector<std::string> data_columns;     ///< source columns kept (after evolution mode)
  std::vector<std::string> dropped_columns;  ///< new columns dropped (mode none) or rescued
  bool rescued = false;                      ///< the rescued-data column is present
};

/// Register `files` as view `view` and build the projection for the table: columns the
/// target lacks are kept (add_new_columns, fail_on_new_columns: the write then decides),
/// packed into the rescued-data JSON column (rescue) or dropped (none); audit columns are
/// appended when enabled. `target_schema` is null for a table that does not exist yet.
Result<SourceProjection> ProjectSource(engine::Engine& engine, const std::string& view,
                                       const config::TableConfig& table,
                                       const std::vector<std::string>& files,
                                       const delta::Schema* target_schema,
                                       const std::string& batch_id, int64_t load_time_ms,
                                       bool with_order = false,
                                       const DeltaSource* delta_source = nullptr);

/// Drop what ProjectSource registered (a materialized batch holds memory).
void ReleaseSource(engine::Engine& engine, const std::string& view);

}  // namespace dl::strategy
