// Table operations that need only the log: snapshots, history, checkpoint, vacuum, restore.
#include "dl/table/table.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "dl/common/clock.hpp"
#include "dl/delta/commit_range.hpp"
#include "dl/delta/deletion_vector.hpp"
#include "dl/delta/maintenance.hpp"
#include "dl/delta/partition.hpp"
#include "dl/storage/staging_dir.hpp"

namespace dl::table {

Result<std::shared_ptr<const delta::Snapshot>> LoadSnapshot(TableContext& ctx,
                                                            const std::string& root,
                                                            std::optional<int64_t> version,
                                                            std::optional<int64_t> timestamp_ms) {
  if (timestamp_ms) {
    return delta::Snapshot::LoadAtTimestamp(ctx.fs, &ctx.engine, root, *timestamp_ms);
  }
  return delta::Snapshot::Load(ctx.fs, &ctx.engine, root, version);
}

Result<std::vector<HistoryEntry>> History(TableContext& ctx, const std::string& root,
                                          std::optional<int64_t> limit) {
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(ctx, root));
  // Newest first: only the last `limit` commits are read. Versions log cleanup removed are
  // simply not in the history.
  const int64_t until = snapshot->version();
  const int64_t after = limit ? std::max<int64_t>(until - *limit, -1) : -1;
  delta::CommitRangeOptions options;
  options.commit_info_only = true;
  DL_ASSIGN_OR_RETURN(auto range, delta::ReadCommitRange(ctx.fs, root, after, until, options));
  std::vector<HistoryEntry> out;
  for (auto c = range.commits.rbegin(); c != range.commits.rend(); ++c) {
    HistoryEntry entry{c->version, c->modification_time_ms, nlohmann::ordered_json::object()};
    if (const delta::CommitInfo* ci = c->commit_info()) {
      entry.commit_info = ci->json;
      if (auto ts = ci->in_commit_timestamp()) {
        entry.timestamp_ms = *ts;
      } else if (auto ts2 = ci->timestamp()) {
        entry.timestamp_ms = *ts2;
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Status Checkpoint(TableContext& ctx, const std::string& root) {
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(ctx, root));
  return delta::WriteCheckpoint(ctx.fs, ctx.engine, *snapshot, NowMs());
}

Result<VacuumResult> Vacuum(TableContext& ctx, const std::string& root,
                            const VacuumOptions& options) {
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(ctx, root));
  std::optional<int64_t> retention_ms;
  if (options.retention_hours) {
    retention_ms = static_cast<int64_t>(*options.retention_hours * 3600.0 * 1000.0);
  }
  DL_ASSIGN_OR_RETURN(auto plan,
                      delta::PlanVacuum(ctx.fs, *snapshot, NowMs(), retention_ms, options.force));
  VacuumResult result;
  result.bytes = plan.bytes;
  for (const auto& f : plan.files) result.files.push_back(f.path);
  // In batches (one request per 1000 keys on S3). A file deleted concurrently (another
  // VACUUM) is already gone: not an error.
  constexpr size_t kDeleteBatch = 1000;
  for (size_t i = 0; !options.dry_run && i < result.files.size(); i += kDeleteBatch) {
    const auto first = result.files.begin() + static_cast<std::ptrdiff_t>(i);
    const auto last = result.files.begin() +
                      static_cast<std::ptrdiff_t>(std::min(result.files.size(), i + kDeleteBatch));
    DL_RETURN_IF_ERROR(ctx.fs.DeleteMany(std::vector<std::string>(first, last)));
  }
  // Staging directories of writers that died mid-write: VACUUM skips '_' directories for
  // data files, but these are no one's, once no live writer owns them and they are as old
  // as the retention.
  DL_ASSIGN_OR_RETURN(auto staging, StaleStagingDirs(root, NowMs() - plan.retention_ms));
  for (const auto& dir : staging) {
    if (!options.dry_run) DL_RETURN_IF_ERROR(RemoveStagingDir(dir.path));
    result.staging_dirs.push_back(dir.path);
    result.bytes += dir.bytes;
  }
  return result;
}

Result<WriteResult> Restore(TableContext& ctx, const std::string& root, int64_t version) {
  DL_ASSIGN_OR_RETURN(auto current, LoadSnapshot(ctx, root));
  if (version == current->version()) {
    return Status::InvalidArgument("table {} is already at version {}", root, version);
  }
  DL_ASSIGN_OR_RETURN(auto target, LoadSnapshot(ctx, root, version));
  // A logical file is its path and deletion vector: the same path with another DV differs.
  auto key = [](const delta::AddFile& f) {
    return f.path + (f.deletion_vector ? "\n" + f.deletion_vector->UniqueId() : "");
  };
  std::set<std::string> target_paths, current_paths;
  for (const auto& f : target->files()) target_paths.insert(key(f));
  for (const auto& f : current->files()) current_paths.insert(key(f));

  delta::Transaction tx(ctx.fs, &ctx.engine, root, current);
  tx.read_set().whole_table = true;
  WriteResult result;
  result.version = -1;
  int64_t now = NowMs();
  for (const auto& f : current->files()) {
    if (target_paths.count(key(f))) continue;
    tx.Add(delta::RemoveFile{f.path, now, true, true, f.partition_values, f.size, std::nullopt,
                             f.tags, f.deletion_vector, f.base_row_id,
                             f.default_row_commit_version});
    result.files_removed++;
  }
  for (auto f : target->files()) {
    if (current_paths.count(key(f))) continue;
    std::vector<std::string> needed{delta::ResolveDataPath(root, f.path)};
    if (f.deletion_vector && f.deletion_vector->storage_type != "i") {
      DL_ASSIGN_OR_RETURN(std::string dv, delta::DeletionVectorPath(root, *f.deletion_vector));
      needed.push_back(dv);
    }
    for (const auto& abs : needed) {
      DL_ASSIGN_OR_RETURN(bool exists, ctx.fs.Exists(abs));
      if (!exists) {
        return Status::NotFound(
            "cannot restore {} to version {}: file {} no longer exists (removed by VACUUM)", root,
            version, abs);
      }
    }
    f.data_change = true;
    tx.Add(std::move(f));
    result.files_added++;
  }
  if (!(target->metadata() == current->metadata())) {
    delta::Metadata md = target->metadata();
    tx.Add(std::move(md));
    result.schema_changed = !(target->schema() == current->schema());
  }
  tx.SetOperation("RESTORE", {{"version", std::to_string(version)}, {"timestamp", "null"}});
  tx.SetOperationMetrics({{"numRemovedFile", std::to_string(result.files_removed)},
                          {"numRestoredFile", std::to_string(result.files_added)},
                          {"tableSizeAfterRestore", std::to_string(target->TotalSize())},
                          {"numOfFilesAfterRestore", std::to_string(target->files().size())}});
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  result.version = commit.version;
  return result;
}

}  // namespace dl::table
