#include "dl/engine/spark/spark_plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include <nlohmann/json.hpp>

#include "dl/engine/engine.hpp"
#include "dl/engine/spark/spark_load.hpp"

namespace dl::engine::spark {
namespace {

constexpr const char* kUriColumn = "__dl_file_uri";
constexpr const char* kSourceView = "__dl_source";
constexpr const char* kSourceRowColumn = "__dl_source_row";  // the source view's row order
constexpr const char* kTxnAppIdConf = "spark.databricks.delta.write.txnAppId";
constexpr const char* kTxnVersionConf = "spark.databricks.delta.write.txnVersion";
constexpr const char* kUserMetadataConf = "spark.databricks.delta.commitInfo.userMetadata";

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

// Spark's DataFrameReader options for the neutral reader settings; types are inferred
// unless op names the columns.
std::map<std::string, std::string> ReaderOptions(const AppendOperation& op) {
  std::map<std::string, std::string> out;
  // Spark maps csv columns by position: a csv file whose header differs from the first
  // file's fails instead of being read into the wrong columns. Explicit columns are taken by
  // position whatever the header says, as DuckDB does.
  if (op.format == "csv" && op.columns.empty()) {
    out["inferSchema"] = "true";
    out["enforceSchema"] = "false";
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
    if (std::string_view("[]{}*?\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Spark SQL's spelling of a Delta type.
std::string SparkType(const delta::DataType& t) {
  using Kind = delta::DataType::Kind;
  switch (t.kind) {
    case Kind::kDecimal:
      return fmt::format("DECIMAL({},{})", t.precision, t.scale);
    case Kind::kArray:
      return fmt::format("ARRAY<{}>", SparkType(*t.element));
    case Kind::kMap:
      return fmt::format("MAP<{}, {}>", SparkType(*t.key), SparkType(*t.value));
    case Kind::kStruct: {
      std::vector<std::string> fields;
      for (const auto& f : t.fields) {
        fields.push_back(SparkIdent(f.name) + ": " + SparkType(*f.type));
      }
      return fmt::format("STRUCT<{}>", fmt::join(fields, ", "));
    }
    case Kind::kPrimitive:
      break;
  }
  static const std::map<std::string, std::string> kNames = {
      {"long", "BIGINT"}, {"integer", "INT"}, {"short", "SMALLINT"}, {"byte", "TINYINT"}};
  auto it = kNames.find(t.name);
  return it != kNames.end() ? it->second : t.name;  // string, double, timestamp_ntz, ...
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

pb::Relation Project(pb::Relation input, std::vector<pb::Expression> exprs) {
  pb::Relation r;
  auto* p = r.mutable_project();
  *p->mutable_input() = std::move(input);
  for (auto& e : exprs) *p->add_expressions() = std::move(e);
  return r;
}

std::vector<pb::Expression> WithTableColumns(const AppendOperation& op,
                                             const std::vector<pb::Expression>& exprs);

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

// SELECT _metadata.file_path, count(1) FROM source GROUP BY 1.
pb::Plan RowsPerFilePlan(const AppendOperation& op, const ReadFiles& files) {
  pb::Plan plan;
  auto* agg = plan.mutable_root()->mutable_aggregate();
  std::vector<pb::Expression> exprs = {As(FilePath(files), kUriColumn)};
  pb::Expression counted = Fn("count", {Int(1)});
  if (!op.columns.empty()) {
    // A count alone parses no value: with explicit columns every value is parsed, so one that
    // does not fit fails here, naming its file (min(hash) keeps the optimizer from pruning).
    exprs.push_back(As(SqlExpr("hash(*)"), "__dl_parsed"));
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

// When every spelling a count gave is one ASCII prefix (`file:`) and the plan's path, the
// prefix's length: the plan's path is then a substring of Spark's (a map lookup costs a
// comparison per file and row: seconds for a thousand small files).
std::optional<int32_t> CommonUriPrefix(const ReadFiles& files) {
  std::optional<std::string> prefix;
  for (const auto& [uri, path] : files.path_of_uri) {
    const size_t n = uri.size() - std::min(uri.size(), path.size());
    std::string head = uri.substr(0, n);
    if (uri.compare(n, std::string::npos, path) != 0 || (prefix && *prefix != head)) {
      return std::nullopt;
    }
    prefix = std::move(head);
  }
  if (!prefix || std::any_of(prefix->begin(), prefix->end(),
                             [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return std::nullopt;
  }
  return static_cast<int32_t>(prefix->size());
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

// A Delta partition string as Spark casts it: "" is NULL (Delta treats both alike) and a
// `timestamp` without a zone is UTC (PROTOCOL.md; Spark would take the session's zone).
pb::Expression PartitionLiteral(const std::optional<std::string>& value,
                                const delta::DataType& type) {
  if (!value || value->empty()) return SqlExpr("CAST(NULL AS STRING)");
  const std::string& v = *value;
  const size_t n = v.size();
  const bool zoned = v.back() == 'Z' || (n > 6 && (v[n - 6] == '+' || v[n - 6] == '-'));
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

// A column's value as JSON text the way DuckDB's to_json writes it: decimals as plain numbers
// without trailing zeros but one decimal (2.50 -> 2.5, 100 -> 100.0), timestamps as DuckDB's
// text (UTC, "+00" when zoned); any other value as Spark's to_json writes it.
std::string JsonValueSql(const Column& c) {
  const std::string col = SparkIdent(c.name);
  if (c.type.rfind("decimal", 0) == 0) {
    const std::string text = fmt::format("CAST({} AS STRING)", col);
    return fmt::format(
        "CASE WHEN {0} IS NULL THEN 'null' WHEN instr({1}, '.') = 0 THEN concat({1}, '.0') "
        "ELSE regexp_replace(regexp_replace({1}, {2}, ''), {3}, '.0') END",
        col, text, SparkLiteral("0+$"), SparkLiteral("\\.$"));
  }
  std::string value = col;
  if (c.type == "timestamp") {
    value = fmt::format("concat(CAST(to_utc_timestamp({}, current_timezone()) AS STRING), '+00')",
                        col);
  } else if (c.type == "timestamp_ntz") {
    value = fmt::format("CAST({} AS STRING)", col);
  }
  // {"v":<value>} without its first 5 and last characters.
  const std::string json =
      fmt::format("to_json(named_struct('v', {}), map('ignoreNullFields', 'false'))", value);
  return fmt::format("substr({0}, 6, length({0}) - 6)", json);
}

// The rescued-data column as the DuckDB engine writes it: NULL when every rescued value is
// NULL, else one JSON object of them (NULLs included), keys as the files spell them.
std::string RescuedSql(const std::vector<Column>& rescued) {
  if (rescued.empty()) return "CAST(NULL AS STRING)";
  std::vector<std::string> parts, nulls;
  for (size_t i = 0; i < rescued.size(); ++i) {
    const std::string key = nlohmann::json(rescued[i].name).dump();
    parts.push_back(SparkLiteral(fmt::format("{}{}:", i == 0 ? "{" : ",", key)));
    parts.push_back(JsonValueSql(rescued[i]));
    nulls.push_back(SparkIdent(rescued[i].name) + " IS NULL");
  }
  parts.push_back("'}'");
  return fmt::format("CASE WHEN {} THEN CAST(NULL AS STRING) ELSE concat({}) END",
                     fmt::join(nulls, " AND "), fmt::join(parts, ", "));
}

// Over `scanned` (the files' columns, then `added`): the columns the table has (all of them
// while there is no table), the rescued-data column with kRescue, then `added`.
pb::Relation KeepTableColumns(const AppendOperation& op, const ReadFiles& files,
                              pb::Relation scanned, const std::vector<std::string>& added) {
  std::vector<pb::Expression> exprs;
  std::vector<Column> rescued;
  for (const auto& c : files.source_columns) {
    if (op.table_columns && !HasColumn(*op.table_columns, c.name)) {
      rescued.push_back(c);
      continue;
    }
    exprs.push_back(Attr(SparkIdent(c.name)));
  }
  if (op.new_columns == AppendOperation::NewColumns::kRescue) {
    exprs.push_back(As(SqlExpr(RescuedSql(rescued)), op.rescued_data_column));
  }
  for (const auto& a : added) exprs.push_back(Attr(SparkIdent(a)));
  return Project(std::move(scanned), std::move(exprs));
}

bool IsLostCommitRace(const Status& st) {
  const std::string& error_class = st.detail().error_class;
  for (const char* cls :
       {"DELTA_CONCURRENT_", "DELTA_METADATA_CHANGED", "DELTA_PROTOCOL_CHANGED"}) {
    if (error_class.rfind(cls, 0) == 0) return true;
  }
  return false;
}

}  // namespace

std::string SparkIdent(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

std::string SparkLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

Status OpenSource(SparkSession& session, const AppendOperation& op, bool row_order,
                  ReadFiles& files) {
  std::vector<pb::Expression> exprs(1);
  exprs[0].mutable_unresolved_star();
  exprs.push_back(As(FilePath(ReadFiles()), kUriColumn));
  if (row_order) exprs.push_back(As(RowOrder(op), kSourceRowColumn));
  Status st = CreateView(session, kSourceView, ProjectedSource(op, exprs));
  if (!st.ok()) return ClassifyError(st, op);
  files.view = kSourceView;
  files.view_row_order = row_order;
  return Status::OK();
}

void CloseSource(SparkSession& session) {
  (void)session.Sql("DROP VIEW IF EXISTS " + SparkIdent(kSourceView));
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

pb::Relation WithAuditColumns(const AppendOperation& op, const ReadFiles& files, bool hidden) {
  std::vector<pb::Expression> exprs;
  exprs.emplace_back().mutable_unresolved_star();
  // Spark's file URIs mapped back to the planned paths.
  auto path = [&] {
    if (auto n = CommonUriPrefix(files)) return Fn("substr", {FilePath(files), Int(*n + 1)});
    return ByFile(op, files, [&](size_t i) { return Str(op.paths.at(i)); }, FilePath(files));
  };
  if (!op.source_file_column.empty()) exprs.push_back(As(path(), op.source_file_column));
  if (!op.load_timestamp_column.empty()) {
    pb::Expression ts;
    ts.mutable_literal()->set_timestamp(op.load_time_ms * 1000);  // micros since the epoch
    exprs.push_back(As(std::move(ts), op.load_timestamp_column));
  }
  if (!op.batch_id_column.empty()) exprs.push_back(As(Str(op.batch_id), op.batch_id_column));
  if (hidden) {
    exprs.push_back(As(path(), kFileColumn));
    auto position = [](size_t i) { return Int(static_cast<int32_t>(i)); };
    exprs.push_back(As(ByFile(op, files, position, Int(0)), kFileOrderColumn));
    exprs.push_back(As(files.view.empty() ? RowOrder(op) : Attr(kSourceRowColumn),
                       kRowOrderColumn));
  }
  std::vector<std::string> added;
  for (size_t i = 1; i < exprs.size(); ++i) added.push_back(exprs[i].alias().name(0));
  pb::Relation scanned = Scanned(op, files, exprs);
  if (op.new_columns != AppendOperation::NewColumns::kKeep) {
    return KeepTableColumns(op, files, std::move(scanned), added);
  }
  if (files.view.empty()) return scanned;
  pb::Relation dropped;  // the source view's own columns
  *dropped.mutable_drop()->mutable_input() = std::move(scanned);
  for (const char* c : SourceViewColumns(files)) dropped.mutable_drop()->add_column_names(c);
  return dropped;
}

Status ReadSourceColumns(SparkSession& session, const AppendOperation& op, ReadFiles& files) {
  using NewColumns = AppendOperation::NewColumns;
  if (op.new_columns == NewColumns::kKeep) return Status::OK();
  ReadFiles source = files;
  if (files.view.empty()) DL_RETURN_IF_ERROR(OpenSource(session, op, false, source));
  std::vector<std::string> added;
  for (const char* c : SourceViewColumns(source)) added.push_back(SparkIdent(c));
  auto columns = ColumnsOf(session, fmt::format("SELECT * EXCEPT ({}) FROM {}",
                                                fmt::join(added, ", "), SparkIdent(kSourceView)));
  if (files.view.empty()) CloseSource(session);
  if (!columns.ok()) return ClassifyError(columns.status(), op);
  bool any_kept = !op.table_columns;
  for (const auto& c : *columns) {
    if (op.new_columns == NewColumns::kRescue && SameName(c.name, op.rescued_data_column)) {
      return Status::SchemaMismatch(
          "column '{}' of the source clashes with the column the loader adds "
          "(rescued_data_column); rename it there",
          c.name);
    }
    any_kept = any_kept || HasColumn(*op.table_columns, c.name);
  }
  if (!any_kept) {
    return Status::SchemaMismatch("the files have no columns to load into {}", op.display_name);
  }
  files.source_columns = std::move(*columns);
  return Status::OK();
}

Status PrepareSession(SparkSession& session, const AppendOperation& op) {
  DL_RETURN_IF_ERROR(
      session.SetConf("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"));
  // Every analysis of a read of more paths than this threshold runs a Spark job that lists
  // them (twice when types are inferred): with one task per path, a few seconds for 250 small
  // files, where a stat of a local file costs microseconds. Remote storage keeps the job
  // (its stats are round trips, worth spreading over the executors).
  constexpr const char* kListingThreshold =
      "spark.sql.sources.parallelPartitionDiscovery.threshold";
  const bool local = std::all_of(op.paths.begin(), op.paths.end(), [](const std::string& p) {
    return SparkUriOf(p).rfind("file:", 0) == 0;
  });
  if (!local) return session.UnsetConf(kListingThreshold);
  return session.SetConf(kListingThreshold, std::to_string(std::max<size_t>(32, op.paths.size())));
}

pb::Relation SqlRelation(const std::string& query) {
  pb::Relation r;
  r.mutable_sql()->set_query(query);
  return r;
}

Status CreateView(SparkSession& session, const std::string& name, pb::Relation input) {
  pb::Plan plan;
  auto* view = plan.mutable_command()->mutable_create_dataframe_view();
  *view->mutable_input() = std::move(input);
  view->set_name(name);
  view->set_is_global(false);
  view->set_replace(true);
  return session.Execute(plan).status();
}

Result<std::vector<Column>> ColumnsOf(SparkSession& session, const std::string& query) {
  DL_ASSIGN_OR_RETURN(auto described, session.Sql("DESCRIBE QUERY " + query));
  std::vector<Column> out;
  for (const auto& row : described.rows) {
    if (row.size() >= 2 && row[0] && row[1]) out.push_back({*row[0], *row[1]});
  }
  return out;
}

std::vector<std::string> DataColumns(const AppendOperation& op,
                                     const std::vector<Column>& columns) {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    const std::string& n = c.name;
    bool added = n == op.source_file_column || n == op.load_timestamp_column ||
                 n == op.batch_id_column || n == kFileColumn || n == kFileOrderColumn ||
                 n == kRowOrderColumn;
    if (!added) out.push_back(n);
  }
  return out;
}

Status CheckPresent(const std::vector<std::string>& columns, const std::string& column,
                    const std::string& key, const AppendOperation& op) {
  if (std::find(columns.begin(), columns.end(), column) != columns.end()) return Status::OK();
  return Status::SchemaMismatch("{} column '{}' of {} is not in the files", key, column,
                                op.display_name);
}

bool SameName(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool HasColumn(const std::vector<std::string>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return SameName(n, name); });
}

NullKeyTests NullKeysOf(const std::vector<std::string>& keys,
                        const std::optional<std::string>& sequence_column) {
  std::vector<std::pair<std::string, std::string>> required;
  for (const auto& k : keys) required.emplace_back(k, "primary_keys");
  if (sequence_column) required.emplace_back(*sequence_column, "sequence_column");
  std::vector<std::string> is_null, reasons;
  for (const auto& [column, key] : required) {
    is_null.push_back(SparkIdent(column) + " IS NULL");
    reasons.push_back(
        fmt::format("WHEN {} IS NULL THEN {}", SparkIdent(column),
                    SparkLiteral(fmt::format("NULL in {} column '{}'", key, column))));
  }
  return {fmt::format("({})", fmt::join(is_null, " OR ")),
          fmt::format("CASE {} END", fmt::join(reasons, " "))};
}

Status CheckNullKeys(SparkSession& session, const AppendOperation& op, const std::string& view,
                     const std::vector<std::string>& keys,
                     const std::optional<std::string>& sequence_column) {
  const NullKeyTests tests = NullKeysOf(keys, sequence_column);
  DL_ASSIGN_OR_RETURN(
      auto counts,
      session.Sql(fmt::format("SELECT {0}, {1}, count(1) FROM {2} WHERE {3} GROUP BY 1, 2 "
                              "ORDER BY 1, 2",
                              SparkIdent(kFileColumn), tests.reason, SparkIdent(view),
                              tests.any_null)));
  if (counts.rows.empty()) return Status::OK();
  return RefusedRows(counts, op.display_name, "fix the source");
}

Result<int64_t> CountRowsCheckingNullKeys(SparkSession& session, const AppendOperation& op,
                                          const std::string& view,
                                          const std::vector<std::string>& keys,
                                          const std::optional<std::string>& sequence_column) {
  std::vector<std::string> is_null;
  for (const auto& k : keys) is_null.push_back(SparkIdent(k) + " IS NULL");
  if (sequence_column) is_null.push_back(SparkIdent(*sequence_column) + " IS NULL");
  DL_ASSIGN_OR_RETURN(auto counted,
                      session.Sql(fmt::format("SELECT count(1), count_if({}) FROM {}",
                                              fmt::join(is_null, " OR "), SparkIdent(view))));
  if (counted.rows.size() != 1 || counted.rows[0].size() != 2) {
    return Status::Engine("Spark: unexpected row in a count");
  }
  if (counted.rows[0][1].value_or("0") != "0") {
    DL_RETURN_IF_ERROR(CheckNullKeys(session, op, view, keys, sequence_column));
    return Status::Internal("Spark counted NULL keys in {} that it then did not find",
                            op.display_name);
  }
  return std::stoll(counted.rows[0][0].value_or("0"));
}

Status AddNewColumns(SparkSession& session, const AppendOperation& op,
                     const std::vector<Column>& written) {
  std::vector<std::string> added;
  for (const auto& c : written) {
    if (HasColumn(*op.table_columns, c.name)) continue;
    if (!op.merge_schema) {
      return Status::SchemaMismatch("column {} ({}) is not in the table schema of {}", c.name,
                                    c.type, op.display_name);
    }
    added.push_back(SparkIdent(c.name) + " " + c.type);
  }
  if (added.empty()) return Status::OK();
  return session
      .Sql(fmt::format("ALTER TABLE delta.{} ADD COLUMNS ({})", SparkIdent(op.table_root),
                       fmt::join(added, ", ")))
      .status();
}

Result<QueryRows> SqlWithTxn(SparkSession& session, const AppendOperation& op,
                             const std::string& sql) {
  Status st = session.SetConf(kTxnAppIdConf, op.txn_app_id);
  if (st.ok()) st = session.SetConf(kTxnVersionConf, std::to_string(op.txn_version));
  if (st.ok()) st = session.SetConf(kUserMetadataConf, op.user_metadata);
  Result<QueryRows> done = st.ok() ? session.Sql(sql) : Result<QueryRows>(st);
  for (const char* conf : {kTxnAppIdConf, kTxnVersionConf, kUserMetadataConf}) {
    Status unset = session.UnsetConf(conf);
    if (done.ok() && !unset.ok()) return unset;
  }
  return done;
}

Result<ReadFiles> CountRowsByFile(SparkSession& session, const std::string& query) {
  DL_ASSIGN_OR_RETURN(auto counted, session.Sql(fmt::format("SELECT {0}, count(1) FROM ({1}) "
                                                            "GROUP BY {0}",
                                                            SparkIdent(kFileColumn), query)));
  ReadFiles out;
  for (const auto& row : counted.rows) {
    if (row.size() != 2 || !row[1]) return Status::Engine("Spark: unexpected row in a count");
    const int64_t rows = std::stoll(*row[1]);
    out.rows_per_file[row[0].value_or("")] += rows;
    out.rows += rows;
  }
  return out;
}

Status FragmentError(const Status& st, const char* key, const AppendOperation& op) {
  if (st.code() != StatusCode::kEngine) return st;
  return Status::Config("{} of {} does not fit the data: {}", key, op.display_name, st.message());
}

// Spark names a file it failed on in its own spelling: the error is the plan's file's.
Status ClassifyError(Status st, const AppendOperation& op) {
  // Delta's optimistic concurrency: another writer committed first (both took the same txn
  // version, or created the table at once). Worth a retry, like our own lost races.
  if (IsLostCommitRace(st)) {
    return Status::CommitConflict("{}", st.message()).WithDetail(st.detail());
  }
  ErrorDetail detail = st.detail();
  if (!detail.files.empty()) return st;  // ours, already naming its files
  std::string named;
  for (const auto& p : op.paths) {
    if (st.message().find(p) == std::string::npos) continue;
    detail.files.push_back(p);
    named += (named.empty() ? "" : ", ") + p;
  }
  if (detail.files.empty()) return st;
  detail.cause = ErrorDetail::Cause::kData;
  return Status(st.code(), fmt::format("reading {}: {}", named, st.message())).WithDetail(detail);
}

}  // namespace dl::engine::spark
