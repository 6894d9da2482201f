// Checkpoint Parquet: read into action structs (log replay) or JSON lines, write from action
// JSON lines.
//
// Reading streams one scan of the action columns (without Spark's *_parsed members). Log
// replay gets structs built from the vectors (checkpoint_reader.cpp); ReadCheckpointActions
// prints each non-null action struct as {"<action>":{...}} straight from the vectors: null
// members omitted as Spark omits them, maps as objects, null map values (partition values)
// kept.
//
// Writing parses the lines with read_json against the Spark checkpoint schema
// (delta-lake-notes "Checkpoints") and COPYs the structs to Parquet, one action per row.
// DuckDB writes maps as key_value groups with a required key and lists as list/element, every
// field optional, as Spark does.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>

#include "dl/engine/duckdb/checkpoint_reader.hpp"
#include "dl/engine/duckdb/duckdb_engine.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/object_store.hpp"
#include "dl/engine/duckdb/source_reader.hpp"
#include "dl/engine/duckdb/vector_json.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/storage/paths.hpp"

namespace dl::engine::duck {

namespace fs = std::filesystem;

namespace {

// Top-level checkpoint columns we read; others (commitInfo, cdc, unknown) are ignored.
constexpr const char* kActionColumns[] = {
    "txn",           "add", "remove", "metaData", "protocol", "sidecar", "checkpointMetadata",
    "domainMetadata"};

constexpr const char* kStringMap = "MAP(VARCHAR, VARCHAR)";
constexpr const char* kDeletionVector =
    "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes "
    "INTEGER, cardinality BIGINT, maxRowIndex BIGINT)";

// The checkpoint columns as written, with Spark's field order (delta-lake-notes
// "Checkpoints"); clusteringProvider is the optional newer add field. A v2 spec checkpoint
// starts with its checkpointMetadata column.
std::vector<std::pair<std::string, std::string>> CheckpointColumns(bool v2) {
  std::vector<std::pair<std::string, std::string>> columns;
  if (v2) {
    columns.emplace_back("checkpointMetadata",
                         fmt::format("STRUCT(version BIGINT, tags {})", kStringMap));
  }
  std::vector<std::pair<std::string, std::string>> v1 = {
      {"txn", "STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)"},
      {"add", fmt::format("STRUCT(path VARCHAR, partitionValues {0}, size BIGINT, "
                          "modificationTime BIGINT, dataChange BOOLEAN, tags {0}, "
                          "deletionVector {1}, baseRowId BIGINT, defaultRowCommitVersion BIGINT, "
                          "stats VARCHAR, clusteringProvider VARCHAR)",
                          kStringMap, kDeletionVector)},
      {"remove", fmt::format("STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, "
                             "extendedFileMetadata BOOLEAN, partitionValues {0}, size BIGINT, "
                             "deletionVector {1}, baseRowId BIGINT, "
                             "defaultRowCommitVersion BIGINT)",
                             kStringMap, kDeletionVector)},
      {"metaData", fmt::format("STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, "
                               "format STRUCT(provider VARCHAR, options {0}), schemaString "
                               "VARCHAR, partitionColumns VARCHAR[], configuration {0}, "
                               "createdTime BIGINT)",
                               kStringMap)},
      {"protocol",
       "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, "
       "readerFeatures VARCHAR[], writerFeatures VARCHAR[])"},
      {"domainMetadata", "STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)"},
  };
  columns.insert(columns.end(), v1.begin(), v1.end());
  return columns;
}

bool IsParsedField(const std::string& name) {
  return name.size() > 7 && name.compare(name.size() - 7, 7, "_parsed") == 0;
}

bool IsRequiredFileMember(const std::string& col, const std::string& member) {
  if (member == "path" || member == "dataChange") return true;
  return col == "add" &&
         (member == "partitionValues" || member == "size" || member == "modificationTime");
}

// Select list item for action column `col`: the struct without its *_parsed members (Spark's
// partitionValues_parsed / stats_parsed), which are large and not needed, and, for add and
// remove, without optional members that are null in every row (per the footers): reading the
// deletion vector, tags and row-id members of 100k adds costs as much as the paths and stats.
// Packed file actions carry no CASE (it would read the whole struct again): the reader treats
// a file action whose members are all null as absent.
std::string ProjectAction(const std::string& col, duckdb_logical_type type,
                          const CheckpointLayout& layout) {
  std::string ref = QuoteIdent(col);
  if (duckdb_get_type_id(type) != DUCKDB_TYPE_STRUCT) return ref;
  const bool file_action = col == "add" || col == "remove";
  std::string members;
  bool dropped = false;
  idx_t n = duckdb_struct_type_child_count(type);
  for (idx_t i = 0; i < n; ++i) {
    char* raw = duckdb_struct_type_child_name(type, i);
    std::string name = raw;
    duckdb_free(raw);
    bool all_null = layout.empty_members.count({col, name}) > 0;
    if (IsParsedField(name) || (file_action && all_null && !IsRequiredFileMember(col, name))) {
      dropped = true;
      continue;
    }
    members += fmt::format("{}{} := {}.{}", members.empty() ? "" : ", ", QuoteIdent(name), ref,
                           QuoteIdent(name));
  }
  if (!dropped || members.empty()) return ref;
  if (file_action) return fmt::format("struct_pack({1}) AS {0}", ref, members);
  return fmt::format("CASE WHEN {0} IS NOT NULL THEN struct_pack({1}) END AS {0}", ref, members);
}

// Engine errors while reading mean an unreadable checkpoint; a cancelled read stays cancelled.
Status CheckpointReadError(const Status& st) {
  if (st.code() == StatusCode::kEngine) return Status::CorruptLog("{}", st.message());
  return st;
}

// Append each non-null action of the result rows as a {"<column>":{...}} line.
void CollectLines(QueryResult& result, std::vector<std::string>& lines) {
  idx_t ncols = result.column_count();
  std::vector<JsonPlan> plans;
  std::vector<std::string> prefixes;
  for (idx_t c = 0; c < ncols; ++c) {
    LogicalType type = result.column_logical_type(c);
    plans.push_back(MakeJsonPlan(type.get()));
    std::string prefix = "{";
    AppendJsonString(result.column_name(c), prefix);
    prefixes.push_back(prefix + ":");
  }
  std::vector<bool> file_action;
  for (idx_t c = 0; c < ncols; ++c) {
    std::string name = result.column_name(c);
    file_action.push_back(name == "add" || name == "remove");
  }
  while (DataChunk chunk = result.Next()) {
    for (idx_t c = 0; c < ncols; ++c) {
      duckdb_vector v = chunk.column(c);
      for (idx_t r = 0; r < chunk.size(); ++r) {
        if (!VectorIsValid(v, r) || (file_action[c] && AllMembersNull(v, r))) continue;
        std::string line;
        line.reserve(256);
        line += prefixes[c];
        AppendJson(plans[c], v, r, line);
        line.push_back('}');
        lines.push_back(std::move(line));
      }
    }
  }
}

}  // namespace

CheckpointLayout DuckDbEngine::InspectCheckpoint(const std::vector<std::string>& files) {
  // A column whose every leaf is null in every row group holds no action; the footers say
  // so. Reading such a column still costs (DuckDB builds each null struct), as much as the
  // adds for a checkpoint without removes. A struct whose members are all null is no valid
  // action, so skipping it loses nothing. Missing statistics count as "has values".
  std::string list = SqlStringList(ReadPaths(files));
  auto rows = conn_.Query(fmt::format(
      "WITH m AS (SELECT * FROM parquet_metadata({0})) "
      "SELECT split_part(path_in_schema, ', ', 1), split_part(path_in_schema, ', ', 2), "
      "bool_and(coalesce(stats_null_count = num_values, false)), "
      "(SELECT sum(n)::BIGINT FROM (SELECT DISTINCT file_name, row_group_id, "
      "row_group_num_rows AS n FROM m)) FROM m GROUP BY 1, 2",
      list));
  CheckpointLayout layout;
  if (!rows.ok()) return layout;  // the scan reports an unreadable file
  std::set<std::string> has_values;
  while (DataChunk chunk = rows->Next()) {
    for (idx_t r = 0; r < chunk.size(); ++r) {
      auto column = VectorValueAsString(chunk.column(0), r);
      auto member = VectorValueAsString(chunk.column(1), r);
      if (!column || !member) continue;
      if (VectorValueAsString(chunk.column(2), r) == "true") {
        layout.empty_members.insert({*column, *member});
        layout.empty_columns.insert(*column);
      } else {
        has_values.insert(*column);
      }
      layout.rows = static_cast<size_t>(
          std::max<int64_t>(0, VectorValueAsInt64(chunk.column(3), r).value_or(0)));
    }
  }
  for (const auto& column : has_values) layout.empty_columns.erase(column);
  return layout;
}

Result<QueryResult> DuckDbEngine::ScanCheckpoint(const std::vector<std::string>& files,
                                                 const CheckpointLayout& layout) {
  std::string context = fmt::format("reading checkpoint {}", DescribeFiles(files));
  std::string reader = fmt::format("read_parquet({}, union_by_name=true, hive_partitioning=false)",
                                   SqlStringList(ReadPaths(files)));
  auto columns = Describe("SELECT * FROM " + reader, context);
  if (!columns.ok()) return Status::CorruptLog("{}", columns.status().message());
  std::string items;
  for (const auto& column : *columns) {
    bool wanted = false;
    for (const char* name : kActionColumns) wanted |= column.name == name;
    if (!wanted || layout.empty_columns.count(column.name)) continue;
    items += (items.empty() ? "" : ", ") + ProjectAction(column.name, column.type->get(), layout);
  }
  if (items.empty()) items = "NULL AS none";  // no action columns: nothing to read
  // Streamed, and unfiltered (readers skip null actions): materializing or filtering 100k
  // rows of strings would copy them all once more.
  auto result = [&]() -> Result<QueryResult> {
    DL_ASSIGN_OR_RETURN(auto stmt,
                        conn_.Prepare(fmt::format("SELECT {} FROM {}", items, reader), context));
    return stmt.ExecuteStreaming(context);
  }();
  if (!result.ok()) return CheckpointReadError(result.status());
  return result;
}

Result<std::vector<std::string>> DuckDbEngine::ReadCheckpointActions(
    const std::vector<std::string>& files) {
  std::vector<std::string> lines;
  if (files.empty()) return lines;
  DL_ASSIGN_OR_RETURN(QueryResult result, ScanCheckpoint(files, InspectCheckpoint(files)));
  CollectLines(result, lines);
  Status st = result.FetchStatus(fmt::format("reading checkpoint {}", DescribeFiles(files)));
  if (!st.ok()) return CheckpointReadError(st);
  return lines;
}

Result<delta::CheckpointActions> DuckDbEngine::ReadCheckpoint(const std::vector<std::string>& files,
                                                              bool with_files) {
  if (files.empty()) return delta::CheckpointActions{};
  CheckpointLayout layout = InspectCheckpoint(files);
  if (!with_files) {  // then the scan reads only the few metadata rows' columns
    layout.empty_columns.insert({"add", "remove"});
    layout.rows = 0;
  }
  DL_ASSIGN_OR_RETURN(QueryResult result, ScanCheckpoint(files, layout));
  auto actions = ReadCheckpointRows(result, files.front(), layout.rows);
  if (!actions.ok()) return CheckpointReadError(actions.status());
  return actions;
}

namespace {

// The action lines as NDJSON in the local file `json_path`; returns the longest line's length.
Result<size_t> WriteActionLines(const std::string& json_path,
                                const std::vector<std::string>& action_lines) {
  size_t longest = 0;
  std::ofstream out(json_path, std::ios::binary);
  for (const auto& line : action_lines) {
    out << line << '\n';
    longest = std::max(longest, line.size());
  }
  out.close();
  if (!out) return Status::Io("cannot write temp file '{}'", json_path);
  return longest;
}

// A local scratch file for the NDJSON of a checkpoint on an object store: in the engine's
// spill directory, which a locked engine may read (by default ".tmp" in the working directory,
// so a directory made for it is removed again when empty).
class ScratchFile {
 public:
  static Result<ScratchFile> Create(Connection& conn) {
    DL_ASSIGN_OR_RETURN(QueryResult result, conn.Query("SELECT current_setting('temp_directory')",
                                                       "writing checkpoint"));
    QueryRows rows = result.ToText();
    std::string dir = rows.rows.empty() ? "" : rows.rows[0][0].value_or("");
    if (dir.empty()) dir = fs::temp_directory_path().string();
    ScratchFile f;
    std::error_code ec;
    if (fs::create_directories(dir, ec)) f.made_dir_ = dir;
    f.path_ = (fs::path(dir) / ("dl_checkpoint_" + NewUuid() + ".ndjson.tmp")).string();
    return f;
  }
  ScratchFile() = default;
  ScratchFile(ScratchFile&& o) noexcept
      : path_(std::exchange(o.path_, "")), made_dir_(std::exchange(o.made_dir_, "")) {}
  ScratchFile& operator=(ScratchFile&& o) noexcept {
    std::swap(path_, o.path_);
    std::swap(made_dir_, o.made_dir_);
    return *this;
  }
  ~ScratchFile() {
    std::error_code ec;
    if (!path_.empty()) fs::remove(path_, ec);
    if (!made_dir_.empty()) fs::remove(made_dir_, ec);  // only if empty
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string made_dir_;
};

}  // namespace

Status DuckDbEngine::WriteCheckpoint(const std::string& path,
                                     const std::vector<std::string>& action_lines) {
  std::string context = fmt::format("writing checkpoint '{}'", path);
  // The lines go through a temp NDJSON file in the engine's scratch directory: DuckDB's
  // read_json parses it in parallel with the explicit checkpoint schema, about twice as fast
  // as from_json over a table. The Parquet goes straight to `path`: the caller (delta/) picks
  // a temp name where readers could see a partial file.
  DL_ASSIGN_OR_RETURN(ScratchFile scratch, ScratchFile::Create(conn_));
  auto longest = WriteActionLines(scratch.path(), action_lines);
  if (!longest.ok()) return longest.status().WithContext(context);
  std::string columns, items, any;
  const bool v2 =
      !action_lines.empty() && action_lines.front().starts_with("{\"checkpointMetadata\"");
  for (const auto& [name, type] : CheckpointColumns(v2)) {
    columns += fmt::format("{}{}: {}", columns.empty() ? "" : ", ", QuoteLiteral(name),
                           QuoteLiteral(type));
    items += (items.empty() ? "" : ", ") + QuoteIdent(name);
    any += (any.empty() ? "" : " OR ") + QuoteIdent(name) + " IS NOT NULL";
  }
  std::string sql = fmt::format(
      "COPY (SELECT {} FROM read_json({}, format='newline_delimited', columns={{{}}}, "
      "maximum_object_size={}) WHERE {}) TO {} (FORMAT parquet, COMPRESSION snappy, "
      "ROW_GROUP_SIZE 32768)",
      items, QuoteLiteral(ReadPath(scratch.path())), columns,
      std::max<size_t>(size_t{16} << 20, *longest + 1024), any, QuoteLiteral(EnginePath(path)));
  return conn_.Execute(sql, context);
}

}  // namespace dl::engine::duck
