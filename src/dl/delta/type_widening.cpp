// Type widening: the allowed changes, their delta.typeChanges records, the reader's check.
#include "dl/delta/type_widening.hpp"

#include <algorithm>
#include <functional>

namespace dl::delta {
namespace {

using Json = nlohmann::json;

int IntegerRank(const DataType& t) {
  if (t.kind != DataType::Kind::kPrimitive) return -1;
  if (t.name == "byte") return 0;
  if (t.name == "short") return 1;
  if (t.name == "integer") return 2;
  if (t.name == "long") return 3;
  return -1;
}

// The integer digits a decimal needs to hold every value of an integer type of this rank.
int IntegerDigits(int rank) { return rank == 3 ? 20 : 10; }

std::string TypeName(const Json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : "";
}

// Calls fn(path, field) for every struct field, recursing through structs, arrays and maps.
void VisitFields(const std::vector<StructField>& fields, const std::string& prefix,
                 const std::function<Status(const std::string&, const StructField&)>& fn,
                 Status* status) {
  std::function<void(const DataType&, const std::string&)> visit_type =
      [&](const DataType& t, const std::string& path) {
        if (t.kind == DataType::Kind::kStruct) VisitFields(t.fields, path + ".", fn, status);
        if (t.kind == DataType::Kind::kArray) visit_type(*t.element, path);
        if (t.kind == DataType::Kind::kMap) {
          visit_type(*t.key, path);
          visit_type(*t.value, path);
        }
      };
  for (const StructField& f : fields) {
    if (!status->ok()) return;
    *status = fn(prefix + f.name, f);
    if (f.type) visit_type(*f.type, prefix + f.name);
  }
}

Status CheckFieldTypeChanges(const std::string& path, const StructField& field,
                             const std::string& table) {
  if (!field.metadata.is_object()) return Status::OK();
  auto changes = field.metadata.find(kTypeChangesKey);
  if (changes == field.metadata.end()) return Status::OK();
  if (!changes->is_array()) {
    return Status::CorruptLog("table {}: {} of column {} is not a list", table, kTypeChangesKey,
                              path);
  }
  for (const Json& record : *changes) {
    if (!record.is_object()) {
      return Status::CorruptLog("table {}: {} of column {} holds a non-object: {}", table,
                                kTypeChangesKey, path, record.dump());
    }
    std::string from_name = TypeName(record, "fromType"), to_name = TypeName(record, "toType");
    auto from = ParseDataType(Json(from_name));
    auto to = ParseDataType(Json(to_name));
    if (from_name.empty() || to_name.empty() || !from.ok() || !to.ok()) {
      return Status::CorruptLog(
          "table {}: {} of column {} has a record without a readable fromType and toType: {}",
          table, kTypeChangesKey, path, record.dump());
    }
    if (!IsTypeWidening(**from, **to)) {
      return Status::Unsupported(
          "table {}: column {} went through the type change {} -> {}, which data_loader cannot "
          "read",
          table, path, (*from)->ToString(), (*to)->ToString());
    }
  }
  return Status::OK();
}

}  // namespace

bool IsTypeWidening(const DataType& from, const DataType& to) {
  using K = DataType::Kind;
  const int fi = IntegerRank(from), ti = IntegerRank(to);
  if (fi >= 0 && ti >= 0) return fi < ti;
  if (fi >= 0 && fi <= 2 && to.is_primitive("double")) return true;
  if (from.is_primitive("float")) return to.is_primitive("double");
  if (from.is_primitive("date")) return to.is_primitive("timestamp_ntz");
  if (to.kind != K::kDecimal) return false;
  if (fi >= 0) return to.precision - to.scale >= IntegerDigits(fi);
  if (from.kind != K::kDecimal) return false;
  const int k1 = to.precision - from.precision, k2 = to.scale - from.scale;
  return k2 >= 0 && k1 >= k2 && k1 > 0;
}

bool TypeWideningEnabled(const StringMap& configuration) {
  auto it = configuration.find(kEnableTypeWideningKey);
  if (it == configuration.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

void RecordTypeChange(StructField* field, const DataType& from, const DataType& to,
                      const std::string& field_path) {
  if (!field->metadata.is_object()) field->metadata = Json::object();
  Json record = Json::object();
  record["toType"] = DataTypeToJson(to);
  record["fromType"] = DataTypeToJson(from);
  if (!field_path.empty()) record["fieldPath"] = field_path;
  Json& changes = field->metadata[kTypeChangesKey];
  if (!changes.is_array()) changes = Json::array();
  changes.push_back(std::move(record));
}

Status CheckTypeChanges(const Schema& schema, const std::string& table) {
  Status status = Status::OK();
  VisitFields(
      schema.fields, "",
      [&](const std::string& path, const StructField& f) {
        return CheckFieldTypeChanges(path, f, table);
      },
      &status);
  return status;
}

Result<Schema> WidenColumn(const Schema& schema, const std::string& column, const DataType& to,
                           const std::string& table) {
  Schema out = schema;
  auto it = std::find_if(out.fields.begin(), out.fields.end(),
                         [&](const StructField& f) { return f.name == column; });
  if (it == out.fields.end()) {
    return Status::NotFound("table {} has no column {}", table, column);
  }
  const DataType& from = *it->type;
  if (from == to) return out;
  if (!IsTypeWidening(from, to)) {
    return Status::SchemaMismatch(
        "table {}: column {} cannot change from {} to {}: type widening allows only byte -> "
        "short -> integer -> long, float -> double, integers -> double, date -> timestamp_ntz "
        "and decimal precision/scale increases (never narrowing)",
        table, column, from.ToString(), to.ToString());
  }
  RecordTypeChange(&*it, from, to, "");
  it->type = std::make_shared<DataType>(to);
  return out;
}

}  // namespace dl::delta
