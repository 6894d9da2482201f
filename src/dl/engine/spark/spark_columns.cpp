// The batch view's columns: the audit and hidden columns, the rescued-data column, the files'
// columns and their checks against the table's.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "dl/delta/schema.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_source.hpp"

namespace dl::engine::spark {
namespace {

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

}  // namespace

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
  auto columns = ColumnsOf(session, "SELECT * FROM " + SparkIdent(kSourceView));
  if (files.view.empty()) CloseSource(session, op);
  if (!columns.ok()) return ClassifyError(columns.status(), op);
  const std::vector<const char*> added = SourceViewColumns(source);
  std::erase_if(*columns, [&](const Column& c) {
    return std::any_of(added.begin(), added.end(), [&](const char* a) { return c.name == a; });
  });
  bool any_kept = !op.table_columns;
  for (const auto& c : *columns) {
    if (op.new_columns == NewColumns::kRescue && delta::SameColumnName(c.name, op.rescued_data_column)) {
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

std::string SparkTypeText(const pb::DataType& t) {
  using K = pb::DataType;
  switch (t.kind_case()) {
    case K::kNull:
      return "void";
    case K::kBinary:
      return "binary";
    case K::kBoolean:
      return "boolean";
    case K::kByte:
      return "tinyint";
    case K::kShort:
      return "smallint";
    case K::kInteger:
      return "int";
    case K::kLong:
      return "bigint";
    case K::kFloat:
      return "float";
    case K::kDouble:
      return "double";
    case K::kDecimal:
      return fmt::format("decimal({},{})",
                         t.decimal().has_precision() ? t.decimal().precision() : 10,
                         t.decimal().has_scale() ? t.decimal().scale() : 0);
    case K::kString: {
      const std::string& collation = t.string().collation();
      if (collation.empty() || collation == "UTF8_BINARY") return "string";
      return "string collate " + collation;
    }
    case K::kChar:
      return fmt::format("char({})", t.char_().length());
    case K::kVarChar:
      return fmt::format("varchar({})", t.var_char().length());
    case K::kDate:
      return "date";
    case K::kTimestamp:
      return "timestamp";
    case K::kTimestampNtz:
      return "timestamp_ntz";
    case K::kTime:
      return fmt::format("time({})", t.time().has_precision() ? t.time().precision() : 6);
    case K::kCalendarInterval:
      return "interval";
    case K::kYearMonthInterval:
      return "interval year to month";
    case K::kDayTimeInterval:
      return "interval day to second";
    case K::kVariant:
      return "variant";
    case K::kArray:
      return fmt::format("array<{}>", SparkTypeText(t.array().element_type()));
    case K::kMap:
      return fmt::format("map<{},{}>", SparkTypeText(t.map().key_type()),
                         SparkTypeText(t.map().value_type()));
    case K::kStruct: {
      std::vector<std::string> fields;
      for (const auto& f : t.struct_().fields()) {
        fields.push_back(SparkIdent(f.name()) + ":" + SparkTypeText(f.data_type()));
      }
      return fmt::format("struct<{}>", fmt::join(fields, ","));
    }
    case K::kUdt:  // stored as its SQL type
      return t.udt().has_sql_type() ? SparkTypeText(t.udt().sql_type()) : t.udt().type();
    case K::kUnparsed:
      return t.unparsed().data_type_string();
    case K::kGeometry:
      return "geometry";  // no Delta type: DeltaTypeOfSpark reads none
    case K::kGeography:
      return "geography";
    case K::KIND_NOT_SET:
      break;
  }
}

Result<std::vector<Column>> ColumnsOf(SparkSession& session, const std::string& query) {
  DL_ASSIGN_OR_RETURN(pb::DataType schema, session.Schema(SqlRelation(query)));
  std::vector<Column> out;
  for (const auto& f : schema.struct_().fields()) {
    out.push_back({f.name(), SparkTypeText(f.data_type())});
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

bool HasColumn(const std::vector<std::string>& names, const std::string& name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return delta::SameColumnName(n, name); });
}

bool HasColumn(const std::vector<delta::StructField>& columns, const std::string& name) {
  return std::any_of(columns.begin(), columns.end(), [&](const delta::StructField& f) {
    return delta::SameColumnName(f.name, name);
  });
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
    added.push_back(SparkIdent(c.name) + " " + SparkSqlType(c.type));
  }
  if (added.empty()) return Status::OK();
  return session
      .Sql(fmt::format("ALTER TABLE delta.{} ADD COLUMNS ({})", SparkIdent(op.table_root),
                       fmt::join(added, ", ")))
      .status();
}

Status AlignTableTypes(SparkSession& session, const AppendOperation& op,
                       const std::vector<Column>& written) {
  delta::Schema table{*op.table_columns}, incoming;
  for (const auto& c : written) {
    auto field = std::find_if(
        table.fields.begin(), table.fields.end(),
        [&](const delta::StructField& f) { return delta::SameColumnName(f.name, c.name); });
    auto type = DeltaTypeOfSpark(c.type);
    // A column of NULLs (void) fits any type; new columns are AddNewColumns' part.
    if (field == table.fields.end() || !type) continue;
    incoming.fields.push_back({field->name, type});
  }
  delta::SchemaMergeOptions opts;
  opts.allow_type_widening = op.widen_types;
  // DuckDB's check and message, word for word.
  DL_ASSIGN_OR_RETURN(auto merged, delta::MergeSchema(table, incoming, opts));
  for (size_t i = 0; i < table.fields.size(); ++i) {
    const delta::StructField& was = table.fields[i];
    const delta::StructField& now = merged.fields[i];
    if (*was.type == *now.type) continue;
    const auto kind = now.type->kind;
    if (kind != delta::DataType::Kind::kPrimitive && kind != delta::DataType::Kind::kDecimal) {
      return Status::Unsupported(
          "column {} of {} would widen from {} to {} inside a nested type, which the spark "
          "engine does not do; widen it by hand or load with engine: duckdb",
          was.name, op.display_name, was.type->ToString(), now.type->ToString());
    }
    DL_RETURN_IF_ERROR(
        session
            .Sql(fmt::format("ALTER TABLE delta.{} ALTER COLUMN {} TYPE {}",
                             SparkIdent(op.table_root), SparkIdent(was.name), SparkType(*now.type)))
            .status());
  }
  return Status::OK();
}

}  // namespace dl::engine::spark
