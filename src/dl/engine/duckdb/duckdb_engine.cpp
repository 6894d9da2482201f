// DuckDbEngine: sessions, plain SQL, source files and schema inspection.
#include "dl/engine/duckdb/duckdb_engine.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <vector>

#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/json_decimals.hpp"
#include "dl/engine/duckdb/object_store.hpp"
#include "dl/engine/duckdb/row_tally.hpp"
#include "dl/engine/duckdb/source_reader.hpp"
#include "dl/engine/duckdb/write_sql.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"
#include "dl/storage/stat_many.hpp"

namespace dl::engine {

namespace {

// Database-wide settings, then the lock: file access limited to the allowed locations, and
// no statement can change a setting afterwards (SET, PRAGMA, RESET all fail).
Status ConfigureAndLock(duck::Connection& conn, const EngineOptions& options) {
  const char* what = "configuring the engine";
  // Delta timestamps are UTC instants; the time zone decides how DuckDB casts and prints
  // TIMESTAMPTZ, so pin it (ICU is built into libduckdb). Global: every session inherits it.
  DL_RETURN_IF_ERROR(conn.Execute("SET GLOBAL TimeZone = 'UTC'", what));
  // Delta data files are immutable, so cached Parquet footers never go stale; views over
  // snapshots re-bind (re-read footers) on every query otherwise. An extension setting, so it
  // cannot go into the open-time config.
  DL_RETURN_IF_ERROR(conn.Execute("SET GLOBAL parquet_metadata_cache = true", what));
  // Extensions load by path before the lock-down; afterwards nothing can load or install one.
  std::vector<std::string> stores = duck::ObjectStoreLocations(options);
  DL_RETURN_IF_ERROR(duck::ConfigureObjectStores(conn, options, stores));
  if (options.allowed_directories) {
    std::vector<std::string> dirs, files;
    // DuckDB checks the pattern a reader gets (ReadPath: glob characters escaped) as well as
    // the files it matches, so both spellings are allowed. The escaped one is no wider: as a
    // pattern it matches only below the literal one.
    auto allow = [](std::vector<std::string>& list, const std::string& path) {
      list.push_back(QuoteLiteral(duck::EnginePath(path)));
      if (duck::ReadPath(path) != duck::EnginePath(path)) {
        list.push_back(QuoteLiteral(duck::ReadPath(path)));
      }
    };
    for (const auto& d : *options.allowed_directories) allow(dirs, d);
    // DuckDB checks object-store URIs against these prefixes too; the trailing '/' keeps
    // s3://bucket/t from allowing s3://bucket/t2.
    for (const auto& l : stores) allow(dirs, l + "/");
    for (const auto& f : options.allowed_files) allow(files, f);
    if (!dirs.empty()) {  // (duplicates are harmless)
      DL_RETURN_IF_ERROR(
          conn.Execute(fmt::format("SET allowed_directories = [{}]", fmt::join(dirs, ", ")), what));
    }
    if (!files.empty()) {
      DL_RETURN_IF_ERROR(
          conn.Execute(fmt::format("SET allowed_paths = [{}]", fmt::join(files, ", ")), what));
    }
    DL_RETURN_IF_ERROR(conn.Execute("SET enable_external_access = false", what));
  }
  return conn.Execute("SET lock_configuration = true", what);
}

}  // namespace

Result<std::unique_ptr<Engine>> MakeDuckDbEngine(const EngineOptions& options) {
  DL_ASSIGN_OR_RETURN(duck::Database db, duck::Database::Open(options));
  auto shared = std::make_shared<duck::Database>(std::move(db));
  {
    DL_ASSIGN_OR_RETURN(duck::Connection setup, duck::Connection::Open(*shared));
    DL_RETURN_IF_ERROR(ConfigureAndLock(setup, options));
    DL_RETURN_IF_ERROR(duck::RegisterRowTally(setup));
  }
  std::shared_ptr<FileSystem> fs = options.file_system;
  if (!fs) fs = MakeFileSystem(options.storage);
  DL_ASSIGN_OR_RETURN(auto engine, duck::DuckDbEngine::Open(std::move(shared), std::move(fs)));
  return std::unique_ptr<Engine>(std::move(engine));
}

namespace duck {

Result<std::unique_ptr<DuckDbEngine>> DuckDbEngine::Open(std::shared_ptr<Database> db,
                                                         std::shared_ptr<FileSystem> fs) {
  DL_ASSIGN_OR_RETURN(Connection conn, Connection::Open(*db));
  return std::make_unique<DuckDbEngine>(std::move(db), std::move(conn), std::move(fs));
}

Result<std::unique_ptr<Engine>> DuckDbEngine::NewSession() {
  DL_ASSIGN_OR_RETURN(auto session, Open(db_, fs_));
  return std::unique_ptr<Engine>(std::move(session));
}

Result<std::vector<Column>> DuckDbEngine::Describe(const std::string& sql,
                                                   std::string_view context) {
  DL_ASSIGN_OR_RETURN(PreparedStatement stmt, conn_.Prepare(StripStatementEnd(sql), context));
  return stmt.columns();
}

namespace {

struct CsvHead {
  std::string header;  ///< the first line
  bool rows = true;    ///< false: nothing but blanks follows the header
};

// The first line (the csv header) of every file, at most 64 KiB, read through our storage:
// ranged reads, 16 at a time (a DuckDB query per file is a HEAD + GET after another, the bulk
// of a small-file batch). A file whose first line cannot be read gets a key of its own (it
// is sniffed alone, and fails there naming the file).
std::vector<CsvHead> CsvHeaders(FileSystem& fs, const std::vector<std::string>& files) {
  constexpr int64_t kFirst = 8 << 10, kMost = 64 << 10;
  std::vector<Result<std::string>> heads = ReadRangeMany(fs, files, 0, kFirst);
  std::vector<CsvHead> out;
  for (size_t i = 0; i < files.size(); ++i) {
    Result<std::string>& head = heads[i];
    if (head.ok() && head->size() == kFirst && head->find('\n') == std::string::npos) {
      head = fs.ReadRange(files[i], 0, kMost);  // a long header line: read up to the limit
    }
    if (!head.ok()) {
      out.push_back({"\x01" + files[i]});
      continue;
    }
    const size_t end = head->find('\n');
    CsvHead h{head->substr(0, end)};
    // Only a file read whole can be known to hold no rows.
    h.rows =
        static_cast<int64_t>(head->size()) >= kFirst ||
        (end != std::string::npos && head->find_first_not_of(" \t\r\n", end) != std::string::npos);
    out.push_back(std::move(h));
  }
  return out;
}

bool CsvFastPathApplies(const std::vector<std::string>& files, const SourceOptions& options) {
  if (AsciiLower(options.format) != "csv" || files.size() < 2 || options.sniff_every_file) {
    return false;
  }
  for (const auto& [key, value] : options.options) {
    std::string k = AsciiLower(key);
    if (k == "columns" || k == "compression" || (k == "header" && AsciiLower(value) == "false")) {
      return false;
    }
  }
  return std::none_of(files.begin(), files.end(), [](const std::string& f) {
    return f.size() > 3 && (f.compare(f.size() - 3, 3, ".gz") == 0 ||
                            f.compare(f.size() - 4, 4, ".zst") == 0);
  });
}

// union_by_name makes DuckDB sniff every csv file (milliseconds each: the small-file storm
// would be bound by it). Files with the same header line have the same columns, so one file
// of each header is sniffed (the first holding rows: a header alone reads as all text) and
// the others are read with its column types; the groups are combined by name. Callers retry
// with sniff_every_file when a later file's values do not fit the sniffed one's types.
Result<std::string> CsvByHeaderSql(Engine& engine, FileSystem& fs,
                                   const std::vector<std::string>& files,
                                   const SourceOptions& options) {
  std::vector<std::vector<std::string>> groups;
  std::vector<size_t> sniffed;  // of each group: the index of the file sniffed
  std::map<std::string, size_t> by_header;
  std::vector<CsvHead> heads = CsvHeaders(fs, files);
  for (size_t i = 0; i < files.size(); ++i) {
    auto [it, added] = by_header.try_emplace(heads[i].header, groups.size());
    if (added) {
      groups.emplace_back();
      sniffed.push_back(i);
    } else if (heads[i].rows && !heads[sniffed[it->second]].rows) {
      sniffed[it->second] = i;
    }
    groups[it->second].push_back(files[i]);
  }
  // The reader adds the filename column itself; it must not be listed among the columns.
  auto fn = options.options.find("filename");
  const std::string file_column = fn == options.options.end() ? "" : fn->second;
  std::vector<std::string> selects;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<std::string>& group = groups[g];
    DL_ASSIGN_OR_RETURN(std::string one, SourceReaderCall({files[sniffed[g]]}, options, false));
    DL_ASSIGN_OR_RETURN(auto rows, engine.Query(fmt::format(
                                       "SELECT column_name, column_type FROM (DESCRIBE SELECT * "
                                       "FROM {})",
                                       one)));
    std::vector<std::string> columns, checked;
    for (const auto& r : rows.rows) {
      std::string name = r.at(0).value_or("");
      std::string type = r.at(1).value_or("VARCHAR");
      if (!file_column.empty() && name == file_column) continue;
      // DuckDB casts '2.75' to an integer as 3: read integer columns as text and accept only
      // integer text, so a later file that needs a wider type fails here (and the caller
      // infers per file) instead of being rounded.
      static const std::set<std::string> kIntegers = {
          "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
          "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"};
      if (kIntegers.count(type) != 0) {
        checked.push_back(fmt::format(
            "CASE WHEN {0} IS NULL OR regexp_full_match(trim({0}), '[+-]?[0-9]+') THEN "
            "CAST(trim({0}) AS {1}) ELSE error('not an integer: ' || {0}) END AS {0}",
            QuoteIdent(name), type));
        type = "VARCHAR";
      }
      columns.push_back(fmt::format("{}: {}", QuoteLiteral(name), QuoteLiteral(type)));
    }
    SourceOptions typed = options;
    typed.options["columns"] = fmt::format("{{{}}}", fmt::join(columns, ", "));
    DL_ASSIGN_OR_RETURN(std::string call, SourceReaderCall(group, typed, false));
    selects.push_back(checked.empty() ? "SELECT * FROM " + call
                                      : fmt::format("SELECT * REPLACE ({}) FROM {}",
                                                    fmt::join(checked, ", "), call));
  }
  return fmt::format("{}", fmt::join(selects, " UNION ALL BY NAME "));
}

// DuckDB reports JSON rows that are not objects without naming the file: find the files
// (each read alone) so the batch runner can fail just them.
Status NonObjectJsonError(Connection& conn, const std::vector<std::string>& files,
                          const SourceOptions& options, const Status& error) {
  std::vector<std::string> bad;
  for (const auto& f : files) {
    auto call = SourceReaderCall({f}, options, false);
    if (!call.ok()) return call.status();
    if (files.size() == 1 || !conn.Execute("DESCRIBE SELECT * FROM " + *call).ok()) {
      bad.push_back(f);
    }
  }
  if (bad.empty()) return error;  // only the files together fail: report DuckDB's error
  Status st(StatusCode::kEngine,
            fmt::format("{}: {} JSON values that are not objects; each row must be a JSON object "
                        "(one per line, or a top-level array of objects)",
                        fmt::join(bad, ", "), bad.size() == 1 ? "holds" : "hold"));
  return st.WithDetail({ErrorDetail::Cause::kData, std::move(bad), {}});
}

// DuckDB checks some reader options only when it binds the reader: "DELIMITER must not
// appear in the NULL specification and vice versa". No file can fix that; the config can.
Status ReaderOptionsError(const Status& st, const SourceOptions& options) {
  if (st.detail().cause != ErrorDetail::Cause::kQuery) return st;
  std::string words = DuckWords(st);
  if (words.find("must not appear in the") == std::string::npos ||
      words.find("specification") == std::string::npos) {
    return st;
  }
  return Status::Config("the {} reader refuses the options: {}", AsciiLower(options.format), words)
      .WithDetail({ErrorDetail::Cause::kQuery, {}, {}});
}

// A file ReadPath gives as written is read only where DuckDB's glob finds it alone (the
// pattern matches nothing, so DuckDB falls back to the literal path). Others fail, named,
// before DuckDB reads other files in their place or fails the batch; the batch runner loads
// the rest.
Status FilesReadInsteadError(Connection& conn, const std::vector<std::string>& files) {
  std::vector<std::string> bad, why;
  for (const auto& f : files) {
    if (!ReadAsWritten(f)) continue;
    DL_ASSIGN_OR_RETURN(
        QueryResult found,
        conn.Query(fmt::format("SELECT file FROM glob({}) LIMIT 2", QuoteLiteral(EnginePath(f))),
                   fmt::format("looking up '{}'", f)));
    QueryRows rows = found.ToText();
    if (rows.rows.size() == 1 && rows.rows[0].at(0) == EnginePath(f)) continue;
    std::string other;
    for (const auto& r : rows.rows) {
      if (r.at(0) != EnginePath(f)) other = r.at(0).value_or("");
    }
    bad.push_back(f);
    why.push_back(fmt::format(
        "{}: DuckDB takes this path as a pattern (no escape keeps a name with a backslash and "
        "'*', '?' or '[' whole, nor one in the root directory), and {}; rename the file",
        f, other.empty() ? "it matches nothing" : fmt::format("it matches '{}'", other)));
  }
  if (bad.empty()) return Status::OK();
  return Status(StatusCode::kEngine, fmt::format("{}", fmt::join(why, "; ")))
      .WithDetail({ErrorDetail::Cause::kData, std::move(bad), {}});
}

}  // namespace

Status DuckDbEngine::RegisterFiles(const std::string& view, const std::vector<std::string>& files,
                                   const SourceOptions& options) {
  // Parquet numbers each file's rows itself; csv/json rows are numbered by their place in a
  // materialized table (it keeps insertion order).
  const bool parquet = AsciiLower(options.format) == "parquet";
  const bool numbered = !options.row_order_column.empty() && !parquet;
  if (!options.materialize && !numbered) return RegisterReaderView(view, files, options);
  const std::string reader = view + "_files";
  const std::string table = numbered ? view + "_rows" : view;
  DL_RETURN_IF_ERROR(RegisterReaderView(reader, files, options));
  DL_ASSIGN_OR_RETURN(const std::string exact, duck::ExactJsonDecimals(conn_, options));
  const std::string materialize =
      fmt::format("CREATE OR REPLACE TEMP TABLE {} AS SELECT *{} FROM {}", QuoteIdent(table), exact,
                  QuoteIdent(reader));
  Status st = conn_.Execute(materialize);
  if (!st.ok() && AsciiLower(options.format) == "csv" && files.size() > 1 &&
      !options.sniff_every_file) {
    // Types inferred from the first file of each header may not fit later files (integers
    // first, decimals later): infer per file, which is slower but exact.
    SourceOptions each = options;
    each.sniff_every_file = true;
    DL_RETURN_IF_ERROR(RegisterReaderView(reader, files, each));
    st = conn_.Execute(materialize);
  }
  DL_RETURN_IF_ERROR(st);
  if (!numbered) return Status::OK();
  return conn_.Execute(
      fmt::format("CREATE OR REPLACE TEMP VIEW {} AS SELECT *, rowid AS {} FROM {}",
                  QuoteIdent(view), QuoteIdent(options.row_order_column), QuoteIdent(table)));
}

Status DuckDbEngine::RegisterReaderView(const std::string& view,
                                        const std::vector<std::string>& files,
                                        const SourceOptions& given) {
  const bool row_numbers =
      !given.row_order_column.empty() && AsciiLower(given.format) == "parquet";
  SourceOptions numbered;
  if (row_numbers) {
    numbered = given;
    numbered.options["file_row_number"] = "true";
  }
  const SourceOptions& options = row_numbers ? numbered : given;
  DL_RETURN_IF_ERROR(FilesReadInsteadError(conn_, files));
  // From here on, errors of this session that name one of these files name it as given.
  conn_.sources().Set(view, files);
  std::string body;
  if (CsvFastPathApplies(files, options)) {
    auto sql = CsvByHeaderSql(*this, *fs_, files, options);
    if (!sql.ok()) {
      return ReaderOptionsError(
          sql.status().WithContext(fmt::format("reading {}", DescribeFiles(files))), options);
    }
    body = *sql;
  } else {
    DL_ASSIGN_OR_RETURN(std::string call, SourceReaderCall(files, options));
    body = "SELECT * FROM " + call;
  }
  // The file name column shows the files as the caller named them, not as DuckDB read them.
  if (auto fn = options.options.find("filename"); fn != options.options.end()) {
    std::string column = QuoteIdent(fn->second);
    std::string user = UserPathSql(column, files);
    if (user != column) {
      body =
          fmt::format("SELECT * REPLACE ({} AS {}) FROM ({}) AS \"_dl_src\"", user, column, body);
    }
  }
  if (row_numbers) {
    body = fmt::format(
        "SELECT * EXCLUDE (\"file_row_number\"), \"file_row_number\" AS {} FROM ({}) AS "
        "\"_dl_rows\"",
        QuoteIdent(options.row_order_column), body);
  }
  std::string sql = fmt::format("CREATE OR REPLACE TEMP VIEW {} AS {}", QuoteIdent(view), body);
  Status st = conn_.Execute(sql, fmt::format("reading {}", DescribeFiles(files)));
  if (!st.ok() &&
      st.message().find("expected records, but got non-record JSON") != std::string::npos) {
    return NonObjectJsonError(conn_, files, options, st);
  }
  return ReaderOptionsError(st, options);
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
  // Written in place: a locked engine may write only `path`, not DuckDB's tmp_<name> beside it.
  std::string copy = fmt::format("COPY ({}) TO {} ({}, USE_TMP_FILE false)", StripStatementEnd(sql),
                                 QuoteLiteral(EnginePath(target)), options);
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
