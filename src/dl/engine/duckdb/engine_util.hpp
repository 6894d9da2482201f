// Small helpers shared by the DuckDB engine's source files.
#pragma once

#include <string>
#include <string_view>

namespace dl::engine::duck {

/// A random (version 4) UUID, for unique file and directory names.
std::string NewUuid();
/// ASCII lower case, for case-insensitive column name matching as Delta and DuckDB do.
std::string AsciiLower(std::string_view s);

}  // namespace dl::engine::duck
