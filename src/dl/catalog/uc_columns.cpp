#include "dl/catalog/uc_columns.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace dl::catalog {
namespace {

// Delta primitive name -> (ColumnTypeName, catalogString).
const std::map<std::string, std::pair<std::string, std::string>>& Primitives() {
  static const std::map<std::string, std::pair<std::string, std::string>> kMap = {
      {"string", {"STRING", "string"}},        {"long", {"LONG", "bigint"}},
      {"integer", {"INT", "int"}},             {"short", {"SHORT", "smallint"}},
      {"byte", {"BYTE", "tinyint"}},           {"float", {"FLOAT", "float"}},
      {"double", {"DOUBLE", "double"}},        {"boolean", {"BOOLEAN", "boolean"}},
      {"binary", {"BINARY", "binary"}},        {"date", {"DATE", "date"}},
      {"timestamp", {"TIMESTAMP", "timestamp"}}, {"timestamp_ntz", {"TIMESTAMP_NTZ", "timestamp_ntz"}},
      {"variant", {"VARIANT", "variant"}}};
  return kMap;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string TypeText(const delta::DataType& t) {
  using K = delta::DataType::Kind;
  switch (t.kind) {
    case K::kPrimitive: {
      auto it = Primitives().find(t.name);
      return it == Primitives().end() ? t.name : it->second.second;
    }
    case K::kDecimal:
      return fmt::format("decimal({},{})", t.precision, t.scale);
    case K::kArray:
      return "array<" + TypeText(*t.element) + ">";
    case K::kMap:
      return "map<" + TypeText(*t.key) + "," + TypeText(*t.value) + ">";
    case K::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < t.fields.size(); ++i) {
        out += (i ? "," : "") + t.fields[i].name + ":" + TypeText(*t.fields[i].type);
      }
      return out + ">";
    }
  }
  return t.name;
}

std::string TypeName(const delta::DataType& t) {
  using K = delta::DataType::Kind;
  switch (t.kind) {
    case K::kPrimitive: {
      auto it = Primitives().find(t.name);
      return it == Primitives().end() ? "USER_DEFINED_TYPE" : it->second.first;
    }
    case K::kDecimal:
      return "DECIMAL";
    case K::kArray:
      return "ARRAY";
    case K::kMap:
      return "MAP";
    case K::kStruct:
      return "STRUCT";
  }
  return "USER_DEFINED_TYPE";
}

nlohmann::json ColumnsJson(const delta::Schema& schema,
                           const std::vector<std::string>& partition_columns) {
  nlohmann::json columns = nlohmann::json::array();
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const delta::StructField& f = schema.fields[i];
    nlohmann::json field = {{"name", f.name},
                            {"type", delta::DataTypeToJson(*f.type)},
                            {"nullable", f.nullable},
                            {"metadata", f.metadata}};
    nlohmann::json c = {{"name", f.name},
                        {"type_name", TypeName(*f.type)},
                        {"type_text", TypeText(*f.type)},
                        {"type_json", field.dump()},
                        {"position", static_cast<int>(i)},
                        {"nullable", f.nullable}};
    if (f.type->kind == delta::DataType::Kind::kDecimal) {
      c["type_precision"] = f.type->precision;
      c["type_scale"] = f.type->scale;
    }
    auto p = std::find(partition_columns.begin(), partition_columns.end(), f.name);
    if (p != partition_columns.end()) {
      c["partition_index"] = static_cast<int>(p - partition_columns.begin());
    }
    columns.push_back(std::move(c));
  }
  return columns;
}

bool SameColumns(const nlohmann::json& registered, const nlohmann::json& wanted) {
  if (!registered.is_array() || !wanted.is_array() || registered.size() != wanted.size()) {
    return false;
  }
  auto key = [](const nlohmann::json& c) {
    auto get = [&](const char* k) {
      return c.contains(k) && !c[k].is_null() ? c[k].dump() : std::string("-");
    };
    bool nullable = c.contains("nullable") && c["nullable"].is_boolean() ? c["nullable"].get<bool>()
                                                                        : true;
    return Lower(c.value("name", std::string())) + "|" + Lower(c.value("type_text", "")) + "|" +
           (nullable ? "null" : "not null") + "|" + get("position") + "|" +
           get("partition_index");
  };
  std::vector<std::string> a, b;
  for (const auto& c : registered) a.push_back(key(c));
  for (const auto& c : wanted) b.push_back(key(c));
  std::sort(a.begin(), a.end());  // servers may list columns in any order
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace dl::catalog
