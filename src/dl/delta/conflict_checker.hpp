// Conflict detection for optimistic commits: does a commit that won the race invalidate what
// our transaction read or wrote? Mirrors Spark's ConflictChecker / delta-rs
// kernel/transaction/conflict_checker.rs.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/transaction.hpp"

namespace dl::delta {

/// How strictly concurrent appends are checked. Serializable: every dataChange add of the
/// winner into what we read conflicts. WriteSerializable: adds of a winner that was itself a
/// blind append do not (the appended rows can be ordered after our commit).
enum class IsolationLevel { kSerializable, kWriteSerializable };

const char* IsolationLevelName(IsolationLevel level);
/// The table's delta.isolationLevel; Serializable unless it says WriteSerializable.
IsolationLevel TableIsolationLevel(const Metadata& metadata);

struct Conflict {
  enum class Kind {
    kProtocolChanged,
    kMetadataChanged,
    kConcurrentAppend,
    kConcurrentDeleteRead,
    kConcurrentDeleteDelete,
    kConcurrentTransaction,
    kConcurrentDomainMetadata,
    kTableCreated,
  };
  Kind kind = Kind::kProtocolChanged;
  std::string detail;  ///< which file, partition, app id or domain

  /// Short human reason, e.g. "concurrent append: file a.parquet added to partition {k=a}".
  std::string Reason() const;
};

/// What the current transaction depends on, captured once before retries.
struct CurrentTransactionInfo {
  ReadSet read_set;
  std::vector<std::string> partition_columns;
  /// Paths of the read snapshot's files that the read set covers (all when whole_table).
  std::set<std::string> read_paths;     ///< percent-decoded, as are removed_paths
  std::set<std::string> removed_paths;  ///< paths our transaction removes
  std::set<std::string> app_ids;        ///< read app ids plus app ids of our txn actions
  std::set<std::string> domains;        ///< domains our transaction writes
  IsolationLevel isolation = IsolationLevel::kSerializable;
};

/// Build the info from the read snapshot (may be null when creating) and our actions.
CurrentTransactionInfo MakeTransactionInfo(const Snapshot* read_snapshot, const ReadSet& read_set,
                                           const std::vector<Action>& actions,
                                           IsolationLevel isolation);

/// True if `values` falls in the partition `filter` (every column of the filter matches;
/// empty string and null are the same value).
bool PartitionMatches(const PartitionValues& filter, const PartitionValues& values);

class ConflictChecker {
 public:
  explicit ConflictChecker(CurrentTransactionInfo info) : info_(std::move(info)) {}

  /// The first conflict between our transaction and one winning commit, or nullopt if we can
  /// safely commit after it.
  std::optional<Conflict> Check(const std::vector<Action>& winning) const;

  const CurrentTransactionInfo& info() const { return info_; }

 private:
  bool ReadCovers(const PartitionValues& values) const;
  std::optional<Conflict> CheckAdds(const std::vector<Action>& winning, bool winner_blind) const;
  std::optional<Conflict> CheckRemoves(const std::vector<Action>& winning) const;

  CurrentTransactionInfo info_;
};

/// The operation of a commit (commitInfo.operation), or "an unknown operation".
std::string WinningOperation(const std::vector<Action>& winning);

/// CommitConflict "commit to <table> conflicts with version N (<reason>, by <operation>);
/// re-plan against the new snapshot".
Status ConflictStatus(const std::string& table, int64_t version, const Conflict& conflict,
                      const std::string& operation);

}  // namespace dl::delta
