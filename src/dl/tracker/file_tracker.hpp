// FileTracker: the Delta table that records every source file's processing status.
//
// The table has the original tool's columns (file_path, file_size, file_modified_time,
// table_name, status, processing_start_time, processing_end_time, error_message, retry_count,
// created_at, updated_at) plus batch_id, rows_loaded and target_version, partitioned by
// table_name, and file_etag (the object store's ETag, NULL for local files; trackers written
// before it lack the column, which the first append adds). Updates are appended as new rows (blind
// appends never conflict, so concurrent loaders never lose an update); the current state of a file
// is its newest version's completed row, or else that version's newest row (see kCurrentRows).
// Compact() rewrites the table to one row per file. The tracker is a record, not the source of
// truth for exactly-once: target commits are (see the loader's reconciliation).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dl/engine/engine.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::tracker {

enum class FileStatus { kPending, kProcessing, kCompleted, kFailed, kSkipped };
const char* FileStatusName(FileStatus status);
std::optional<FileStatus> ParseFileStatus(std::string_view name);

struct FileRecord {
  std::string file_path;
  int64_t file_size = 0;
  int64_t file_modified_time_ms = 0;
  std::string table_name;
  FileStatus status = FileStatus::kPending;
  std::optional<int64_t> processing_start_time_ms;
  std::optional<int64_t> processing_end_time_ms;
  std::optional<std::string> error_message;
  int32_t retry_count = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<std::string> batch_id;
  std::optional<int64_t> rows_loaded;
  std::optional<int64_t> target_version;
  std::string file_etag;  ///< "" (NULL in the table): a local file, or recorded before ETags
};

class FileTracker {
 public:
  FileTracker(FileSystem& fs, engine::Engine& engine, std::string path);

  const std::string& path() const { return path_; }

  /// Current record of every file of `table_name` (all tables when empty), by file path.
  Result<std::map<std::string, FileRecord>> Load(const std::string& table_name = "");
  /// The tracker table's metaData id as of the last Load ("" before, or when there was no
  /// tracker): state kept beside the tracker is valid only for the table it was written with.
  std::string table_id() const;
  /// The tracker table's metaData id now ("" when there is no tracker yet).
  Result<std::string> ReadTableId();

  /// Buffer a record; nothing is written until Flush. Thread-safe.
  void Record(FileRecord record);
  size_t pending() const;
  /// Append every buffered record in one commit (creating the table on first use).
  Status Flush();
  /// Rewrite the table to one row per file when it holds more than `max_ratio` rows per file.
  Status Compact(double max_ratio = 2.0);

 private:
  FileSystem& fs_;
  engine::Engine& engine_;
  std::string path_;
  mutable std::mutex mu_;
  std::vector<FileRecord> buffer_;
  std::string table_id_;
};

}  // namespace dl::tracker
