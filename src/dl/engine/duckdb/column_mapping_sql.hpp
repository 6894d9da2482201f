// Column mapping in SQL: data files name columns (nested ones too) by their physical names, the
// table by its display names. These build the expressions that convert between the two, and
// the FIELD_IDS option that writes each column's id as its Parquet field_id.
#pragma once

#include <string>

#include "dl/common/status.hpp"
#include "dl/delta/schema.hpp"

namespace dl::engine::duck {

/// `expr` (of type `src`) with its nested struct fields renamed along `logical` (the table's
/// type of the column, whose fields carry column mapping metadata). to_physical: `src` is
/// `logical` and the result names fields physically (for writing). Otherwise `src` is the
/// file's type with physical names, matched case-insensitively; fields the file lacks are NULL
/// (for reading). Types without structs come back unchanged; the caller still casts.
Result<std::string> RemapNestedSql(const std::string& expr, const delta::DataType& src,
                                   const delta::DataType& logical, bool to_physical);

/// COPY's FIELD_IDS value for `data_schema` (logical, with column mapping metadata): every
/// column and nested struct field by physical name with its delta.columnMapping.id.
std::string FieldIdsSql(const delta::Schema& data_schema);

}  // namespace dl::engine::duck
