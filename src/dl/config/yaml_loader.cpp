// LoadConfigFile / LoadConfigText: YAML (or JSON) text to a validated LoaderConfig.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dl/config/config_internal.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/paths.hpp"

namespace dl::config {

std::string internal::EscapeGlob(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

namespace {

using internal::Diagnostics;
using internal::LineOf;
using internal::MapReader;

constexpr int64_t kMaxFilesPerBatch = 10'000'000;
constexpr size_t kMaxConfigBytes = size_t{8} << 20;
constexpr int64_t kTenYearsSeconds = int64_t{10} * 366 * 24 * 3600;

// Keys given at the top level as defaults for all tables (see kTableDefaultKeys).
void ReadTableDefaults(MapReader& r, TableConfig& t) {
  r.GetInt("max_files_per_batch", t.max_files_per_batch, 1, kMaxFilesPerBatch);
  r.GetByteSize("max_bytes_per_batch", t.max_bytes_per_batch);
  r.GetInt("min_file_age_seconds", t.min_file_age_seconds, 0, kTenYearsSeconds);
  r.GetBool("allow_overwrites", t.allow_overwrites);
  r.GetEnum("on_bad_rows", t.on_bad_rows, internal::kOnBadRowsNames);
  if (r.GetEnum("engine", t.engine, internal::kEngineNames)) t.engine_key = r.PathOf("engine");
}

void ReadColumns(MapReader& r, std::vector<ColumnSpec>& out) {
  std::vector<std::pair<std::string, std::string>> columns;
  if (!r.GetStringMap("columns", columns)) return;
  out.clear();
  for (auto& [name, type] : columns) out.push_back({name, type});
}

// The data file codecs data_loader writes (delta::kParquetCodecs; config does not link delta).
bool IsParquetCodec(std::string value) {
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return value == "snappy" || value == "zstd" || value == "gzip" || value == "uncompressed" ||
         value == "none";
}

// Delta table properties; the ones we act on must have values we understand.
void ReadTableProperties(MapReader& r, TableConfig& t) {
  std::vector<std::pair<std::string, std::string>> props;
  if (!r.GetStringMap("table_properties", props)) return;
  for (auto& [name, value] : props) {
    bool boolean = name == "delta.enableDeletionVectors" || name == "delta.appendOnly";
    if (boolean && value != "true" && value != "false") {
      r.Error("table_properties", fmt::format("{} must be true or false, got '{}'", name, value));
      continue;
    }
    if (name == "delta.compression.codec" && !IsParquetCodec(value)) {
      r.Error("table_properties",
              fmt::format("{} must be snappy, zstd, gzip or uncompressed, got '{}'", name, value));
      continue;
    }
    t.table_properties[name] = value;
  }
}

// A nested map such as csv_options; nullopt (after reporting) if it is not a map.
std::optional<MapReader> SubMap(MapReader& r, std::string_view key) {
  auto node = r.GetNode(key);
  if (!node) return std::nullopt;
  if (!node->IsMap()) {
    r.Error(key, "expected a mapping of options");
    return std::nullopt;
  }
  return MapReader(r.diag(), r.env(), *node, r.PathOf(key), r.LineOfKey(key));
}

void ReadReaderOptions(MapReader& r, TableConfig& t) {
  if (auto c = SubMap(r, "csv_options")) {
    c->GetBool("header", t.csv.header);
    c->GetOptString("delimiter", t.csv.delimiter);
    c->GetOptString("quote", t.csv.quote);
    c->GetOptString("escape", t.csv.escape);
    c->GetOptString("null_value", t.csv.null_value);
    c->GetString("encoding", t.csv.encoding);
    c->GetBool("multi_line", t.csv.multi_line);
    ReadColumns(*c, t.csv.columns);
    c->CheckUnknownKeys();
  }
  if (auto j = SubMap(r, "json_options")) {
    j->GetEnum("format", t.json.format, internal::kJsonFormatNames);
    ReadColumns(*j, t.json.columns);
    j->CheckUnknownKeys();
  }
}

void ReadAuditColumns(MapReader& r, TableConfig& t) {
  auto node = r.GetNode("audit_columns");
  if (node && node->IsScalar()) {  // `audit_columns: false` is short for enabled: false
    r.GetBool("audit_columns", t.audit_columns.enabled);
    return;
  }
  if (auto a = SubMap(r, "audit_columns")) {
    a->GetBool("enabled", t.audit_columns.enabled);
    a->GetString("load_timestamp", t.audit_columns.load_timestamp);
    a->GetString("source_file", t.audit_columns.source_file);
    a->GetString("batch_id", t.audit_columns.batch_id);
    a->CheckUnknownKeys();
  }
}

void ReadStrategyOptions(MapReader& r, TableConfig& t) {
  r.GetOptString("sequence_column", t.sequence_column);
  r.GetOptString("delete_condition", t.delete_condition);
  r.GetBool("retire_absent_keys", t.retire_absent_keys);
  r.GetOptString("scd2_open_end_value", t.scd2_open_end_value);
  r.GetOptString("merge_condition", t.merge_condition);
  r.GetStringList("update_columns", t.update_columns);
  r.GetStringList("except_columns", t.except_columns);
  r.GetEnum("when_not_matched_by_source", t.when_not_matched_by_source,
            internal::kWhenNotMatchedBySourceNames);
  r.GetEnum("overwrite_mode", t.overwrite_mode, internal::kOverwriteModeNames);
  r.GetOptString("replace_where", t.replace_where);
}

// file: and dbfs: locations become local paths, object-store URIs with a backend stay; any
// other scheme is refused here, naming the key: a location read the wrong way must never look
// like a directory with no files.
void ResolveLocationKey(MapReader& r, std::string_view key, std::string& value) {
  if (value.empty() || r.Failed(key)) return;
  auto resolved = ResolveLocation(value);
  if (!resolved.ok()) {
    r.Error(key, resolved.status().message());
    return;
  }
  value = std::move(*resolved);
}

// Relative patterns are taken relative to raw_data_path; URLs and absolute paths stay. A
// Delta source is a directory, not a glob, so its base needs no escaping.
void ResolvePattern(const LoaderConfig& cfg, const std::string& table_path, TableConfig& t,
                    std::set<std::string>& env_keys) {
  const std::string& p = t.source_path_pattern;
  // Any "scheme:/" location is one (s3:/b/x, a slash short, is not a directory below raw).
  if (p.empty() || p[0] == '/' || !UriScheme(p).empty()) return;
  if (cfg.raw_data_path.empty()) return;
  const bool glob = t.file_format != FileFormat::kDelta;
  t.source_path_pattern =
      JoinPath(glob ? internal::EscapeGlob(cfg.raw_data_path) : cfg.raw_data_path, p);
  if (cfg.env_keys.count("raw_data_path")) env_keys.insert(table_path + ".source_path_pattern");
}

TableConfig ParseTable(MapReader& r, const TableConfig& defaults, const LoaderConfig& cfg,
                       StorageOptions& storage_options) {
  TableConfig t = defaults;
  t.line = r.line();
  for (std::string_view key : {"table_name", "database_name", "source_path_pattern"}) {
    r.Require(key);
  }
  r.GetString("table_name", t.table_name);
  r.GetString("database_name", t.database_name);
  r.GetString("source_path_pattern", t.source_path_pattern);
  r.GetEnum("loading_strategy", t.loading_strategy, internal::kLoadingStrategyNames);
  r.GetEnum("file_format", t.file_format, internal::kFileFormatNames);
  r.GetBool("schema_evolution", t.schema_evolution);
  r.GetStringList("partition_columns", t.partition_columns);
  r.GetStringList("clustering_columns", t.clustering_columns);
  r.GetStringList("primary_keys", t.primary_keys);
  r.GetStringList("tracking_columns", t.tracking_columns);
  r.GetString("scd2_effective_date_column", t.scd2_effective_date_column);
  r.GetString("scd2_end_date_column", t.scd2_end_date_column);
  r.GetString("scd2_current_flag_column", t.scd2_current_flag_column);
  ReadReaderOptions(r, t);
  ReadTableDefaults(r, t);
  ReadAuditColumns(r, t);

  internal::TableParseInfo info;
  bool dedup = false;
  if (r.GetBool("dedup", dedup)) info.explicit_dedup = dedup;
  r.GetStringList("dedup_keys", t.dedup_keys);
  SchemaEvolutionMode mode{};
  if (r.GetEnum("schema_evolution_mode", mode, internal::kSchemaEvolutionModeNames)) {
    info.explicit_mode = mode;
  }
  r.GetString("rescued_data_column", t.rescued_data_column);
  ReadStrategyOptions(r, t);
  ReadTableProperties(r, t);
  internal::ReadStorageOptions(r, storage_options);
  r.CheckUnknownKeys(internal::kRootOnlyKeys, "at the top level");

  // Inherited defaults that came from ${ENV} stay redacted in the table too.
  for (std::string_view key : internal::kTableDefaultKeys) {
    if (!r.Has(key) && cfg.env_keys.count(std::string(key))) r.env_keys().insert(r.PathOf(key));
  }
  ResolveLocationKey(r, "source_path_pattern", t.source_path_pattern);
  ResolvePattern(cfg, r.path(), t, r.env_keys());
  // A relative pattern's ".." may climb out of raw_data_path's bucket.
  if (Status st = CheckUriStaysInRoot(t.source_path_pattern);
      !st.ok() && !r.Failed("source_path_pattern")) {
    r.Error("source_path_pattern", st.message());
  }
  internal::ValidateTable(r, info, t);
  return t;
}

// The location of a file: dependency, and of a table: dependency given by its path, resolves
// as the path keys do (file:// and dbfs: to local paths). A scheme without a backend is refused
// here: a dependency read the wrong way must never be one that no run can meet.
void ResolveDependencyLocations(MapReader& r, std::vector<std::string>& deps) {
  for (std::string& spec : deps) {
    auto target = internal::DependencyLocation(spec);
    if (!target) continue;
    auto resolved = ResolveLocation(*target);
    if (!resolved.ok()) {
      r.Error("upstream_dependencies", fmt::format("'{}': {}", spec, resolved.status().message()));
      continue;
    }
    spec = spec.substr(0, spec.find(':') + 1) + *resolved;
  }
}

void ReadCluster(MapReader& r, LoaderConfig& cfg) {
  r.GetBool("use_unity_catalog", cfg.use_unity_catalog);
  r.GetOptString("default_catalog", cfg.default_catalog);
  r.GetOptString("unity_catalog_url", cfg.unity_catalog_url);
  r.GetStringList("upstream_dependencies", cfg.upstream_dependencies);
  ResolveDependencyLocations(r, cfg.upstream_dependencies);
  r.GetStringList("downstream_notifications", cfg.downstream_notifications);
}

// Unity Catalog, dependencies, notifications: Unity Catalog token, dependency waiting,
// notifications.
void ReadCatalogAndOrchestration(MapReader& r, LoaderConfig& cfg) {
  r.GetString("unity_catalog_token_env", cfg.unity_catalog_token_env);
  r.GetString("databricks_host_env", cfg.databricks_host_env);
  r.GetString("databricks_token_env", cfg.databricks_token_env);
  r.GetEnum("on_unmet_dependencies", cfg.on_unmet_dependencies,
            internal::kOnUnmetDependenciesNames);
  r.GetInt("dependency_wait_timeout_seconds", cfg.dependency_wait_timeout_seconds, 1,
           7 * 24 * 3600);
  r.GetInt("dependency_poll_interval_seconds", cfg.dependency_poll_interval_seconds, 1, 24 * 3600);
  int64_t max_age = 0;
  if (r.GetInt("dependency_max_age_seconds", max_age, int64_t{1}, kTenYearsSeconds)) {
    cfg.dependency_max_age_seconds = max_age;
  }
  r.GetInt("notification_retries", cfg.notification_retries, 0, 10);
  r.GetInt("notification_backoff_ms", cfg.notification_backoff_ms, 0, 600000);
  r.GetInt("http_timeout_seconds", cfg.http_timeout_seconds, 1, 3600);
}

// ---- Cluster mode: `cluster:` (environment overrides, resource budget, health thresholds) ----
template <typename T>
void GetOptInt(MapReader& r, std::string_view key, std::optional<T>& out, T min, T max) {
  T v{};
  if (r.GetInt(key, v, min, max)) out = v;
}

void GetOptBytes(MapReader& r, std::string_view key, std::optional<int64_t>& out) {
  int64_t v = 0;
  if (r.GetByteSize(key, v)) out = v;
}

void ReadClusterSettings(MapReader& root, LoaderConfig& cfg) {
  cfg.max_parallel_jobs_given = root.Has("max_parallel_jobs");
  auto r = SubMap(root, "cluster");
  if (!r) return;
  ClusterSettings& c = cfg.cluster;
  r->GetString("environment", c.environment);
  for (char& ch : c.environment) {
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  r->GetString("system_root", c.system_root);
  GetOptInt(*r, "cpu_cores", c.cpu_cores, 1, 4096);
  GetOptBytes(*r, "memory_limit", c.memory_limit);
  r->GetOptString("runtime_version", c.runtime_version);
  r->GetOptString("cluster_id", c.cluster_id);
  r->GetOptString("cluster_name", c.cluster_name);
  r->GetOptString("cluster_type", c.cluster_type);
  r->GetOptString("node_type", c.node_type);
  GetOptInt(*r, "workers", c.workers, 0, 100000);
  GetOptInt(*r, "engine_threads", c.engine_threads, 1, 4096);
  GetOptBytes(*r, "engine_memory_limit", c.engine_memory_limit);
  r->GetInt("memory_budget_percent", c.memory_budget_percent, 1, 100);
  r->GetByteSize("memory_per_job", c.memory_per_job);
  r->GetInt("backpressure_percent", c.backpressure_percent, 1, 100);
  GetOptBytes(*r, "memory_hard_limit", c.memory_hard_limit);
  r->GetInt("monitoring_interval_ms", c.monitoring_interval_ms, 10, 60000);
  r->GetInt("min_free_disk_percent", c.min_free_disk_percent, 0, 100);
  r->GetInt("failed_files_warning_percent", c.failed_files_warning_percent, 0, 100);
  r->GetInt("failed_files_critical_percent", c.failed_files_critical_percent, 0, 100);
  r->GetByteSize("small_file_bytes", c.small_file_bytes);
  r->GetInt("small_files_min", c.small_files_min, 1, 100000000);
  internal::ValidateClusterSettings(*r, c);
  r->CheckUnknownKeys();
}
// ---- end of cluster mode ----

// `spark: {remote: ...}`. The connection string is checked where it is used (the Spark
// engine parses it); its token is masked in every output from here on.
void ReadSparkSettings(MapReader& root, LoaderConfig& cfg) {
  auto r = SubMap(root, "spark");
  if (!r) return;
  cfg.spark_line = root.LineOfKey("spark");
  r->GetString("remote", cfg.spark_remote);
  r->CheckUnknownKeys();
  std::string_view rest = cfg.spark_remote;
  for (size_t semi = rest.find(';'); semi != std::string_view::npos; semi = rest.find(';')) {
    rest.remove_prefix(semi + 1);
    std::string_view param = rest.substr(0, rest.find(';'));
    if (param.rfind("token=", 0) == 0 && param.size() > 6) {
      cfg.env_values.insert(std::string(param.substr(6)));
    }
  }
}

void ReadTables(MapReader& r, const TableConfig& defaults, LoaderConfig& cfg) {
  r.Require("tables");
  auto tables = r.GetNode("tables");
  if (!tables) return;
  if (!tables->IsSequence()) {
    r.Error("tables", "expected a list of table entries");
    return;
  }
  if (tables->size() == 0) {
    r.Error("tables", "must list at least one table");
    return;
  }
  for (size_t i = 0; i < tables->size(); ++i) {
    const YAML::Node item = (*tables)[i];
    std::string path = fmt::format("tables[{}]", i);
    int line = LineOf(item) > 0 ? LineOf(item) : r.LineOfKey("tables");
    if (!item.IsMap()) {
      r.diag().Add(line, path, "expected a mapping of table keys (table_name: ...)");
      continue;
    }
    MapReader tr(r.diag(), {cfg.env_keys, cfg.env_values}, item, path, line);
    StorageOptions options;
    cfg.tables.push_back(ParseTable(tr, defaults, cfg, options));
    internal::AddTableStorageScopes(cfg, cfg.tables.back(), options, cfg.storage);
  }
}

void ParseRoot(const YAML::Node& root, Diagnostics& diag, LoaderConfig& cfg) {
  MapReader r(diag, {cfg.env_keys, cfg.env_values}, root, "", LineOf(root) > 0 ? LineOf(root) : 1);
  for (std::string_view key : {"raw_data_path", "processed_data_path", "checkpoint_path"}) {
    r.Require(key);
  }
  r.GetString("raw_data_path", cfg.raw_data_path);
  r.GetString("processed_data_path", cfg.processed_data_path);
  r.GetString("checkpoint_path", cfg.checkpoint_path);
  ResolveLocationKey(r, "raw_data_path", cfg.raw_data_path);
  ResolveLocationKey(r, "processed_data_path", cfg.processed_data_path);
  ResolveLocationKey(r, "checkpoint_path", cfg.checkpoint_path);
  r.GetString("file_tracker_table", cfg.file_tracker_table);
  r.GetString("file_tracker_database", cfg.file_tracker_database);
  r.GetInt("max_parallel_jobs", cfg.max_parallel_jobs, 1, 1024);
  r.GetInt("retry_attempts", cfg.retry_attempts, 0, 100);
  r.GetInt("timeout_minutes", cfg.timeout_minutes, 1, 366 * 24 * 60);
  r.GetInt("retry_backoff_ms", cfg.retry_backoff_ms, 0, 600000);
  r.GetEnum("log_level", cfg.log_level, internal::kLogLevelNames);
  r.GetBool("enable_metrics", cfg.enable_metrics);
  internal::ReadStorageOptions(r, cfg.storage.global);
  ReadCluster(r, cfg);
  ReadCatalogAndOrchestration(r, cfg);
  ReadClusterSettings(r, cfg);  // cluster mode: environment and resources
  ReadSparkSettings(r, cfg);
  TableConfig defaults;
  ReadTableDefaults(r, defaults);
  ReadTables(r, defaults, cfg);
  r.CheckUnknownKeys(internal::kTableOnlyKeys, "in a table entry under tables:");
  internal::ValidateRoot(r, cfg);
  internal::CheckStorageBackends(r, cfg);
}

// The original documents `--config-json 'raw_data_path: /mnt/raw/\n...'`, where the shell
// passes a literal backslash-n; turn those into newlines for one-line, non-JSON text.
std::string UnescapeInlineNewlines(const std::string& text) {
  size_t first = text.find_first_not_of(" \t");
  bool json = first != std::string::npos && (text[first] == '{' || text[first] == '[');
  if (json || text.find('\n') != std::string::npos || text.find("\\n") == std::string::npos)
    return text;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Ignores parse events: used only to count the documents in the text.
class NullEventHandler : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Count documents without YAML::LoadAll, which never returns on a document that starts
// with a stray ',' (yaml-cpp 0.7 yields empty documents forever): stop at a cap instead.
Result<int> CountDocuments(const std::string& text, const std::string& source) {
  constexpr int kCap = 32;
  std::istringstream in(text);
  YAML::Parser parser(in);
  NullEventHandler handler;
  int docs = 0;
  while (docs < kCap && parser.HandleNextDocument(handler)) ++docs;
  if (docs < kCap) return docs;
  std::istringstream lines(text);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] == ',') {
      return Status::Config("{}:{}:{}: YAML syntax error: unexpected ','", source, n, first + 1);
    }
  }
  return Status::Config("{}: YAML syntax error: the text does not parse", source);
}

// Top-level keys set over the document's: the Python API's ClusterConfig(default_catalog=...,
// upstream_dependencies=...) changes a loaded config this way, so the keys are validated as if
// the file had them.
Status ApplyOverrides(YAML::Node& root, const std::string& overrides, const std::string& source) {
  YAML::Node over = YAML::Load(overrides);
  if (!over.IsMap()) return Status::Config("{}: overrides must be a mapping of keys", source);
  for (const auto& kv : over) root[kv.first.as<std::string>()] = kv.second;
  return Status::OK();
}

Result<LoaderConfig> Parse(const std::string& text, const std::string& source,
                           std::vector<ConfigProblem>* problems, const std::string& overrides) {
  YAML::Node root;
  try {
    DL_ASSIGN_OR_RETURN(int docs, CountDocuments(text, source));
    if (docs > 1) {
      return Status::Config("{}: holds {} YAML documents ('---'); expected one", source, docs);
    }
    root = YAML::Load(text);
    if (!overrides.empty() && root.IsMap())
      DL_RETURN_IF_ERROR(ApplyOverrides(root, overrides, source));
  } catch (const YAML::Exception& e) {
    if (problems) {
      problems->push_back(
          {e.mark.is_null() ? 0 : e.mark.line + 1, "", "YAML syntax error: " + e.msg});
    }
    if (e.mark.is_null()) return Status::Config("{}: YAML syntax error: {}", source, e.msg);
    return Status::Config("{}:{}:{}: YAML syntax error: {}", source, e.mark.line + 1,
                          e.mark.column + 1, e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) return Status::Config("{}: the config is empty", source);
  if (!root.IsMap()) {
    return Status::Config("{}:{}: the config must be a mapping of keys (raw_data_path: ...)",
                          source, std::max(1, LineOf(root)));
  }
  LoaderConfig cfg;
  cfg.source_name = source;
  Diagnostics diag(source);
  try {
    ParseRoot(root, diag, cfg);
  } catch (const std::exception& e) {  // yaml-cpp throws; nothing may escape the module
    return Status::Config("{}: cannot read the config: {}", source, e.what());
  }
  if (problems) *problems = diag.Problems();
  DL_RETURN_IF_ERROR(diag.ToStatus());
  return cfg;
}

}  // namespace

Result<LoaderConfig> LoadConfigText(const std::string& yaml_or_json, const std::string& source_name,
                                    std::vector<ConfigProblem>* problems,
                                    const std::string& overrides) {
  return Parse(UnescapeInlineNewlines(yaml_or_json), source_name, problems, overrides);
}

Result<LoaderConfig> LoadConfigFile(const std::string& path, std::vector<ConfigProblem>* problems,
                                    const std::string& overrides) {
  // Read at most one byte past the cap: `--config /dev/zero` (or a log file given by mistake)
  // must fail fast, not fill memory.
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Config("cannot read config file {}: {}", path, std::strerror(errno));
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::Config("cannot read config file {}: {}", path, std::strerror(errno));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) {
    return Status::Config("config file {} is larger than {} MiB; is it the right file?", path,
                          kMaxConfigBytes >> 20);
  }
  return Parse(text, path, problems, overrides);
}

}  // namespace dl::config
