// What a table's config asks of an existing table's settings, for every engine: the table
// properties a write sets (and those it cannot change), and the clustering it must have.
#pragma once

#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/snapshot.hpp"

namespace dl::table {

inline constexpr char kClusteringKey[] = "clustering_columns";

/// Table properties of the config that the table lacks (or has with another value) are set
/// into `configuration`, as ALTER TABLE SET TBLPROPERTIES would; properties are never unset
/// this way. True if any changed. Unsupported (naming the table and the property) for those a
/// write cannot change on an existing table: CHECK constraints, row tracking, column mapping.
Result<bool> SetTableProperties(const delta::StringMap& wanted, delta::StringMap* configuration,
                                const std::string& root);

/// Clustering is chosen when a table is created; a config naming other columns than the
/// table's (or clustering an unclustered table) is a Config error, not silently ignored.
Status CheckClusteredBy(const delta::Snapshot& snapshot, const std::vector<std::string>& wanted,
                        const std::string& root);

}  // namespace dl::table
