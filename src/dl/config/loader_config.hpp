// LoaderConfig: the loader's configuration (the original's YAML format plus our additions).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/storage/storage_options.hpp"

namespace dl::config {

// ---- Enumerations (YAML spellings in comments; parsing is case-insensitive) ----

enum class LoadingStrategy { kScd2, kAppend, kOverwrite, kMerge };  // scd2 append overwrite merge
enum class FileFormat { kParquet, kCsv, kJson, kDelta };            // parquet csv json delta
enum class LogLevel { kDebug, kInfo, kWarning, kError };            // DEBUG INFO WARNING ERROR
/// What happens when a file has columns the target table lacks (Auto Loader's modes).
enum class SchemaEvolutionMode {
  kAddNewColumns,     ///< add_new_columns: evolve the table (new columns are nullable)
  kFailOnNewColumns,  ///< fail_on_new_columns: fail the file, leave the table unchanged
  kRescue,            ///< rescue: keep the schema; unknown values go to rescued_data_column
  kNone,              ///< none: silently drop the new columns
};
enum class JsonFormat { kAuto, kLines, kArray };       // auto lines array
enum class WhenNotMatchedBySource { kKeep, kDelete };  // keep delete
enum class OverwriteMode { kStatic, kDynamic };        // static dynamic
enum class OnBadRows { kFail, kQuarantine };           // fail quarantine
enum class OnUnmetDependencies { kFail, kWait };       // fail wait
enum class EngineKind { kDuckdb, kSpark };             // duckdb spark

std::string_view ToString(LoadingStrategy v);
std::string_view ToString(EngineKind v);
std::string_view ToString(FileFormat v);
std::string_view ToString(LogLevel v);
std::string_view ToString(SchemaEvolutionMode v);
std::string_view ToString(JsonFormat v);
std::string_view ToString(WhenNotMatchedBySource v);
std::string_view ToString(OverwriteMode v);
std::string_view ToString(OnBadRows v);
std::string_view ToString(OnUnmetDependencies v);

// ---- Table configuration ----

/// One column of an explicit reader schema: `name: SQL type` (e.g. `amount: DECIMAL(10,2)`).
struct ColumnSpec {
  std::string name;
  std::string type;  ///< a SQL type name; letters, digits, spaces, '_', '(', ')', ',' only
  bool operator==(const ColumnSpec&) const = default;
};

/// `csv_options:` (only with file_format csv). Unset optionals are detected by the reader.
struct CsvOptions {
  bool header = true;                     ///< header: the first line names the columns
  std::optional<std::string> delimiter;   ///< delimiter: 1-4 bytes; "\t" or 'tab' for tab
  std::optional<std::string> quote;       ///< quote: one character, or "" for none
  std::optional<std::string> escape;      ///< escape: one character, or "" for none
  std::optional<std::string> null_value;  ///< null_value: text read as NULL (e.g. "NA")
  std::string encoding = "utf-8";         ///< encoding: utf-8 | utf-16 | latin-1
  /// multi_line: a quoted value may hold line breaks (RFC 4180). false tells the Spark engine
  /// every row is one line, so it splits large files across tasks (DuckDB reads both ways).
  bool multi_line = true;
  std::vector<ColumnSpec> columns;        ///< columns: explicit schema (no inference), ordered
};

/// `json_options:` (only with file_format json).
struct JsonOptions {
  JsonFormat format = JsonFormat::kAuto;  ///< format: lines (NDJSON), array, or auto-detect
  std::vector<ColumnSpec> columns;        ///< columns: explicit schema (no inference)
};

/// `audit_columns:` added to every loaded row. `audit_columns: false` turns them off.
struct AuditColumns {
  bool enabled = true;                             ///< enabled
  std::string load_timestamp = "_load_timestamp";  ///< load_timestamp: when the batch loaded
  std::string source_file = "_source_file";        ///< source_file: the file the row came from
  std::string batch_id = "_batch_id";              ///< batch_id: the batch's id
};

inline constexpr int64_t kGiB = int64_t{1} << 30;

/// One entry of `tables:`. Defaults are the ones a YAML without the key gets.
struct TableConfig {
  // -- The original's keys --
  std::string table_name;     ///< required; [A-Za-z0-9_]+
  std::string database_name;  ///< required; `schema` or `catalog.schema`
  /// required; a glob (see dl/discovery/glob.hpp). A relative pattern is resolved against
  /// raw_data_path when the config is loaded (its glob characters escaped: the base is a
  /// literal directory); absolute paths and URLs are kept as written.
  std::string source_path_pattern;
  LoadingStrategy loading_strategy = LoadingStrategy::kAppend;
  FileFormat file_format = FileFormat::kParquet;
  /// "Enable automatic schema evolution": true (the original's examples set it) picks
  /// add_new_columns, false picks fail_on_new_columns, unless schema_evolution_mode is set.
  bool schema_evolution = true;
  std::vector<std::string> partition_columns;
  /// (ours) Delta clustering columns: a new table is created clustered by them (writer
  /// feature clustering) and `table optimize` orders its rows by them. Not with partitions.
  std::vector<std::string> clustering_columns;
  std::vector<std::string> primary_keys;  ///< required for scd2 and merge
  /// scd2 only; empty = every column that is not a key, audit or SCD2 column.
  std::vector<std::string> tracking_columns;
  std::string scd2_effective_date_column = "effective_date";  ///< scd2 only
  std::string scd2_end_date_column = "end_date";              ///< scd2 only
  std::string scd2_current_flag_column = "is_current";        ///< scd2 only

  // -- Reading and batching --
  CsvOptions csv;                      ///< `csv_options:`
  JsonOptions json;                    ///< `json_options:`
  int64_t max_files_per_batch = 1000;  ///< files per commit (>= 1)
  /// Bytes per commit (a soft cap: a batch always takes at least one file). Accepts an
  /// integer or a size with a binary unit: `512MB`, `1 GiB`, `64k` (1 KB = 1 KiB = 1024).
  int64_t max_bytes_per_batch = kGiB;
  int64_t min_file_age_seconds = 0;  ///< skip files modified more recently than this
  bool allow_overwrites = false;     ///< reload files modified after they were loaded

  // -- Row handling --
  AuditColumns audit_columns;
  /// Drop duplicate rows within the batch and against the target: on dedup_keys, else on
  /// primary_keys, else on whole rows. Setting dedup_keys implies dedup: true.
  bool dedup = false;
  std::vector<std::string> dedup_keys;
  /// Resolved mode: `schema_evolution_mode:` if set, else derived from schema_evolution.
  SchemaEvolutionMode schema_evolution_mode = SchemaEvolutionMode::kAddNewColumns;
  std::string rescued_data_column = "_rescued_data";  ///< rescue mode only
  OnBadRows on_bad_rows = OnBadRows::kFail;

  // -- Strategy options (issue 4): parsed and validated here, applied by the strategies --
  std::optional<std::string> sequence_column;      ///< scd2/merge (or dedup): orders changes
  std::optional<std::string> delete_condition;     ///< scd2/merge: SQL predicate marking deletes
  bool retire_absent_keys = false;                 ///< scd2: close keys missing from a batch
  std::optional<std::string> scd2_open_end_value;  ///< scd2: end date of open rows; unset=NULL
  std::optional<std::string> merge_condition;      ///< merge: SQL over source./target.
  std::vector<std::string> update_columns;         ///< merge: update only these ...
  std::vector<std::string> except_columns;         ///< merge: ... or all but these
  WhenNotMatchedBySource when_not_matched_by_source = WhenNotMatchedBySource::kKeep;  ///< merge
  OverwriteMode overwrite_mode = OverwriteMode::kStatic;                              ///< overwrite
  std::optional<std::string> replace_where;  ///< overwrite (static) predicate
  /// `table_properties:` Delta table properties (e.g. delta.enableDeletionVectors: true), set
  /// when the table is created and added to an existing table's on its next write.
  std::map<std::string, std::string> table_properties;

  /// `engine:` (a table default too): where the table's data work runs. spark: a Spark
  /// Connect remote (`spark:`); see docs/spark_engine.md.
  EngineKind engine = EngineKind::kDuckdb;
  /// Where the table lives when a catalog says so (the Spark engine's catalog under
  /// use_unity_catalog; set at run start): TablePath answers it instead of the path below
  /// processed_data_path. Empty: that path.
  std::string location;
  std::string engine_key = "engine";  ///< where `engine` was set ("tables[2].engine")

  int line = 0;  ///< where the entry starts in the config source (for later messages)

  /// "database_name.table_name".
  std::string QualifiedName() const { return database_name + "." + table_name; }
};

// ---- Cluster mode: environment, resources, health (`cluster:`; run-cluster, cluster-status) ----

/// What detection found can be overridden here; unset keys keep what was detected. Byte sizes
/// accept units like max_bytes_per_batch; percentages are integers 1-100.
struct ClusterSettings {
  std::string environment = "auto";        ///< environment: auto | databricks | container | host
  std::string system_root = "/";           ///< system_root: where /proc, /sys, /databricks are read
  std::optional<int> cpu_cores;            ///< cpu_cores: CPUs the loader may use
  std::optional<int64_t> memory_limit;     ///< memory_limit: memory the process may use
  std::optional<std::string> runtime_version, cluster_id, cluster_name, cluster_type, node_type;
  std::optional<int> workers;  ///< workers: the cluster's worker count (reported)
  std::optional<int> engine_threads;           ///< engine_threads: DuckDB threads
  std::optional<int64_t> engine_memory_limit;  ///< engine_memory_limit: DuckDB memory_limit
  int memory_budget_percent = 75;   ///< memory_budget_percent: of memory_limit, for this run
  int64_t memory_per_job = 512LL << 20;  ///< memory_per_job: one batch's share (caps parallelism)
  int backpressure_percent = 90;  ///< backpressure_percent: of the budget; no new batch above it
  std::optional<int64_t> memory_hard_limit;  ///< memory_hard_limit: never more (RSS)
  int monitoring_interval_ms = 200;          ///< monitoring_interval_ms: sampling period
  int min_free_disk_percent = 10;            ///< min_free_disk_percent: warning below, critical at half
  int failed_files_warning_percent = 5;      ///< failed_files_warning_percent
  int failed_files_critical_percent = 25;    ///< failed_files_critical_percent
  int64_t small_file_bytes = 16LL << 20;     ///< small_file_bytes: "small" for recommendations
  int small_files_min = 64;                  ///< small_files_min: this many small files -> optimize
};

// ---- Global configuration ----

struct LoaderConfig {
  // -- The original's keys --
  std::string raw_data_path;        ///< required; base of relative source_path_patterns
  std::string processed_data_path;  ///< required; tables live below it (see TablePath)
  std::string checkpoint_path;      ///< required; loader state and metrics (see StateDir)
  std::string file_tracker_table = "file_processing_tracker";
  std::string file_tracker_database = "metadata";
  int max_parallel_jobs = 4;  ///< >= 1
  int retry_attempts = 3;     ///< >= 0
  int timeout_minutes = 60;   ///< > 0, per batch
  /// First delay before retrying a transient failure; doubles each attempt, with jitter.
  int retry_backoff_ms = 1000;
  LogLevel log_level = LogLevel::kInfo;
  bool enable_metrics = true;
  std::vector<TableConfig> tables;  ///< required, non-empty; (database, table) unique

  // -- Cluster mode (issue 5): parsed and validated here --
  bool use_unity_catalog = false;
  std::optional<std::string> default_catalog;         ///< catalog for database_names without one
  std::optional<std::string> unity_catalog_url;       ///< a Unity Catalog server (http[s]://...)
  std::vector<std::string> upstream_dependencies;     ///< "table:..", "file:..", "job:.."
  std::vector<std::string> downstream_notifications;  ///< "webhook:..", "job:.."

  // ==== Unity Catalog, dependencies, notifications: Unity Catalog registration, dependencies and
  // notifications. Keys are read in yaml_loader.cpp ReadCatalogAndOrchestration. ====
  /// Environment variable holding the Unity Catalog token (unset/empty: no Authorization;
  /// the default falls back to DATABRICKS_TOKEN when UC_TOKEN is unset).
  std::string unity_catalog_token_env = "UC_TOKEN";
  /// Environment variables with the Databricks workspace URL and token (job:... entries).
  std::string databricks_host_env = "DATABRICKS_HOST";
  std::string databricks_token_env = "DATABRICKS_TOKEN";
  /// What an unmet upstream dependency does: fail (exit 3 at once) or wait (poll until met or
  /// dependency_wait_timeout_seconds, then exit 3).
  OnUnmetDependencies on_unmet_dependencies = OnUnmetDependencies::kFail;
  int dependency_wait_timeout_seconds = 3600;  ///< wait mode: give up after this (> 0)
  int dependency_poll_interval_seconds = 30;   ///< wait mode: between checks (> 0)
  /// table:... is met when its newest commit is at most this old; unset: newer than the start
  /// of our last successful run (any commit when there was none).
  std::optional<int64_t> dependency_max_age_seconds;
  int notification_retries = 3;        ///< further attempts per notification (0-10)
  int notification_backoff_ms = 1000;  ///< first delay between attempts; doubles
  int http_timeout_seconds = 30;       ///< per HTTP request (Unity Catalog, Jobs API, webhooks)
  // ==== end of Unity Catalog, dependencies, notifications ====
  // -- Cluster mode: environment and resources (run-cluster, cluster-status) --
  ClusterSettings cluster;                ///< `cluster:`
  bool max_parallel_jobs_given = false;  ///< max_parallel_jobs was written (run-cluster keeps it)

  // -- The Spark engine (issue 15): `spark:` --
  /// `spark.remote`: a Spark Connect connection string (sc://host:port/;token=...); may use
  /// ${VAR}. Empty: SPARK_REMOTE, else DATABRICKS_HOST/TOKEN/CLUSTER_ID. Its token is masked
  /// in all output.
  std::string spark_remote;
  int spark_line = 0;

  // -- Object storage (issue 13) --
  /// `storage_options:` (global) and each table's own (scoped to its table root and source
  /// base): credentials and endpoints of object stores, delta-rs key names. Secrets.
  StorageConfig storage;

  // -- Provenance --
  std::string source_name;  ///< file path or "--config-json", for messages
  /// Key paths ("tables[0].source_path_pattern") whose value came through ${ENV}
  /// interpolation: possibly secrets, so ToRedactedJson prints them as "***".
  std::set<std::string> env_keys;
  /// The values ${ENV} references substituted, and every storage option value but plain
  /// settings (true, 42): RedactEnvValues masks them in output.
  std::set<std::string> env_values;
};

// Table-level keys that may also be given at the top level as defaults for every table:
// max_files_per_batch, max_bytes_per_batch, min_file_age_seconds, allow_overwrites,
// on_bad_rows. A table's own value wins.

// ---- Loading ----

/// One config problem: 1-based line (0: unknown), key path ("tables[1].loading_strategy";
/// empty: the whole document) and the message without either.
struct ConfigProblem {
  int line = 0;
  std::string path;
  std::string message;
};

/// Load and validate a YAML (or JSON) config file. Errors are StatusCode::kConfig with one
/// line per problem: "config.yaml:14: tables[1].loading_strategy: 'scd3' is not one of
/// scd2, append, overwrite, merge". Every problem is reported, not just the first.
///
/// String values may use `${VAR}` or `${VAR:-default}` (environment variables); `$${` is a
/// literal `${`. An unset variable without a default is an error naming key and variable.
///
/// With `problems`, each problem is also appended there as (line, key path, message), for
/// callers that report them structurally (the Python package's ConfigError).
///
/// `overrides` (YAML or JSON mapping text, may be empty): top-level keys that replace the
/// document's before it is read, validated like them (the Python API's ClusterConfig).
Result<LoaderConfig> LoadConfigFile(const std::string& path,
                                    std::vector<ConfigProblem>* problems = nullptr,
                                    const std::string& overrides = "");

/// Same for inline text (`--config-json`): YAML or JSON (JSON is YAML). Single-line text
/// that is not JSON and contains a literal "\n" (the original's documented
/// `--config-json 'raw_data_path: /mnt/raw/\n...'`) has those turned into newlines.
Result<LoaderConfig> LoadConfigText(const std::string& yaml_or_json, const std::string& source_name,
                                    std::vector<ConfigProblem>* problems = nullptr,
                                    const std::string& overrides = "");

/// A commented example config with every path under base_dir (raw/, processed/,
/// checkpoints/), shaped for the quickstart demo data. LoadConfigText accepts it as is.
std::string ExampleConfig(const std::string& base_dir);

// ---- Where things live ----

/// The directory of a database: "<processed>/<database>"; a `catalog.schema` name (or a
/// default_catalog under use_unity_catalog) nests as "<processed>/<catalog>/<schema>".
std::string DatabasePath(const LoaderConfig& cfg, const std::string& database_name);
/// The Delta table: DatabasePath(database_name)/<table_name>.
std::string TablePath(const LoaderConfig& cfg, const TableConfig& table);
/// The file tracker Delta table: DatabasePath(file_tracker_database)/<file_tracker_table>.
std::string TrackerPath(const LoaderConfig& cfg);
/// Loader state root: checkpoint_path.
std::string StateDir(const LoaderConfig& cfg);
/// Per-table state: <checkpoint_path>/tables/<database_name>/<table_name>.
std::string TableStateDir(const LoaderConfig& cfg, const TableConfig& table);
/// Per-run metrics files: <checkpoint_path>/metrics.
std::string MetricsDir(const LoaderConfig& cfg);
/// The name users see: "catalog.schema.table" under Unity Catalog (when a catalog is
/// known), else "database.table".
std::string DisplayName(const LoaderConfig& cfg, const TableConfig& table);

// ---- Helpers ----

/// Each table of `cfg` that reads another table of `cfg` as its source (file_format: delta on
/// that table's location, under any spelling of it), with that table: a run loads it first.
std::map<const TableConfig*, const TableConfig*> DeltaSourceTables(const LoaderConfig& cfg);

/// Pick tables by name (`--tables a,b`): each name is a table_name or database.table_name.
/// Config error for an unknown name or a table_name that is ambiguous across databases.
/// Empty `names` selects every table. Order follows the config.
Result<std::vector<const TableConfig*>> SelectTables(const LoaderConfig& cfg,
                                                     const std::vector<std::string>& names);

/// `--storage-option KEY=VALUE` arguments (the `table` verbs) as storage options: keys as in
/// `storage_options:` (delta-rs names, case-insensitive, aliases), values may use ${VAR}.
/// Config error naming the argument for a malformed pair or an unknown key. Every value is
/// added to `*masked` (for RedactText) except plain settings.
Result<StorageOptions> StorageOptionsFromArgs(const std::vector<std::string>& key_values,
                                              std::set<std::string>* masked);

/// `text` with each of `values` (4 characters or more) replaced by "***", longest first.
std::string RedactText(const std::set<std::string>& values, std::string text);

/// The resolved config as pretty JSON (keys as in YAML), with every value that came from an
/// environment variable, and every storage option value, replaced by "***". Safe to log.
std::string ToRedactedJson(const LoaderConfig& cfg);

/// `text` with every value that came from an environment variable (4 characters or more:
/// shorter ones would mask ordinary text) replaced by "***". For output built from config
/// values, such as paths derived from an interpolated processed_data_path.
std::string RedactEnvValues(const LoaderConfig& cfg, std::string text);

}  // namespace dl::config
