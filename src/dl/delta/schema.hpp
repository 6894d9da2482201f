// Delta table schema: the Spark StructType JSON of metaData.schemaString, as a C++ tree.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::delta {

struct DataType;
using DataTypePtr = std::shared_ptr<const DataType>;

struct StructField {
  std::string name;
  DataTypePtr type;
  bool nullable = true;
  nlohmann::json metadata = nlohmann::json::object();
  bool operator==(const StructField& o) const;
};

/// A Delta data type. Primitive names follow the protocol: string long integer short byte
/// float double boolean binary date timestamp timestamp_ntz variant; decimal carries
/// precision/scale; array, map and struct carry their children.
struct DataType {
  enum class Kind { kPrimitive, kDecimal, kArray, kMap, kStruct };
  Kind kind = Kind::kPrimitive;
  std::string name;                  // primitive name ("long"), or "decimal"/"array"/"map"/"struct"
  int precision = 0, scale = 0;      // decimal
  DataTypePtr element;               // array
  bool contains_null = true;         // array
  DataTypePtr key, value;            // map
  bool value_contains_null = true;   // map
  std::vector<StructField> fields;   // struct

  static DataTypePtr Primitive(std::string name);
  static DataTypePtr Decimal(int precision, int scale);
  static DataTypePtr Array(DataTypePtr element, bool contains_null = true);
  static DataTypePtr Map(DataTypePtr key, DataTypePtr value, bool value_contains_null = true);
  static DataTypePtr Struct(std::vector<StructField> fields);

  bool is_primitive(std::string_view n) const { return kind == Kind::kPrimitive && name == n; }
  /// Compact readable form: "long", "decimal(10,2)", "array<string>", "struct<a:long>".
  std::string ToString() const;
  bool operator==(const DataType& o) const;
};

/// The table schema: the top-level struct.
struct Schema {
  std::vector<StructField> fields;
  const StructField* Find(std::string_view name) const;  // exact (case-sensitive) match
  bool operator==(const Schema& o) const { return fields == o.fields; }
};

/// Whether two column names are the same to Delta and Spark: equal but for ASCII case.
bool SameColumnName(std::string_view a, std::string_view b);

Result<Schema> ParseSchemaString(std::string_view schema_string);
std::string SerializeSchema(const Schema& schema);
Result<DataTypePtr> ParseDataType(const nlohmann::json& j);
nlohmann::json DataTypeToJson(const DataType& type);

/// How MergeSchema treats columns of `incoming` that `table` lacks, and type differences.
struct SchemaMergeOptions {
  bool allow_new_columns = true;   ///< add new columns (always nullable)
  /// widen a column to a wider incoming type (delta/type_widening.hpp), recording the change
  /// in delta.typeChanges; only while the table's delta.enableTypeWidening is true
  bool allow_type_widening = false;
};

/// Evolve `table` to accept `incoming`: new (nested) columns are appended as nullable; an
/// identical or narrower incoming type keeps the table's type (the data is cast up); a wider
/// one widens the column when allowed; any other type change is a SchemaMismatch naming the
/// column and both types.
Result<Schema> MergeSchema(const Schema& table, const Schema& incoming,
                           const SchemaMergeOptions& options = {});

/// True if the schema (recursively) uses `primitive` (e.g. "timestamp_ntz").
bool SchemaUses(const Schema& schema, std::string_view primitive);
/// True if any field (recursively) is declared nullable:false.
bool SchemaHasNotNull(const Schema& schema);

}  // namespace dl::delta
