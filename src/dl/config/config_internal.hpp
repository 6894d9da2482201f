// Config-module internals shared by the loader, validation and rendering.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/config/yaml_reader_internal.hpp"

namespace dl::config::internal {

// YAML spellings of the enums, in the order error messages list them.
extern const EnumNames<LoadingStrategy> kLoadingStrategyNames;
extern const EnumNames<FileFormat> kFileFormatNames;
extern const EnumNames<LogLevel> kLogLevelNames;
extern const EnumNames<SchemaEvolutionMode> kSchemaEvolutionModeNames;
extern const EnumNames<JsonFormat> kJsonFormatNames;
extern const EnumNames<WhenNotMatchedBySource> kWhenNotMatchedBySourceNames;
extern const EnumNames<OverwriteMode> kOverwriteModeNames;
extern const EnumNames<OnBadRows> kOnBadRowsNames;
extern const EnumNames<OnUnmetDependencies> kOnUnmetDependenciesNames;
extern const EnumNames<EngineKind> kEngineNames;

/// Keys valid only at the top level, and keys valid only in a table entry (for the
/// "it belongs elsewhere" hint on unknown keys).
extern const std::vector<std::string_view> kRootOnlyKeys;
extern const std::vector<std::string_view> kTableOnlyKeys;
/// Table keys that may also be given at the top level as defaults for every table.
extern const std::vector<std::string_view> kTableDefaultKeys;

/// The location an upstream dependency names: `file:<location>`, or `table:<location>` given as
/// a path or URI (not a table name); nullopt for anything else.
std::optional<std::string> DependencyLocation(const std::string& spec);

/// What the parser saw besides the values, for validation.
struct TableParseInfo {
  std::optional<SchemaEvolutionMode> explicit_mode;  ///< schema_evolution_mode as written
  std::optional<bool> explicit_dedup;                ///< dedup as written
};

/// Check one parsed table; resolves derived fields (schema_evolution_mode, dedup, csv
/// spellings). Errors go to the reader's diagnostics, at the offending key.
void ValidateTable(MapReader& r, const TableParseInfo& info, TableConfig& table);

/// Check the whole config: global values, duplicate tables (by storage location), Unity
/// Catalog names, cluster keys. `r` reads the top-level map.
void ValidateRoot(MapReader& r, const LoaderConfig& cfg);

/// Cluster mode: check the `cluster:` map (`r` reads it) once its keys are parsed.
void ValidateClusterSettings(MapReader& r, const ClusterSettings& c);

/// True for [A-Za-z0-9_]+.
bool IsIdentifier(std::string_view name);

/// A literal directory with its glob wildcards escaped, so a pattern under it matches it
/// exactly ("br[1]/raw" matches itself, not "br1/raw").
std::string EscapeGlob(const std::string& path);

/// The literal directory a glob starts from: the segments before the first one with an
/// unescaped wildcard, unescaped ("br\\[1]/raw/*.csv" -> "br[1]/raw"; "s3://b/raw/*.csv" ->
/// "s3://b/raw"). A pattern without wildcards is returned whole.
std::string SourcePatternBase(const std::string& pattern);

// ---- `storage_options:` (storage_config.cpp) ----

/// The spelling our backends read for a delta-rs / object_store option key (case-insensitive;
/// aliases such as aws_endpoint -> aws_endpoint_url), or nullopt for an unknown key.
/// Options that hold secrets (keys, tokens, connection strings): masked in all output.
bool IsSecretStorageOption(std::string_view canonical);
std::optional<std::string> CanonicalStorageOption(std::string_view key);

/// Read the `storage_options:` map of `r` into `out` (canonical keys). An unknown key is an
/// error naming its path and line, with a "did you mean". Values are strings (with ${VAR});
/// every value is added to the masked values (RedactEnvValues) except plain settings
/// (true/false/numbers), which no secret looks like.
void ReadStorageOptions(MapReader& r, StorageOptions& out);

/// Scope a table's own options to its table root and its source base (SourcePatternBase).
void AddTableStorageScopes(const LoaderConfig& cfg, const TableConfig& t,
                           const StorageOptions& options, StorageConfig& storage);

/// Every object-store location of the config (raw_data_path, processed_data_path,
/// checkpoint_path, each source base) can have its backend made with its options: else a
/// config error naming the key and the scheme. Makes no request.
void CheckStorageBackends(MapReader& r, const LoaderConfig& cfg);

}  // namespace dl::config::internal
