#include "dl/strategy/source_position.hpp"

#include <fmt/format.h>

#include "dl/common/clock.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/transaction.hpp"

namespace dl::strategy {

Result<std::optional<int64_t>> RecordedSourceVersion(table::TableContext& ctx,
                                                     const delta::Snapshot& target,
                                                     const std::string& app_id) {
  DL_ASSIGN_OR_RETURN(auto latest,
                      delta::LatestLoaderCommit(ctx.fs, target.table_root(), target.version(),
                                                &target.log_segment()));
  // The latest loader commit: earlier ones had their txn committed before it was made.
  if (!latest || !latest->info.delta_source) return std::optional<int64_t>();
  const delta::DeltaSourceVersion& recorded = *latest->info.delta_source;
  if (recorded.app_id != app_id) return std::optional<int64_t>();
  return std::optional<int64_t>(recorded.version);
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
