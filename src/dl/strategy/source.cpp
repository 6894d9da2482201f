#include "dl/strategy/source.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/engine/duckdb/batch_sql.hpp"

namespace dl::strategy {
namespace {

using config::FileFormat;
using config::SchemaEvolutionMode;
using engine::QuoteIdent;
using engine::QuoteLiteral;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// {'a': 'INTEGER', 'b': 'VARCHAR'}: the struct literal DuckDB's readers take as `columns`.
std::string ColumnsLiteral(const std::vector<config::ColumnSpec>& columns,
                           const std::map<std::string, std::string>& read_as_json = {}) {
  std::vector<std::string> parts;
  for (const auto& c : columns) {
    const std::string& type = read_as_json.count(c.name) ? "JSON" : c.type;
    parts.push_back(fmt::format("{}: {}", QuoteLiteral(c.name), QuoteLiteral(type)));
  }
  return fmt::format("{{{}}}", fmt::join(parts, ", "));
}

// The explicit json columns that are or hold a decimal (DECIMAL, NUMERIC, with or without
// (p,s), also as a struct field, list element or map value): the engine reads them exactly.
// A field merely named "decimal" costs only that its column is read as JSON first.
std::map<std::string, std::string> JsonDecimalColumns(const std::vector<config::ColumnSpec>& cols) {
  static const std::regex kDecimal(R"(\b(decimal|numeric)\b)", std::regex::icase);
  std::map<std::string, std::string> out;
  for (const auto& c : cols) {
    if (std::regex_search(c.type, kDecimal)) out[c.name] = c.type;
  }
  return out;
}

// Source columns, by exact name, keyed by their lower-case spelling (Delta column names are
// case-insensitive).
Result<std::vector<std::string>> SourceColumns(engine::Engine& engine, const std::string& view) {
  DL_ASSIGN_OR_RETURN(auto columns,
                      engine.DescribeColumns(fmt::format("SELECT * FROM {}", QuoteIdent(view))));
  std::vector<std::string> out;
  for (auto& c : columns) {
    if (c.name != kSourceFileColumn && c.name != kSourceRowColumn) out.push_back(std::move(c.name));
  }
  return out;
}

// Readers rename the second of two columns that differ only in case (`id`, `ID`) to `ID_1`
// (Delta column names ignore case): warn, naming both and the files that hold it, since
// its values would otherwise land in a column nobody asked for without a word.
void WarnCaseDuplicates(engine::Engine& engine, const std::string& view,
                        const config::TableConfig& table, const std::vector<std::string>& columns) {
  for (const auto& renamed : columns) {
    size_t us = renamed.rfind('_');
    if (us == std::string::npos || us == 0 || us + 1 == renamed.size() ||
        !std::all_of(renamed.begin() + us + 1, renamed.end(),
                     [](unsigned char c) { return std::isdigit(c); })) {
      continue;
    }
    const std::string base = renamed.substr(0, us);
    auto first = std::find_if(columns.begin(), columns.end(), [&](const std::string& c) {
      return c != base && Lower(c) == Lower(base);
    });
    if (first == columns.end()) continue;
    auto files = engine.Query(
        fmt::format("SELECT DISTINCT {0} FROM {1} WHERE {2} IS NOT NULL "
                    "ORDER BY {0} LIMIT 3",
                    QuoteIdent(kSourceFileColumn), QuoteIdent(view), QuoteIdent(renamed)));
    std::vector<std::string> named;
    if (files.ok()) {
      for (const auto& row : files->rows) named.push_back(row.at(0).value_or(""));
    }
    log::Warn(fmt::format("columns '{}' and '{}' differ only in case; Delta column names ignore "
                          "case, so '{}' is loaded as '{}'",
                          *first, base, base, renamed),
              {{"table", table.table_name}, {"files", named}});
  }
}

// union_by_name fills a column a file lacks with NULL; for a partition column that would file
// the rows under the null partition. Only files with NULLs there can lack it, so only those
// are inspected; one that lacks it fails, named.
Status CheckPartitionColumns(engine::Engine& engine, const std::string& view,
                             const config::TableConfig& table,
                             const std::vector<std::string>& columns,
                             engine::SourceOptions options) {
  // A probe reads one file's columns: no rows, no row numbers.
  options.materialize = false;
  options.row_order_column.clear();
  for (const auto& col : table.partition_columns) {
    bool present = std::any_of(columns.begin(), columns.end(),
                               [&](const std::string& c) { return Lower(c) == Lower(col); });
    if (!present) {
      return Status::SchemaMismatch("partition column '{}' is missing from the files", col);
    }
    DL_ASSIGN_OR_RETURN(auto rows,
                        engine.Query(fmt::format("SELECT DISTINCT {} FROM {} WHERE {} IS NULL",
                                                 QuoteIdent(kSourceFileColumn), QuoteIdent(view),
                                                 QuoteIdent(col))));
    for (const auto& row : rows.rows) {
      std::string file = row.at(0).value_or("");
      const std::string probe = view + "_probe";
      DL_RETURN_IF_ERROR(engine.RegisterFiles(probe, {file}, options));
      DL_ASSIGN_OR_RETURN(auto own, SourceColumns(engine, probe));
      engine.DropSource(probe);
      bool has = std::any_of(own.begin(), own.end(),
                             [&](const std::string& c) { return Lower(c) == Lower(col); });
      if (!has) {
        return Status::SchemaMismatch("{} has no partition column '{}'", file, col)
            .WithDetail({ErrorDetail::Cause::kData, {file}, {}});
      }
    }
  }
  return Status::OK();
}

Result<SourceProjection> Project(const std::string& view, const config::TableConfig& table,
                                 const std::vector<std::string>& columns,
                                 const std::vector<std::string>& files,
                                 const delta::Schema* target_schema, const std::string& batch_id,
                                 int64_t load_time_ms, bool with_order) {
  const auto& audit = table.audit_columns;
  std::map<std::string, std::string> reserved;  // lower-case name -> config key
  if (audit.enabled) {
    reserved[Lower(audit.load_timestamp)] = "audit_columns.load_timestamp";
    reserved[Lower(audit.source_file)] = "audit_columns.source_file";
    reserved[Lower(audit.batch_id)] = "audit_columns.batch_id";
  }
  const bool rescue = table.schema_evolution_mode == SchemaEvolutionMode::kRescue;
  if (rescue) reserved[Lower(table.rescued_data_column)] = "rescued_data_column";

  // The table's spelling of each column, so "Amount" in a file lands in "amount".
  std::map<std::string, std::string> target_names;
  if (target_schema) {
    for (const auto& f : target_schema->fields) target_names[Lower(f.name)] = f.name;
  }

  SourceProjection out;
  std::vector<std::string> select;
  std::vector<std::string> rescued;
  for (const auto& c : columns) {
    std::string lower = Lower(c);
    if (auto r = reserved.find(lower); r != reserved.end()) {
      // A source that is itself a loader table (bronze -> silver) has the audit columns.
      return Status::SchemaMismatch(
          "column '{}' of the source clashes with the column the loader adds ({}): give the "
          "loader's column another name with {}{}",
          c, r->second, r->second,
          r->second == "rescued_data_column" ? "" : ", or turn them off (audit_columns: false)");
    }
    auto t = target_names.find(lower);
    bool is_new = target_schema != nullptr && t == target_names.end();
    if (is_new && (rescue || table.schema_evolution_mode == SchemaEvolutionMode::kNone)) {
      out.dropped_columns.push_back(c);
      if (rescue) rescued.push_back(c);
      continue;
    }
    const std::string& name = t != target_names.end() ? t->second : c;
    select.push_back(name == c ? QuoteIdent(c)
                               : fmt::format("{} AS {}", QuoteIdent(c), QuoteIdent(name)));
    out.data_columns.push_back(name);
  }
  if (select.empty()) {
    return Status::SchemaMismatch("the files have no columns to load into {}",
                                  table.QualifiedName());
  }
  if (rescue) {
    // Values of columns the table lacks, kept as a JSON object instead of being lost.
    select.push_back(fmt::format("{} AS {}", engine::duck::RescuedDataSql(rescued),
                                 QuoteIdent(table.rescued_data_column)));
    out.rescued = true;
  }
  if (audit.enabled) {
    select.push_back(fmt::format("{} AS {}",
                                 engine::duck::TimestampConstant(FormatTimestampMs(load_time_ms)),
                                 QuoteIdent(audit.load_timestamp)));
    select.push_back(
        fmt::format("{} AS {}", QuoteIdent(kSourceFileColumn), QuoteIdent(audit.source_file)));
    select.push_back(fmt::format("{} AS {}", QuoteLiteral(batch_id), QuoteIdent(audit.batch_id)));
  }
  if (with_order) {
    select.push_back(fmt::format("{} AS {}",
                                 engine::duck::FilePositionSql(files, kSourceFileColumn),
                                 QuoteIdent(kFileOrderColumn)));
    select.push_back(
        fmt::format("{} AS {}", QuoteIdent(kSourceRowColumn), QuoteIdent(kRowOrderColumn)));
  }
  out.sql = fmt::format("SELECT {} FROM {}", fmt::join(select, ", "), QuoteIdent(view));
  return out;
}

Result<SourceProjection> ProjectDeltaSource(engine::Engine& engine, const std::string& view,
                                            const config::TableConfig& table,
                                            const DeltaSource& source,
                                            const delta::Schema* target_schema,
                                            const std::string& batch_id, int64_t load_time_ms,
                                            bool with_order) {
  DL_RETURN_IF_ERROR(engine.RegisterSnapshotSource(view, *source.snapshot, source.adds,
                                                    kSourceFileColumn,
                                                    with_order ? kSourceRowColumn : ""));
  DL_ASSIGN_OR_RETURN(auto columns, SourceColumns(engine, view));
  std::vector<std::string> files;
  for (const auto& a : source.adds) files.push_back(DeltaSourceFilePath(*source.snapshot, a));
  return Project(view, table, columns, files, target_schema, batch_id, load_time_ms, with_order);
}

}  // namespace

Result<engine::SourceOptions> SourceOptionsFor(const config::TableConfig& table) {
  engine::SourceOptions out;
  auto& o = out.options;
  switch (table.file_format) {
    case FileFormat::kParquet:
      out.format = "parquet";
      break;
    case FileFormat::kCsv: {
      out.format = "csv";
      const auto& csv = table.csv;
      o["header"] = csv.header ? "true" : "false";
      if (csv.delimiter) o["delim"] = *csv.delimiter;
      if (csv.quote) o["quote"] = *csv.quote;
      if (csv.escape) o["escape"] = *csv.escape;
      if (csv.null_value) o["nullstr"] = *csv.null_value;
      if (csv.encoding != "utf-8") o["encoding"] = csv.encoding;
      if (!csv.columns.empty()) o["columns"] = ColumnsLiteral(csv.columns);
      break;
    }
    case FileFormat::kJson: {
      out.format = "json";
      switch (table.json.format) {
        case config::JsonFormat::kLines:
          o["format"] = "newline_delimited";
          break;
        case config::JsonFormat::kArray:
          o["format"] = "array";
          break;
        case config::JsonFormat::kAuto:
          o["format"] = "auto";
          break;
      }
      if (!table.json.columns.empty()) {
        out.json_decimal_columns = JsonDecimalColumns(table.json.columns);
        o["columns"] = ColumnsLiteral(table.json.columns, out.json_decimal_columns);
      }
      break;
    }
    case FileFormat::kDelta:
      return Status::InvalidArgument("a Delta source is read as a table, not as files");
  }
  o["filename"] = kSourceFileColumn;
  return out;
}

Result<SourceProjection> ProjectSource(engine::Engine& engine, const std::string& view,
                                       const config::TableConfig& table,
                                       const std::vector<std::string>& files,
                                       const delta::Schema* target_schema,
                                       const std::string& batch_id, int64_t load_time_ms,
                                       bool with_order, const DeltaSource* delta_source) {
  if (delta_source) {
    return ProjectDeltaSource(engine, view, table, *delta_source, target_schema, batch_id,
                              load_time_ms, with_order);
  }
  DL_ASSIGN_OR_RETURN(auto options, SourceOptionsFor(table));
  // Row positions cost a column per row; only "first delivery wins" decisions need them.
  if (with_order) options.row_order_column = kSourceRowColumn;
  // Each bind of a csv/json view sniffs every file again, and a batch is bound several times
  // (schema, alignment, write): read such files once. Parquet binds from its footer, so the
  // batch is the files' view itself and streams (a copy would read every file first).
  options.materialize = table.file_format != FileFormat::kParquet;
  Status st = engine.RegisterFiles(view, files, options);
  if (st.code() == StatusCode::kConfig) {
    // Options the engine refuses are the config's fault: say which key.
    st = st.WithContext(fmt::format(
        "{} of {}", table.file_format == FileFormat::kJson ? "json_options" : "csv_options",
        table.QualifiedName()));
  }
  DL_RETURN_IF_ERROR(st);
  DL_ASSIGN_OR_RETURN(auto columns, SourceColumns(engine, view));
  WarnCaseDuplicates(engine, view, table, columns);
  DL_RETURN_IF_ERROR(CheckPartitionColumns(engine, view, table, columns, options));
  return Project(view, table, columns, files, target_schema, batch_id, load_time_ms, with_order);
}

std::string DeltaSourceFilePath(const delta::Snapshot& source, const delta::AddFile& add) {
  return source.table_root() + "/" + add.path;
}

void ReleaseSource(engine::Engine& engine, const std::string& view) { engine.DropSource(view); }

}  // namespace dl::strategy
