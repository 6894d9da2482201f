#include "dl/engine/duckdb/write_sql.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/partition_sql.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

namespace {

// Query column names by lower-case name (Delta and DuckDB names are case-insensitive).
using ColumnIndex = std::map<std::string, std::string>;

ColumnIndex IndexColumns(const std::vector<Column>& columns) {
  ColumnIndex index;
  for (const auto& c : columns) index.emplace(AsciiLower(c.name), c.name);
  return index;
}

std::optional<std::string> FindColumn(const ColumnIndex& index, const std::string& name) {
  auto it = index.find(AsciiLower(name));
  if (it == index.end()) return std::nullopt;
  return it->second;
}

// s."col" cast to the field's table type, or a typed NULL when the query lacks it.
Result<std::string> ColumnValueSql(const ColumnIndex& index, const delta::StructField& field) {
  DL_ASSIGN_OR_RETURN(std::string type, DuckDbTypeFromDelta(*field.type));
  auto name = FindColumn(index, field.name);
  if (!name) return fmt::format("CAST(NULL AS {})", type);
  return fmt::format("CAST(s.{} AS {})", QuoteIdent(*name), type);
}

// `expr` (the value of `field` in the write's SELECT), counted by `tally` when the field is
// the string column options.count_rows_by.
std::string Tallied(const std::string& expr, const delta::StructField& field,
                    const WriteOptions& options, const RowTally* tally) {
  if (tally == nullptr || AsciiLower(field.name) != AsciiLower(options.count_rows_by) ||
      !field.type->is_primitive("string")) {
    return expr;
  }
  return tally->Sql(expr);
}

bool IsScalar(const delta::DataType& t) {
  return t.kind == delta::DataType::Kind::kPrimitive || t.kind == delta::DataType::Kind::kDecimal;
}

const delta::StructField* FindField(const std::vector<delta::StructField>& fields,
                                    const std::string& name) {
  for (const auto& f : fields) {
    if (AsciiLower(f.name) == AsciiLower(name)) return &f;
  }
  return nullptr;
}

// Whether values of `src` can be aligned to `dst`: same nesting shape, and every struct field
// of `src` present in `dst` (DuckDB's by-name struct cast would silently drop it otherwise).
// Scalar conversions are left to DuckDB's cast.
Status CheckAlignable(const delta::DataType& src, const delta::DataType& dst,
                      const std::string& path, StatusCode code) {
  using Kind = delta::DataType::Kind;
  if (IsScalar(src) && IsScalar(dst)) return Status::OK();
  if (src.kind != dst.kind) {
    return Status(code, fmt::format("column '{}' has type {}, which cannot become {}", path,
                                    src.ToString(), dst.ToString()));
  }
  switch (src.kind) {
    case Kind::kArray:
      return CheckAlignable(*src.element, *dst.element, path, code);
    case Kind::kMap:
      DL_RETURN_IF_ERROR(CheckAlignable(*src.key, *dst.key, path, code));
      return CheckAlignable(*src.value, *dst.value, path, code);
    case Kind::kStruct:
      for (const auto& f : src.fields) {
        std::string child = path + "." + f.name;
        const delta::StructField* target = FindField(dst.fields, f.name);
        if (target == nullptr) {
          return Status(code,
                        fmt::format("column '{}' of the data is not in the table schema", child));
        }
        DL_RETURN_IF_ERROR(CheckAlignable(*f.type, *target->type, child, code));
      }
      return Status::OK();
    default:
      return Status::OK();
  }
}

Status CheckQueryColumns(const std::vector<Column>& query_columns, const delta::Schema& schema,
                         StatusCode code) {
  for (const auto& c : query_columns) {
    const delta::StructField* field = FindField(schema.fields, c.name);
    if (field == nullptr) {
      return Status(code,
                    fmt::format("column '{}' of the data is not in the table schema", c.name));
    }
    DL_ASSIGN_OR_RETURN(auto mapped, DeltaTypeFromDuckDb(c.type->get(), c.name));
    DL_RETURN_IF_ERROR(CheckAlignable(*mapped.type, *field->type, c.name, code));
  }
  return Status::OK();
}

// " ORDER BY ..." plus the inner select that adds rank columns for a Z-order.
Result<std::pair<std::string, std::string>> OrderSql(const ColumnIndex& index,
                                                     const std::string& source,
                                                     const WriteOptions& options) {
  std::vector<std::string> refs;
  for (const auto& col : options.order_by) {
    auto name = FindColumn(index, col);
    if (!name) return Status::InvalidArgument("order column '{}' is not in the data", col);
    refs.push_back(QuoteIdent(*name));
  }
  if (refs.empty()) return std::make_pair(source, std::string());
  if (!options.zorder || refs.size() == 1) {
    std::string order;
    for (const auto& r : refs) order += fmt::format("{}s.{}", order.empty() ? "" : ", ", r);
    return std::make_pair(source, " ORDER BY " + order);
  }
  // Rank each column (percent_rank scaled to `bits`), so any orderable type works and skewed
  // values spread over the whole key space; then order by the bit interleave of the ranks.
  int bits = ZOrderBitsPerColumn(refs.size());
  std::string ranks;
  std::vector<std::string> rank_refs;
  for (size_t i = 0; i < refs.size(); ++i) {
    std::string rank = fmt::format("\"__dl_zr{}\"", i);
    ranks += fmt::format(
        ", CAST(floor(percent_rank() OVER (ORDER BY {} NULLS FIRST) * {}) AS BIGINT) AS {}",
        refs[i], (int64_t{1} << bits) - 1, rank);
    rank_refs.push_back("s." + rank);
  }
  std::string inner = fmt::format("(SELECT *{} FROM {} AS s0)", ranks, source);
  return std::make_pair(inner, " ORDER BY " + ZOrderKeySql(rank_refs, bits));
}

}  // namespace

std::string PartitionKeyColumn(size_t i) { return fmt::format("__dl_pk{}", i); }

int ZOrderBitsPerColumn(size_t num_columns) {
  return static_cast<int>(std::min<size_t>(31, 62 / std::max<size_t>(num_columns, 1)));
}

std::string ZOrderKeySql(const std::vector<std::string>& rank_columns, int bits) {
  // Bit j of column i goes to position j*k + (k-1-i): the first column is most significant
  // within each group of k bits.
  size_t k = rank_columns.size();
  std::string key;
  for (int j = bits - 1; j >= 0; --j) {
    for (size_t i = 0; i < k; ++i) {
      size_t pos = static_cast<size_t>(j) * k + (k - 1 - i);
      key += fmt::format("{}((({} >> {}) & 1) << {})", key.empty() ? "" : " | ", rank_columns[i], j,
                         pos);
    }
  }
  return "(" + key + ")";
}

Result<std::string> BuildWriteSelect(const std::string& sql,
                                     const std::vector<Column>& query_columns,
                                     const delta::Schema& table_schema, const WriteOptions& options,
                                     const RowTally* tally) {
  DL_RETURN_IF_ERROR(CheckQueryColumns(query_columns, table_schema, StatusCode::kSchemaMismatch));
  ColumnIndex index = IndexColumns(query_columns);
  std::string items;
  auto add_item = [&](const std::string& expr, const std::string& name) {
    items += fmt::format("{}{} AS {}", items.empty() ? "" : ", ", expr, QuoteIdent(name));
  };
  for (const auto& field : table_schema.fields) {
    if (std::count(options.partition_columns.begin(), options.partition_columns.end(),
                   field.name)) {
      continue;
    }
    DL_ASSIGN_OR_RETURN(std::string expr, ColumnValueSql(index, field));
    add_item(Tallied(expr, field, options, tally), field.name);
  }
  if (items.empty())
    return Status::InvalidArgument("the table has no data (non-partition) columns");
  for (size_t i = 0; i < options.partition_columns.size(); ++i) {
    const std::string& column = options.partition_columns[i];
    const delta::StructField* field = table_schema.Find(column);
    if (field == nullptr) {
      return Status::InvalidArgument("partition column '{}' is not in the table schema", column);
    }
    DL_ASSIGN_OR_RETURN(std::string value, ColumnValueSql(index, *field));
    DL_ASSIGN_OR_RETURN(std::string text, PartitionToStringSql(value, *field->type, column));
    // Tallied outside PartitionToStringSql, which may evaluate its argument twice.
    add_item(Tallied(text, *field, options, tally), PartitionKeyColumn(i));
  }
  std::string source = fmt::format("({})", StripStatementEnd(sql));
  DL_ASSIGN_OR_RETURN(auto order, OrderSql(index, source, options));
  return fmt::format("SELECT {} FROM {} AS s{}", items, order.first, order.second);
}

Result<std::string> AlignToSchemaSql(const std::string& sql,
                                     const std::vector<Column>& query_columns,
                                     const delta::Schema& schema) {
  DL_RETURN_IF_ERROR(CheckQueryColumns(query_columns, schema, StatusCode::kInvalidArgument));
  ColumnIndex index = IndexColumns(query_columns);
  std::string items;
  for (const auto& field : schema.fields) {
    DL_ASSIGN_OR_RETURN(std::string expr, ColumnValueSql(index, field));
    items += fmt::format("{}{} AS {}", items.empty() ? "" : ", ", expr, QuoteIdent(field.name));
  }
  if (items.empty()) return Status::InvalidArgument("the schema has no columns");
  return fmt::format("SELECT {} FROM ({}) AS s", items, StripStatementEnd(sql));
}

std::optional<std::vector<std::string>> ParseStatsKey(std::string_view key) {
  std::vector<std::string> path;
  size_t pos = 0;
  while (pos < key.size()) {
    if (key[pos] != '"') return std::nullopt;
    std::string part;
    ++pos;
    bool closed = false;
    while (pos < key.size()) {
      char c = key[pos++];
      if (c != '"') {
        part.push_back(c);
      } else if (pos < key.size() && key[pos] == '"') {
        part.push_back('"');
        ++pos;
      } else {
        closed = true;
        break;
      }
    }
    if (!closed) return std::nullopt;
    path.push_back(std::move(part));
    if (pos < key.size()) {
      if (key[pos] != '.') return std::nullopt;
      ++pos;
    }
  }
  if (path.empty()) return std::nullopt;
  return path;
}

delta::Schema DataSchema(const delta::Schema& table_schema,
                         const std::vector<std::string>& partition_columns) {
  delta::Schema data;
  for (const auto& f : table_schema.fields) {
    if (!std::count(partition_columns.begin(), partition_columns.end(), f.name)) {
      data.fields.push_back(f);
    }
  }
  return data;
}

}  // namespace dl::engine::duck
