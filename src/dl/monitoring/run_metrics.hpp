// Run metrics: what one loader run did, per table, and its renderings (JSON, Prometheus text
// format, a human summary) and the metrics files written under <checkpoint_path>/metrics/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::monitoring {

struct FileError {
  std::string file;
  std::string error;
};

struct TableMetrics {
  std::string table;     // display name, e.g. "sales.orders"
  std::string strategy;  // "append", ...
  int64_t files_discovered = 0, files_loaded = 0, files_failed = 0, files_skipped = 0;
  int64_t files_waiting = 0;  // too young (min_file_age_seconds) or from the future
  /// Files whose batch lost commit races to other loaders: left for the next run, not failed.
  int64_t files_deferred = 0;
  int64_t batches = 0, batches_failed = 0, retries = 0;
  int64_t rows_loaded = 0, bytes_loaded = 0;  // bytes = source file bytes
  double seconds = 0;                         // wall time spent on this table
  std::optional<int64_t> target_version;      // table version after the run
  std::vector<FileError> errors;              // failed files with their errors
  /// About the source or the table as a whole (a missing base, loads a table lost).
  std::vector<std::string> warnings;
};

/// Cluster mode (`run-cluster --monitoring`): the process's CPU and memory over the run, sampled
/// from /proc/self, and the resource plan it ran under.
struct ResourceMetrics {
  std::string environment;                ///< databricks | container | host
  int parallelism = 0, engine_threads = 0;
  int64_t engine_memory_bytes = 0, memory_budget_bytes = 0, backpressure_at_bytes = 0;
  int64_t hard_limit_bytes = 0;           ///< 0: none configured
  int64_t samples = 0;
  double cpu_seconds = 0;                 ///< user + system CPU time over the run
  double cpu_percent_avg = 0, cpu_percent_max = 0;  ///< 100 = one core busy
  int64_t rss_peak_bytes = 0, rss_avg_bytes = 0, rss_end_bytes = 0;
  int64_t backpressure_pauses = 0;        ///< times new batches were held back for memory
  double backpressure_seconds = 0;        ///< time spent holding them back
};

struct RunMetrics {
  std::string run_id;
  int64_t start_ms = 0, end_ms = 0;
  std::string command = "run";
  bool dry_run = false;
  std::vector<TableMetrics> tables;
  std::optional<ResourceMetrics> resources;  ///< run-cluster --monitoring
  /// Storage requests our own FileSystem sent during the run: listings, Delta log reads and
  /// commits, state files (counted on S3 and Azure; zero on local storage). DuckDB
  /// reads and writes data files (sources, the Parquet files of tables and of the tracker)
  /// through its own extensions: those requests are not in here.
  RequestCounts requests;

  // totals over tables
  int64_t files_loaded() const;
  int64_t files_failed() const;
  int64_t files_skipped() const;
  int64_t files_deferred() const;
  int64_t files_discovered() const;
  int64_t rows_loaded() const;
  int64_t bytes_loaded() const;
  /// Sum of the tables' seconds (more than the run's wall time when tables load in parallel).
  double seconds() const;
  /// Wall time of the run (end_ms - start_ms), or seconds() when the run has no end yet.
  double duration_seconds() const;
};

/// Pretty JSON: run fields, "totals" and "tables" (error messages pass through RedactSecrets).
std::string ToJson(const RunMetrics& m);
/// Prometheus text exposition format: # HELP/# TYPE once per family, names prefixed
/// data_loader_, per-table samples labelled {table="..."} (label values escaped: \\, \", \n),
/// run totals, run duration and the last run timestamp.
std::string ToPrometheus(const RunMetrics& m);
/// Write <dir>/run-<UTC yyyymmddThhmmssZ>-<run_id>.json and .prom (atomically: temp + rename),
/// and also <dir>/latest.prom (overwritten) so a node_exporter textfile collector can scrape
/// it. Creates dir. Returns the .json path. The timestamp is the run's start (now if unset).
Result<std::string> WriteMetricsFiles(FileSystem& fs, const std::string& dir, const RunMetrics& m);
/// Human summary printed at the end of a run: one line per table (loaded/failed/skipped files,
/// rows, bytes human-readable, seconds, rows/s) and a total line; failed files listed with
/// their errors (at most 20, then "... and N more").
std::string FormatSummary(const RunMetrics& m);

/// "0 B", "999 B", "1.5 KiB", "12.3 MiB", ... (binary units).
std::string HumanBytes(int64_t bytes);
/// "999", "1.2K", "3.4M", "5.6B" (decimal units, for row counts and rates).
std::string HumanCount(double n);

}  // namespace dl::monitoring
