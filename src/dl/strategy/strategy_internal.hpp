// Pieces every strategy's commit shares (private to dl/strategy).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dl/strategy/load_strategy.hpp"

namespace dl::strategy::internal {

/// Test hooks (strategy_internal.cpp PauseForTests): the environment variables naming a file
/// whose creation releases the held process.
inline constexpr const char* kPauseBeforeCommit = "DL_TEST_PAUSE_BEFORE_COMMIT";
/// After a remote engine commits a batch (a Delta source's: before our commit of the source txn).
inline constexpr const char* kPauseAfterRemoteCommit = "DL_TEST_PAUSE_AFTER_REMOTE_COMMIT";
Status PauseForTests(FileSystem& fs, const char* variable);

/// The table's latest snapshot with its file list; null when there is no table yet.
Result<std::shared_ptr<const delta::Snapshot>> LoadTarget(table::TableContext& ctx,
                                                          const std::string& root);

/// SchemaMismatch naming `key` and the column when one of `wanted` is not in `have`.
Status CheckColumnsPresent(const std::vector<std::string>& wanted,
                           const std::vector<std::string>& have, const char* key,
                           const Target& target);

/// The table-write evolution mode for the table's schema_evolution_mode.
table::SchemaEvolution WriteEvolution(const config::TableConfig& t);

/// Fill what every batch commit carries: the source files, commit options, the check that no
/// source file changed while it was read and, for a Delta source, the txn recording the
/// source version. Returns the txn's app id (empty: no txn).
std::string PrepareBatchCommit(table::TableContext& ctx, const Batch& batch,
                               const delta::Snapshot* snapshot,
                               const delta::CommitOptions& commit_options,
                               table::WriteRequest& req);

/// The columns a SQL predicate (delete_condition, named by `key`) refers to, as the engine's
/// parser reads it (engine::CheckExpression). InvalidArgument when it is not an allowed
/// expression over the row.
Result<std::vector<std::string>> PredicateColumns(engine::Engine& engine,
                                                  const std::string& predicate, const char* key);

/// A write skipped because its txn was applied: another loader loaded that source version.
Status TxnTakenError(const std::string& app_id, const Target& target);

/// Debug log of how long each phase of a batch took ("<what> phase", table, phase, ms).
class PhaseTimer {
 public:
  PhaseTimer(std::string what, std::string table)
      : message_(std::move(what) + " phase"), table_(std::move(table)) {}
  /// Log the time since the previous call (or construction) as phase `name`.
  void operator()(const char* name);

 private:
  std::string message_, table_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace dl::strategy::internal
