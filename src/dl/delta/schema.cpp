// Spark StructType JSON <-> DataType tree, and schema evolution rules.
#include "dl/delta/schema.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "dl/delta/type_widening.hpp"

namespace dl::delta {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kPrimitives[] = {
    "string",  "long",   "integer", "short",     "byte",          "float",  "double",
    "boolean", "binary", "date",    "timestamp", "timestamp_ntz", "variant"};

bool IsKnownPrimitive(std::string_view name) {
  return std::find(std::begin(kPrimitives), std::end(kPrimitives), name) != std::end(kPrimitives);
}

bool DeepEqual(const DataTypePtr& a, const DataTypePtr& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  return *a == *b;
}

// "decimal(10,2)" (spaces allowed) or bare "decimal" (Spark's default decimal(10,0)).
std::optional<DataTypePtr> ParseDecimal(std::string_view s) {
  if (s == "decimal") return DataType::Decimal(10, 0);
  if (s.substr(0, 8) != "decimal(" || s.back() != ')') return std::nullopt;
  std::string body;
  for (char c : s.substr(8, s.size() - 9)) {
    if (c != ' ') body.push_back(c);
  }
  int p = -1, sc = -1;
  auto comma = body.find(',');
  if (comma == std::string::npos) return std::nullopt;
  auto r1 = std::from_chars(body.data(), body.data() + comma, p);
  auto r2 = std::from_chars(body.data() + comma + 1, body.data() + body.size(), sc);
  if (r1.ec != std::errc() || r1.ptr != body.data() + comma || r2.ec != std::errc() ||
      r2.ptr != body.data() + body.size() || p < 1 || p > 38 || sc < 0 || sc > p) {
    return std::nullopt;
  }
  return DataType::Decimal(p, sc);
}

Result<StructField> ParseField(const Json& j) {
  if (!j.is_object()) return Status::CorruptLog("schema field: expected an object");
  StructField f;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string()) {
    return Status::CorruptLog("schema field lacks a string 'name': {}", j.dump());
  }
  f.name = name->get<std::string>();
  auto type = j.find("type");
  if (type == j.end()) return Status::CorruptLog("schema field '{}' lacks 'type'", f.name);
  auto t = ParseDataType(*type);
  if (!t.ok()) return t.status().WithContext(fmt::format("field '{}'", f.name));
  f.type = std::move(t).value();
  auto nullable = j.find("nullable");
  if (nullable != j.end() && nullable->is_boolean()) f.nullable = nullable->get<bool>();
  auto meta = j.find("metadata");
  if (meta != j.end() && meta->is_object()) f.metadata = *meta;
  return f;
}

Result<DataTypePtr> ParseStruct(const Json& j) {
  auto fields = j.find("fields");
  if (fields == j.end() || !fields->is_array()) {
    return Status::CorruptLog("struct type lacks a 'fields' array");
  }
  std::vector<StructField> out;
  out.reserve(fields->size());
  for (const Json& f : *fields) {
    DL_ASSIGN_OR_RETURN(StructField field, ParseField(f));
    out.push_back(std::move(field));
  }
  return DataType::Struct(std::move(out));
}

bool GetBool(const Json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

template <typename J>
J TypeToJson(const DataType& t);

template <typename J>
J FieldToJson(const StructField& f) {
  J j = J::object();
  j["name"] = f.name;
  j["type"] = f.type ? TypeToJson<J>(*f.type) : J("null");
  j["nullable"] = f.nullable;
  j["metadata"] = f.metadata.is_object() ? J(f.metadata) : J::object();
  return j;
}

// Templated so SerializeSchema can keep Spark's key order (ordered_json) while
// DataTypeToJson returns the plain json type of the header.
template <typename J>
J TypeToJson(const DataType& t) {
  switch (t.kind) {
    case DataType::Kind::kPrimitive:
      return J(t.name);
    case DataType::Kind::kDecimal:
      return J(fmt::format("decimal({},{})", t.precision, t.scale));
    case DataType::Kind::kArray: {
      J j = J::object();
      j["type"] = "array";
      j["elementType"] = TypeToJson<J>(*t.element);
      j["containsNull"] = t.contains_null;
      return j;
    }
    case DataType::Kind::kMap: {
      J j = J::object();
      j["type"] = "map";
      j["keyType"] = TypeToJson<J>(*t.key);
      j["valueType"] = TypeToJson<J>(*t.value);
      j["valueContainsNull"] = t.value_contains_null;
      return j;
    }
    case DataType::Kind::kStruct: {
      J j = J::object();
      j["type"] = "struct";
      J fields = J::array();
      for (const StructField& f : t.fields) fields.push_back(FieldToJson<J>(f));
      j["fields"] = std::move(fields);
      return j;
    }
  }
  return J();
}

// ---------------------------------------------------------------- merge

std::string ColumnPath(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// A type change made while merging: recorded on the nearest enclosing struct field.
struct TypeChange {
  DataTypePtr from, to;
  std::string field_path;  // below that field: "", "element", "key", "value.element", ...
};

// `below`: the path of this type below its nearest struct field ("" for the field itself).
Result<DataTypePtr> MergeType(const DataTypePtr& table, const DataTypePtr& in,
                              const std::string& path, const SchemaMergeOptions& opt,
                              const std::string& below, std::vector<TypeChange>* changes);

std::string Below(const std::string& below, const char* step) {
  return below.empty() ? step : below + "." + step;
}

Result<std::vector<StructField>> MergeFields(const std::vector<StructField>& table,
                                             const std::vector<StructField>& incoming,
                                             const std::string& prefix,
                                             const SchemaMergeOptions& opt) {
  std::vector<StructField> out = table;
  for (size_t i = 0; i < incoming.size(); ++i) {
    const StructField& in = incoming[i];
    std::string path = ColumnPath(prefix, in.name);
    for (size_t k = 0; k < i; ++k) {
      if (incoming[k].name == in.name) {
        return Status::SchemaMismatch("column {} appears twice in the incoming data", path);
      }
    }
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const StructField& f) { return f.name == in.name; });
    if (it != out.end()) {
      std::vector<TypeChange> changes;
      DL_ASSIGN_OR_RETURN(it->type, MergeType(it->type, in.type, path, opt, "", &changes));
      for (const TypeChange& c : changes) RecordTypeChange(&*it, *c.from, *c.to, c.field_path);
      continue;
    }
    auto ci = std::find_if(out.begin(), out.end(), [&](const StructField& f) {
      return std::equal(f.name.begin(), f.name.end(), in.name.begin(), in.name.end(),
                        [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    });
    if (ci != out.end()) {
      return Status::SchemaMismatch("column {} differs only in case from table column {}", path,
                                    ColumnPath(prefix, ci->name));
    }
    if (!opt.allow_new_columns) {
      return Status::SchemaMismatch("column {} ({}) is not in the table schema", path,
                                    in.type ? in.type->ToString() : "?");
    }
    StructField added = in;
    added.nullable = true;  // existing rows have no value for it
    out.push_back(std::move(added));
  }
  return out;
}

Result<DataTypePtr> MergeType(const DataTypePtr& table, const DataTypePtr& in,
                              const std::string& path, const SchemaMergeOptions& opt,
                              const std::string& below, std::vector<TypeChange>* changes) {
  if (DeepEqual(table, in)) return table;
  using K = DataType::Kind;
  if (table->kind == K::kStruct && in->kind == K::kStruct) {
    DL_ASSIGN_OR_RETURN(auto fields, MergeFields(table->fields, in->fields, path, opt));
    return DataType::Struct(std::move(fields));
  }
  if (table->kind == K::kArray && in->kind == K::kArray) {
    DL_ASSIGN_OR_RETURN(auto elem, MergeType(table->element, in->element, path + ".element", opt,
                                             Below(below, "element"), changes));
    return DataType::Array(std::move(elem), table->contains_null);
  }
  if (table->kind == K::kMap && in->kind == K::kMap) {
    DL_ASSIGN_OR_RETURN(auto key, MergeType(table->key, in->key, path + ".key", opt,
                                            Below(below, "key"), changes));
    DL_ASSIGN_OR_RETURN(auto value, MergeType(table->value, in->value, path + ".value", opt,
                                              Below(below, "value"), changes));
    return DataType::Map(std::move(key), std::move(value), table->value_contains_null);
  }
  // Narrower incoming: cast up on write (every widening is lossless).
  if (IsTypeWidening(*in, *table)) return table;
  const bool widening = IsTypeWidening(*table, *in);
  if (widening && opt.allow_type_widening) {
    changes->push_back(TypeChange{table, in, below});
    return in;
  }
  return Status::SchemaMismatch(
      "column {} has type {} in the table but {} in the incoming data{}", path, table->ToString(),
      in->ToString(),
      widening ? "; widening the column needs the table property delta.enableTypeWidening=true "
                 "and schema evolution on"
               : "");
}

bool TypeUses(const DataType& t, std::string_view primitive) {
  switch (t.kind) {
    case DataType::Kind::kPrimitive:
      return t.name == primitive;
    case DataType::Kind::kDecimal:
      return primitive == "decimal";
    case DataType::Kind::kArray:
      return TypeUses(*t.element, primitive);
    case DataType::Kind::kMap:
      return TypeUses(*t.key, primitive) || TypeUses(*t.value, primitive);
    case DataType::Kind::kStruct:
      return std::any_of(t.fields.begin(), t.fields.end(),
                         [&](const StructField& f) { return TypeUses(*f.type, primitive); });
  }
  return false;
}

bool TypeHasNotNull(const DataType& t) {
  switch (t.kind) {
    case DataType::Kind::kArray:
      return TypeHasNotNull(*t.element);
    case DataType::Kind::kMap:
      return TypeHasNotNull(*t.key) || TypeHasNotNull(*t.value);
    case DataType::Kind::kStruct:
      return std::any_of(t.fields.begin(), t.fields.end(), [](const StructField& f) {
        return !f.nullable || TypeHasNotNull(*f.type);
      });
    default:
      return false;
  }
}

}  // namespace

bool StructField::operator==(const StructField& o) const {
  return name == o.name && nullable == o.nullable && DeepEqual(type, o.type) &&
         metadata == o.metadata;
}

bool DataType::operator==(const DataType& o) const {
  return kind == o.kind && name == o.name && precision == o.precision && scale == o.scale &&
         DeepEqual(element, o.element) && contains_null == o.contains_null &&
         DeepEqual(key, o.key) && DeepEqual(value, o.value) &&
         value_contains_null == o.value_contains_null && fields == o.fields;
}

DataTypePtr DataType::Primitive(std::string name) {
  auto t = std::make_shared<DataType>();
  t->name = std::move(name);
  return t;
}

DataTypePtr DataType::Decimal(int precision, int scale) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kDecimal;
  t->name = "decimal";
  t->precision = precision;
  t->scale = scale;
  return t;
}

DataTypePtr DataType::Array(DataTypePtr element, bool contains_null) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kArray;
  t->name = "array";
  t->element = std::move(element);
  t->contains_null = contains_null;
  return t;
}

DataTypePtr DataType::Map(DataTypePtr key, DataTypePtr value, bool value_contains_null) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kMap;
  t->name = "map";
  t->key = std::move(key);
  t->value = std::move(value);
  t->value_contains_null = value_contains_null;
  return t;
}

DataTypePtr DataType::Struct(std::vector<StructField> fields) {
  auto t = std::make_shared<DataType>();
  t->kind = Kind::kStruct;
  t->name = "struct";
  t->fields = std::move(fields);
  return t;
}

std::string DataType::ToString() const {
  switch (kind) {
    case Kind::kPrimitive:
      return name;
    case Kind::kDecimal:
      return fmt::format("decimal({},{})", precision, scale);
    case Kind::kArray:
      return "array<" + element->ToString() + ">";
    case Kind::kMap:
      return "map<" + key->ToString() + "," + value->ToString() + ">";
    case Kind::kStruct: {
      std::string s = "struct<";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) s += ",";
        s += fields[i].name + ":" + fields[i].type->ToString();
      }
      return s + ">";
    }
  }
  return name;
}

bool SameColumnName(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::tolower(x) == std::tolower(y);
  });
}

const StructField* Schema::Find(std::string_view name) const {
  for (const StructField& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<DataTypePtr> ParseDataType(const Json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (IsKnownPrimitive(s)) return DataType::Primitive(s);
    if (auto d = ParseDecimal(s)) return *d;
    return Status::Unsupported("unsupported data type '{}'", s);
  }
  if (!j.is_object()) return Status::CorruptLog("data type: expected a string or object");
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) {
    return Status::CorruptLog("complex data type lacks a string 'type': {}", j.dump());
  }
  const std::string& kind = type->get_ref<const std::string&>();
  if (kind == "struct") return ParseStruct(j);
  if (kind == "array") {
    auto e = j.find("elementType");
    if (e == j.end()) return Status::CorruptLog("array type lacks 'elementType'");
    DL_ASSIGN_OR_RETURN(DataTypePtr elem, ParseDataType(*e));
    return DataType::Array(std::move(elem), GetBool(j, "containsNull", true));
  }
  if (kind == "map") {
    auto k = j.find("keyType");
    auto v = j.find("valueType");
    if (k == j.end() || v == j.end()) {
      return Status::CorruptLog("map type lacks 'keyType' or 'valueType'");
    }
    DL_ASSIGN_OR_RETURN(DataTypePtr key, ParseDataType(*k));
    DL_ASSIGN_OR_RETURN(DataTypePtr value, ParseDataType(*v));
    return DataType::Map(std::move(key), std::move(value), GetBool(j, "valueContainsNull", true));
  }
  return Status::Unsupported("unsupported data type '{}'", kind);
}

Result<Schema> ParseSchemaString(std::string_view schema_string) {
  try {
    Json j = Json::parse(schema_string);
    if (!j.is_object() || j.value("type", "") != "struct") {
      return Status::CorruptLog("schemaString is not a struct type");
    }
    auto parsed = ParseStruct(j);
    if (!parsed.ok()) return parsed.status().WithContext("schemaString");
    return Schema{parsed.value()->fields};
  } catch (const nlohmann::json::exception& e) {
    return Status::CorruptLog("schemaString is not valid JSON: {}", e.what());
  }
}

std::string SerializeSchema(const Schema& schema) {
  using OJson = nlohmann::ordered_json;
  OJson j = OJson::object();
  j["type"] = "struct";
  OJson fields = OJson::array();
  for (const StructField& f : schema.fields) fields.push_back(FieldToJson<OJson>(f));
  j["fields"] = std::move(fields);
  return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

Json DataTypeToJson(const DataType& type) { return TypeToJson<Json>(type); }

Result<Schema> MergeSchema(const Schema& table, const Schema& incoming,
                           const SchemaMergeOptions& options) {
  DL_ASSIGN_OR_RETURN(auto fields, MergeFields(table.fields, incoming.fields, "", options));
  return Schema{std::move(fields)};
}

bool SchemaUses(const Schema& schema, std::string_view primitive) {
  return std::any_of(schema.fields.begin(), schema.fields.end(),
                     [&](const StructField& f) { return TypeUses(*f.type, primitive); });
}

bool SchemaHasNotNull(const Schema& schema) {
  return std::any_of(schema.fields.begin(), schema.fields.end(),
                     [](const StructField& f) { return !f.nullable || TypeHasNotNull(*f.type); });
}

}  // namespace dl::delta
