// Enum spellings, storage locations, table selection and redacted rendering of the config.
#include "dl/config/loader_config.hpp"

#include <cctype>

#include "dl/config/config_internal.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/paths.hpp"

namespace dl::config {
namespace internal {

const EnumNames<LoadingStrategy> kLoadingStrategyNames = {
    {"scd2", LoadingStrategy::kScd2},
    {"append", LoadingStrategy::kAppend},
    {"overwrite", LoadingStrategy::kOverwrite},
    {"merge", LoadingStrategy::kMerge}};
const EnumNames<FileFormat> kFileFormatNames = {{"parquet", FileFormat::kParquet},
                                                {"csv", FileFormat::kCsv},
                                                {"json", FileFormat::kJson},
                                                {"delta", FileFormat::kDelta}};
const EnumNames<LogLevel> kLogLevelNames = {{"DEBUG", LogLevel::kDebug},
                                            {"INFO", LogLevel::kInfo},
                                            {"WARNING", LogLevel::kWarning},
                                            {"ERROR", LogLevel::kError}};
const EnumNames<SchemaEvolutionMode> kSchemaEvolutionModeNames = {
    {"add_new_columns", SchemaEvolutionMode::kAddNewColumns},
    {"fail_on_new_columns", SchemaEvolutionMode::kFailOnNewColumns},
    {"rescue", SchemaEvolutionMode::kRescue},
    {"none", SchemaEvolutionMode::kNone}};
const EnumNames<JsonFormat> kJsonFormatNames = {
    {"auto", JsonFormat::kAuto}, {"lines", JsonFormat::kLines}, {"array", JsonFormat::kArray}};
const EnumNames<WhenNotMatchedBySource> kWhenNotMatchedBySourceNames = {
    {"keep", WhenNotMatchedBySource::kKeep}, {"delete", WhenNotMatchedBySource::kDelete}};
const EnumNames<OverwriteMode> kOverwriteModeNames = {{"static", OverwriteMode::kStatic},
                                                      {"dynamic", OverwriteMode::kDynamic}};
const EnumNames<OnBadRows> kOnBadRowsNames = {{"fail", OnBadRows::kFail},
                                              {"quarantine", OnBadRows::kQuarantine}};
const EnumNames<OnUnmetDependencies> kOnUnmetDependenciesNames = {
    {"fail", OnUnmetDependencies::kFail}, {"wait", OnUnmetDependencies::kWait}};
const EnumNames<EngineKind> kEngineNames = {{"duckdb", EngineKind::kDuckdb},
                                            {"spark", EngineKind::kSpark}};

// clang-format off
const std::vector<std::string_view> kRootOnlyKeys = {
    "raw_data_path", "processed_data_path", "checkpoint_path", "file_tracker_table",
    "file_tracker_database", "max_parallel_jobs", "retry_attempts", "timeout_minutes",
    "retry_backoff_ms",
    "log_level", "enable_metrics", "tables", "use_unity_catalog", "default_catalog",
    "unity_catalog_url", "upstream_dependencies", "downstream_notifications",
    // Unity Catalog, dependencies, notifications
    "unity_catalog_token_env", "databricks_host_env", "databricks_token_env",
    "on_unmet_dependencies", "dependency_wait_timeout_seconds",
    "dependency_poll_interval_seconds", "dependency_max_age_seconds", "notification_retries",
    "notification_backoff_ms", "http_timeout_seconds",
    "cluster",  // cluster: cluster mode (environment and resources)
    "spark"};   // spark: the Spark engine's remote
const std::vector<std::string_view> kTableOnlyKeys = {
    "table_name", "database_name", "source_path_pattern", "loading_strategy", "file_format",
    "schema_evolution", "partition_columns", "primary_keys", "tracking_columns",
    "scd2_effective_date_column", "scd2_end_date_column", "scd2_current_flag_column",
    "csv_options", "json_options", "audit_columns", "dedup", "dedup_keys",
    "schema_evolution_mode", "rescued_data_column", "sequence_column", "delete_condition",
    "retire_absent_keys", "scd2_open_end_value", "merge_condition", "update_columns",
    "except_columns", "when_not_matched_by_source", "overwrite_mode", "replace_where",
    "table_properties", "clustering_columns"};
const std::vector<std::string_view> kTableDefaultKeys = {
    "max_files_per_batch", "max_bytes_per_batch", "min_file_age_seconds", "allow_overwrites",
    "on_bad_rows", "engine"};
// clang-format on

std::optional<std::string> DependencyLocation(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return std::nullopt;  // ValidateRoot names a malformed entry
  const std::string_view kind = std::string_view(spec).substr(0, colon);
  std::string target = spec.substr(colon + 1);
  const bool location = !target.empty() && (target[0] == '/' || !UriScheme(target).empty());
  if (kind == "file" || (kind == "table" && location)) return target;
  return std::nullopt;
}

}  // namespace internal

namespace {

template <typename E>
std::string_view NameOf(const internal::EnumNames<E>& names, E v) {
  for (const auto& [name, value] : names) {
    if (value == v) return name;
  }
  return "?";
}

// Unity Catalog stores names lower-case (and compares them so): under use_unity_catalog the
// storage path and the displayed name use the lower-case form.
std::string UcCase(const LoaderConfig& cfg, std::string name) {
  if (!cfg.use_unity_catalog) return name;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// (catalog, schema) of a database name: "c.s" -> {c, s}; "s" -> {default_catalog or "", s}.
std::pair<std::string, std::string> SplitDatabase(const LoaderConfig& cfg,
                                                  const std::string& database) {
  size_t dot = database.find('.');
  if (dot != std::string::npos) {
    return {UcCase(cfg, database.substr(0, dot)), UcCase(cfg, database.substr(dot + 1))};
  }
  if (cfg.use_unity_catalog && cfg.default_catalog) {
    return {UcCase(cfg, *cfg.default_catalog), UcCase(cfg, database)};
  }
  return {"", database};
}

}  // namespace

std::string_view ToString(LoadingStrategy v) { return NameOf(internal::kLoadingStrategyNames, v); }
std::string_view ToString(EngineKind v) { return NameOf(internal::kEngineNames, v); }
std::string_view ToString(FileFormat v) { return NameOf(internal::kFileFormatNames, v); }
std::string_view ToString(LogLevel v) { return NameOf(internal::kLogLevelNames, v); }
std::string_view ToString(SchemaEvolutionMode v) {
  return NameOf(internal::kSchemaEvolutionModeNames, v);
}
std::string_view ToString(JsonFormat v) { return NameOf(internal::kJsonFormatNames, v); }
std::string_view ToString(WhenNotMatchedBySource v) {
  return NameOf(internal::kWhenNotMatchedBySourceNames, v);
}
std::string_view ToString(OverwriteMode v) { return NameOf(internal::kOverwriteModeNames, v); }
std::string_view ToString(OnBadRows v) { return NameOf(internal::kOnBadRowsNames, v); }
std::string_view ToString(OnUnmetDependencies v) {
  return NameOf(internal::kOnUnmetDependenciesNames, v);
}

std::string DatabasePath(const LoaderConfig& cfg, const std::string& database_name) {
  auto [catalog, schema] = SplitDatabase(cfg, database_name);
  std::string base = cfg.processed_data_path;
  if (!catalog.empty()) base = JoinPath(base, catalog);
  return JoinPath(base, schema);
}

std::string TablePath(const LoaderConfig& cfg, const TableConfig& table) {
  if (!table.location.empty()) return table.location;
  return JoinPath(DatabasePath(cfg, table.database_name), UcCase(cfg, table.table_name));
}

std::string TrackerPath(const LoaderConfig& cfg) {
  return JoinPath(DatabasePath(cfg, cfg.file_tracker_database), cfg.file_tracker_table);
}

std::string StateDir(const LoaderConfig& cfg) { return cfg.checkpoint_path; }

std::string TableStateDir(const LoaderConfig& cfg, const TableConfig& table) {
  return JoinPath(JoinPath(JoinPath(cfg.checkpoint_path, "tables"), table.database_name),
                  table.table_name);
}

std::string MetricsDir(const LoaderConfig& cfg) { return JoinPath(cfg.checkpoint_path, "metrics"); }

std::string DisplayName(const LoaderConfig& cfg, const TableConfig& table) {
  auto [catalog, schema] = SplitDatabase(cfg, table.database_name);
  if (catalog.empty()) return schema + "." + table.table_name;
  return catalog + "." + schema + "." + UcCase(cfg, table.table_name);
}

Result<std::vector<const TableConfig*>> SelectTables(const LoaderConfig& cfg,
                                                     const std::vector<std::string>& names) {
  std::vector<const TableConfig*> out;
  if (names.empty()) {
    for (const auto& t : cfg.tables) out.push_back(&t);
    return out;
  }
  std::set<const TableConfig*> chosen;
  for (const std::string& name : names) {
    std::vector<const TableConfig*> hits;
    for (const auto& t : cfg.tables) {
      if (name == t.table_name || name == t.QualifiedName() || name == DisplayName(cfg, t)) {
        hits.push_back(&t);
      }
    }
    if (hits.empty()) {
      std::string known;
      for (const auto& t : cfg.tables) known += (known.empty() ? "" : ", ") + t.QualifiedName();
      return Status::Config("no table named '{}' in the config (tables: {})", name, known);
    }
    if (hits.size() > 1) {
      return Status::Config("table name '{}' is ambiguous: write database.table ({} or {})", name,
                            hits[0]->QualifiedName(), hits[1]->QualifiedName());
    }
    chosen.insert(hits[0]);
  }
  for (const auto& t : cfg.tables) {
    if (chosen.count(&t)) out.push_back(&t);
  }
  return out;
}

}  // namespace dl::config
