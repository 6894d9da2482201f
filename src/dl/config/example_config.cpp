// ExampleConfig: the commented config `create-example-config` writes.
#include "dl/config/config_internal.hpp"
#include "dl/config/loader_config.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::config {
namespace {

// A YAML double-quoted scalar; "${" is escaped so a path is never taken for a variable.
std::string Quote(const std::string& text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') out.push_back('$');
    out.push_back(c);
  }
  return out + "\"";
}

constexpr const char* kTemplate = R"yaml(# data_loader configuration.
# Compatible with the original Databricks Data Loader's YAML; keys marked "(ours)" are
# additions. Any string value may use ${{ENV_VAR}} or ${{ENV_VAR:-default}}; values that come
# from the environment are printed as "***" in logs.
#
# Where things go:
#   tables        <processed_data_path>/<database_name>/<table_name>   (Delta tables)
#   file tracker  <processed_data_path>/<file_tracker_database>/<file_tracker_table>
#   loader state  <checkpoint_path>/ (per-table state under tables/, run metrics under metrics/)

# Where files land; a relative source_path_pattern starts here.
raw_data_path: {raw}
# Root of the Delta tables the loader writes.
processed_data_path: {processed}
# Loader state and run metrics.
checkpoint_path: {checkpoints}
file_tracker_table: file_processing_tracker   # Delta table recording every file's status
file_tracker_database: metadata
max_parallel_jobs: 4      # tables/batches loaded at the same time
retry_attempts: 3         # retries of a failed file (across runs) before it stays failed
timeout_minutes: 60       # per batch
retry_backoff_ms: 1000    # (ours) first delay before retrying a transient failure
log_level: INFO           # DEBUG | INFO | WARNING | ERROR
enable_metrics: true      # write a metrics file per run under checkpoint_path/metrics

# Defaults for every table (ours); a table may override each of them.
max_files_per_batch: 1000     # files per Delta commit
max_bytes_per_batch: 1GiB     # soft cap on bytes per commit
min_file_age_seconds: 0       # skip files modified more recently (still being written)

# Cluster mode (ours; `run-cluster`, `cluster-status`, docs/cluster.md). Without max_parallel_jobs
# above, run-cluster derives parallelism from the detected CPUs and memory. Overrides, e.g.:
# cluster:
#   memory_limit: 8GiB          # instead of the detected (cgroup or host) limit
#   memory_hard_limit: 6GiB     # RSS never to exceed
#   memory_per_job: 512MiB      # one batch's share of the budget: caps parallelism

tables:
  # Customers arrive as CSV extracts; SCD Type 2 keeps each customer's history: a change in
  # a tracked column closes the current version (end_date, is_current) and opens a new one.
  - table_name: customers
    database_name: analytics
    # A glob: * and ? within a directory, ** across directories, [a-z] classes.
    source_path_pattern: {customers}
    loading_strategy: scd2             # append | scd2 | merge | overwrite
    primary_keys:
      - customer_id
    tracking_columns:                  # default: every column but keys and audit columns
      - name
      - email
      - address
    # sequence_column: updated_at      # (ours) orders changes; late ones land in history
    # delete_condition: "op = 'D'"     # (ours) rows that close the key's current version
    # table_properties:                # (ours) Delta table properties; deletion vectors make
    #   delta.enableDeletionVectors: true  # SCD2/merge mark rows deleted instead of rewriting
    #   delta.enableRowTracking: true      # row ids (Spark's _metadata.row_id) for new tables
    file_format: csv                   # parquet | csv | json | delta
    csv_options:                       # (ours) unset options are detected from the file
      header: true
      delimiter: ","
    schema_evolution: true             # new columns are added to the table
    partition_columns:
      - date_partition

  # Transactions: plain appends, partitioned by day, duplicates dropped by id.
  - table_name: transactions
    database_name: analytics
    source_path_pattern: {transactions}
    loading_strategy: append
    file_format: parquet
    schema_evolution: true
    partition_columns:
      - transaction_date
    dedup_keys:                        # (ours) drop rows whose id was already loaded
      - transaction_id
    # clustering_columns: [customer_id]  # (ours) replaces partition_columns: a clustered table

  # Events as JSON; unexpected fields are kept in a JSON column instead of failing.
  - table_name: events
    database_name: analytics
    source_path_pattern: {events}
    loading_strategy: append
    file_format: json
    json_options:
      format: auto                     # (ours) lines | array | auto
    # (ours) add_new_columns | fail_on_new_columns | rescue | none
    schema_evolution_mode: rescue
    rescued_data_column: _rescued_data
    audit_columns:                     # (ours) columns added to every row
      enabled: true
      load_timestamp: _load_timestamp
      source_file: _source_file
      batch_id: _batch_id
)yaml";

}  // namespace

std::string ExampleConfig(const std::string& base_dir) {
  const std::string raw = JoinPath(base_dir, "raw");
  const std::string raw_glob = internal::EscapeGlob(raw);
  return fmt::format(kTemplate, fmt::arg("raw", Quote(raw)),
                     fmt::arg("processed", Quote(JoinPath(base_dir, "processed"))),
                     fmt::arg("checkpoints", Quote(JoinPath(base_dir, "checkpoints"))),
                     fmt::arg("customers", Quote(JoinPath(raw_glob, "customers/*.csv"))),
                     fmt::arg("transactions", Quote(JoinPath(raw_glob, "transactions/*.parquet"))),
                     fmt::arg("events", Quote(JoinPath(raw_glob, "events/*.json"))));
}

}  // namespace dl::config
