// Partition values and data-file paths (PROTOCOL.md "Partition Value Serialization").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dl/delta/actions.hpp"

namespace dl::delta {

inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

/// Hive-escape a partition value for a directory name: %XX for control characters,
/// "#%'*/:=?\{[]^` and 0x7F; everything else (spaces, non-ASCII) kept.
std::string HiveEscape(std::string_view value);
std::string HiveUnescape(std::string_view value);

/// "a=1/b=__HIVE_DEFAULT_PARTITION__" for the given columns in order; "" when unpartitioned.
/// Empty strings and nullopt both mean null.
std::string PartitionDirectory(const std::vector<std::string>& columns,
                               const PartitionValues& values);

/// The value an add's partitionValues hold for partition column `column`: by its exact name,
/// else by a key equal but for case (Delta's column names are case-insensitive, and some
/// writers key partitionValues in another case than partitionColumns). nullopt: null or absent.
std::optional<std::string> PartitionValueOf(const PartitionValues& values,
                                            const std::string& column);

/// URI-encode a relative path for add.path (RFC 2396: space -> %20, % -> %25, other
/// reserved/unsafe ASCII escaped; '/' and non-ASCII kept).
std::string UriEncodePath(std::string_view path);
/// Decode %XX escapes exactly once.
std::string UriDecodePath(std::string_view path);

/// The absolute local path of a file action's path relative to table_root (decoded).
/// Absolute URIs (file:/..., file:///...) are resolved too.
std::string ResolveDataPath(const std::string& table_root, std::string_view add_path);

}  // namespace dl::delta
