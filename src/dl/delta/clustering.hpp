// Clustered tables (PROTOCOL.md "Clustered Table"): the clustering columns live in the
// `delta.clustering` domain as physical column-name paths; files a clustering implementation
// wrote carry its name in add.clusteringProvider.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/schema.hpp"

namespace dl::delta {

inline constexpr char kClusteringDomain[] = "delta.clustering";
/// Our clustering implementation (a sort, or Z-order, by the clustering columns).
inline constexpr char kClusteringProvider[] = "data_loader";

/// Whether `clustering` is among the protocol's writer features.
bool IsClustered(const Protocol& protocol);

/// The clustering columns by logical (schema) name, top-level columns only, from the
/// `delta.clustering` domain of `domains` (empty when there is none). Unsupported naming the
/// table for a nested clustering column; CorruptLog when the configuration or a column is not
/// the schema's.
Result<std::vector<std::string>> ClusteringColumns(
    const std::map<std::string, DomainMetadata>& domains, const Schema& schema,
    const std::string& table);

/// The `delta.clustering` domain for top-level `columns` (logical names) of `schema`, as
/// Spark writes it: {"clusteringColumns":[["<physical name>"],...],"domainName":...}.
DomainMetadata ClusteringDomain(const std::vector<std::string>& columns, const Schema& schema);

/// Config (a config error: exit 2 from `table write`) naming `key` when `columns` cannot cluster a table with `schema`: a column
/// is not a top-level column, is listed twice, has a type without min/max stats (struct,
/// array, map, boolean, binary), or the table is also partitioned.
Status CheckClusteringColumns(const std::vector<std::string>& columns, const Schema& schema,
                              const std::vector<std::string>& partition_columns,
                              const std::string& key, const std::string& table);

}  // namespace dl::delta
