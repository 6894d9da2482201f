// Where a target stands in its Delta source when an engine that commits the target itself
// (Spark) loads it: that commit carries only the table's own txn (its idempotency, shared with
// every other batch of the table, so two loaders planning from the same state collide and one
// write is skipped), and records the source version loaded in our commit metadata. The
// source's txn, which the planner reads (DuckDB's commits carry it), is committed right after;
// a crash between the two is rolled forward from the metadata before the next plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dl/delta/snapshot.hpp"
#include "dl/table/table.hpp"

namespace dl::strategy {

/// The source version `app_id` that the target's latest loader commit recorded in its
/// metadata (commitInfo.dataLoader.deltaSource); nullopt when that commit records none (or
/// the log no longer holds it).
Result<std::optional<int64_t>> RecordedSourceVersion(table::TableContext& ctx,
                                                     const delta::Snapshot& target,
                                                     const std::string& app_id);

/// Commit the txn `app_id` = `version` to the target at `target_root` (a commit of nothing
/// else); nothing happens when its txn for `app_id` already says `version` or more.
Status CommitSourceVersion(table::TableContext& ctx, const std::string& target_root,
                           const std::string& app_id, int64_t version);

}  // namespace dl::strategy
