// A batch on an engine that writes and commits itself (Spark), as every remote strategy
// prepares and finishes it (private to dl/strategy; remote_append.cpp).
#pragma once

#include <cstdint>
#include <memory>

#include "dl/delta/loader_commit_info.hpp"
#include "dl/engine/remote_load.hpp"
#include "dl/strategy/load_strategy.hpp"

namespace dl::strategy::internal {

/// The batch as the remote engine reads and commits it; `txn_version` is the batch's (kept
/// across retries of the same files).
struct RemoteBatch {
  engine::AppendOperation op;
  int64_t* txn_version = nullptr;
  int64_t applied_txn_version = 0;                  ///< the table's (0: none, or no table)
  std::shared_ptr<const delta::Snapshot> snapshot;  ///< the table's (null: none yet)
  delta::LoaderCommitInfo info;                     ///< what op.user_metadata says
};

/// The batch's operation, txn and commit metadata against the table's latest snapshot.
/// `fallback_version` holds the txn version of a batch without its own slot for it
/// (Batch::txn_version null); it must outlive the result.
Result<RemoteBatch> PrepareRemoteBatch(table::TableContext& ctx, const Target& target,
                                       const Batch& batch,
                                       const delta::CommitOptions& commit_options,
                                       int64_t& fallback_version);

/// After the engine's call: the commit holding the batch, or the error to retry with.
Result<int64_t> FinishRemoteBatch(table::TableContext& ctx, const Target& target,
                                  const Batch& batch, RemoteBatch& remote, const Status& called);

}  // namespace dl::strategy::internal
