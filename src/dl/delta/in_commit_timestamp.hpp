// In-commit timestamps (PROTOCOL.md "In-Commit Timestamps"): when a table has them, every
// commit carries commitInfo.inCommitTimestamp, strictly increasing from the enabling commit on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dl/delta/actions.hpp"

namespace dl::delta {

inline constexpr char kEnableInCommitTimestamps[] = "delta.enableInCommitTimestamps";
inline constexpr char kIctEnablementVersion[] = "delta.inCommitTimestampEnablementVersion";
inline constexpr char kIctEnablementTimestamp[] = "delta.inCommitTimestampEnablementTimestamp";

/// Enabled: writer feature inCommitTimestamp listed and delta.enableInCommitTimestamps=true.
bool InCommitTimestampsEnabled(const Protocol& protocol, const Metadata& metadata);

/// Where the in-commit timestamps of an enabled table start: the enablement version and
/// timestamp properties, or version 0 when the table had them from its creation.
struct IctEnablement {
  int64_t version = 0;
  std::optional<int64_t> timestamp_ms;
};
/// CorruptLog naming `table` when a property is there but not a whole number, or only one of
/// the two is set.
Result<IctEnablement> IctEnablementOf(const Metadata& metadata, const std::string& table);

/// Record in `metadata` that the commit of `version`, at `ict`, enables the feature on a table
/// with earlier commits (both enablement properties, as the protocol requires).
void SetIctEnablement(Metadata* metadata, int64_t version, int64_t ict);

/// The in-commit timestamp of commit `version`, which must have one (ICT enabled at it):
/// present and after `previous` (the preceding commit's, when it had one). CorruptLog naming
/// `table` and the version otherwise.
Result<int64_t> RequireInCommitTimestamp(const std::optional<CommitInfo>& info,
                                         std::optional<int64_t> previous, int64_t version,
                                         const std::string& table);

}  // namespace dl::delta
