#include "dl/engine/duckdb/column_mapping_sql.hpp"

#include <fmt/format.h>

#include "dl/delta/column_mapping.hpp"
#include "dl/engine/duckdb/duckdb_types.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

namespace {

using Kind = delta::DataType::Kind;

bool HasStruct(const delta::DataType& t) {
  switch (t.kind) {
    case Kind::kStruct:
      return true;
    case Kind::kArray:
      return HasStruct(*t.element);
    case Kind::kMap:
      return HasStruct(*t.key) || HasStruct(*t.value);
    default:
      return false;
  }
}

const delta::StructField* FindChild(const delta::DataType& src, const std::string& name) {
  for (const auto& f : src.fields) {
    if (AsciiLower(f.name) == AsciiLower(name)) return &f;
  }
  return nullptr;
}

Result<std::string> Remap(const std::string& expr, const delta::DataType& src,
                          const delta::DataType& logical, bool to_physical, int depth);

Result<std::string> RemapStruct(const std::string& expr, const delta::DataType& src,
                                const delta::DataType& logical, bool to_physical, int depth) {
  std::string items;
  for (const auto& f : logical.fields) {
    const std::string in = to_physical ? f.name : delta::PhysicalName(f);
    const std::string out = to_physical ? delta::PhysicalName(f) : f.name;
    const delta::StructField* s = FindChild(src, in);
    std::string value;
    if (s == nullptr) {  // a file written before the field was added
      DL_ASSIGN_OR_RETURN(std::string type, DuckDbTypeFromDelta(*f.type));
      value = fmt::format("CAST(NULL AS {})", type);
    } else {
      DL_ASSIGN_OR_RETURN(value, Remap(fmt::format("{}.{}", expr, QuoteIdent(s->name)), *s->type,
                                       *f.type, to_physical, depth));
    }
    items += fmt::format("{}{} := {}", items.empty() ? "" : ", ", QuoteIdent(out), value);
  }
  // struct_pack of a NULL struct's fields would be a struct of NULLs, not NULL.
  return fmt::format("CASE WHEN {0} IS NULL THEN NULL ELSE struct_pack({1}) END", expr, items);
}

Result<std::string> Remap(const std::string& expr, const delta::DataType& src,
                          const delta::DataType& logical, bool to_physical, int depth) {
  if (!HasStruct(logical) || src.kind != logical.kind) return expr;  // the cast decides
  const std::string var = fmt::format("__dl_cm{}", depth);
  switch (logical.kind) {
    case Kind::kStruct:
      return RemapStruct(expr, src, logical, to_physical, depth);
    case Kind::kArray: {
      DL_ASSIGN_OR_RETURN(std::string element,
                          Remap(var, *src.element, *logical.element, to_physical, depth + 1));
      return fmt::format("list_transform({}, lambda {}: {})", expr, var, element);
    }
    case Kind::kMap: {
      DL_ASSIGN_OR_RETURN(std::string key,
                          Remap(var + ".key", *src.key, *logical.key, to_physical, depth + 1));
      DL_ASSIGN_OR_RETURN(std::string value, Remap(var + ".value", *src.value, *logical.value,
                                                   to_physical, depth + 1));
      return fmt::format(
          "map_from_entries(list_transform(map_entries({}), lambda {}: struct_pack(key := {}, "
          "value := {})))",
          expr, var, key, value);
    }
    default:
      return expr;
  }
}

std::string NestedIds(const delta::DataType& t);

// One FIELD_IDS entry's value: the id, or a struct of the id and the nested entries.
std::string FieldIdValue(const delta::StructField& f) {
  std::string nested = f.type ? NestedIds(*f.type) : "";
  auto id = delta::ColumnMappingId(f);
  if (nested.empty()) return id ? std::to_string(*id) : "";
  std::string head = id ? fmt::format("__duckdb_field_id: {}, ", *id) : "";
  return "{" + head + nested + "}";
}

// The FIELD_IDS entries of a type's children ("" when none carries an id).
std::string NestedIds(const delta::DataType& t) {
  std::string items;
  auto add = [&](const std::string& key, const std::string& value) {
    if (!value.empty()) items += fmt::format("{}{}: {}", items.empty() ? "" : ", ", key, value);
  };
  auto wrap = [](const std::string& inner) { return inner.empty() ? inner : "{" + inner + "}"; };
  switch (t.kind) {
    case Kind::kStruct:
      for (const auto& f : t.fields) add(QuoteLiteral(delta::PhysicalName(f)), FieldIdValue(f));
      break;
    case Kind::kArray:
      add("element", wrap(NestedIds(*t.element)));
      break;
    case Kind::kMap:
      add("key", wrap(NestedIds(*t.key)));
      add("value", wrap(NestedIds(*t.value)));
      break;
    default:
      break;
  }
  return items;
}

}  // namespace

Result<std::string> RemapNestedSql(const std::string& expr, const delta::DataType& src,
                                   const delta::DataType& logical, bool to_physical) {
  return Remap(expr, src, logical, to_physical, 0);
}

std::string FieldIdsSql(const delta::Schema& data_schema) {
  return "{" + NestedIds(*delta::DataType::Struct(data_schema.fields)) + "}";
}

}  // namespace dl::engine::duck
