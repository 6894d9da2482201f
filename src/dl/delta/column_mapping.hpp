// Column mapping (delta.columnMapping.mode name / id): every column, nested ones too, has a
// stable physical name and id in its field metadata. Data files, partition values and stats
// use the physical names; the schema's names are display names that RENAME COLUMN changes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"

namespace dl::delta {

enum class ColumnMappingMode { kNone, kName, kId };

inline constexpr const char* kColumnMappingModeKey = "delta.columnMapping.mode";
inline constexpr const char* kColumnMappingIdKey = "delta.columnMapping.id";
inline constexpr const char* kPhysicalNameKey = "delta.columnMapping.physicalName";
inline constexpr const char* kMaxColumnIdKey = "delta.columnMapping.maxColumnId";

/// The table's mode; an unknown value is kept as an error by CheckColumnMapping.
ColumnMappingMode GetColumnMappingMode(const StringMap& configuration);
inline bool UsesColumnMapping(const StringMap& configuration) {
  return GetColumnMappingMode(configuration) != ColumnMappingMode::kNone;
}

/// The field's delta.columnMapping.physicalName, or its name when it has none.
std::string PhysicalName(const StructField& field);
/// The field's delta.columnMapping.id, if it has one.
std::optional<int64_t> ColumnMappingId(const StructField& field);

/// The schema as the data files store it: every field, nested ones too, named by its physical
/// name (metadata kept, so ids stay at hand).
Schema PhysicalSchema(const Schema& schema);
DataTypePtr PhysicalType(const DataTypePtr& type);

/// The physical name of top-level column `name` (`name` itself when absent).
std::string PhysicalColumnName(const Schema& schema, const std::string& name);

/// For a table whose mode is name or id: every field carries an id and a physical name, ids are
/// unique, and no two sibling fields share a physical name. Unsupported for an unknown mode;
/// CorruptLog naming the column otherwise.
Status CheckColumnMapping(const Schema& schema, const StringMap& configuration,
                          const std::string& table);

/// Schema evolution on a column-mapped table: fields lacking column mapping metadata (new
/// columns) get the next ids above delta.columnMapping.maxColumnId and physical names
/// col-<uuid>; the property is raised to the largest id used.
Schema AssignColumnMapping(const Schema& schema, StringMap* configuration);

/// `column` (a dotted path into nested structs: "st.x") renamed to `new_name`, keeping its
/// physical name and id. InvalidArgument naming the column when it is absent or a sibling
/// already has the name (compared case-insensitively, as Spark does).
Result<Schema> RenameColumn(const Schema& schema, const std::string& column,
                            const std::string& new_name);
/// The schema without `column` (a dotted path). InvalidArgument when it is absent or is the
/// last column of its struct.
Result<Schema> DropColumn(const Schema& schema, const std::string& column);

}  // namespace dl::delta
