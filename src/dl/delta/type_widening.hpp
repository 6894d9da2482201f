// Type widening (table feature typeWidening, and Delta 3's typeWidening-preview): the type
// changes the protocol allows, the `delta.typeChanges` field metadata recording them, and the
// check readers owe. Data files written before a change keep the narrower type; readers
// convert their values to the current type (engine/duckdb/duckdb_snapshot.cpp casts every
// column to the table's type).
#pragma once

#include <string>

#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"

namespace dl::delta {

inline constexpr char kTypeChangesKey[] = "delta.typeChanges";
inline constexpr char kEnableTypeWideningKey[] = "delta.enableTypeWidening";

/// Whether the protocol's type widening allows changing `from` to `to` (never for equal
/// types): byte -> short -> integer -> long; float -> double; byte, short or integer -> double;
/// date -> timestamp_ntz; decimal(p,s) -> decimal(p+k1,s+k2) with k1 >= k2 >= 0; byte, short
/// or integer -> decimal(10+k1,k2) and long -> decimal(20+k1,k2). Each is lossless.
bool IsTypeWidening(const DataType& from, const DataType& to);

/// Whether writers may widen this table's column types (delta.enableTypeWidening=true).
bool TypeWideningEnabled(const StringMap& configuration);

/// Append the change `from` -> `to` to the field's delta.typeChanges. `field_path` locates a
/// changed array element or map key/value below the field ("element", "value.key", ...) and
/// is "" when the field's own type changed.
void RecordTypeChange(StructField* field, const DataType& from, const DataType& to,
                      const std::string& field_path);

/// Readers must support every change recorded in the schema's delta.typeChanges: Unsupported
/// naming `table`, the column and the change otherwise; CorruptLog for a malformed record.
Status CheckTypeChanges(const Schema& schema, const std::string& table);

/// ALTER COLUMN TYPE: the schema with top-level column `column` changed to `to` and the change
/// recorded. SchemaMismatch naming `table`, the column and both types when `to` is not a
/// widening of the column's type (narrowing or another change); NotFound for no such column.
Result<Schema> WidenColumn(const Schema& schema, const std::string& column, const DataType& to,
                           const std::string& table);

}  // namespace dl::delta
