// RegisterSnapshot: a temp view over a snapshot's live files.
//
// The data files are read with one read_parquet(union_by_name) over their absolute paths, so
// columns missing from older files come back NULL. Partition values live in the log, not the
// files: they go into a temp table keyed by file name and are joined back in, parsed from
// their serialized strings. Every column is cast to the table's type, so the view has exactly
// the table schema whatever the files hold (older narrower types, Spark's INT96 timestamps).
// Rows a deletion vector marks deleted go into a temp table of (file, row index) that the
// scan anti-joins on DuckDB's file_row_number.
// Column mapping (modes name and id): columns are read by physical name, nested struct fields
// renamed back to the display names. The protocol resolves id mode by Parquet field_id;
// DuckDB's read_parquet(schema=...) could do that for top-level columns only, and not with
// union_by_name, so id mode is read by physical name too, which is how Spark writes its files.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "dl/delta/column_mapping.hpp"
#include "dl/delta/deletion_vector.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/row_tracking.hpp"
#include "dl/engine/duckdb/column_mapping_sql.hpp"
#include "dl/engine/duckdb/duckdb_engine.hpp"
#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/object_store.hpp"
#include "dl/engine/duckdb/partition_sql.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

namespace {

constexpr const char* kFileColumn = "__dl_file";
constexpr const char* kRowColumn = "__dl_row";

bool HasDeletionVectors(const std::vector<delta::AddFile>& files) {
  return std::any_of(files.begin(), files.end(),
                     [](const auto& f) { return f.deletion_vector.has_value(); });
}

// Fill the temp table of (resolved file, deleted row index) from the files' deletion vectors.
Status FillDeletedRows(Connection& conn, FileSystem& fs, const std::string& table,
                       const delta::Snapshot& snapshot, const std::vector<std::string>& paths,
                       const std::vector<delta::AddFile>& files) {
  DL_RETURN_IF_ERROR(conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({} VARCHAR, {} "
                                              "BIGINT)",
                                              QuoteIdent(table), QuoteIdent(kFileColumn),
                                              QuoteIdent(kRowColumn)),
                                  "creating deleted-rows table"));
  DL_ASSIGN_OR_RETURN(Appender app, Appender::Create(conn, "temp", "main", table));
  for (size_t f = 0; f < files.size(); ++f) {
    if (!files[f].deletion_vector) continue;
    auto rows = delta::ReadDeletionVector(fs, snapshot.table_root(), *files[f].deletion_vector);
    if (!rows.ok()) {
      return rows.status().WithContext(
          fmt::format("reading the deletion vector of '{}'", files[f].path));
    }
    for (uint64_t row : *rows) {
      DL_RETURN_IF_ERROR(app.AppendVarchar(paths[f]));
      DL_RETURN_IF_ERROR(app.AppendInt64(static_cast<int64_t>(row)));
      DL_RETURN_IF_ERROR(app.EndRow());
    }
  }
  return app.Close();
}

// Data column as stored in the files -> the table's type. `mapped`: the files name columns
// (nested ones too) physically.
Result<std::string> DataColumnSql(const delta::StructField& field, const Column* file_column,
                                  bool mapped) {
  DL_ASSIGN_OR_RETURN(std::string target, DuckDbTypeFromDelta(*field.type));
  if (file_column == nullptr) return fmt::format("CAST(NULL AS {})", target);
  std::string ref = "d." + QuoteIdent(mapped ? file_column->name : field.name);
  if (mapped) {
    DL_ASSIGN_OR_RETURN(auto stored, DeltaTypeFromDuckDb(file_column->type->get(), field.name));
    DL_ASSIGN_OR_RETURN(ref, RemapNestedSql(ref, *stored.type, *field.type, false));
  }
  duckdb_type file_type = file_column->type->id();
  bool naive_ts = file_type == DUCKDB_TYPE_TIMESTAMP || file_type == DUCKDB_TYPE_TIMESTAMP_NS ||
                  file_type == DUCKDB_TYPE_TIMESTAMP_MS || file_type == DUCKDB_TYPE_TIMESTAMP_S;
  if (field.type->is_primitive("timestamp") && naive_ts) {
    // Spark's INT96 (and legacy writers') timestamps carry UTC instants without the
    // isAdjustedToUTC flag; read them as UTC whatever the session time zone.
    return fmt::format("timezone('UTC', CAST({} AS TIMESTAMP))", ref);
  }
  return fmt::format("CAST({} AS {})", ref, target);
}

Result<std::string> EmptyViewSelect(const delta::Schema& schema, bool with_file_column,
                                    bool row_ids) {
  std::string items;
  for (const auto& field : schema.fields) {
    DL_ASSIGN_OR_RETURN(std::string type, DuckDbTypeFromDelta(*field.type));
    items += fmt::format("{}CAST(NULL AS {}) AS {}", items.empty() ? "" : ", ", type,
                         QuoteIdent(field.name));
  }
  if (with_file_column) {
    items += ", CAST(NULL AS VARCHAR) AS \"_dl_file\", CAST(NULL AS BIGINT) AS \"_dl_row\"";
  }
  if (row_ids) {
    items += fmt::format(", CAST(NULL AS BIGINT) AS {}, CAST(NULL AS BIGINT) AS {}",
                         QuoteIdent(kRowIdColumn), QuoteIdent(kRowCommitVersionColumn));
  }
  return fmt::format("SELECT {} WHERE false", items);
}

// Fill the temp table of (resolved file, add.path, partition strings) of the files, with
// `row_ids` also their baseRowId and defaultRowCommitVersion.
Status FillFileTable(Connection& conn, const std::string& table,
                     const std::vector<std::string>& paths,
                     const std::vector<delta::AddFile>& files,
                     const std::vector<std::string>& partition_columns, bool row_ids) {
  std::string columns = fmt::format("{} VARCHAR, \"add_path\" VARCHAR", QuoteIdent(kFileColumn));
  for (size_t i = 0; i < partition_columns.size(); ++i) {
    columns += fmt::format(", \"p{}\" VARCHAR", i);
  }
  if (row_ids) columns += ", \"base_row_id\" BIGINT, \"row_commit_version\" BIGINT";
  DL_RETURN_IF_ERROR(
      conn.Execute(fmt::format("CREATE OR REPLACE TEMP TABLE {} ({})", QuoteIdent(table), columns),
                   "creating partition table"));
  DL_ASSIGN_OR_RETURN(Appender app, Appender::Create(conn, "temp", "main", table));
  for (size_t f = 0; f < files.size(); ++f) {
    DL_RETURN_IF_ERROR(app.AppendVarchar(paths[f]));
    DL_RETURN_IF_ERROR(app.AppendVarchar(files[f].path));
    for (const auto& column : partition_columns) {
      DL_RETURN_IF_ERROR(app.AppendOptional(delta::PartitionValueOf(files[f].partition_values, column)));
    }
    if (row_ids) {
      DL_RETURN_IF_ERROR(app.AppendInt64(*files[f].base_row_id));
      DL_RETURN_IF_ERROR(app.AppendInt64(files[f].default_row_commit_version.value_or(0)));
    }
    DL_RETURN_IF_ERROR(app.EndRow());
  }
  return app.Close();
}

std::string StoredName(const delta::StructField& field, bool mapped) {
  return mapped ? delta::PhysicalName(field) : field.name;
}

// The view's columns: data columns from the files (`d`, by physical name when `mapped`),
// partition columns parsed from the file table's strings (`p`).
Result<std::string> ColumnItemsSql(const delta::Schema& schema,
                                   const std::vector<std::string>& partition_columns,
                                   const std::vector<Column>& file_columns, bool mapped) {
  std::map<std::string, const Column*> by_name;
  for (const auto& c : file_columns) by_name.emplace(AsciiLower(c.name), &c);
  std::string items;
  for (const auto& field : schema.fields) {
    std::string expr;
    auto pos = std::find(partition_columns.begin(), partition_columns.end(), field.name);
    if (pos != partition_columns.end()) {
      std::string ref = fmt::format("p.\"p{}\"", pos - partition_columns.begin());
      DL_ASSIGN_OR_RETURN(expr, PartitionFromStringSql(ref, *field.type, field.name));
    } else {
      auto it = by_name.find(AsciiLower(StoredName(field, mapped)));
      DL_ASSIGN_OR_RETURN(expr,
                          DataColumnSql(field, it == by_name.end() ? nullptr : it->second, mapped));
    }
    items += fmt::format("{}{} AS {}", items.empty() ? "" : ", ", expr, QuoteIdent(field.name));
  }
  return items;
}

// Every file of a row tracking table has row ids once the feature is enabled (a backfill
// assigns them); one without cannot say which ids its rows have.
Status CheckRowIdsAssigned(const std::vector<delta::AddFile>& files, const std::string& root) {
  for (const auto& f : files) {
    if (f.base_row_id) continue;
    return Status::Unsupported(
        "table {}: file {} has no baseRowId, so the row ids of its rows are unknown (row "
        "tracking was enabled without a backfill); nothing was written",
        root, f.path);
  }
  return Status::OK();
}

// `_dl_row_id` and `_dl_row_commit_version`: the materialized column's value where a file has
// the column and the row a value (it was copied or updated by a rewrite), else the default of
// its file (PROTOCOL.md "Row Tracking").
std::string RowIdItemsSql(const delta::StringMap& configuration,
                          const std::vector<Column>& file_columns) {
  auto stored = [&](const char* key) -> std::optional<std::string> {
    auto it = configuration.find(key);
    if (it == configuration.end()) return std::nullopt;
    for (const auto& c : file_columns) {
      if (AsciiLower(c.name) == AsciiLower(it->second)) return "d." + QuoteIdent(c.name);
    }
    return std::nullopt;
  };
  auto value = [](const std::optional<std::string>& column, const std::string& fallback) {
    return column ? fmt::format("coalesce(CAST({} AS BIGINT), {})", *column, fallback) : fallback;
  };
  return fmt::format(
      ", {} AS {}, {} AS {}",
      value(stored(delta::kRowIdColumnKey), "p.\"base_row_id\" + d.\"file_row_number\""),
      QuoteIdent(kRowIdColumn),
      value(stored(delta::kRowCommitVersionColumnKey), "p.\"row_commit_version\""),
      QuoteIdent(kRowCommitVersionColumn));
}

}  // namespace

Status DuckDbEngine::RegisterSnapshot(const std::string& view, const delta::Snapshot& snapshot,
                                      const std::vector<delta::AddFile>* subset) {
  return RegisterSnapshotView(view, snapshot, subset, false, false);
}

Status DuckDbEngine::RegisterSnapshotWithFileColumn(const std::string& view,
                                                    const delta::Snapshot& snapshot,
                                                    const std::vector<delta::AddFile>* subset,
                                                    bool row_ids) {
  return RegisterSnapshotView(view, snapshot, subset, true, row_ids);
}

Status DuckDbEngine::RegisterSnapshotView(const std::string& view, const delta::Snapshot& snapshot,
                                          const std::vector<delta::AddFile>* subset,
                                          bool with_file_column, bool row_ids) {
  if (!subset && !snapshot.has_files()) {
    // Scanning it would silently show an empty table.
    return Status::Internal("the snapshot of {} was loaded without its file list",
                            snapshot.table_root());
  }
  const std::vector<delta::AddFile>& files = subset ? *subset : snapshot.files();
  const delta::Schema& schema = snapshot.schema();
  const std::vector<std::string>& partition_columns = snapshot.partition_columns();
  // Column mapping: files, partition values and stats use physical names (name and id mode
  // alike: the files Spark writes in id mode carry the physical names too).
  const bool mapped = delta::UsesColumnMapping(snapshot.metadata().configuration);
  std::string context = fmt::format("reading table '{}'", snapshot.table_root());
  if (schema.fields.empty()) return Status::CorruptLog("{}: the schema has no columns", context);
  std::string create = fmt::format("CREATE OR REPLACE TEMP VIEW {} AS ", QuoteIdent(view));
  if (files.empty()) {
    DL_ASSIGN_OR_RETURN(std::string select, EmptyViewSelect(schema, with_file_column, row_ids));
    return conn_.Execute(create + select, context);
  }
  std::vector<std::string> partition_keys;  // as add.partitionValues names them
  for (const auto& column : partition_columns) {
    const delta::StructField* field = schema.Find(column);
    if (field == nullptr) {
      return Status::CorruptLog("{}: partition column '{}' is not in the schema", context, column);
    }
    partition_keys.push_back(StoredName(*field, mapped));
  }
  std::vector<std::string> paths, read_paths;  // as DuckDB reports them, as it reads them
  paths.reserve(files.size());
  read_paths.reserve(files.size());
  for (const auto& f : files) {
    std::string path = delta::ResolveDataPath(snapshot.table_root(), f.path);
    paths.push_back(EnginePath(path));
    read_paths.push_back(ReadPath(path));
  }
  const bool deletes = HasDeletionVectors(files);
  const bool row_numbers = deletes || with_file_column;
  std::string reader =
      fmt::format("read_parquet({}, union_by_name=true, hive_partitioning=false, filename={}{})",
                  SqlStringList(read_paths), QuoteLiteral(kFileColumn),
                  row_numbers ? ", file_row_number=true" : "");
  DL_ASSIGN_OR_RETURN(auto file_columns, Describe("SELECT * FROM " + reader, context));
  DL_ASSIGN_OR_RETURN(std::string items,
                      ColumnItemsSql(schema, partition_columns, file_columns, mapped));
  std::string from = reader + " AS d";
  if (with_file_column) {
    items += ", p.\"add_path\" AS \"_dl_file\", d.\"file_row_number\" AS \"_dl_row\"";
  }
  if (row_ids) {
    DL_RETURN_IF_ERROR(CheckRowIdsAssigned(files, snapshot.table_root()));
    items += RowIdItemsSql(snapshot.metadata().configuration, file_columns);
  }
  if (!partition_columns.empty() || with_file_column) {
    std::string table = "__dl_files_" + view;
    DL_RETURN_IF_ERROR(FillFileTable(conn_, table, paths, files, partition_keys, row_ids));
    from += fmt::format(" JOIN {} AS p ON d.{} = p.{}", QuoteIdent(table), QuoteIdent(kFileColumn),
                        QuoteIdent(kFileColumn));
  }
  if (deletes) {
    std::string table = "__dl_deleted_" + view;
    DL_RETURN_IF_ERROR(FillDeletedRows(conn_, *fs_, table, snapshot, paths, files));
    from += fmt::format(" ANTI JOIN {0} AS x ON d.{1} = x.{1} AND d.\"file_row_number\" = x.{2}",
                        QuoteIdent(table), QuoteIdent(kFileColumn), QuoteIdent(kRowColumn));
  }
  return conn_.Execute(create + fmt::format("SELECT {} FROM {}", items, from), context);
}

}  // namespace dl::engine::duck
