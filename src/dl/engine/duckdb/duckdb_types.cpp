#include "dl/engine/duckdb/duckdb_types.hpp"

#include <fmt/format.h>

#include <set>

#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/engine.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {

namespace {

using delta::DataType;

// Owns a char* that DuckDB allocated.
std::string TakeString(char* s) {
  if (s == nullptr) return {};
  std::string out(s);
  duckdb_free(s);
  return out;
}

std::string Alias(duckdb_logical_type type) {
  return TakeString(duckdb_logical_type_get_alias(type));
}

Status Rejected(duckdb_logical_type type, const std::string& column) {
  return Status::Unsupported("column '{}' has DuckDB type {}, which has no Delta equivalent",
                             column, DuckDbTypeName(type));
}

DeltaTypeMapping Prim(const char* name, bool needs_cast = false) {
  return {DataType::Primitive(name), needs_cast};
}

Result<DeltaTypeMapping> MapStruct(duckdb_logical_type type, const std::string& column) {
  std::vector<delta::StructField> fields;
  bool needs_cast = false;
  idx_t n = duckdb_struct_type_child_count(type);
  for (idx_t i = 0; i < n; ++i) {
    std::string name = TakeString(duckdb_struct_type_child_name(type, i));
    LogicalType child(duckdb_struct_type_child_type(type, i));
    DL_ASSIGN_OR_RETURN(auto m, DeltaTypeFromDuckDb(child.get(), column + "." + name));
    needs_cast |= m.needs_cast;
    fields.push_back({name, m.type, true, nlohmann::json::object()});
  }
  return DeltaTypeMapping{DataType::Struct(std::move(fields)), needs_cast};
}

Result<DeltaTypeMapping> MapNested(duckdb_logical_type type, const std::string& column) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
      bool is_array = duckdb_get_type_id(type) == DUCKDB_TYPE_ARRAY;
      LogicalType child(is_array ? duckdb_array_type_child_type(type)
                                 : duckdb_list_type_child_type(type));
      DL_ASSIGN_OR_RETURN(auto m, DeltaTypeFromDuckDb(child.get(), column + ".element"));
      // Fixed-size ARRAY becomes a LIST: Delta arrays have no fixed length.
      return DeltaTypeMapping{DataType::Array(m.type, true), m.needs_cast || is_array};
    }
    case DUCKDB_TYPE_MAP: {
      LogicalType key(duckdb_map_type_key_type(type));
      LogicalType value(duckdb_map_type_value_type(type));
      DL_ASSIGN_OR_RETURN(auto k, DeltaTypeFromDuckDb(key.get(), column + ".key"));
      DL_ASSIGN_OR_RETURN(auto v, DeltaTypeFromDuckDb(value.get(), column + ".value"));
      return DeltaTypeMapping{DataType::Map(k.type, v.type, true), k.needs_cast || v.needs_cast};
    }
    case DUCKDB_TYPE_STRUCT:
      return MapStruct(type, column);
    default:
      return Rejected(type, column);
  }
}

std::string PrimitiveTypeName(duckdb_type id) {
  static const std::vector<std::pair<duckdb_type, std::string_view>> kNames = {
      {DUCKDB_TYPE_BOOLEAN, "BOOLEAN"},
      {DUCKDB_TYPE_TINYINT, "TINYINT"},
      {DUCKDB_TYPE_SMALLINT, "SMALLINT"},
      {DUCKDB_TYPE_INTEGER, "INTEGER"},
      {DUCKDB_TYPE_BIGINT, "BIGINT"},
      {DUCKDB_TYPE_UTINYINT, "UTINYINT"},
      {DUCKDB_TYPE_USMALLINT, "USMALLINT"},
      {DUCKDB_TYPE_UINTEGER, "UINTEGER"},
      {DUCKDB_TYPE_UBIGINT, "UBIGINT"},
      {DUCKDB_TYPE_HUGEINT, "HUGEINT"},
      {DUCKDB_TYPE_UHUGEINT, "UHUGEINT"},
      {DUCKDB_TYPE_FLOAT, "FLOAT"},
      {DUCKDB_TYPE_DOUBLE, "DOUBLE"},
      {DUCKDB_TYPE_VARCHAR, "VARCHAR"},
      {DUCKDB_TYPE_BLOB, "BLOB"},
      {DUCKDB_TYPE_DATE, "DATE"},
      {DUCKDB_TYPE_TIME, "TIME"},
      {DUCKDB_TYPE_TIME_TZ, "TIME WITH TIME ZONE"},
      {DUCKDB_TYPE_TIME_NS, "TIME_NS"},
      {DUCKDB_TYPE_TIMESTAMP, "TIMESTAMP"},
      {DUCKDB_TYPE_TIMESTAMP_TZ, "TIMESTAMP WITH TIME ZONE"},
      {DUCKDB_TYPE_TIMESTAMP_S, "TIMESTAMP_S"},
      {DUCKDB_TYPE_TIMESTAMP_MS, "TIMESTAMP_MS"},
      {DUCKDB_TYPE_TIMESTAMP_NS, "TIMESTAMP_NS"},
      {DUCKDB_TYPE_INTERVAL, "INTERVAL"},
      {DUCKDB_TYPE_UUID, "UUID"},
      {DUCKDB_TYPE_ENUM, "ENUM"},
      {DUCKDB_TYPE_BIT, "BIT"},
      {DUCKDB_TYPE_BIGNUM, "BIGNUM"},
      {DUCKDB_TYPE_SQLNULL, "NULL"},
  };
  for (const auto& [tid, name] : kNames) {
    if (tid == id) return std::string(name);
  }
  return fmt::format("TYPE#{}", static_cast<int>(id));
}

}  // namespace

Result<DeltaTypeMapping> DeltaTypeFromDuckDb(duckdb_logical_type type, const std::string& column) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN:
      return Prim("boolean");
    case DUCKDB_TYPE_TINYINT:
      return Prim("byte");
    case DUCKDB_TYPE_SMALLINT:
      return Prim("short");
    case DUCKDB_TYPE_INTEGER:
      return Prim("integer");
    case DUCKDB_TYPE_BIGINT:
      return Prim("long");
    case DUCKDB_TYPE_UTINYINT:
      return Prim("short", true);
    case DUCKDB_TYPE_USMALLINT:
      return Prim("integer", true);
    case DUCKDB_TYPE_UINTEGER:
      return Prim("long", true);
    case DUCKDB_TYPE_UBIGINT:
      return DeltaTypeMapping{DataType::Decimal(20, 0), true};
    case DUCKDB_TYPE_HUGEINT:
      return DeltaTypeMapping{DataType::Decimal(38, 0), true};
    case DUCKDB_TYPE_FLOAT:
      return Prim("float");
    case DUCKDB_TYPE_DOUBLE:
      return Prim("double");
    case DUCKDB_TYPE_DECIMAL:
      return DeltaTypeMapping{
          DataType::Decimal(duckdb_decimal_width(type), duckdb_decimal_scale(type)), false};
    case DUCKDB_TYPE_VARCHAR:
      return Prim("string", Alias(type) == "JSON");
    case DUCKDB_TYPE_BLOB:
      return Prim("binary");
    case DUCKDB_TYPE_DATE:
      return Prim("date");
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return Prim("timestamp");
    case DUCKDB_TYPE_TIMESTAMP:
      return Prim("timestamp_ntz");
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return Prim("timestamp_ntz", true);
    case DUCKDB_TYPE_UUID:
    case DUCKDB_TYPE_ENUM:
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIME_TZ:
    case DUCKDB_TYPE_TIME_NS:
    case DUCKDB_TYPE_SQLNULL:
      return Prim("string", true);
    default:
      return MapNested(type, column);
  }
}

Result<std::string> DuckDbTypeFromDelta(const DataType& type) {
  switch (type.kind) {
    case DataType::Kind::kDecimal:
      if (type.precision < 1 || type.precision > 38 || type.scale < 0 ||
          type.scale > type.precision) {
        return Status::Unsupported("decimal({},{}) is out of range", type.precision, type.scale);
      }
      return fmt::format("DECIMAL({},{})", type.precision, type.scale);
    case DataType::Kind::kArray: {
      DL_ASSIGN_OR_RETURN(std::string e, DuckDbTypeFromDelta(*type.element));
      return e + "[]";
    }
    case DataType::Kind::kMap: {
      DL_ASSIGN_OR_RETURN(std::string k, DuckDbTypeFromDelta(*type.key));
      DL_ASSIGN_OR_RETURN(std::string v, DuckDbTypeFromDelta(*type.value));
      return fmt::format("MAP({}, {})", k, v);
    }
    case DataType::Kind::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < type.fields.size(); ++i) {
        DL_ASSIGN_OR_RETURN(std::string f, DuckDbTypeFromDelta(*type.fields[i].type));
        out += fmt::format("{}{} {}", i ? ", " : "", QuoteIdent(type.fields[i].name), f);
      }
      return out + ")";
    }
    case DataType::Kind::kPrimitive:
      break;
  }
  static const std::vector<std::pair<std::string_view, std::string_view>> kPrimitives = {
      {"string", "VARCHAR"}, {"long", "BIGINT"},           {"integer", "INTEGER"},
      {"short", "SMALLINT"}, {"byte", "TINYINT"},          {"float", "FLOAT"},
      {"double", "DOUBLE"},  {"boolean", "BOOLEAN"},       {"binary", "BLOB"},
      {"date", "DATE"},      {"timestamp", "TIMESTAMPTZ"}, {"timestamp_ntz", "TIMESTAMP"},
  };
  for (const auto& [delta_name, duck_name] : kPrimitives) {
    if (type.name == delta_name) return std::string(duck_name);
  }
  return Status::Unsupported("Delta type '{}' is not supported by the DuckDB engine", type.name);
}

std::string DuckDbTypeName(duckdb_logical_type type) {
  std::string alias = Alias(type);
  if (!alias.empty()) return alias;
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_DECIMAL:
      return fmt::format("DECIMAL({},{})", duckdb_decimal_width(type), duckdb_decimal_scale(type));
    case DUCKDB_TYPE_LIST: {
      LogicalType child(duckdb_list_type_child_type(type));
      return DuckDbTypeName(child.get()) + "[]";
    }
    case DUCKDB_TYPE_ARRAY: {
      LogicalType child(duckdb_array_type_child_type(type));
      return fmt::format("{}[{}]", DuckDbTypeName(child.get()), duckdb_array_type_array_size(type));
    }
    case DUCKDB_TYPE_MAP: {
      LogicalType k(duckdb_map_type_key_type(type)), v(duckdb_map_type_value_type(type));
      return fmt::format("MAP({}, {})", DuckDbTypeName(k.get()), DuckDbTypeName(v.get()));
    }
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
      bool is_union = duckdb_get_type_id(type) == DUCKDB_TYPE_UNION;
      idx_t n =
          is_union ? duckdb_union_type_member_count(type) : duckdb_struct_type_child_count(type);
      std::string out = is_union ? "UNION(" : "STRUCT(";
      for (idx_t i = 0; i < n; ++i) {
        std::string name = TakeString(is_union ? duckdb_union_type_member_name(type, i)
                                               : duckdb_struct_type_child_name(type, i));
        LogicalType child(is_union ? duckdb_union_type_member_type(type, i)
                                   : duckdb_struct_type_child_type(type, i));
        out += fmt::format("{}{} {}", i ? ", " : "", QuoteIdent(name), DuckDbTypeName(child.get()));
      }
      return out + ")";
    }
    default:
      break;
  }
  return PrimitiveTypeName(duckdb_get_type_id(type));
}

Result<delta::Schema> SchemaFromColumns(const std::vector<Column>& columns) {
  delta::Schema schema;
  std::set<std::string> seen;
  for (const Column& col : columns) {
    if (!seen.insert(AsciiLower(col.name)).second) {
      return Status::InvalidArgument(
          "duplicate column name '{}' (Delta names are "
          "case-insensitive)",
          col.name);
    }
    DL_ASSIGN_OR_RETURN(auto m, DeltaTypeFromDuckDb(col.type->get(), col.name));
    schema.fields.push_back({col.name, m.type, true, nlohmann::json::object()});
  }
  return schema;
}

namespace {

bool IsDateOrTimestamp(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::string> DeltaCompatibleSelectSql(const std::string& sql,
                                             const std::vector<Column>& columns) {
  DL_RETURN_IF_ERROR(SchemaFromColumns(columns).status());  // rejects and duplicates
  std::string items;
  for (const Column& col : columns) {
    DL_ASSIGN_OR_RETURN(auto m, DeltaTypeFromDuckDb(col.type->get(), col.name));
    std::string ident = QuoteIdent(col.name);
    if (!items.empty()) items += ", ";
    if (duckdb_get_type_id(col.type->get()) == DUCKDB_TYPE_VARCHAR &&
        Alias(col.type->get()) == "JSON") {
      // A json member of mixed types (1 in one row, "x" in another) is text as Spark reads
      // it: a string value without its JSON quotes, any other value as its JSON text.
      items += fmt::format(
          "CASE WHEN json_type({0}) = 'VARCHAR' THEN json_extract_string({0}, '$') ELSE "
          "CAST({0} AS VARCHAR) END AS {0}",
          ident);
    } else if (duckdb_get_type_id(col.type->get()) == DUCKDB_TYPE_TIMESTAMP_NS) {
      // DuckDB takes the int64 ends as infinity, and a cast keeps it (year 294247, which
      // readers refuse): pandas' Timestamp.max and .min, common "open end" values, are such.
      // From the nanoseconds, truncated to microseconds as the cast truncates the others.
      items += fmt::format("make_timestamp(epoch_ns({0}) // 1000) AS {0}", ident);
    } else if (IsDateOrTimestamp(col.type->get())) {
      // DuckDB's infinity (a csv's "infinity", or a zoned nanosecond column's int64 ends,
      // which its parquet reader turns into infinity before we see them) would be written
      // as year 294247 or 5881580: no Delta reader takes that for what it was.
      std::string value = ident;
      if (m.needs_cast) {
        DL_ASSIGN_OR_RETURN(std::string target, DuckDbTypeFromDelta(*m.type));
        value = fmt::format("CAST({} AS {})", ident, target);
      }
      items += fmt::format(
          "CASE WHEN isinf({0}) THEN error({1} || CAST({0} AS VARCHAR) || {2}) ELSE {3} END AS {0}",
          ident, QuoteLiteral(fmt::format("column {} holds ", col.name)),
          QuoteLiteral(", which a Delta table cannot store (a zoned datetime64[ns] column's "
                       "Timestamp.max/min reaches DuckDB so): write such open ends as NULL or "
                       "a real date, or the file with coerce_timestamps='us'"),
          value);
    } else if (m.needs_cast) {
      DL_ASSIGN_OR_RETURN(std::string target, DuckDbTypeFromDelta(*m.type));
      items += fmt::format("CAST({} AS {}) AS {}", ident, target, ident);
    } else {
      items += ident;
    }
  }
  if (items.empty()) return Status::InvalidArgument("query has no columns");
  return fmt::format("SELECT {} FROM ({}) AS \"_dl_src\"", items, StripStatementEnd(sql));
}

}  // namespace dl::engine::duck
