// DuckDbEngine: sessions, plain SQL, source files and schema inspection.
#include "dl/engine/duckdb/duckdb_engine.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/source_reader.hpp"
#include "dl/engine/duckdb/write_sql.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine {

Result<std::unique_ptr<Engine>> MakeDuckDbEngine(const EngineOptions& options) {
  DL_ASSIGN_OR_RETURN(duck::Database db, duck::Database::Open(options));
  DL_ASSIGN_OR_RETURN(auto engine,
                      duck::DuckDbEngine::Open(std::make_shared<duck::Database>(std::move(db))));
  return std::unique_ptr<Engine>(std::move(engine));
}

namespace duck {

Result<std::unique_ptr<DuckDbEngine>> DuckDbEngine::Open(std::shared_ptr<Database> db) {
  DL_ASSIGN_OR_RETURN(Connection conn, Connection::Open(*db));
  // Delta timestamps are UTC instants; the session time zone decides how DuckDB casts and
  // prints TIMESTAMPTZ, so pin it (ICU is built into libduckdb).
  DL_RETURN_IF_ERROR(conn.Execute("SET TimeZone = 'UTC'", "configuring session"));
  // Delta data files are immutable, so cached Parquet footers never go stale; views over
  // snapshots re-bind (re-read footers) on every query otherwise. An extension setting, so it
  // cannot go into the open-time config.
  DL_RETURN_IF_ERROR(
      conn.Execute("SET GLOBAL parquet_metadata_cache = true", "configuring session"));
  return std::make_unique<DuckDbEngine>(std::move(db), std::move(conn));
}

Result<std::unique_ptr<Engine>> DuckDbEngine::NewSession() {
  DL_ASSIGN_OR_RETURN(auto session, Open(db_));
  return std::unique_ptr<Engine>(std::move(session));
}

Result<std::vector<Column>> DuckDbEngine::Describe(const std::string& sql,
                                                   std::string_view context) {
  DL_ASSIGN_OR_RETURN(PreparedStatement stmt, conn_.Prepare(StripStatementEnd(sql), context));
  return stmt.columns();
}

Status DuckDbEngine::RegisterFiles(const std::string& view, const std::vector<std::string>& files,
                                   const SourceOptions& options) {
  DL_ASSIGN_OR_RETURN(std::string call, SourceReaderCall(files, options));
  std::string sql =
      fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT * FROM {}", QuoteIdent(view), call);
  return conn_.Execute(sql, fmt::format("reading {}", DescribeFiles(files)));
}

Result<delta::Schema> DuckDbEngine::SchemaOf(const std::string& sql) {
  DL_ASSIGN_OR_RETURN(auto columns, Describe(sql, "inspecting query"));
  return SchemaFromColumns(columns);
}

Result<std::string> DuckDbEngine::DeltaCompatibleSelect(const std::string& sql) {
  DL_ASSIGN_OR_RETURN(auto columns, Describe(sql, "inspecting query"));
  return DeltaCompatibleSelectSql(sql, columns);
}

Result<std::string> DuckDbEngine::AlignToSchema(const std::string& sql,
                                                const delta::Schema& schema) {
  DL_ASSIGN_OR_RETURN(auto columns, Describe(sql, "inspecting query"));
  DL_ASSIGN_OR_RETURN(std::string aligned, AlignToSchemaSql(sql, columns, schema));
  // Bind it now, so an impossible cast fails here (naming the column) and not mid-write.
  auto bound = conn_.Prepare(aligned);
  if (bound.ok()) return aligned;
  for (const auto& column : columns) {
    delta::Schema one;
    if (const delta::StructField* f = schema.Find(column.name)) one.fields.push_back(*f);
    if (one.fields.empty()) continue;
    auto single = AlignToSchemaSql(sql, {column}, one);
    if (single.ok() && !conn_.Prepare(*single).ok()) {
      return Status::InvalidArgument("column '{}' cannot be cast to {}: {}", column.name,
                                     one.fields[0].type->ToString(), bound.status().message());
    }
  }
  return Status::InvalidArgument("{}", bound.status().message());
}

Status DuckDbEngine::Execute(const std::string& sql) { return conn_.Execute(sql); }

Result<QueryRows> DuckDbEngine::Query(const std::string& sql) {
  std::string body = StripStatementEnd(sql);
  auto prepared = conn_.Prepare(body);
  if (prepared.ok() && prepared->statement_type() == DUCKDB_STATEMENT_TYPE_SELECT) {
    // Cast every column to text in SQL, so any type (nested, temporal, decimal) prints the
    // way DuckDB prints it, while keeping the column names.
    auto text = conn_.Query(fmt::format("SELECT COLUMNS(*)::VARCHAR FROM ({}) AS \"_dl_q\"", body));
    if (text.ok()) return text->ToText();
    if (text.status().code() == StatusCode::kCancelled) return text.status();
  }
  // Other statements (PRAGMA, SET, several statements...): read what the helper can print.
  DL_ASSIGN_OR_RETURN(QueryResult result, conn_.Query(sql));
  return result.ToText();
}

namespace {

// Append the file at `path` to standard output, in chunks.
Status CopyToStdout(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot read '{}'", path);
  std::cout.flush();
  std::fflush(stdout);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const char* p = buf.data();
    size_t left = static_cast<size_t>(in.gcount());
    while (left > 0) {
      ssize_t n = ::write(STDOUT_FILENO, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::Io("cannot write to standard output: {}", std::strerror(errno));
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  return Status::OK();
}

}  // namespace

Status DuckDbEngine::Export(const std::string& sql, const std::string& path,
                            std::string_view format) {
  std::string options;
  if (format == "csv") {
    options = "FORMAT csv, HEADER true";
  } else if (format == "jsonl" || format == "json" || format == "ndjson") {
    options = "FORMAT json";
  } else if (format == "parquet") {
    options = "FORMAT parquet, COMPRESSION snappy";
  } else {
    return Status::InvalidArgument("unknown export format '{}' (csv, jsonl or parquet)", format);
  }
  // DuckDB opens its output with truncation, which would wipe a file that stdout is
  // redirected to; standard output gets a temp file copied to it instead.
  bool to_stdout = path == "/dev/stdout" || path == "-";
  std::string target =
      to_stdout ? (std::filesystem::temp_directory_path() / ("dl_export_" + NewUuid())).string()
                : path;
  std::string copy =
      fmt::format("COPY ({}) TO {} ({})", StripStatementEnd(sql), QuoteLiteral(target), options);
  Status st = conn_.Execute(copy, fmt::format("exporting to '{}'", path));
  if (to_stdout) {
    if (st.ok()) st = CopyToStdout(target);
    std::error_code ec;
    std::filesystem::remove(target, ec);
  }
  return st;
}

}  // namespace duck
}  // namespace dl::engine
