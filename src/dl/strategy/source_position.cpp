#include "dl/strategy/source_position.hpp"

#include <fmt/format.h>

#include "dl/common/clock.hpp"
#include "dl/delta/commit_range.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/transaction.hpp"

namespace dl::strategy {
namespace {

// Loader commits are found by walking back from the latest target version; other writers
// (OPTIMIZE, our own txn commits) may have committed since, but not this many.
constexpr int64_t kMaxWalkBack = 100;

}  // namespace

Result<std::optional<int64_t>> RecordedSourceVersion(table::TableContext& ctx,
                                                     const delta::Snapshot& target,
                                                     const std::string& app_id) {
  delta::CommitRangeOptions options;
  options.known = &target.log_segment();
  options.commit_info_only = true;
  for (int64_t v = target.version(); v >= 0 && v > target.version() - kMaxWalkBack; --v) {
    DL_ASSIGN_OR_RETURN(auto range,
                        delta::ReadCommitRange(ctx.fs, target.table_root(), v - 1, v, options));
    if (range.commits.empty()) break;  // cleaned up
    const delta::Commit& commit = range.commits.front();
    auto info = delta::LoaderCommitInfo::Of(commit.actions);
    if (!info.ok()) return info.status().WithContext(commit.path);
    if (!*info) continue;
    // The latest loader commit: earlier ones had their txn committed before it was made.
    const auto& recorded = (*info)->delta_source;
    if (!recorded || recorded->app_id != app_id) break;
    return std::optional<int64_t>(recorded->version);
  }
  return std::optional<int64_t>();
}

Status CommitSourceVersion(table::TableContext& ctx, const std::string& target_root,
                           const std::string& app_id, int64_t version) {
  // A concurrent loader's commit of the same txn conflicts; the retry sees what it recorded.
  for (int attempt = 0;; ++attempt) {
    DL_ASSIGN_OR_RETURN(auto snapshot,
                        delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, target_root));
    if (snapshot->TxnVersion(app_id).value_or(-1) >= version) return Status::OK();
    delta::Transaction tx(ctx.fs, &ctx.engine, target_root, snapshot);
    tx.Add(delta::SetTransaction{app_id, version, NowMs()});
    tx.read_set().app_ids.insert(app_id);
    tx.SetOperation("SET TRANSACTION", {});
    auto committed = tx.Commit();
    if (committed.ok()) return Status::OK();
    if (committed.status().code() != StatusCode::kCommitConflict || attempt >= 5) {
      return committed.status().WithContext(
          fmt::format("recording source version {} ({}) in {}", version, app_id, target_root));
    }
  }
}

}  // namespace dl::strategy
