// Checkpoint Parquet: read into action JSON lines, write from action JSON lines.
//
// Reading turns each non-null top-level action struct into {"<action>":{...}} with DuckDB's
// to_json in one scan per action column, so 100k adds take a fraction of a second. Null fields
// are dropped (json_merge_patch against {} removes null members, as Spark omits them), except
// inside partitionValues where null is a value and is kept. *_parsed fields are dropped.
//
// Writing appends the lines to a temp table, parses them with from_json against the Spark
// checkpoint schema (delta-lake-notes "Checkpoints") and COPYs the structs to Parquet. DuckDB
// writes maps as key_value groups with a required key and lists as list/element, every field
// optional, as Spark does.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "dl/engine/duckdb/duckdb_engine.hpp"
#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/source_reader.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

namespace {

// Top-level checkpoint columns we read; others (commitInfo, cdc, unknown) are ignored.
constexpr const char* kActionColumns[] = {"txn",      "add",     "remove",         "metaData",
                                          "protocol", "sidecar", "checkpointMetadata",
                                          "domainMetadata"};

constexpr const char* kDeletionVector =
    R"({"storageType":"VARCHAR","pathOrInlineDv":"VARCHAR","offset":"INTEGER",)"
    R"("sizeInBytes":"INTEGER","cardinality":"BIGINT","maxRowIndex":"BIGINT"})";

// from_json structure of a checkpoint row: Spark's field order.
std::string CheckpointStructure() {
  const std::string map = "\"MAP(VARCHAR, VARCHAR)\"";
  return fmt::format(
      R"({{"txn":{{"appId":"VARCHAR","version":"BIGINT","lastUpdated":"BIGINT"}},)"
      R"("add":{{"path":"VARCHAR","partitionValues":{0},"size":"BIGINT",)"
      R"("modificationTime":"BIGINT","dataChange":"BOOLEAN","tags":{0},)"
      R"("deletionVector":{1},"baseRowId":"BIGINT","defaultRowCommitVersion":"BIGINT",)"
      R"("stats":"VARCHAR","clusteringProvider":"VARCHAR"}},)"
      R"("remove":{{"path":"VARCHAR","deletionTimestamp":"BIGINT","dataChange":"BOOLEAN",)"
      R"("extendedFileMetadata":"BOOLEAN","partitionValues":{0},"size":"BIGINT",)"
      R"("deletionVector":{1},"baseRowId":"BIGINT","defaultRowCommitVersion":"BIGINT"}},)"
      R"("metaData":{{"id":"VARCHAR","name":"VARCHAR","description":"VARCHAR",)"
      R"("format":{{"provider":"VARCHAR","options":{0}}},"schemaString":"VARCHAR",)"
      R"("partitionColumns":["VARCHAR"],"configuration":{0},"createdTime":"BIGINT"}},)"
      R"("protocol":{{"minReaderVersion":"INTEGER","minWriterVersion":"INTEGER",)"
      R"("readerFeatures":["VARCHAR"],"writerFeatures":["VARCHAR"]}},)"
      R"("domainMetadata":{{"domain":"VARCHAR","configuration":"VARCHAR","removed":"BOOLEAN"}}}})",
      map, kDeletionVector);
}

constexpr const char* kWrittenColumns[] = {"txn",      "add",     "remove",
                                           "metaData", "protocol", "domainMetadata"};

std::string TakeString(char* s) {
  std::string out = s ? s : "";
  if (s) duckdb_free(s);
  return out;
}

// SELECT of the JSON lines {"<col>":{...}} for the non-null rows of action struct column `col`
// (checkpoint type `type`) in `reader`.
std::string ActionLinesSql(const std::string& col, duckdb_logical_type type,
                           const std::string& reader) {
  std::string ref = QuoteIdent(col);
  std::string prefix = QuoteLiteral(fmt::format("{{\"{}\":", col));
  std::string fields;
  bool has_partition_values = false;
  bool is_struct = duckdb_get_type_id(type) == DUCKDB_TYPE_STRUCT;
  idx_t n = is_struct ? duckdb_struct_type_child_count(type) : 0;
  for (idx_t i = 0; i < n; ++i) {
    std::string name = TakeString(duckdb_struct_type_child_name(type, i));
    if (name.size() > 7 && name.compare(name.size() - 7, 7, "_parsed") == 0) continue;
    if (name == "partitionValues") {
      has_partition_values = true;
      continue;
    }
    fields += fmt::format("{}{} := a.{}", fields.empty() ? "" : ", ", QuoteIdent(name),
                          QuoteIdent(name));
  }
  std::string value = is_struct ? fmt::format("struct_pack({})", fields) : "a";
  std::string body = is_struct && fields.empty()
                         ? "'{}'"
                         : fmt::format("json_merge_patch('{{}}', to_json({}))::VARCHAR", value);
  std::string line;
  if (has_partition_values) {
    // partitionValues keeps its nulls: splice it in front of the other (null-free) members.
    line = fmt::format(
        "{} || '{{\"partitionValues\":' || COALESCE(to_json(a.\"partitionValues\")::VARCHAR, "
        "'{{}}') || CASE WHEN b = '{{}}' THEN '}}' ELSE ',' || substr(b, 2) END || '}}'",
        prefix);
  } else {
    line = fmt::format("{} || b || '}}'", prefix);
  }
  return fmt::format("SELECT {} FROM (SELECT {} AS a, {} AS b FROM (SELECT {} AS a FROM {} "
                     "WHERE {} IS NOT NULL))",
                     line, "a", body, ref, reader, ref);
}

}  // namespace

Result<std::vector<std::string>> DuckDbEngine::ReadCheckpointActions(
    const std::vector<std::string>& files) {
  std::vector<std::string> lines;
  if (files.empty()) return lines;
  std::string context = fmt::format("reading checkpoint {}", DescribeFiles(files));
  std::string reader = fmt::format("read_parquet({}, union_by_name=true, hive_partitioning=false)",
                                   SqlStringList(files));
  auto columns = Describe("SELECT * FROM " + reader, context);
  if (!columns.ok()) return Status::CorruptLog("{}", columns.status().message());
  std::string sql;
  for (const auto& column : *columns) {
    bool wanted = false;
    for (const char* name : kActionColumns) wanted |= column.name == name;
    if (!wanted) continue;
    if (!sql.empty()) sql += " UNION ALL ";
    sql += ActionLinesSql(column.name, column.type->get(), reader);
  }
  if (sql.empty()) return lines;
  auto result = conn_.Query(sql, context);
  if (!result.ok()) {
    if (result.status().code() == StatusCode::kCancelled) return result.status();
    return Status::CorruptLog("{}", result.status().message());
  }
  while (DataChunk chunk = result->Next()) {
    duckdb_vector v = chunk.column(0);
    for (idx_t r = 0; r < chunk.size(); ++r) {
      if (auto line = VectorValueAsString(v, r)) lines.push_back(std::move(*line));
    }
  }
  return lines;
}

Status DuckDbEngine::WriteCheckpoint(const std::string& path,
                                     const std::vector<std::string>& action_lines) {
  std::string context = fmt::format("writing checkpoint '{}'", path);
  const std::string table = "__dl_checkpoint_lines";
  DL_RETURN_IF_ERROR(conn_.Execute(
      fmt::format("CREATE OR REPLACE TEMP TABLE {} (line VARCHAR)", QuoteIdent(table)), context));
  {
    DL_ASSIGN_OR_RETURN(Appender app, Appender::Create(conn_, "temp", "main", table));
    for (const auto& line : action_lines) {
      DL_RETURN_IF_ERROR(app.AppendVarchar(line));
      DL_RETURN_IF_ERROR(app.EndRow());
    }
    DL_RETURN_IF_ERROR(app.Close());
  }
  std::string items, any;
  for (const char* col : kWrittenColumns) {
    items += fmt::format("{}j.{} AS {}", items.empty() ? "" : ", ", QuoteIdent(col), QuoteIdent(col));
    any += fmt::format("{}j.{} IS NOT NULL", any.empty() ? "" : " OR ", QuoteIdent(col));
  }
  // A temp name in the same directory, renamed into place: readers never see a partial file,
  // and log listing ignores the temp name.
  std::filesystem::path target(path);
  std::string tmp =
      (target.parent_path() / ("." + target.filename().string() + "." + NewUuid() + ".tmp"))
          .string();
  std::string sql = fmt::format(
      "COPY (SELECT {} FROM (SELECT from_json(line, {}) AS j FROM {}) WHERE {}) TO {} "
      "(FORMAT parquet, COMPRESSION snappy)",
      items, QuoteLiteral(CheckpointStructure()), QuoteIdent(table), any, QuoteLiteral(tmp));
  Status st = conn_.Execute(sql, context);
  (void)conn_.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdent(table)));
  if (!st.ok()) {
    std::remove(tmp.c_str());
    return st;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::Io("{}: cannot rename '{}' into place", context, tmp);
  }
  return Status::OK();
}

}  // namespace dl::engine::duck
