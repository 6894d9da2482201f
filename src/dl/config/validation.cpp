// Config validation: values and combinations the types alone do not rule out.
#include <algorithm>
#include <cctype>
#include <map>

#include "dl/common/clock.hpp"
#include "dl/config/config_internal.hpp"
#include "dl/storage/location_identity.hpp"
#include "dl/storage/paths.hpp"

namespace dl::config::internal {
namespace {

constexpr size_t kMaxUnityCatalogName = 255;
constexpr size_t kMaxPathComponent = 255;  // NAME_MAX of Linux filesystems, and of S3 keys' parts

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Names become directory names: [A-Za-z0-9_]+, or two of them joined by one dot when
// allow_dot (catalog.schema). Never '/', '..', empty, `_delta_log` (a table's log directory)
// or longer than a directory name may be.
void CheckName(MapReader& r, std::string_view key, const std::string& value, bool allow_dot) {
  if ((!r.Has(key) && value.empty()) || r.Failed(key)) return;  // reported already
  size_t dot = value.find('.');
  std::vector<std::string> parts = {value};
  if (allow_dot && dot != std::string::npos) parts = {value.substr(0, dot), value.substr(dot + 1)};
  bool ok = std::all_of(parts.begin(), parts.end(), IsIdentifier);
  if (!ok) {
    r.Error(key, fmt::format("'{}' is not a valid name: use letters, digits and '_'{}", value,
                             allow_dot ? " (or catalog.schema)" : ""));
    return;
  }
  for (const std::string& part : parts) {
    if (Lower(part) == kDeltaLogDirName) {
      r.Error(key, fmt::format("'{}' is the name of a Delta table's log directory: a table "
                               "there would write inside another table's log",
                               part));
    } else if (part.size() > kMaxPathComponent) {
      r.Error(key, fmt::format("'{}...' has {} characters: it becomes a directory name, and "
                               "those are limited to {} bytes",
                               part.substr(0, 20), part.size(), kMaxPathComponent));
    }
  }
}

void CheckUnique(MapReader& r, std::string_view key, const std::vector<std::string>& values) {
  std::set<std::string> seen;
  for (const auto& v : values) {
    if (!seen.insert(v).second) r.Error(key, fmt::format("'{}' is listed twice", v));
  }
}

// Keys that only mean something under one loading strategy (or file format).
void CheckOnlyWith(MapReader& r, std::string_view key, bool allowed, std::string_view needs,
                   std::string_view actual) {
  if (r.Has(key) && !allowed) {
    r.Error(key, fmt::format("only used with {} (this table has {})", needs, actual));
  }
}

void CheckStrategyKeys(MapReader& r, const TableConfig& t) {
  const LoadingStrategy s = t.loading_strategy;
  const std::string actual = fmt::format("loading_strategy: {}", ToString(s));
  const bool scd2 = s == LoadingStrategy::kScd2, merge = s == LoadingStrategy::kMerge;
  if ((scd2 || merge) && t.primary_keys.empty()) {
    r.Error("primary_keys", fmt::format("required when loading_strategy is {}", ToString(s)));
  }
  for (std::string_view key :
       {"tracking_columns", "scd2_effective_date_column", "scd2_end_date_column",
        "scd2_current_flag_column", "scd2_open_end_value", "retire_absent_keys"}) {
    CheckOnlyWith(r, key, scd2, "loading_strategy: scd2", actual);
  }
  for (std::string_view key :
       {"merge_condition", "update_columns", "except_columns", "when_not_matched_by_source"}) {
    CheckOnlyWith(r, key, merge, "loading_strategy: merge", actual);
  }
  CheckOnlyWith(r, "delete_condition", scd2 || merge, "loading_strategy: scd2 or merge", actual);
  CheckOnlyWith(r, "sequence_column", scd2 || merge || t.dedup,
                "loading_strategy: scd2 or merge, or with dedup", actual);
  const bool overwrite = s == LoadingStrategy::kOverwrite;
  CheckOnlyWith(r, "overwrite_mode", overwrite, "loading_strategy: overwrite", actual);
  CheckOnlyWith(r, "replace_where", overwrite, "loading_strategy: overwrite", actual);

  if (!t.update_columns.empty() && !t.except_columns.empty()) {
    r.Error("except_columns", "give update_columns or except_columns, not both");
  }
  if (overwrite && t.overwrite_mode == OverwriteMode::kDynamic) {
    if (t.partition_columns.empty()) {
      r.Error("overwrite_mode", "dynamic overwrite replaces partitions: needs partition_columns");
    }
    if (t.replace_where) r.Error("replace_where", "not allowed with overwrite_mode: dynamic");
  }
  for (const auto& key : t.tracking_columns) {
    if (std::count(t.primary_keys.begin(), t.primary_keys.end(), key)) {
      r.Error("tracking_columns", fmt::format("'{}' is a primary key, not a tracked column", key));
    }
  }
  if (t.scd2_open_end_value && !ParseTimestampMs(*t.scd2_open_end_value)) {
    const std::string& v = *t.scd2_open_end_value;
    bool integer =
        !v.empty() && std::all_of(v.begin() + (v[0] == '-'), v.end(), ::isdigit) && v != "-";
    if (!integer) {
      r.Error("scd2_open_end_value",
              fmt::format("'{}' is neither a date/timestamp (9999-12-31) nor an integer", v));
    }
  }
}

void CheckSql(MapReader& r, std::string_view key, const std::optional<std::string>& sql) {
  if (!sql) return;
  // What it may contain is checked by the engine's parser (loader::CheckSqlFragments).
  if (sql->find_first_not_of(" \t\r\n") == std::string::npos) r.Error(key, "must not be empty");
}

void CheckReaderOptions(MapReader& r, TableConfig& t) {
  const std::string actual = fmt::format("file_format: {}", ToString(t.file_format));
  CheckOnlyWith(r, "csv_options", t.file_format == FileFormat::kCsv, "file_format: csv", actual);
  CheckOnlyWith(r, "json_options", t.file_format == FileFormat::kJson, "file_format: json", actual);
  CsvOptions& csv = t.csv;
  const std::string at = "csv_options";
  if (csv.delimiter) {
    std::string& d = *csv.delimiter;
    if (d == "\\t" || Lower(d) == "tab") d = "\t";
    if (d.empty() || d.size() > 4 || d.find_first_of("\r\n") != std::string::npos) {
      r.Error(at, fmt::format("delimiter '{}' must be 1 to 4 characters, not a newline", d));
    } else if (csv.quote && d == *csv.quote) {
      r.Error(at, "delimiter and quote must differ");
    }
  }
  // The reader refuses a NULL text that contains the delimiter or quote (or the reverse),
  // but only when it reads a file: say so now, not as a failure of every file.
  if (csv.null_value && !csv.null_value->empty()) {
    const std::string& n = *csv.null_value;
    // Unset, they are sniffed from the file: nothing to compare yet.
    const std::string d = csv.delimiter.value_or("");
    const std::string q = csv.quote.value_or("");
    auto overlaps = [&](const std::string& x) {
      return !x.empty() && (n.find(x) != std::string::npos || x.find(n) != std::string::npos);
    };
    if (overlaps(d)) {
      r.Error(at,
              fmt::format("null_value '{}' and delimiter '{}' must not contain each other", n, d));
    } else if (overlaps(q)) {
      r.Error(at, fmt::format("null_value '{}' and quote '{}' must not contain each other", n, q));
    }
  }
  if (csv.quote && csv.quote->size() > 1) r.Error(at, "quote must be one character or \"\"");
  if (csv.escape && csv.escape->size() > 1) r.Error(at, "escape must be one character or \"\"");
  static const std::map<std::string, std::string> kEncodings = {
      {"utf-8", "utf-8"},     {"utf8", "utf-8"},     {"utf-16", "utf-16"},     {"utf16", "utf-16"},
      {"latin-1", "latin-1"}, {"latin1", "latin-1"}, {"iso-8859-1", "latin-1"}};
  auto enc = kEncodings.find(Lower(csv.encoding));
  if (enc == kEncodings.end()) {
    r.Error(at, fmt::format("encoding '{}' is not one of utf-8, utf-16, latin-1", csv.encoding));
  } else {
    csv.encoding = enc->second;
  }
  for (const auto* cols : {&t.csv.columns, &t.json.columns}) {
    std::set<std::string> seen;
    const std::string key = cols == &t.csv.columns ? "csv_options" : "json_options";
    for (const ColumnSpec& c : *cols) {
      if (c.name.empty() || !seen.insert(c.name).second) {
        r.Error(key, fmt::format("columns: '{}' is empty or listed twice", c.name));
      }
      bool type_ok = !c.type.empty() && std::all_of(c.type.begin(), c.type.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) ||
               std::string_view(" _(),[]").find(ch) != std::string_view::npos;
      });
      if (!type_ok) {
        r.Error(key, fmt::format("columns: '{}' has type '{}', which is not a SQL type name",
                                 c.name, c.type));
      }
    }
  }
}

// Columns the loader adds must not collide with each other or with key columns.
void CheckAddedColumns(MapReader& r, const TableConfig& t) {
  std::vector<std::pair<std::string, std::string>> added;  // (name, which key set it)
  if (t.audit_columns.enabled) {
    added.emplace_back(t.audit_columns.load_timestamp, "audit_columns.load_timestamp");
    added.emplace_back(t.audit_columns.source_file, "audit_columns.source_file");
    added.emplace_back(t.audit_columns.batch_id, "audit_columns.batch_id");
  }
  if (t.loading_strategy == LoadingStrategy::kScd2) {
    added.emplace_back(t.scd2_effective_date_column, "scd2_effective_date_column");
    added.emplace_back(t.scd2_end_date_column, "scd2_end_date_column");
    added.emplace_back(t.scd2_current_flag_column, "scd2_current_flag_column");
  }
  if (t.schema_evolution_mode == SchemaEvolutionMode::kRescue) {
    added.emplace_back(t.rescued_data_column, "rescued_data_column");
  }
  std::map<std::string, std::string> by_name;
  for (const auto& [name, key] : added) {
    if (name.empty()) {
      r.Error(key.substr(0, key.find('.')), fmt::format("{} must not be empty", key));
      continue;
    }
    auto [it, fresh] = by_name.emplace(Lower(name), key);
    if (!fresh) {
      r.Error(key.substr(0, key.find('.')),
              fmt::format("{} '{}' is also the name of {}", key, name, it->second));
    }
  }
  for (std::string_view list : {"primary_keys", "tracking_columns", "dedup_keys"}) {
    const auto& cols = list == "primary_keys"       ? t.primary_keys
                       : list == "tracking_columns" ? t.tracking_columns
                                                    : t.dedup_keys;
    for (const auto& c : cols) {
      auto it = by_name.find(Lower(c));
      if (it != by_name.end()) {
        r.Error(list, fmt::format("'{}' is a column the loader adds ({})", c, it->second));
      }
    }
  }
}

// Resolve schema_evolution_mode and dedup, then check their companions.
void ResolveModes(MapReader& r, const TableParseInfo& info, TableConfig& t) {
  t.schema_evolution_mode =
      info.explicit_mode.value_or(t.schema_evolution ? SchemaEvolutionMode::kAddNewColumns
                                                     : SchemaEvolutionMode::kFailOnNewColumns);
  if (r.Has("rescued_data_column") && t.schema_evolution_mode != SchemaEvolutionMode::kRescue) {
    r.Error("rescued_data_column", "only used with schema_evolution_mode: rescue");
  }
  t.dedup = info.explicit_dedup.value_or(false) || !t.dedup_keys.empty();
  if (info.explicit_dedup == false && !t.dedup_keys.empty()) {
    r.Error("dedup_keys", "set, but dedup is false: remove one of them");
  }
}

}  // namespace

std::string SourcePatternBase(const std::string& pattern) {
  std::string done, current;  // unescaped: up to the last '/', and since
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      current.push_back(pattern[++i]);
    } else if (c == '*' || c == '?' || c == '[') {
      while (done.size() > 1 && done.back() == '/') done.pop_back();
      return done.empty() ? "." : done;
    } else {
      current.push_back(c);
      if (c == '/') {
        done += current;
        current.clear();
      }
    }
  }
  return done + current;  // no wildcard: a file or directory named in full
}

bool IsIdentifier(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

void ValidateTable(MapReader& r, const TableParseInfo& info, TableConfig& t) {
  CheckName(r, "table_name", t.table_name, /*allow_dot=*/false);
  CheckName(r, "database_name", t.database_name, /*allow_dot=*/true);
  if (r.Has("source_path_pattern") && !r.Failed("source_path_pattern") &&
      t.source_path_pattern.empty()) {
    r.Error("source_path_pattern", "must not be empty");
  }
  ResolveModes(r, info, t);
  CheckStrategyKeys(r, t);
  CheckReaderOptions(r, t);
  for (std::string_view key : {"partition_columns", "primary_keys", "tracking_columns",
                               "dedup_keys", "update_columns", "except_columns",
                               "clustering_columns"}) {
    const auto& v = key == "partition_columns"    ? t.partition_columns
                    : key == "clustering_columns" ? t.clustering_columns
                    : key == "primary_keys"     ? t.primary_keys
                    : key == "tracking_columns" ? t.tracking_columns
                    : key == "dedup_keys"       ? t.dedup_keys
                    : key == "update_columns"   ? t.update_columns
                                                : t.except_columns;
    CheckUnique(r, key, v);
  }
  if (!t.clustering_columns.empty() && !t.partition_columns.empty()) {
    r.Error("clustering_columns",
            "a Delta table is clustered or partitioned, not both: drop partition_columns or "
            "clustering_columns");
  }
  if (t.sequence_column && t.sequence_column->empty()) {
    r.Error("sequence_column", "must not be empty");
  }
  CheckSql(r, "delete_condition", t.delete_condition);
  CheckSql(r, "merge_condition", t.merge_condition);
  CheckSql(r, "replace_where", t.replace_where);
  CheckAddedColumns(r, t);
}

namespace {

// A Databricks job id as the Jobs API takes it (orchestration::ParseJobId's rule).
bool IsJobId(std::string_view id) {
  return !id.empty() && id.size() < 19 && id.find_first_not_of("0123456789") == id.npos &&
         id.find_first_not_of('0') != id.npos;
}

// "kind:target" entries of upstream_dependencies / downstream_notifications.
void CheckDependencies(MapReader& r, std::string_view key, const std::vector<std::string>& list,
                       const std::vector<std::string_view>& kinds) {
  for (const std::string& entry : list) {
    size_t colon = entry.find(':');
    std::string_view kind =
        colon == std::string::npos ? "" : std::string_view(entry).substr(0, colon);
    bool known = std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
    if (!known || colon + 1 >= entry.size()) {
      std::string expected;
      for (std::string_view k : kinds)
        expected += (expected.empty() ? "" : ", ") + std::string(k) + ":...";
      r.Error(key, fmt::format("'{}' must look like one of {}", entry, expected));
    } else if (kind == "job" && !IsJobId(std::string_view(entry).substr(colon + 1))) {
      // Else every run finds it unmet (or every notification fails) only at run time.
      r.Error(key, fmt::format("'{}': a job is given by its Databricks job id (a positive "
                               "number, e.g. job:123456)",
                               entry));
    }
  }
}

// Unity Catalog's rules for catalog, schema and table names: at most 255 characters, no
// '.', space, '/', control characters or DEL (our [A-Za-z0-9_]+ already excludes those).
// Names are case-insensitive and stored lower-case; the storage path uses that form.
void CheckUnityCatalogNames(MapReader& r, const TableConfig& t, size_t i) {
  size_t dot = t.database_name.find('.');
  std::vector<std::pair<std::string, std::string>> parts;  // (which, name)
  if (dot != std::string::npos) {
    parts = {{"catalog", t.database_name.substr(0, dot)},
             {"schema", t.database_name.substr(dot + 1)}};
  } else {
    parts = {{"schema", t.database_name}};
  }
  for (const auto& [which, name] : parts) {
    if (name.size() > kMaxUnityCatalogName) {
      r.diag().Add(t.line, fmt::format("tables[{}].database_name", i),
                   fmt::format("the {} name '{}...' has {} characters: Unity Catalog allows "
                               "at most {}",
                               which, name.substr(0, 20), name.size(), kMaxUnityCatalogName));
    }
  }
  if (t.table_name.size() > kMaxUnityCatalogName) {
    r.diag().Add(t.line, fmt::format("tables[{}].table_name", i),
                 fmt::format("'{}...' has {} characters: Unity Catalog allows at most {}",
                             t.table_name.substr(0, 20), t.table_name.size(),
                             kMaxUnityCatalogName));
  }
}

void CheckTablesAreDistinct(MapReader& r, const LoaderConfig& cfg) {
  std::map<std::string, size_t> by_path;
  for (size_t i = 0; i < cfg.tables.size(); ++i) {
    const TableConfig& t = cfg.tables[i];
    if (t.table_name.empty() || t.database_name.empty()) continue;
    auto [it, fresh] = by_path.emplace(Lower(TablePath(cfg, t)), i);
    if (!fresh) {
      const TableConfig& first = cfg.tables[it->second];
      r.diag().Add(t.line, fmt::format("tables[{}]", i),
                   fmt::format("{} is already defined by tables[{}] (line {})", DisplayName(cfg, t),
                               it->second, first.line));
    }
    if (cfg.use_unity_catalog) CheckUnityCatalogNames(r, t, i);
    if (cfg.use_unity_catalog && !cfg.default_catalog &&
        t.database_name.find('.') == std::string::npos) {
      r.diag().Add(t.line, fmt::format("tables[{}].database_name", i),
                   fmt::format("'{}' has no catalog: with use_unity_catalog write "
                               "catalog.schema or set default_catalog",
                               t.database_name));
    }
  }
  std::string tracker = Lower(TrackerPath(cfg));
  if (auto it = by_path.find(tracker); it != by_path.end()) {
    r.Error("file_tracker_table",
            fmt::format("the tracker would share its location with "
                        "tables[{}] ({})",
                        it->second, DisplayName(cfg, cfg.tables[it->second])));
  }
}

// A place the loader writes: a table, the tracker, or checkpoint_path.
struct Location {
  std::string what;  // "tables[1] (d.b.c)", "the file tracker (...)", "checkpoint_path"
  std::string key;   // the key path errors name
  int line = 0;
  std::string path;  // canonical; compared by Comparable
};

// The form two locations are compared in: object stores by identity (s3a://b/x is s3://b/x,
// azure:// is az://; keys case-sensitive, as the stores are), local paths lower-case (as the
// equality check above does: a case-insensitive disk would make them one).
std::string Comparable(const LocationIdentity& identity, const std::string& canonical) {
  return IsUri(canonical) ? identity.Key(canonical) : Lower(canonical);
}

std::vector<Location> WrittenLocations(MapReader& r, const LoaderConfig& cfg) {
  std::vector<Location> out;
  for (size_t i = 0; i < cfg.tables.size(); ++i) {
    const TableConfig& t = cfg.tables[i];
    if (t.table_name.empty() || t.database_name.empty()) continue;
    out.push_back({fmt::format("tables[{}] ({})", i, DisplayName(cfg, t)),
                   fmt::format("tables[{}]", i), t.line, CanonicalPath(TablePath(cfg, t))});
  }
  out.push_back(
      {fmt::format("the file tracker ({}.{})", cfg.file_tracker_database, cfg.file_tracker_table),
       "file_tracker_database", r.LineOfKey("file_tracker_database"),
       CanonicalPath(TrackerPath(cfg))});
  if (!cfg.checkpoint_path.empty()) {
    out.push_back({"checkpoint_path", "checkpoint_path", r.LineOfKey("checkpoint_path"),
                   CanonicalPath(cfg.checkpoint_path)});
  }
  return out;
}

// No table, tracker or checkpoint directory inside another: VACUUM or OPTIMIZE of the outer
// table would take the inner one's files for its own and delete them.
void CheckNoNesting(MapReader& r, const LoaderConfig& cfg) {
  const std::vector<Location> locations = WrittenLocations(r, cfg);
  const LocationIdentity identity(cfg.storage);
  for (const Location& inner : locations) {
    for (const Location& outer : locations) {
      const std::string in = Comparable(identity, inner.path);
      const std::string out = Comparable(identity, outer.path);
      if (&inner == &outer || !IsSameOrInside(in, out)) continue;
      const bool same = in == out;
      if (same && inner.key != "checkpoint_path") continue;  // tables, tracker: reported above
      r.diag().Add(
          inner.line, inner.key,
          fmt::format("{} at {} is {} {} at {}: {}; give them locations side by side", inner.what,
                      inner.path, same ? "the same directory as" : "inside", outer.what, outer.path,
                      outer.key == "checkpoint_path"
                          ? "the loader's state and metrics would mix with table data"
                          : "the outer table's VACUUM would delete its files"));
    }
  }
}

// A source inside a table of this config reads that table's data files (and removed ones) as
// raw input: its own target doubles itself every run. Delta sources may read other tables.
void CheckSourcesAreNotTargets(MapReader& r, const LoaderConfig& cfg) {
  const LocationIdentity identity(cfg.storage);
  const std::string tracker = CanonicalPath(TrackerPath(cfg));
  const std::string checkpoint =
      cfg.checkpoint_path.empty() ? "" : CanonicalPath(cfg.checkpoint_path);
  for (size_t i = 0; i < cfg.tables.size(); ++i) {
    const TableConfig& t = cfg.tables[i];
    if (t.source_path_pattern.empty() || t.table_name.empty() || t.database_name.empty()) continue;
    const bool delta = t.file_format == FileFormat::kDelta;
    const std::string base = Comparable(
        identity,
        CanonicalPath(delta ? t.source_path_pattern : SourcePatternBase(t.source_path_pattern)));
    const std::string key = fmt::format("tables[{}].source_path_pattern", i);
    for (size_t j = 0; j < cfg.tables.size(); ++j) {
      const TableConfig& target = cfg.tables[j];
      if ((delta && j != i) || target.table_name.empty() || target.database_name.empty()) continue;
      const std::string root = CanonicalPath(TablePath(cfg, target));
      if (!IsSameOrInside(base, Comparable(identity, root))) continue;
      r.diag().Add(t.line, key,
                   fmt::format("{} reads {}, the Delta table {}{}: {}", t.source_path_pattern, root,
                               DisplayName(cfg, target), j == i ? " (its own target)" : "",
                               j == i ? "every run would load its own output again"
                                      : "read it with file_format: delta"));
    }
    if (IsSameOrInside(base, Comparable(identity, tracker))) {
      r.diag().Add(
          t.line, key,
          fmt::format("{} reads the file tracker's table {}", t.source_path_pattern, tracker));
    }
    // Discovery skips checkpoint_path below a source's base, but not a base inside it.
    if (!checkpoint.empty() && IsSameOrInside(base, Comparable(identity, checkpoint))) {
      r.diag().Add(t.line, key,
                   fmt::format("{} reads checkpoint_path {}: the loader's own state and metrics "
                               "would be loaded as source files",
                               t.source_path_pattern, checkpoint));
    }
  }
}

}  // namespace

// ---- Cluster mode: `cluster:` settings ----
void ValidateClusterSettings(MapReader& r, const ClusterSettings& c) {
  static const std::vector<std::string> kEnvironments = {"auto", "databricks", "container",
                                                         "host"};
  if (std::find(kEnvironments.begin(), kEnvironments.end(), Lower(c.environment)) ==
      kEnvironments.end()) {
    r.Error("environment", fmt::format("'{}' is not one of auto, databricks, container, host",
                                       c.environment));
  }
  if (c.system_root.empty()) r.Error("system_root", "must not be empty");
  if (c.memory_hard_limit && c.engine_memory_limit &&
      *c.engine_memory_limit > *c.memory_hard_limit) {
    r.Error("engine_memory_limit", "must not exceed memory_hard_limit");
  }
  if (c.memory_hard_limit && c.memory_limit && *c.memory_hard_limit > *c.memory_limit) {
    r.Error("memory_hard_limit", "must not exceed memory_limit");
  }
  if (c.failed_files_warning_percent > c.failed_files_critical_percent) {
    r.Error("failed_files_warning_percent", "must not exceed failed_files_critical_percent");
  }
}
// ---- end of cluster mode ----

void ValidateRoot(MapReader& r, const LoaderConfig& cfg) {
  for (std::string_view key : {"raw_data_path", "processed_data_path", "checkpoint_path"}) {
    const std::string& v = key == "raw_data_path"         ? cfg.raw_data_path
                           : key == "processed_data_path" ? cfg.processed_data_path
                                                          : cfg.checkpoint_path;
    if (r.Has(key) && !r.Failed(key) && v.empty()) r.Error(key, "must not be empty");
  }
  CheckName(r, "file_tracker_table", cfg.file_tracker_table, /*allow_dot=*/false);
  CheckName(r, "file_tracker_database", cfg.file_tracker_database, /*allow_dot=*/true);
  if (cfg.default_catalog) {
    CheckName(r, "default_catalog", *cfg.default_catalog, false);
    if (cfg.default_catalog->size() > kMaxUnityCatalogName) {
      r.Error("default_catalog",
              fmt::format("has {} characters: Unity Catalog allows at most {}",
                          cfg.default_catalog->size(), kMaxUnityCatalogName));
    }
  }
  for (std::string_view key :
       {"unity_catalog_token_env", "databricks_host_env", "databricks_token_env"}) {
    const std::string& v = key == "unity_catalog_token_env" ? cfg.unity_catalog_token_env
                           : key == "databricks_host_env"   ? cfg.databricks_host_env
                                                            : cfg.databricks_token_env;
    if (!r.Failed(key) && !IsIdentifier(v)) {
      r.Error(key, fmt::format("'{}' is not an environment variable name (letters, digits, '_'); "
                               "give the variable's name, never the secret itself",
                               v.size() > 8 ? v.substr(0, 4) + "..." : v));
    }
  }
  if (r.Has("dependency_wait_timeout_seconds") &&
      cfg.on_unmet_dependencies != OnUnmetDependencies::kWait) {
    r.Error("dependency_wait_timeout_seconds", "only used with on_unmet_dependencies: wait");
  }
  if (cfg.unity_catalog_url && cfg.unity_catalog_url->rfind("http://", 0) != 0 &&
      cfg.unity_catalog_url->rfind("https://", 0) != 0) {
    r.Error("unity_catalog_url", "must start with http:// or https://");
  }
  CheckDependencies(r, "upstream_dependencies", cfg.upstream_dependencies,
                    {"table", "file", "job"});
  CheckDependencies(r, "downstream_notifications", cfg.downstream_notifications,
                    {"webhook", "job"});
  if (!cfg.processed_data_path.empty()) {
    CheckTablesAreDistinct(r, cfg);
    CheckNoNesting(r, cfg);
    CheckSourcesAreNotTargets(r, cfg);
  }
}

}  // namespace dl::config::internal

namespace dl::config {

std::map<const TableConfig*, const TableConfig*> DeltaSourceTables(const LoaderConfig& cfg) {
  const LocationIdentity identity(cfg.storage);
  std::map<std::string, const TableConfig*> by_root;
  for (const TableConfig& t : cfg.tables) {
    if (t.table_name.empty() || t.database_name.empty()) continue;
    by_root.emplace(internal::Comparable(identity, CanonicalPath(TablePath(cfg, t))), &t);
  }
  std::map<const TableConfig*, const TableConfig*> out;
  for (const TableConfig& t : cfg.tables) {
    if (t.file_format != FileFormat::kDelta || t.source_path_pattern.empty()) continue;
    auto it = by_root.find(internal::Comparable(identity, CanonicalPath(t.source_path_pattern)));
    if (it != by_root.end() && it->second != &t) out[&t] = it->second;
  }
  return out;
}

}  // namespace dl::config
