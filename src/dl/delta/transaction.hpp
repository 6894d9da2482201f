// Transaction: stage actions against a read snapshot and commit them with optimistic
// concurrency (put-if-absent + conflict detection against the winning commits).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta {

/// What a transaction read; conflict detection compares it with concurrent commits.
struct ReadSet {
  bool whole_table = false;  ///< read every file (merge/overwrite/optimize without predicate)
  /// Read only these partitions (each a full partition-value tuple); ignored if whole_table.
  std::vector<PartitionValues> partitions;
  std::set<std::string> app_ids;  ///< txn app ids read (idempotent writes)
  bool is_blind_append() const { return !whole_table && partitions.empty(); }
};

struct CommitOptions {
  int max_retries = 15;          ///< bounded retries on lost races
  int base_backoff_ms = 5;       ///< exponential backoff with jitter between retries
  int max_backoff_ms = 1000;
  /// Extra check of each commit that won a race, after the protocol's conflict checks pass
  /// (e.g. the loader refuses to commit files another writer loaded meanwhile). A non-OK
  /// status aborts the commit with that status.
  std::function<Status(int64_t version, const std::vector<Action>& winning)> check_winner;
};

struct CommitResult {
  int64_t version = -1;
  int attempts = 1;
  bool checkpoint_written = false;
};

class ParquetHandler;
enum class IsolationLevel;

class Transaction {
 public:
  /// Start a transaction on an existing table (read_snapshot) or, with a null snapshot, one
  /// that creates the table at `table_root` (must then include protocol and metaData).
  Transaction(FileSystem& fs, ParquetHandler* parquet, std::string table_root,
              std::shared_ptr<const Snapshot> read_snapshot);

  /// Operation name and parameters for commitInfo ("WRITE", {"mode":"Append"}); values are
  /// JSON-encoded strings as Spark writes them.
  void SetOperation(std::string operation, StringMap parameters);
  void SetOperationMetrics(StringMap metrics);
  /// Extra commitInfo fields (e.g. our "dataLoader": {"sourceFiles": [...]}).
  void SetCommitInfoField(const std::string& key, nlohmann::ordered_json value);

  void Add(Action action);
  void AddAll(std::vector<Action> actions);
  ReadSet& read_set() { return read_set_; }

  const std::shared_ptr<const Snapshot>& read_snapshot() const { return read_snapshot_; }
  int64_t read_version() const { return read_snapshot_ ? read_snapshot_->version() : -1; }

  /// Validate (protocol features we can write, one metaData/protocol, no duplicate paths,
  /// appendOnly, NOT NULL only when the data was checked by the caller), then commit.
  /// With in-commit timestamps (see in_commit_timestamp.hpp) commitInfo.inCommitTimestamp is
  /// max(now, previous commit's + 1), the previous being the last winner after a lost race.
  /// On a lost race: check every winning commit for conflicts (protocol/metadata change,
  /// concurrent append into what we read, delete of a file we read or removed, same txn app
  /// id, same domain); retry at the next version if none, else CommitConflict naming the
  /// winning version and the reason. Writes a checkpoint when the new version is a multiple
  /// of delta.checkpointInterval (default 10) and `parquet` is set.
  Result<CommitResult> Commit(const CommitOptions& options = {});

 private:
  nlohmann::ordered_json CommitInfoJson(IsolationLevel isolation) const;

  FileSystem& fs_;
  ParquetHandler* parquet_;
  std::string table_root_;
  std::shared_ptr<const Snapshot> read_snapshot_;
  std::string operation_ = "WRITE";
  StringMap operation_parameters_;
  StringMap operation_metrics_;
  nlohmann::ordered_json extra_commit_info_ = nlohmann::ordered_json::object();
  std::vector<Action> actions_;
  ReadSet read_set_;
  bool committed_ = false;  ///< a transaction commits at most once
};

/// The engine string we put in commitInfo.engineInfo.
std::string EngineInfo();

}  // namespace dl::delta
