// Helpers shared by the table operations (private to dl/table).
#pragma once

#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"

namespace dl::table::internal {

/// The remove action that retires `add` (carrying its deletion vector, per the protocol).
delta::RemoveFile RemoveFor(const delta::AddFile& add, int64_t now_ms, bool data_change);

/// Sum of numRecords over adds (files without stats count as 0).
int64_t CountRecords(const std::vector<delta::AddFile>& adds);
int64_t TotalBytes(const std::vector<delta::AddFile>& adds);

/// JSON array text of names, as Spark writes partitionBy/zOrderBy: ["a","b"].
std::string JsonList(const std::vector<std::string>& names);

}  // namespace dl::table::internal
