// Column mapping: physical names and ids from field metadata, and fresh ones for new columns.
#include "dl/delta/column_mapping.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "dl/common/clock.hpp"

namespace dl::delta {
namespace {

using FieldFn = std::function<void(StructField*)>;

// A copy of `type` with fn applied to every nested field (children before their parent).
DataTypePtr MapFields(const DataTypePtr& type, const FieldFn& fn);

std::vector<StructField> MapFieldList(const std::vector<StructField>& fields, const FieldFn& fn) {
  std::vector<StructField> out = fields;
  for (StructField& f : out) {
    f.type = MapFields(f.type, fn);
    fn(&f);
  }
  return out;
}

DataTypePtr MapFields(const DataTypePtr& type, const FieldFn& fn) {
  if (!type) return type;
  switch (type->kind) {
    case DataType::Kind::kStruct:
      return DataType::Struct(MapFieldList(type->fields, fn));
    case DataType::Kind::kArray:
      return DataType::Array(MapFields(type->element, fn), type->contains_null);
    case DataType::Kind::kMap:
      return DataType::Map(MapFields(type->key, fn), MapFields(type->value, fn),
                           type->value_contains_null);
    default:
      return type;
  }
}

using VisitFn = std::function<Status(const std::string& path, const StructField&)>;

Status VisitType(const DataType& type, const std::string& path, const VisitFn& fn);

Status VisitFieldList(const std::vector<StructField>& fields, const std::string& prefix,
                      const VisitFn& fn) {
  std::set<std::string> physical;
  for (const StructField& f : fields) {
    std::string path = prefix.empty() ? f.name : prefix + "." + f.name;
    DL_RETURN_IF_ERROR(fn(path, f));
    if (!physical.insert(PhysicalName(f)).second) {
      return Status::CorruptLog("column {} has the physical name '{}' of another column", path,
                                PhysicalName(f));
    }
    if (f.type) DL_RETURN_IF_ERROR(VisitType(*f.type, path, fn));
  }
  return Status::OK();
}

Status VisitType(const DataType& type, const std::string& path, const VisitFn& fn) {
  switch (type.kind) {
    case DataType::Kind::kStruct:
      return VisitFieldList(type.fields, path, fn);
    case DataType::Kind::kArray:
      return VisitType(*type.element, path, fn);
    case DataType::Kind::kMap:
      DL_RETURN_IF_ERROR(VisitType(*type.key, path, fn));
      return VisitType(*type.value, path, fn);
    default:
      return Status::OK();
  }
}

using EditFn = std::function<Status(std::vector<StructField>*, size_t index)>;

// Calls edit(fields, i) for the struct's field list holding the column at `parts[depth..]`.
Status EditAt(std::vector<StructField>* fields, const std::vector<std::string>& parts, size_t depth,
              const std::string& column, const EditFn& edit) {
  for (size_t i = 0; i < fields->size(); ++i) {
    StructField& f = (*fields)[i];
    if (f.name != parts[depth]) continue;
    if (depth + 1 == parts.size()) return edit(fields, i);
    if (!f.type || f.type->kind != DataType::Kind::kStruct) break;
    std::vector<StructField> children = f.type->fields;
    DL_RETURN_IF_ERROR(EditAt(&children, parts, depth + 1, column, edit));
    f.type = DataType::Struct(std::move(children));
    return Status::OK();
  }
  return Status::InvalidArgument("column {} is not in the table schema", column);
}

std::vector<std::string> SplitPath(const std::string& column) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot = column.find('.'); dot != std::string::npos; dot = column.find('.', start)) {
    parts.push_back(column.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(column.substr(start));
  return parts;
}

int64_t ConfiguredMaxId(const StringMap& configuration) {
  auto it = configuration.find(kMaxColumnIdKey);
  if (it == configuration.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;  // the ids in the schema still bound it below
  }
}

}  // namespace

ColumnMappingMode GetColumnMappingMode(const StringMap& configuration) {
  auto it = configuration.find(kColumnMappingModeKey);
  if (it == configuration.end() || it->second == "none") return ColumnMappingMode::kNone;
  return it->second == "id" ? ColumnMappingMode::kId : ColumnMappingMode::kName;
}

std::string PhysicalName(const StructField& field) {
  auto it = field.metadata.find(kPhysicalNameKey);
  if (it != field.metadata.end() && it->is_string()) return it->get<std::string>();
  return field.name;
}

std::optional<int64_t> ColumnMappingId(const StructField& field) {
  auto it = field.metadata.find(kColumnMappingIdKey);
  if (it != field.metadata.end() && it->is_number_integer()) return it->get<int64_t>();
  return std::nullopt;
}

DataTypePtr PhysicalType(const DataTypePtr& type) {
  return MapFields(type, [](StructField* f) { f->name = PhysicalName(*f); });
}

Schema PhysicalSchema(const Schema& schema) {
  return Schema{MapFieldList(schema.fields, [](StructField* f) { f->name = PhysicalName(*f); })};
}

std::string PhysicalColumnName(const Schema& schema, const std::string& name) {
  const StructField* f = schema.Find(name);
  return f ? PhysicalName(*f) : name;
}

Status CheckColumnMapping(const Schema& schema, const StringMap& configuration,
                          const std::string& table) {
  auto mode = configuration.find(kColumnMappingModeKey);
  if (mode == configuration.end() || mode->second == "none") return Status::OK();
  if (mode->second != "name" && mode->second != "id") {
    return Status::Unsupported("table {} has an unknown delta.columnMapping.mode '{}'", table,
                               mode->second);
  }
  std::set<int64_t> ids;
  Status st = VisitFieldList(schema.fields, "", [&](const std::string& path, const StructField& f) {
    auto id = ColumnMappingId(f);
    if (!id || !f.metadata.contains(kPhysicalNameKey)) {
      return Status::CorruptLog("column {} lacks {} or {} although the table uses column mapping",
                                path, kColumnMappingIdKey, kPhysicalNameKey);
    }
    if (!ids.insert(*id).second) {
      return Status::CorruptLog("column {} has the column mapping id {} of another column", path,
                                *id);
    }
    return Status::OK();
  });
  return st.ok() ? st : st.WithContext(fmt::format("table {}", table));
}

Schema AssignColumnMapping(const Schema& schema, StringMap* configuration) {
  int64_t max_id = ConfiguredMaxId(*configuration);
  auto raise = [&](StructField* f) { max_id = std::max(max_id, ColumnMappingId(*f).value_or(0)); };
  (void)MapFieldList(schema.fields, raise);
  Schema out{MapFieldList(schema.fields, [&](StructField* f) {
    if (!f->metadata.is_object()) f->metadata = nlohmann::json::object();
    if (!f->metadata.contains(kColumnMappingIdKey)) f->metadata[kColumnMappingIdKey] = ++max_id;
    if (!f->metadata.contains(kPhysicalNameKey)) {
      f->metadata[kPhysicalNameKey] = "col-" + NewUuid();
    }
  })};
  (*configuration)[kMaxColumnIdKey] = std::to_string(max_id);
  return out;
}

Result<Schema> RenameColumn(const Schema& schema, const std::string& column,
                            const std::string& new_name) {
  if (new_name.empty()) return Status::InvalidArgument("a column cannot be renamed to ''");
  std::vector<StructField> fields = schema.fields;
  DL_RETURN_IF_ERROR(EditAt(
      &fields, SplitPath(column), 0, column, [&](std::vector<StructField>* siblings, size_t index) {
        for (size_t i = 0; i < siblings->size(); ++i) {
          if (i != index && SameColumnName((*siblings)[i].name, new_name)) {
            return Status::InvalidArgument("cannot rename column {} to {}: column {} exists",
                                           column, new_name, (*siblings)[i].name);
          }
        }
        (*siblings)[index].name = new_name;
        return Status::OK();
      }));
  return Schema{std::move(fields)};
}

Result<Schema> DropColumn(const Schema& schema, const std::string& column) {
  std::vector<StructField> fields = schema.fields;
  DL_RETURN_IF_ERROR(EditAt(
      &fields, SplitPath(column), 0, column, [&](std::vector<StructField>* siblings, size_t index) {
        if (siblings->size() == 1) {
          return Status::InvalidArgument(
              "cannot drop column {}: it is the only column of its struct", column);
        }
        siblings->erase(siblings->begin() + static_cast<long>(index));
        return Status::OK();
      }));
  return Schema{std::move(fields)};
}

}  // namespace dl::delta
