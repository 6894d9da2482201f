#include "dl/tracker/file_tracker.hpp"

#include <chrono>
#include <thread>

#include "dl/common/clock.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/table/table.hpp"

namespace dl::tracker {
namespace {

using engine::QuoteLiteral;

// Column order of the tracker table, with the SQL type each value is cast to.
constexpr const char* kColumns[][2] = {
    {"file_path", "VARCHAR"},
    {"file_size", "BIGINT"},
    {"file_modified_time", "TIMESTAMPTZ"},
    {"table_name", "VARCHAR"},
    {"status", "VARCHAR"},
    {"processing_start_time", "TIMESTAMPTZ"},
    {"processing_end_time", "TIMESTAMPTZ"},
    {"error_message", "VARCHAR"},
    {"retry_count", "INTEGER"},
    {"created_at", "TIMESTAMPTZ"},
    {"updated_at", "TIMESTAMPTZ"},
    {"batch_id", "VARCHAR"},
    {"rows_loaded", "BIGINT"},
    {"target_version", "BIGINT"},
    {"file_etag", "VARCHAR"},
};
constexpr size_t kNumColumns = sizeof(kColumns) / sizeof(kColumns[0]);

std::string Str(const std::optional<std::string>& v) { return v ? QuoteLiteral(*v) : "NULL"; }
std::string Int(std::optional<int64_t> v) { return v ? std::to_string(*v) : "NULL"; }
std::string RowSql(const engine::Engine& engine, const FileRecord& r) {
  auto Ts = [&](std::optional<int64_t> ms) {
    return ms ? engine.TimestampFromEpochMs(std::to_string(*ms)) : "NULL";
  };
  return fmt::format("({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                     QuoteLiteral(r.file_path), r.file_size, Ts(r.file_modified_time_ms),
                     QuoteLiteral(r.table_name), QuoteLiteral(FileStatusName(r.status)),
                     Ts(r.processing_start_time_ms), Ts(r.processing_end_time_ms),
                     Str(r.error_message), r.retry_count, Ts(r.created_at_ms), Ts(r.updated_at_ms),
                     Str(r.batch_id), Int(r.rows_loaded), Int(r.target_version),
                     Str(r.file_etag.empty() ? std::nullopt : std::optional(r.file_etag)));
}

std::string RowsSql(const engine::Engine& engine, const std::vector<FileRecord>& rows) {
  std::string names, casts;
  for (size_t i = 0; i < kNumColumns; ++i) {
    names += fmt::format("{}c{}", i ? ", " : "", i);
    casts += fmt::format("{}CAST(c{} AS {}) AS {}", i ? ", " : "", i, kColumns[i][1],
                         kColumns[i][0]);
  }
  std::string values;
  for (const auto& r : rows) values += (values.empty() ? "" : ", ") + RowSql(engine, r);
  return fmt::format("SELECT {} FROM (VALUES {}) t({})", casts, values, names);
}

int64_t ToInt(const std::optional<std::string>& v) { return v ? std::stoll(*v) : 0; }
std::optional<int64_t> ToOptInt(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return std::stoll(*v);
}

// The current row per (table, file): of the file's newest version (path, size, mtime, ETag;
// the one updated last), its completed row if it has one (one that knows its rows first: a
// loader that reconciled the load from the log while the loading run recorded it writes a
// second completed row without them), else its newest row. A version once loaded stays loaded
// whatever a later row says (an older loader recorded the files of a race it lost as failed).
// {etag} is the file_etag column, or NULL in a tracker written before it.
constexpr const char* kVersionedRows =
    "SELECT *, max(updated_at) OVER (PARTITION BY table_name, file_path, file_size, "
    "file_modified_time, {etag}) AS __dl_version_updated, status = 'completed' AS "
    "__dl_completed, rows_loaded IS NOT NULL AS __dl_rows_known FROM __dl_tracker {where}";

constexpr const char* kLatestSql =
    "SELECT file_path, file_size, {file_modified_time}, table_name, status, "
    "{processing_start_time}, {processing_end_time}, error_message, "
    "retry_count, {created_at}, {updated_at}, batch_id, rows_loaded, "
    "target_version, {etag} FROM ({rows})";

// The ETag column as a query over the tracker reads it.
std::string EtagColumn(const delta::Snapshot& snapshot) {
  return snapshot.schema().Find("file_etag") ? "file_etag" : "CAST(NULL AS VARCHAR)";
}

std::string CurrentRowsSql(const engine::Engine& engine, const delta::Snapshot& snapshot,
                           const std::string& where) {
  engine::Deduplication current;
  current.keys = {"table_name", "file_path"};
  current.order = {{"__dl_version_updated", true},
                   {"__dl_completed", true},
                   {"__dl_rows_known", true},
                   {"updated_at", true}};
  current.drop_columns = {"__dl_version_updated", "__dl_completed", "__dl_rows_known"};
  return engine.Deduplicate(fmt::format(kVersionedRows, fmt::arg("etag", EtagColumn(snapshot)),
                                        fmt::arg("where", where)),
                            current);
}

}  // namespace

const char* FileStatusName(FileStatus status) {
  switch (status) {
    case FileStatus::kPending: return "pending";
    case FileStatus::kProcessing: return "processing";
    case FileStatus::kCompleted: return "completed";
    case FileStatus::kFailed: return "failed";
    case FileStatus::kSkipped: return "skipped";
  }
  return "pending";
}

std::optional<FileStatus> ParseFileStatus(std::string_view name) {
  for (auto s : {FileStatus::kPending, FileStatus::kProcessing, FileStatus::kCompleted,
                 FileStatus::kFailed, FileStatus::kSkipped}) {
    if (name == FileStatusName(s)) return s;
  }
  return std::nullopt;
}

FileTracker::FileTracker(FileSystem& fs, engine::Engine& engine, std::string path)
    : fs_(fs), engine_(engine), path_(std::move(path)) {}

Result<std::map<std::string, FileRecord>> FileTracker::Load(const std::string& table_name) {
  std::map<std::string, FileRecord> out;
  table::TableContext ctx{fs_, engine_};
  auto snapshot = table::LoadSnapshot(ctx, path_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    table_id_ = snapshot.ok() ? (*snapshot)->metadata().id : "";
  }
  if (!snapshot.ok()) {
    if (snapshot.status().code() == StatusCode::kNotFound) return out;  // nothing tracked yet
    return snapshot.status().WithContext("reading the file tracker");
  }
  DL_RETURN_IF_ERROR(engine_.RegisterSnapshot("__dl_tracker", **snapshot));
  std::string where = table_name.empty() ? "" : "WHERE table_name = " + QuoteLiteral(table_name);
  const std::string current = CurrentRowsSql(engine_, **snapshot, where);
  DL_ASSIGN_OR_RETURN(
      auto rows,
      engine_.Query(fmt::format(
          kLatestSql, fmt::arg("file_modified_time", engine_.EpochMsOf("file_modified_time")),
          fmt::arg("processing_start_time", engine_.EpochMsOf("processing_start_time")),
          fmt::arg("processing_end_time", engine_.EpochMsOf("processing_end_time")),
          fmt::arg("created_at", engine_.EpochMsOf("created_at")),
          fmt::arg("updated_at", engine_.EpochMsOf("updated_at")),
          fmt::arg("etag", EtagColumn(**snapshot)), fmt::arg("rows", current))));
  for (const auto& row : rows.rows) {
    FileRecord r;
    r.file_path = row[0].value_or("");
    r.file_size = ToInt(row[1]);
    r.file_modified_time_ms = ToInt(row[2]);
    r.table_name = row[3].value_or("");
    r.status = ParseFileStatus(row[4].value_or("")).value_or(FileStatus::kPending);
    r.processing_start_time_ms = ToOptInt(row[5]);
    r.processing_end_time_ms = ToOptInt(row[6]);
    r.error_message = row[7];
    r.retry_count = static_cast<int32_t>(ToInt(row[8]));
    r.created_at_ms = ToInt(row[9]);
    r.updated_at_ms = ToInt(row[10]);
    r.batch_id = row[11];
    r.rows_loaded = ToOptInt(row[12]);
    r.target_version = ToOptInt(row[13]);
    r.file_etag = row[14].value_or("");
    std::string key = table_name.empty() ? r.table_name + "\n" + r.file_path : r.file_path;
    out.emplace(std::move(key), std::move(r));
  }
  return out;
}

std::string FileTracker::table_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_id_;
}

Result<std::string> FileTracker::ReadTableId() {
  auto snapshot = delta::Snapshot::LoadWithoutFiles(fs_, &engine_, path_);
  if (!snapshot.ok() && snapshot.status().code() == StatusCode::kNotFound) return std::string();
  if (!snapshot.ok()) return snapshot.status().WithContext("reading the file tracker");
  return (*snapshot)->metadata().id;
}

void FileTracker::Record(FileRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  buffer_.push_back(std::move(record));
}

size_t FileTracker::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffer_.size();
}

Status FileTracker::Flush() {
  std::vector<FileRecord> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rows.swap(buffer_);
  }
  if (rows.empty()) return Status::OK();
  table::TableContext ctx{fs_, engine_};
  table::WriteRequest req;
  // A write binds its query several times (schema, alignment, write): parse the VALUES list
  // once into a temp table rather than at every bind.
  Status staged =
      engine_.Materialize("__dl_tracker_rows", RowsSql(engine_, rows));
  req.source_sql = "SELECT * FROM __dl_tracker_rows";
  req.partition_by = {"table_name"};
  req.schema_evolution = table::SchemaEvolution::kAddNewColumns;
  req.write_options.target_file_size_bytes = 64LL << 20;
  // Appends never conflict with each other, but concurrent loaders can race to create the
  // tracker (or add a column): those conflicts pass on a retry against the new snapshot.
  Result<table::WriteResult> written =
      staged.ok() ? table::Write(ctx, path_, req) : Result<table::WriteResult>(staged);
  for (int attempt = 1; staged.ok() && attempt < 5 && !written.ok() &&
                        written.status().code() == StatusCode::kCommitConflict;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    written = table::Write(ctx, path_, req);
  }
  if (!written.ok()) {
    // Keep the records so a later Flush can still write them.
    std::lock_guard<std::mutex> lock(mu_);
    buffer_.insert(buffer_.begin(), rows.begin(), rows.end());
    return written.status().WithContext("updating the file tracker " + path_);
  }
  return Status::OK();
}

Status FileTracker::Compact(double max_ratio) {
  table::TableContext ctx{fs_, engine_};
  auto snapshot = table::LoadSnapshot(ctx, path_);
  if (!snapshot.ok()) return Status::OK();
  DL_RETURN_IF_ERROR(engine_.RegisterSnapshot("__dl_tracker", **snapshot));
  DL_ASSIGN_OR_RETURN(auto counts,
                      engine_.Query("SELECT count(*), count(DISTINCT (table_name, file_path)) "
                                    "FROM __dl_tracker"));
  double rows = static_cast<double>(ToInt(counts.rows[0][0]));
  double files = static_cast<double>(ToInt(counts.rows[0][1]));
  if (files == 0 || rows / files <= max_ratio) return Status::OK();
  DL_RETURN_IF_ERROR(
      engine_.Materialize("__dl_tracker_latest", CurrentRowsSql(engine_, **snapshot, "")));
  table::WriteRequest req;
  req.source_sql = "SELECT * FROM __dl_tracker_latest";
  req.mode = table::WriteMode::kOverwrite;
  auto written = table::Write(ctx, path_, req);
  // Losing to a concurrent tracker append only means compaction waits for the next run.
  if (!written.ok() && written.status().code() != StatusCode::kCommitConflict) {
    return written.status().WithContext("compacting the file tracker " + path_);
  }
  return Status::OK();
}

}  // namespace dl::tracker
