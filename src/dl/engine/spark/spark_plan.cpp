#include "dl/engine/spark/spark_plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "dl/common/logging.hpp"
#include "dl/delta/schema.hpp"
#include "dl/delta/type_widening.hpp"
#include "dl/engine/engine.hpp"
#include "dl/engine/spark/spark_fragment.hpp"

namespace dl::engine::spark {
namespace {

constexpr const char* kTxnAppIdConf = "spark.databricks.delta.write.txnAppId";
constexpr const char* kTxnVersionConf = "spark.databricks.delta.write.txnVersion";
constexpr const char* kUserMetadataConf = "spark.databricks.delta.commitInfo.userMetadata";

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

namespace {

// A recursive reader of Spark's catalog type strings (SparkTypeText's, or DESCRIBE's).
class SparkTypeReader {
 public:
  explicit SparkTypeReader(std::string_view text) : text_(text) {}

  delta::DataTypePtr ReadAll() {
    auto t = Read();
    return t && pos_ == text_.size() ? t : nullptr;
  }

 private:
  bool Eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }
  std::string Word() {
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    std::string w(text_.substr(start, pos_ - start));
    for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return w;
  }
  std::optional<int> Number() {
    size_t start = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (start == pos_ || pos_ - start > 6) return std::nullopt;
    return std::stoi(std::string(text_.substr(start, pos_ - start)));
  }
  // A struct field's name: backquoted (`` doubled inside) or up to the ':'.
  std::optional<std::string> FieldName() {
    std::string name;
    if (Eat('`')) {
      while (pos_ < text_.size()) {
        char c = text_[pos_++];
        if (c != '`') {
          name += c;
        } else if (Eat('`')) {
          name += '`';
        } else {
          return name;
        }
      }
      return std::nullopt;
    }
    size_t end = text_.find(':', pos_);
    if (end == std::string_view::npos || end == pos_) return std::nullopt;
    name = std::string(text_.substr(pos_, end - pos_));
    pos_ = end;
    return name;
  }
  delta::DataTypePtr Read() {
    static const std::map<std::string, std::string> kPrimitive = {
        {"tinyint", "byte"},
        {"smallint", "short"},
        {"int", "integer"},
        {"integer", "integer"},
        {"bigint", "long"},
        {"float", "float"},
        {"double", "double"},
        {"string", "string"},
        {"boolean", "boolean"},
        {"binary", "binary"},
        {"date", "date"},
        {"timestamp", "timestamp"},
        {"timestamp_ntz", "timestamp_ntz"},
        {"variant", "variant"}};
    const std::string word = Word();
    if (word == "decimal") {
      if (!Eat('(')) return delta::DataType::Decimal(10, 0);
      auto p = Number();
      if (!p || !Eat(',')) return nullptr;
      auto sc = Number();
      if (!sc || !Eat(')')) return nullptr;
      return delta::DataType::Decimal(*p, *sc);
    }
    if ((word == "char" || word == "varchar") && Eat('(')) {  // Delta stores them as strings
      return Number() && Eat(')') ? delta::DataType::Primitive("string") : nullptr;
    }
    if (word == "array") {
      if (!Eat('<')) return nullptr;
      auto element = Read();
      return element && Eat('>') ? delta::DataType::Array(element) : nullptr;
    }
    if (word == "map") {
      if (!Eat('<')) return nullptr;
      auto key = Read();
      if (!key || !Eat(',')) return nullptr;
      auto value = Read();
      return value && Eat('>') ? delta::DataType::Map(key, value) : nullptr;
    }
    if (word == "struct") {
      if (!Eat('<')) return nullptr;
      std::vector<delta::StructField> fields;
      while (!Eat('>')) {
        if (!fields.empty() && !Eat(',')) return nullptr;
        auto name = FieldName();
        if (!name || !Eat(':')) return nullptr;
        auto type = Read();
        if (!type) return nullptr;
        fields.push_back({*name, type});
      }
      return delta::DataType::Struct(std::move(fields));
    }
    auto it = kPrimitive.find(word);
    return it == kPrimitive.end() ? nullptr : delta::DataType::Primitive(it->second);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

delta::DataTypePtr DeltaTypeOfSpark(std::string_view spark_type) {
  return SparkTypeReader(spark_type).ReadAll();
}

namespace {

bool HasMap(const delta::DataType& t) {
  using Kind = delta::DataType::Kind;
  if (t.kind == Kind::kMap) return true;
  if (t.kind == Kind::kArray) return HasMap(*t.element);
  if (t.kind != Kind::kStruct) return false;
  for (const auto& f : t.fields) {
    if (HasMap(*f.type)) return true;
  }
  return false;
}

std::string Comparable(const std::string& expr, const delta::DataType& t, int depth) {
  using Kind = delta::DataType::Kind;
  if (!HasMap(t)) return expr;
  const std::string var = fmt::format("`__dl_e{}`", depth);
  if (t.kind == Kind::kMap) {
    if (!HasMap(*t.key) && !HasMap(*t.value)) return fmt::format("map_entries({})", expr);
    return fmt::format("transform(map_entries({0}), {1} -> named_struct('key', {2}, 'value', {3}))",
                       expr, var, Comparable(var + ".`key`", *t.key, depth + 1),
                       Comparable(var + ".`value`", *t.value, depth + 1));
  }
  if (t.kind == Kind::kArray) {
    return fmt::format("transform({0}, {1} -> {2})", expr, var,
                       Comparable(var, *t.element, depth + 1));
  }
  std::vector<std::string> fields;
  for (const auto& f : t.fields) {
    fields.push_back(fmt::format("{}, {}", SparkLiteral(f.name),
                                 Comparable(expr + "." + SparkIdent(f.name), *f.type, depth)));
  }
  return fmt::format("CASE WHEN {0} IS NULL THEN NULL ELSE named_struct({1}) END", expr,
                     fmt::join(fields, ", "));
}

}  // namespace

std::string SparkComparable(const std::string& expr, const delta::DataType& type) {
  return Comparable(expr, type, 0);
}

std::string SparkSqlType(const std::string& described) {
  auto type = DeltaTypeOfSpark(described);
  return type ? SparkType(*type) : described;
}

Status PinStringLiterals(SparkSession& session) {
  return session.SetConf("spark.sql.parser.escapedStringLiterals", "false");
}

Status PrepareSession(SparkSession& session, const AppendOperation& op) {
  if (CsvWithoutMultiLine(op)) {
    log::Warn(
        "csv files whose names hold glob characters ([ ] { } * ? \\) are read without "
        "multiLine on Spark: a line break inside a quoted value splits its row there (set "
        "csv_options.columns to read them fully, or rename the files)",
        {{"table", op.display_name}});
  }
  DL_RETURN_IF_ERROR(PinStringLiterals(session));
  DL_RETURN_IF_ERROR(
      session.SetConf("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"));
  // Apache Spark's Delta writes with the session's codec whatever the table's property says
  // (Databricks honours the property); without one the server's default stays.
  constexpr const char* kCodec = "spark.sql.parquet.compression.codec";
  DL_RETURN_IF_ERROR(op.compression.empty() ? session.UnsetConf(kCodec)
                                            : session.SetConf(kCodec, op.compression));
  // The compiled config fragments (spark_fragment.cpp) mean what they mean on DuckDB only
  // with these, as on DuckDB: a bad cast or an overflow fails rather than giving NULL, and
  // zoned timestamps are read, cut and printed in UTC.
  DL_RETURN_IF_ERROR(session.SetConf("spark.sql.ansi.enabled", "true"));
  DL_RETURN_IF_ERROR(session.SetConf("spark.sql.session.timeZone", "UTC"));
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

namespace {

std::string ReadView(const std::string& name) { return name + "_read"; }

}  // namespace

Inferred InferredTypes(const AppendOperation& op) {
  if (!op.columns.empty() || op.table_files) return Inferred::kNone;
  if (op.format == "csv") return Inferred::kCsv;
  return op.format == "json" ? Inferred::kJson : Inferred::kNone;
}

std::string AlignedType(const Column& c, const std::vector<delta::StructField>& table,
                        Inferred inferred) {
  auto field = std::find_if(table.begin(), table.end(), [&](const delta::StructField& f) {
    return delta::SameColumnName(f.name, c.name);
  });
  if (field != table.end()) {
    const delta::DataType& to = *field->type;
    // A table made when Spark read csv timestamps zoned: the naive ones go in as they did
    // then (and as DuckDB casts them), read in the session's UTC.
    if (inferred == Inferred::kCsv && c.type == "timestamp_ntz" && to.is_primitive("timestamp")) {
      return "TIMESTAMP";
    }
    // Json date and time text, a date or timestamp column where DuckDB made the table.
    if (inferred == Inferred::kJson && c.type == "string" &&
        (to.is_primitive("date") || to.is_primitive("timestamp_ntz") ||
         to.is_primitive("timestamp"))) {
      return SparkType(to);
    }
    auto from = DeltaTypeOfSpark(c.type);
    return from && delta::IsTypeWidening(*from, to) ? SparkType(to) : "";
  }
  return inferred == Inferred::kCsv && c.type == "int" ? "BIGINT" : "";
}

namespace {

// Whether CreateTypedView reads through a second view: the types may need casting.
bool ReadsThroughAView(const AppendOperation& op) {
  return InferredTypes(op) == Inferred::kCsv || op.table_columns;
}

}  // namespace

Status CreateTypedView(SparkSession& session, const AppendOperation& op, const std::string& name,
                       pb::Relation input) {
  const Inferred inferred = InferredTypes(op);
  const bool inferred_csv = inferred == Inferred::kCsv;
  if (!ReadsThroughAView(op)) return CreateView(session, name, std::move(input));
  // A view over the view: the types are read from its analysed plan, where a view made again
  // over `input` would infer them again (a job over every csv file). DuckDB infers a csv
  // timestamp without an offset as TIMESTAMP (Delta timestamp_ntz), one with an offset as
  // TIMESTAMPTZ; Spark splits them so only under timestampType TIMESTAMP_NTZ (else all are
  // zoned). Set for the inference alone: our SQL spells zoned types `timestamp`, which that
  // setting would make naive.
  constexpr const char* kTimestampType = "spark.sql.timestampType";
  if (inferred_csv) DL_RETURN_IF_ERROR(session.SetConf(kTimestampType, "TIMESTAMP_NTZ"));
  Status made = CreateView(session, ReadView(name), std::move(input));
  if (inferred_csv) {
    Status unset = session.UnsetConf(kTimestampType);
    if (made.ok()) made = unset;
  }
  DL_RETURN_IF_ERROR(made);
  DL_ASSIGN_OR_RETURN(auto columns,
                      ColumnsOf(session, "SELECT * FROM " + SparkIdent(ReadView(name))));
  const std::vector<std::string> data = DataColumns(op, columns);
  const std::vector<delta::StructField> none;
  std::vector<std::string> items;
  for (const auto& c : columns) {
    std::string type;
    if (std::find(data.begin(), data.end(), c.name) != data.end()) {
      type = AlignedType(c, op.table_columns ? *op.table_columns : none, inferred);
    }
    const std::string id = SparkIdent(c.name);
    items.push_back(type.empty() ? id : fmt::format("CAST({0} AS {1}) AS {0}", id, type));
  }
  return CreateView(session, name,
                    SqlRelation(fmt::format("SELECT {} FROM {}", fmt::join(items, ", "),
                                            SparkIdent(ReadView(name)))));
}

void DropView(SparkSession& session, const std::string& name, const AppendOperation& op) {
  (void)session.Sql("DROP VIEW IF EXISTS " + SparkIdent(name));
  if (ReadsThroughAView(op)) (void)session.Sql("DROP VIEW IF EXISTS " + SparkIdent(ReadView(name)));
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

namespace {

// Delta's MERGE repartitions its output by the partition columns named unquoted
// (MergeIntoCommandBase.writeFiles), so a partition column whose name holds a dot or a
// backquote fails to resolve ([UNRESOLVED_COLUMN] ... RepartitionByExpression) from a
// table's second batch on. Without that repartition the MERGE writes the same rows (each
// task may write a file per partition it holds).
constexpr const char* kMergeRepartitionConf =
    "spark.databricks.delta.merge.repartitionBeforeWrite.enabled";

bool NeedsQuoting(const std::vector<std::string>& columns) {
  return std::any_of(columns.begin(), columns.end(), [](const std::string& c) {
    return c.find_first_of(".`") != std::string::npos;
  });
}

}  // namespace

Result<QueryRows> SqlWithTxn(SparkSession& session, const AppendOperation& op,
                             const std::string& sql) {
  // The session's own value of the repartition setting is read first and put back after.
  std::optional<std::optional<std::string>> repartition;
  if (NeedsQuoting(op.partition_columns)) {
    DL_ASSIGN_OR_RETURN(repartition, session.GetConf(kMergeRepartitionConf));
  }
  Status st = repartition ? session.SetConf(kMergeRepartitionConf, "false") : Status::OK();
  if (st.ok()) st = session.SetConf(kTxnAppIdConf, op.txn_app_id);
  if (st.ok()) st = session.SetConf(kTxnVersionConf, std::to_string(op.txn_version));
  if (st.ok()) st = session.SetConf(kUserMetadataConf, op.user_metadata);
  Result<QueryRows> done = st.ok() ? session.Sql(sql) : Result<QueryRows>(st);
  for (const char* conf : {kTxnAppIdConf, kTxnVersionConf, kUserMetadataConf}) {
    Status unset = session.UnsetConf(conf);
    if (done.ok() && !unset.ok()) return unset;
  }
  if (repartition) {
    Status back = *repartition ? session.SetConf(kMergeRepartitionConf, **repartition)
                               : session.UnsetConf(kMergeRepartitionConf);
    if (done.ok() && !back.ok()) return back;
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

Status InSparkDialect(std::optional<std::string>& fragment, const char* key,
                      const AppendOperation& op) {
  if (!fragment) return Status::OK();
  auto spark = SparkFragment(*fragment);
  if (!spark.ok()) {
    return Status::Config("{} of {}: {} is not supported on the spark engine", key, op.display_name,
                          spark.status().message());
  }
  *fragment = std::move(*spark);
  return Status::OK();
}

namespace {

// Parquet types Spark cannot read, as pandas and pyarrow write them by default: what to do.
Status WithParquetTypeHint(Status st, const AppendOperation& op) {
  if (op.format != "parquet") return st;
  const std::string& m = st.message();
  std::string_view hint;
  if (m.find("TIMESTAMP(NANOS") != std::string::npos) {
    hint =
        " (an INT64 TIMESTAMP(NANOS) column, as pandas and pyarrow write datetime64[ns]: Spark "
        "reads no nanosecond timestamps; write the file with coerce_timestamps='us' (pandas "
        "to_parquet and pyarrow write_table take it, with allow_truncated_timestamps=True), or "
        "load this table with engine: duckdb, which keeps the microseconds)";
  } else if (st.detail().error_class == "UNSUPPORTED_TIME_TYPE" ||
             m.find("(TIME(") != std::string::npos) {
    hint =
        " (a TIME column, as pyarrow writes time64: Spark reads none; write it as a string, or "
        "load this table with engine: duckdb, which loads it as a string)";
  }
  if (hint.empty() || m.find(hint) != std::string::npos) return st;
  return Status(st.code(), m + std::string(hint)).WithDetail(st.detail());
}

// Delta's "Failed to merge fields 'd' and 'd'" says neither the types nor what to do: csv and
// json values are read as inferred (json numbers as doubles), which a decimal or narrower
// column of the table does not take.
Status WithMergeFieldsHint(Status st, const AppendOperation& op) {
  constexpr std::string_view kHint =
      " (the column's type in the files differs from the table's and does not widen to it: "
      "csv and json values are read as inferred, json numbers as doubles; give the table's "
      "types in csv_options.columns or json_options.columns)";
  const std::string& m = st.message();
  if (st.detail().error_class != "DELTA_FAILED_TO_MERGE_FIELDS" ||
      (op.format != "csv" && op.format != "json") || !op.columns.empty() ||
      m.find(kHint) != std::string::npos) {
    return st;
  }
  return Status(st.code(), m + std::string(kHint)).WithDetail(st.detail());
}

}  // namespace

// Spark names a file it failed on in its own spelling: the error is the plan's file's.
Status ClassifyError(Status st, const AppendOperation& op) {
  // Delta's optimistic concurrency: another writer committed first (both took the same txn
  // version, or created the table at once). Worth a retry, like our own lost races.
  if (IsLostCommitRace(st)) {
    return Status::CommitConflict("{}", st.message()).WithDetail(st.detail());
  }
  // The server's setup (no Hadoop connector for the paths' store, its S3 access refused),
  // whichever files it names.
  if (st.code() == StatusCode::kConfig || st.code() == StatusCode::kInvalidArgument) return st;
  ErrorDetail detail = st.detail();
  // Json keys that differ only in case ({"Name":..} and {"name":..}): Spark's inference,
  // which ignores case, cannot make them two columns (DuckDB loads the second as name_1).
  constexpr std::string_view kCaseHint =
      " (json keys that differ only in case: Spark cannot infer them as two columns; name the "
      "columns with json_options.columns, whose keys match exactly, make the files spell each "
      "key one way, or load this table with engine: duckdb, which loads the second as <name>_1)";
  if (detail.error_class == "COLUMN_ALREADY_EXISTS" && op.format == "json" && op.columns.empty() &&
      st.message().find(kCaseHint) == std::string::npos) {
    st = Status(st.code(), st.message() + std::string(kCaseHint)).WithDetail(detail);
  }
  st = WithMergeFieldsHint(WithParquetTypeHint(std::move(st), op), op);
  detail = st.detail();
  // Ours, already naming its files; or the cluster's (a lost checkpoint), not the files'.
  if (!detail.files.empty() || detail.cause == ErrorDetail::Cause::kTransient) return st;
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
