// ToRedactedJson: the resolved config as JSON, values from ${ENV} replaced by "***".
#include <algorithm>
#include <nlohmann/json.hpp>

#include "dl/common/http_client.hpp"
#include "dl/config/config_internal.hpp"

namespace dl::config {
namespace {

using Json = nlohmann::ordered_json;

template <typename T>
void PutOptional(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

Json ColumnsJson(const std::vector<ColumnSpec>& columns) {
  Json j = Json::object();
  for (const auto& c : columns) j[c.name] = c.type;
  return j;
}

Json ReaderJson(const TableConfig& t, Json j) {
  if (t.file_format == FileFormat::kCsv) {
    Json c = {{"header", t.csv.header}};
    PutOptional(c, "delimiter", t.csv.delimiter);
    PutOptional(c, "quote", t.csv.quote);
    PutOptional(c, "escape", t.csv.escape);
    PutOptional(c, "null_value", t.csv.null_value);
    c["encoding"] = t.csv.encoding;
    if (!t.csv.multi_line) c["multi_line"] = false;
    if (!t.csv.columns.empty()) c["columns"] = ColumnsJson(t.csv.columns);
    j["csv_options"] = std::move(c);
  }
  if (t.file_format == FileFormat::kJson) {
    Json c = {{"format", ToString(t.json.format)}};
    if (!t.json.columns.empty()) c["columns"] = ColumnsJson(t.json.columns);
    j["json_options"] = std::move(c);
  }
  return j;
}

// Keys as in YAML, so the paths in env_keys address the same values here.
Json TableJson(const TableConfig& t) {
  Json j = {{"table_name", t.table_name},
            {"database_name", t.database_name},
            {"source_path_pattern", t.source_path_pattern},
            {"loading_strategy", ToString(t.loading_strategy)},
            {"file_format", ToString(t.file_format)},
            {"schema_evolution", t.schema_evolution},
            {"schema_evolution_mode", ToString(t.schema_evolution_mode)},
            {"partition_columns", t.partition_columns},
            {"primary_keys", t.primary_keys}};
  if (t.loading_strategy == LoadingStrategy::kScd2) {
    j["tracking_columns"] = t.tracking_columns;
    j["scd2_effective_date_column"] = t.scd2_effective_date_column;
    j["scd2_end_date_column"] = t.scd2_end_date_column;
    j["scd2_current_flag_column"] = t.scd2_current_flag_column;
    PutOptional(j, "scd2_open_end_value", t.scd2_open_end_value);
    j["retire_absent_keys"] = t.retire_absent_keys;
  }
  j = ReaderJson(t, std::move(j));
  j["max_files_per_batch"] = t.max_files_per_batch;
  j["max_bytes_per_batch"] = t.max_bytes_per_batch;
  j["min_file_age_seconds"] = t.min_file_age_seconds;
  j["allow_overwrites"] = t.allow_overwrites;
  j["audit_columns"] = {{"enabled", t.audit_columns.enabled},
                        {"load_timestamp", t.audit_columns.load_timestamp},
                        {"source_file", t.audit_columns.source_file},
                        {"batch_id", t.audit_columns.batch_id}};
  j["dedup"] = t.dedup;
  j["dedup_keys"] = t.dedup_keys;
  if (t.schema_evolution_mode == SchemaEvolutionMode::kRescue) {
    j["rescued_data_column"] = t.rescued_data_column;
  }
  j["on_bad_rows"] = ToString(t.on_bad_rows);
  PutOptional(j, "sequence_column", t.sequence_column);
  PutOptional(j, "delete_condition", t.delete_condition);
  if (t.loading_strategy == LoadingStrategy::kMerge) {
    PutOptional(j, "merge_condition", t.merge_condition);
    j["update_columns"] = t.update_columns;
    j["except_columns"] = t.except_columns;
    j["when_not_matched_by_source"] = ToString(t.when_not_matched_by_source);
  }
  if (t.loading_strategy == LoadingStrategy::kOverwrite) {
    j["overwrite_mode"] = ToString(t.overwrite_mode);
    PutOptional(j, "replace_where", t.replace_where);
  }
  if (!t.table_properties.empty()) j["table_properties"] = t.table_properties;
  if (!t.clustering_columns.empty()) j["clustering_columns"] = t.clustering_columns;
  return j;
}

// Secret storage options are shown as "***", per scope.
Json StorageJson(const StorageConfig& storage) {
  auto masked = [](const StorageOptions& options) {
    Json j = Json::object();
    for (const auto& [key, value] : options)
      j[key] = internal::IsSecretStorageOption(key) ? "***" : value;
    return j;
  };
  Json j = masked(storage.global);
  for (const auto& scope : storage.scopes) j["scoped"][scope.prefix] = masked(scope.options);
  return j;
}

// ---- Cluster mode: `cluster:` ----
Json ClusterJson(const ClusterSettings& c) {
  Json j = {{"environment", c.environment}, {"system_root", c.system_root}};
  PutOptional(j, "cpu_cores", c.cpu_cores);
  PutOptional(j, "memory_limit", c.memory_limit);
  PutOptional(j, "runtime_version", c.runtime_version);
  PutOptional(j, "cluster_id", c.cluster_id);
  PutOptional(j, "cluster_name", c.cluster_name);
  PutOptional(j, "cluster_type", c.cluster_type);
  PutOptional(j, "node_type", c.node_type);
  PutOptional(j, "workers", c.workers);
  PutOptional(j, "engine_threads", c.engine_threads);
  PutOptional(j, "engine_memory_limit", c.engine_memory_limit);
  j["memory_budget_percent"] = c.memory_budget_percent;
  j["memory_per_job"] = c.memory_per_job;
  j["backpressure_percent"] = c.backpressure_percent;
  PutOptional(j, "memory_hard_limit", c.memory_hard_limit);
  j["monitoring_interval_ms"] = c.monitoring_interval_ms;
  j["min_free_disk_percent"] = c.min_free_disk_percent;
  j["failed_files_warning_percent"] = c.failed_files_warning_percent;
  j["failed_files_critical_percent"] = c.failed_files_critical_percent;
  j["small_file_bytes"] = c.small_file_bytes;
  j["small_files_min"] = c.small_files_min;
  return j;
}

Json ConfigJson(const LoaderConfig& cfg) {
  Json j = {{"raw_data_path", cfg.raw_data_path},
            {"processed_data_path", cfg.processed_data_path},
            {"checkpoint_path", cfg.checkpoint_path},
            {"file_tracker_table", cfg.file_tracker_table},
            {"file_tracker_database", cfg.file_tracker_database},
            {"max_parallel_jobs", cfg.max_parallel_jobs},
            {"retry_attempts", cfg.retry_attempts},
            {"timeout_minutes", cfg.timeout_minutes},
            {"retry_backoff_ms", cfg.retry_backoff_ms},
            {"log_level", ToString(cfg.log_level)},
            {"enable_metrics", cfg.enable_metrics},
            {"use_unity_catalog", cfg.use_unity_catalog}};
  PutOptional(j, "default_catalog", cfg.default_catalog);
  PutOptional(j, "unity_catalog_url", cfg.unity_catalog_url);
  j["upstream_dependencies"] = cfg.upstream_dependencies;
  // Webhook URLs carry their secret in the path (Slack): show scheme, host and first segment.
  Json notifications = Json::array();
  for (const auto& n : cfg.downstream_notifications) {
    notifications.push_back(n.rfind("webhook:", 0) == 0 ? "webhook:" + http::RedactUrl(n.substr(8))
                                                        : n);
  }
  j["downstream_notifications"] = std::move(notifications);
  // Unity Catalog, dependencies, notifications.
  j["unity_catalog_token_env"] = cfg.unity_catalog_token_env;
  j["databricks_host_env"] = cfg.databricks_host_env;
  j["databricks_token_env"] = cfg.databricks_token_env;
  j["on_unmet_dependencies"] = ToString(cfg.on_unmet_dependencies);
  j["dependency_wait_timeout_seconds"] = cfg.dependency_wait_timeout_seconds;
  j["dependency_poll_interval_seconds"] = cfg.dependency_poll_interval_seconds;
  PutOptional(j, "dependency_max_age_seconds", cfg.dependency_max_age_seconds);
  j["notification_retries"] = cfg.notification_retries;
  j["notification_backoff_ms"] = cfg.notification_backoff_ms;
  j["http_timeout_seconds"] = cfg.http_timeout_seconds;
  j["cluster"] = ClusterJson(cfg.cluster);  // cluster mode
  j["storage_options"] = StorageJson(cfg.storage);
  Json tables = Json::array();
  for (const auto& t : cfg.tables) tables.push_back(TableJson(t));
  j["tables"] = std::move(tables);
  return j;
}

// Replace every value whose key path is in `secret` (the paths the YAML reader recorded).
void Redact(Json& j, const std::string& path, const std::set<std::string>& secret) {
  if (!path.empty() && secret.count(path)) {
    j = "***";
    return;
  }
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) Redact(value, internal::JoinKeyPath(path, key), secret);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Redact(j[i], fmt::format("{}[{}]", path, i), secret);
  }
}

}  // namespace

std::string ToRedactedJson(const LoaderConfig& cfg) {
  Json j = ConfigJson(cfg);
  Redact(j, "", cfg.env_keys);
  return j.dump(2);
}

std::string RedactEnvValues(const LoaderConfig& cfg, std::string text) {
  return RedactText(cfg.env_values, std::move(text));
}

std::string RedactText(const std::set<std::string>& values, std::string text) {
  // Longest first, so a value containing another is masked whole.
  std::vector<std::string> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& v : sorted) {
    if (v.size() < 4) continue;
    for (size_t at = text.find(v); at != std::string::npos; at = text.find(v, at + 3)) {
      text.replace(at, v.size(), "***");
    }
  }
  return text;
}

}  // namespace dl::config
