// The batch's files as Spark reads them: the file scans (reader options, a Delta source's
// files and partition values), the source view, each row's file mapped back to the plan's
// path, and the rows per file.
#include "dl/engine/spark/spark_source.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <regex>

#include "dl/engine/spark/spark_load.hpp"

namespace dl::engine::spark {

pb::Expression Attr(const std::string& name) {
  pb::Expression e;
  e.mutable_unresolved_attribute()->set_unparsed_identifier(name);
  return e;
}

pb::Expression Str(const std::string& value) {
  pb::Expression e;
  e.mutable_literal()->set_string(value);
  return e;
}

pb::Expression Int(int32_t value) {
  pb::Expression e;
  e.mutable_literal()->set_integer(value);
  return e;
}

pb::Expression Fn(const std::string& name, std::vector<pb::Expression> args) {
  pb::Expression e;
  auto* f = e.mutable_unresolved_function();
  f->set_function_name(name);
  for (auto& a : args) *f->add_arguments() = std::move(a);
  return e;
}

pb::Expression As(pb::Expression expr, const std::string& name) {
  pb::Expression e;
  *e.mutable_alias()->mutable_expr() = std::move(expr);
  e.mutable_alias()->add_name(name);
  return e;
}

pb::Expression SqlExpr(const std::string& sql) {
  pb::Expression e;
  e.mutable_expression_string()->set_expression(sql);
  return e;
}

// Each row's file: the hidden metadata column resolves on the file scan itself, never through
// a view, so the source view (OpenSource) carries it as a column.
pb::Expression FilePath(const ReadFiles& files) {
  return Attr(files.view.empty() ? "_metadata.file_path" : kUriColumn);
}

pb::Relation Project(pb::Relation input, std::vector<pb::Expression> exprs) {
  pb::Relation r;
  auto* p = r.mutable_project();
  *p->mutable_input() = std::move(input);
  for (auto& e : exprs) *p->add_expressions() = std::move(e);
  return r;
}

namespace {

constexpr std::string_view kGlobCharacters = "[]{}*?\\";

}  // namespace

// Spark infers a multiLine csv's columns through Hadoop's FileInputFormat, which globs the
// files' real names again: a name with a glob character matches nothing there ("Input
// Pattern ... matches 0 files"). Such a batch is inferred (and read) without multiLine;
// explicit columns need no inference.
bool CsvWithoutMultiLine(const AppendOperation& op) {
  return op.format == "csv" && op.columns.empty() &&
         std::any_of(op.paths.begin(), op.paths.end(), [](const std::string& p) {
           return p.find_first_of(kGlobCharacters) != std::string::npos;
         });
}

namespace {

// Spark's DataFrameReader options for the neutral reader settings; types are inferred
// unless op names the columns.
std::map<std::string, std::string> ReaderOptions(const AppendOperation& op) {
  std::map<std::string, std::string> out;
  // Spark takes a parquet batch's columns from one file's footer: a column only later files
  // hold (a producer's new column) was dropped without a word. Every footer is read instead,
  // the columns unioned by name as DuckDB reads them.
  if (op.format == "parquet" && !op.table_files) out["mergeSchema"] = "true";
  // Spark maps csv columns by position: a csv file whose header differs from the first
  // file's fails instead of being read into the wrong columns. Explicit columns are taken by
  // position whatever the header says, as DuckDB does.
  if (op.format == "csv" && op.columns.empty()) {
    out["inferSchema"] = "true";
    out["enforceSchema"] = "false";
  }
  if (op.format == "csv") {
    // RFC 4180, as DuckDB reads csv by default: a quote inside a quoted value is doubled
    // ("a""b" is a"b) and a quoted value may hold line breaks. Spark's defaults escape with a
    // backslash and end a row at every line break (loading "a""b" as is, and a quoted line
    // break as two broken rows). multiLine reads each file in one task (never split). The
    // configured quote and escape still win (below).
    auto quote = op.reader_options.find("quote");
    out["escape"] = quote == op.reader_options.end() ? "\"" : quote->second;
    auto multi_line = op.reader_options.find("multi_line");
    const bool one_row_per_line =
        multi_line != op.reader_options.end() && multi_line->second == "false";
    out["multiLine"] = one_row_per_line || CsvWithoutMultiLine(op) ? "false" : "true";
    // The user says rows are lines: a quoted line break that splits a row anyway leaves a
    // row short of columns, which then fails its file rather than loading as NULLs.
    if (one_row_per_line) out["mode"] = "FAILFAST";
  }
  // A value that does not fit its column (or a malformed json line) fails the file, as on
  // DuckDB, instead of becoming NULL (or a _corrupt_record column).
  if (!op.columns.empty() || op.format == "json") out["mode"] = "FAILFAST";
  static const std::map<std::string, std::string> kSparkName = {{"header", "header"},
                                                                {"delimiter", "sep"},
                                                                {"quote", "quote"},
                                                                {"escape", "escape"},
                                                                {"null_value", "nullValue"}};
  for (const auto& [key, value] : op.reader_options) {
    if (key == "format") {
      out["multiLine"] = value == "array" ? "true" : "false";
    } else if (key == "encoding") {
      out["encoding"] = value == "latin-1" ? "ISO-8859-1" : value;  // Java's charset names
    } else if (auto it = kSparkName.find(key); it != kSparkName.end()) {
      out[it->second] = value;
    }
  }
  return out;
}

// Spark globs the paths it reads (Hadoop's globStatus): a file's own [ ] { } * ? \ escaped.
std::string GlobEscaped(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (kGlobCharacters.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// The path Spark reads for op.paths[i]: a Delta table's file decoded, any other as planned.
const std::string& ReadPath(const AppendOperation& op, size_t i) {
  return op.table_files ? op.table_files->read_paths.at(i) : op.paths.at(i);
}

// The files of `paths` (all of op's when empty); multi_line overrides json's layout.
pb::Relation Source(const AppendOperation& op, const std::vector<std::string>& paths,
                    std::optional<bool> multi_line = std::nullopt) {
  pb::Relation r;
  auto* ds = r.mutable_read()->mutable_data_source();
  ds->set_format(op.format);
  for (const auto& [k, v] : ReaderOptions(op)) (*ds->mutable_options())[k] = v;
  if (multi_line) (*ds->mutable_options())["multiLine"] = *multi_line ? "true" : "false";
  std::vector<std::string> ddl;
  for (const auto& c : op.columns) ddl.push_back(SparkIdent(c.name) + " " + SparkType(*c.type));
  if (op.table_files) {
    // The table's types, not each file's (a column a file lacks is NULL); partition columns
    // are not in the files.
    for (const auto& c : op.table_files->columns) {
      if (op.table_files->partition_values.count(c.name)) continue;
      ddl.push_back(SparkIdent(c.name) + " " + SparkType(*c.type));
    }
    for (const auto& p : op.table_files->read_paths) ds->add_paths(GlobEscaped(p));
  } else {
    for (const auto& p : paths.empty() ? op.paths : paths) ds->add_paths(GlobEscaped(p));
  }
  if (!ddl.empty()) ds->set_schema(fmt::format("{}", fmt::join(ddl, ", ")));
  return r;
}

// A Delta partition string as Spark casts it: "" is NULL (Delta treats both alike) and a
// `timestamp` without a zone is UTC (PROTOCOL.md; Spark would take the session's zone). A
// zone is what DuckDB's reading takes for one (engine/duckdb/partition_sql.cpp): Z, or an
// offset +hh, +hhmm or +hh:mm at the end.
pb::Expression PartitionLiteral(const std::optional<std::string>& value,
                                const delta::DataType& type) {
  if (!value || value->empty()) return SqlExpr("CAST(NULL AS STRING)");
  static const std::regex kZone("(Z|[+-][0-9][0-9](:?[0-9][0-9])?)$");
  const std::string& v = *value;
  const bool zoned = std::regex_search(v, kZone);
  return Str(type.is_primitive("timestamp") && !zoned ? v + "Z" : v);
}

// `exprs` over a Delta table's files: the star becomes the table's columns in order, a
// partition column's value picked for the row's file from its files' values.
std::vector<pb::Expression> WithTableColumns(const AppendOperation& op,
                                             const std::vector<pb::Expression>& exprs) {
  const AppendOperation::TableFiles& t = *op.table_files;
  std::vector<pb::Expression> out;
  for (const auto& e : exprs) {
    if (!e.has_unresolved_star()) {
      out.push_back(e);
      continue;
    }
    for (const auto& c : t.columns) {
      auto values = t.partition_values.find(c.name);
      if (values == t.partition_values.end()) {
        out.push_back(Attr(SparkIdent(c.name)));
        continue;
      }
      std::vector<pb::Expression> per_file;
      for (const auto& v : values->second) per_file.push_back(PartitionLiteral(v, *c.type));
      auto position = [](size_t i) { return Int(static_cast<int32_t>(i + 1)); };
      pb::Expression picked =
          Fn("element_at", {Fn("array", std::move(per_file)),
                            ByFile(op, ReadFiles{}, position, Int(1))});
      pb::Expression cast;
      *cast.mutable_cast()->mutable_expr() = std::move(picked);
      cast.mutable_cast()->set_type_str(SparkType(*c.type));
      out.push_back(As(std::move(cast), c.name));
    }
  }
  return out;
}

// The batch's files with `exprs` evaluated on each file scan (where _metadata resolves): one
// scan, or with json format auto two (array files, line files) united by name, the first
// file's group first (its columns lead, as in DuckDB's union by name).
pb::Relation ProjectedSource(const AppendOperation& op, const std::vector<pb::Expression>& exprs) {
  if (op.table_files) return Project(Source(op, op.paths), WithTableColumns(op, exprs));
  auto layout = op.reader_options.find("format");
  if (op.format != "json" || layout == op.reader_options.end() || layout->second != "auto") {
    return Project(Source(op, op.paths), exprs);
  }
  std::vector<std::string> arrays, lines;
  for (const auto& p : op.paths) (op.json_array_paths.count(p) ? arrays : lines).push_back(p);
  if (arrays.empty()) return Project(Source(op, lines, false), exprs);
  if (lines.empty()) return Project(Source(op, arrays, true), exprs);
  pb::Relation a = Project(Source(op, arrays, true), exprs);
  pb::Relation l = Project(Source(op, lines, false), exprs);
  const bool array_first = op.json_array_paths.count(op.paths.front()) != 0;
  pb::Relation r;
  auto* u = r.mutable_set_op();
  *u->mutable_left_input() = array_first ? std::move(a) : std::move(l);
  *u->mutable_right_input() = array_first ? std::move(l) : std::move(a);
  u->set_set_op_type(pb::SetOperation::SET_OP_TYPE_UNION);
  u->set_is_all(true);
  u->set_by_name(true);
  u->set_allow_missing_columns(true);
  return r;
}

// SELECT _metadata.file_path, count(1) FROM source GROUP BY 1.
pb::Plan RowsPerFilePlan(const AppendOperation& op, const ReadFiles& files) {
  pb::Plan plan;
  auto* agg = plan.mutable_root()->mutable_aggregate();
  std::vector<pb::Expression> exprs = {As(FilePath(files), kUriColumn)};
  pb::Expression counted = Fn("count", {Int(1)});
  if (!op.columns.empty()) {
    // A count alone parses no value: with explicit columns every value is parsed, so one that
    // does not fit fails here, naming its file (min(hash) keeps the optimizer from pruning;
    // maps are hashed as their entries: Spark hashes no map).
    std::vector<std::string> parsed;
    for (const auto& c : op.columns) parsed.push_back(SparkComparable(SparkIdent(c.name), *c.type));
    exprs.push_back(As(SqlExpr(fmt::format("hash({})", fmt::join(parsed, ", "))), "__dl_parsed"));
    counted = SqlExpr("count(1) + 0 * min(`__dl_parsed`)");
  }
  *agg->mutable_input() = Scanned(op, files, exprs);
  agg->set_group_type(pb::Aggregate::GROUP_TYPE_GROUPBY);
  *agg->add_grouping_expressions() = Attr(kUriColumn);
  *agg->add_aggregate_expressions() = As(std::move(counted), "rows");
  return plan;
}

// The plan's path of a file Spark names in its own spelling, decoded in SQL: %-escapes (a
// '+' is literal in a URI path), then `file:` or `file://` of an empty authority.
pb::Expression DecodedFilePath(const ReadFiles& files) {
  pb::Expression plus_kept = Fn("replace", {FilePath(files), Str("+"), Str("%2B")});
  return Fn("regexp_replace",
            {Fn("url_decode", {std::move(plus_kept)}), Str("^file:(//(?=/))?"), Str("")});
}

pb::Expression Map(std::vector<pb::Expression> pairs) { return Fn("map", std::move(pairs)); }

}  // namespace

// Each row's position in its file: parquet knows each row's index in its file; csv/json rows
// keep their order within a file in the scan's ids (a file is read as one split, or as
// splits in offset order). Evaluated on the file scan.
pb::Expression RowOrder(const AppendOperation& op) {
  return op.format == "parquet" ? Attr("_metadata.row_index")
                                : Fn("monotonically_increasing_id", {});
}

// The columns the source view adds to the files'.
std::vector<const char*> SourceViewColumns(const ReadFiles& files) {
  if (files.view.empty()) return {};
  if (files.view_row_order) return {kUriColumn, kSourceRowColumn};
  return {kUriColumn};
}

// The files with `exprs`: over the source view when there is one (its columns, then
// kUriColumn), else on the file scans.
pb::Relation Scanned(const AppendOperation& op, const ReadFiles& files,
                     const std::vector<pb::Expression>& exprs) {
  if (files.view.empty()) return ProjectedSource(op, exprs);
  pb::Relation view;
  view.mutable_read()->mutable_named_table()->set_unparsed_identifier(SparkIdent(files.view));
  return Project(std::move(view), exprs);
}

// value(i) for each row's file (op.paths[i]). With Spark's spellings from a count
// (files.path_of_uri), a lookup of them (no rows: nothing to map, `fallback`). Without, in
// the scan itself: a lookup of the spelling Spark is expected to give (cheap per row), else
// of the decoded path; a file that is not one of the plan's fails the scan, naming it.
pb::Expression ByFile(const AppendOperation& op, const ReadFiles& files,
                      const std::function<pb::Expression(size_t)>& value,
                      pb::Expression fallback) {
  auto index = [&](const std::string& path) {
    return static_cast<size_t>(std::find(op.paths.begin(), op.paths.end(), path) -
                               op.paths.begin());
  };
  std::vector<pb::Expression> by_uri, by_path;
  for (const auto& [uri, path] : files.path_of_uri) {
    by_uri.push_back(Str(uri));
    by_uri.push_back(value(index(path)));
  }
  if (!by_uri.empty()) return Fn("element_at", {Map(std::move(by_uri)), FilePath(files)});
  if (op.paths.empty()) return fallback;
  for (size_t i = 0; i < op.paths.size(); ++i) {
    const std::string uri = SparkUriOf(ReadPath(op, i));
    by_uri.push_back(Str(uri));
    by_uri.push_back(value(i));
    if (uri.rfind("file:/", 0) == 0) {  // also file:///x (an empty authority)
      by_uri.push_back(Str("file://" + uri.substr(5)));
      by_uri.push_back(value(i));
    }
    by_path.push_back(Str(ReadPath(op, i)));
    by_path.push_back(value(i));
  }
  pb::Expression unknown = Fn(
      "raise_error",
      {Fn("concat",
          {Str("Spark read "), FilePath(files), Str(", which is not one of the batch's files")})});
  return Fn("coalesce", {Fn("element_at", {Map(std::move(by_uri)), FilePath(files)}),
                         Fn("element_at", {Map(std::move(by_path)), DecodedFilePath(files)}),
                         std::move(unknown)});
}

Status OpenSource(SparkSession& session, const AppendOperation& op, bool row_order,
                  ReadFiles& files) {
  std::vector<pb::Expression> exprs(1);
  exprs[0].mutable_unresolved_star();
  exprs.push_back(As(FilePath(ReadFiles()), kUriColumn));
  if (row_order) exprs.push_back(As(RowOrder(op), kSourceRowColumn));
  Status st = CreateTypedView(session, op, kSourceView, ProjectedSource(op, exprs));
  if (!st.ok()) return ClassifyError(st, op);
  files.view = kSourceView;
  files.view_row_order = row_order;
  return Status::OK();
}

void CloseSource(SparkSession& session, const AppendOperation& op) {
  DropView(session, kSourceView, op);
}

Status CountRowsPerFile(SparkSession& session, const AppendOperation& op, ReadFiles& out) {
  auto counted = session.Execute(RowsPerFilePlan(op, out));
  if (!counted.ok()) return ClassifyError(counted.status(), op);
  for (const auto& row : counted->rows) {
    if (row.size() != 2 || !row[0] || !row[1]) {
      return Status::Engine("Spark: unexpected row in the per-file row counts");
    }
    const std::string path = PathOfSparkUri(*row[0]);
    const std::vector<std::string>& read =
        op.table_files ? op.table_files->read_paths : op.paths;
    auto at = std::find(read.begin(), read.end(), path);
    if (at == read.end()) {
      return Status::Internal("Spark read {}, which is not one of the batch's files", *row[0]);
    }
    auto planned = op.paths.begin() + (at - read.begin());
    out.path_of_uri[*row[0]] = *planned;
    const int64_t rows = std::stoll(*row[1]);
    out.rows_per_file[*planned] += rows;
    out.rows += rows;
  }
  return Status::OK();
}

Result<std::map<std::string, int64_t>> CountRowsInParquet(SparkSession& session,
                                                          const std::vector<std::string>& files,
                                                          const std::string& column) {
  std::map<std::string, int64_t> out;
  if (files.empty()) return out;
  pb::Plan plan;
  auto* agg = plan.mutable_root()->mutable_aggregate();
  auto* ds = agg->mutable_input()->mutable_read()->mutable_data_source();
  ds->set_format("parquet");
  for (const auto& f : files) ds->add_paths(GlobEscaped(f));
  agg->set_group_type(pb::Aggregate::GROUP_TYPE_GROUPBY);
  if (!column.empty()) {
    *agg->add_grouping_expressions() = Attr(SparkIdent(column));  // the first column out
  }
  *agg->add_aggregate_expressions() = As(Fn("count", {Int(1)}), "rows");
  DL_ASSIGN_OR_RETURN(auto counted, session.Execute(plan));
  for (const auto& row : counted.rows) {
    const size_t n = column.empty() ? 1 : 2;
    if (row.size() != n || !row[n - 1]) {
      return Status::Engine("Spark: unexpected row in the rows per {} of the written files",
                            column.empty() ? "file" : column);
    }
    out[column.empty() ? "" : row[0].value_or("")] += std::stoll(*row[n - 1]);
  }
  return out;
}

Status ClassifyLoadError(SparkSession& session, Status st, const AppendOperation& op) {
  st = ClassifyError(std::move(st), op);
  // Spark 3.5 fails a task on a corrupt Parquet footer without naming the file (4.x names
  // it): each file is then read alone, so the ones at fault fail and the rest load (an
  // overwrite's run is one batch that cannot be split). Only errors with no class, as task
  // failures are there; a large batch is left to the batch runner's halving.
  constexpr size_t kMaxReadAlone = 16;
  const ErrorDetail& detail = st.detail();
  if (st.code() != StatusCode::kEngine || !detail.error_class.empty() || !detail.files.empty() ||
      detail.cause == ErrorDetail::Cause::kTransient || op.table_files || op.paths.size() < 2 ||
      op.paths.size() > kMaxReadAlone) {
    return st;
  }
  std::vector<std::string> failing;
  for (const auto& path : op.paths) {
    AppendOperation alone = op;
    alone.paths = {path};
    auto read = session.Execute(RowsPerFilePlan(alone, ReadFiles()));
    if (read.ok()) continue;
    if (read.status().code() != StatusCode::kEngine ||
        read.status().detail().cause == ErrorDetail::Cause::kTransient) {
      return st;
    }
    failing.push_back(path);
  }
  if (failing.empty()) return st;
  ErrorDetail named = detail;
  named.files = failing;
  named.cause = ErrorDetail::Cause::kData;
  return Status(st.code(), fmt::format("reading {}: {}", fmt::join(failing, ", "), st.message()))
      .WithDetail(std::move(named));
}

std::string SparkUriOf(const std::string& path) {
  if (path.empty() || path[0] != '/') return path;
  // java.net.URI quotes what a path may not hold; other non-ASCII characters stay.
  std::string out = "file:";
  for (unsigned char c : path) {
    if (c >= 0x80 || std::isalnum(c) ||
        std::string_view("_-!.~'()*,;:$&+=/@").find(c) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace dl::engine::spark
