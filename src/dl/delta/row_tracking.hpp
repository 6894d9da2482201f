// Row tracking (PROTOCOL.md "Row Tracking"): fresh row ids (add.baseRowId + row position) and
// row commit versions (add.defaultRowCommitVersion) for every file a commit adds, with the
// table's high-water mark in the `delta.rowTracking` domain.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"

namespace dl::delta {

inline constexpr char kRowTrackingDomain[] = "delta.rowTracking";
inline constexpr char kEnableRowTrackingKey[] = "delta.enableRowTracking";
inline constexpr char kRowIdColumnKey[] = "delta.rowTracking.materializedRowIdColumnName";
inline constexpr char kRowCommitVersionColumnKey[] =
    "delta.rowTracking.materializedRowCommitVersionColumnName";

/// delta.enableRowTracking is true in `configuration`.
bool EnablesRowTracking(const StringMap& configuration);
/// Writers must assign row ids: `rowTracking` is a writer feature and
/// delta.rowTrackingSuspended is not true.
bool AssignsRowIds(const Protocol& protocol, const Metadata& metadata);
/// Row ids are relied upon (delta.enableRowTracking=true on a supporting protocol): rewrites
/// must preserve them.
bool RowTrackingEnabled(const Protocol& protocol, const Metadata& metadata);

/// The rowIdHighWaterMark of the `delta.rowTracking` domain among `domains`, or -1 when
/// there is none. CorruptLog naming `table` when the configuration is not the protocol's.
Result<int64_t> RowIdHighWaterMark(const std::map<std::string, DomainMetadata>& domains,
                                   const std::string& table);
/// The same, from the actions of one commit (-1 when it has no `delta.rowTracking` domain).
Result<int64_t> RowIdHighWaterMark(const std::vector<Action>& actions, const std::string& table);

/// Give every add of `actions` that has no baseRowId fresh row ids above `high_water_mark`
/// (consecutive, numRecords each) and defaultRowCommitVersion `version`; then set the
/// `delta.rowTracking` domain to the new high-water mark (replacing one already in
/// `actions`). Adds that already carry a baseRowId (recommitted files, e.g. with a new
/// deletion vector) keep theirs. InvalidArgument naming the file when an add has no
/// numRecords in its stats.
Status AssignRowIds(std::vector<Action>* actions, int64_t high_water_mark, int64_t version,
                    const std::string& table);

/// Table properties for a new table with delta.enableRowTracking=true: the materialized
/// column names (unique per table), unless already set.
void AddRowTrackingColumnNames(StringMap* configuration);

}  // namespace dl::delta
