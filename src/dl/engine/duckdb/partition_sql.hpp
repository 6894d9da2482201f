// Partition values in SQL: typed column -> Delta partition string (for writing) and Delta
// partition string -> typed value (for reading), per PROTOCOL.md "Partition Value
// Serialization".
#pragma once

#include <string>

#include "dl/common/status.hpp"
#include "dl/delta/schema.hpp"

namespace dl::engine::duck {

/// VARCHAR expression serializing `expr` (of Delta `type`): date 'YYYY-MM-DD', timestamp ISO UTC
/// 'YYYY-MM-DDTHH:MM:SS.ffffffZ', timestamp_ntz 'YYYY-MM-DD HH:MM:SS.ffffff', boolean
/// 'true'/'false', numbers and decimals as plain text, strings as is (empty string -> NULL,
/// which Delta treats alike). Unsupported naming `column` for binary and nested types.
Result<std::string> PartitionToStringSql(const std::string& expr, const delta::DataType& type,
                                         const std::string& column);

/// Expression parsing the Delta partition string `expr` to `type`. Timestamps accept both the
/// legacy "YYYY-MM-DD HH:MM:SS[.ffffff]" (taken as UTC) and ISO strings with Z or an offset.
Result<std::string> PartitionFromStringSql(const std::string& expr, const delta::DataType& type,
                                           const std::string& column);

}  // namespace dl::engine::duck
