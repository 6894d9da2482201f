// OPTIMIZE: bin-pack small files per partition into files near the target size
// (dataChange=false, so streaming readers skip the rewrite), optionally ordered. A clustered
// table is clustered instead: its unclustered and small files are rewritten sorted (one
// clustering column) or Z-ordered (several) by the clustering columns. Files whose
// deletion vector hides more than 5% of their rows are rewritten without those rows (as
// Delta's OPTIMIZE does with delta.optimize.maxDeletedRowsRatio).
#include <algorithm>
#include <map>

#include "dl/common/clock.hpp"
#include "dl/delta/clustering.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/parquet_codec.hpp"
#include "dl/delta/stats.hpp"
#include "dl/table/table.hpp"
#include "dl/table/table_internal.hpp"

namespace dl::table {
namespace {

constexpr double kMaxDeletedRowsRatio = 0.05;

bool WorthPurging(const delta::AddFile& f) {
  if (!f.deletion_vector) return false;
  auto records = delta::ParseStats(f.stats).num_records;
  if (!records || *records <= 0) return true;
  return static_cast<double>(f.deletion_vector->cardinality) >
         kMaxDeletedRowsRatio * static_cast<double>(*records);
}

// The files of one partition that OPTIMIZE should rewrite together.
std::map<delta::PartitionValues, std::vector<delta::AddFile>> PlanBins(
    const delta::Snapshot& snapshot, const OptimizeOptions& options, bool clustered) {
  int64_t min_size = options.min_file_size_bytes > 0 ? options.min_file_size_bytes
                                                     : options.target_file_size_bytes * 3 / 4;
  bool ordering = !options.order_by.empty();
  std::map<delta::PartitionValues, std::vector<delta::AddFile>> by_partition;
  for (const auto& f : snapshot.files()) {
    if (clustered) {
      // Files another clustering implementation wrote are its to recluster (PROTOCOL.md
      // "Clustered Table"); ours that are big enough are already clustered.
      const auto& provider = f.clustering_provider;
      bool ours = provider && *provider == delta::kClusteringProvider;
      if ((provider && !ours) || (ours && f.size >= min_size && !WorthPurging(f))) continue;
      by_partition[f.partition_values].push_back(f);
      continue;
    }
    // With an ordering every file takes part (the point is to re-cluster the partition);
    // plain compaction leaves files that are already big enough alone.
    if (ordering || f.size < min_size || WorthPurging(f)) {
      by_partition[f.partition_values].push_back(f);
    }
  }
  for (auto it = by_partition.begin(); it != by_partition.end();) {
    // A single small file gains nothing from being rewritten alone (unless re-sorting or
    // dropping deleted rows).
    bool purge = std::any_of(it->second.begin(), it->second.end(), WorthPurging);
    // A lone file of ours is already clustered; only unclustered files need it alone.
    bool unclustered = std::any_of(it->second.begin(), it->second.end(),
                                   [](const delta::AddFile& f) { return !f.clustering_provider; });
    bool reorder = clustered ? unclustered : ordering;
    if (it->second.size() < 2 && !reorder && !purge) {
      it = by_partition.erase(it);
    } else {
      ++it;
    }
  }
  return by_partition;
}

// A clustered table is optimized by its clustering columns: sorted by one, Z-ordered by
// several. Empty when the table is not clustered (or clustered by no column).
Result<std::vector<std::string>> ClusterBy(const delta::Snapshot& snapshot,
                                           const OptimizeOptions& options,
                                           const std::string& root) {
  if (!delta::IsClustered(snapshot.protocol())) return std::vector<std::string>{};
  DL_ASSIGN_OR_RETURN(auto columns,
                      delta::ClusteringColumns(snapshot.domains(), snapshot.schema(), root));
  if (!columns.empty() && !options.order_by.empty() && options.order_by != columns) {
    return Status::InvalidArgument(
        "table {} is clustered by {}: OPTIMIZE orders its rows by those columns, not by {}",
        root, internal::JsonList(columns), internal::JsonList(options.order_by));
  }
  return columns;
}

}  // namespace

Result<OptimizeResult> Optimize(TableContext& ctx, const std::string& root,
                                const OptimizeOptions& requested) {
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(ctx, root));
  DL_ASSIGN_OR_RETURN(auto cluster_by, ClusterBy(*snapshot, requested, root));
  const bool clustered = !cluster_by.empty();
  OptimizeOptions options = requested;
  if (clustered) {
    options.order_by = cluster_by;
    options.zorder = cluster_by.size() > 1;
  }
  for (const auto& col : options.order_by) {
    if (!snapshot->schema().Find(col)) {
      return Status::InvalidArgument("cannot order {} by '{}': no such column", root, col);
    }
    for (const auto& p : snapshot->partition_columns()) {
      if (p == col) {
        return Status::InvalidArgument(
            "cannot order {} by partition column '{}': files are already split by it", root,
            col);
      }
    }
  }
  auto bins = PlanBins(*snapshot, options, clustered);
  OptimizeResult result;
  if (bins.empty()) return result;

  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  int64_t now = NowMs();
  engine::WriteOptions wopts;
  wopts.partition_columns = snapshot->partition_columns();
  wopts.column_mapping = delta::UsesColumnMapping(snapshot->metadata().configuration);
  DL_ASSIGN_OR_RETURN(wopts.compression,
                      delta::ParquetCodecOf(snapshot->metadata().configuration, root));
  wopts.target_file_size_bytes = options.target_file_size_bytes;
  wopts.order_by = options.order_by;
  wopts.zorder = options.zorder;
  const std::string view = "__dl_optimize_src";
  for (auto& [partition, files] : bins) {
    // Rows keep their row ids and row commit versions on a row tracking table.
    DL_ASSIGN_OR_RETURN(auto copied, internal::CopyRows(ctx, *snapshot, view, files, root));
    DL_ASSIGN_OR_RETURN(auto adds,
                        ctx.engine.WriteDataFiles(copied.sql, root, copied.file_schema, wopts));
    for (const auto& f : files) tx.Add(internal::RemoveFor(f, now, false));
    for (auto& a : adds) {
      a.data_change = false;
      if (clustered) a.clustering_provider = delta::kClusteringProvider;
      tx.Add(std::move(a));
      result.files_added++;
    }
    result.files_removed += static_cast<int64_t>(files.size());
    result.partitions_optimized++;
    tx.read_set().partitions.push_back(partition);
  }
  if (snapshot->partition_columns().empty()) tx.read_set().whole_table = true;
  delta::StringMap params{{"predicate", "[]"}};
  params[options.zorder ? "zOrderBy" : "sortBy"] = internal::JsonList(options.order_by);
  tx.SetOperation("OPTIMIZE", std::move(params));
  tx.SetOperationMetrics({{"numRemovedFiles", std::to_string(result.files_removed)},
                          {"numAddedFiles", std::to_string(result.files_added)},
                          {"partitionsOptimized", std::to_string(result.partitions_optimized)}});
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  result.version = commit.version;
  return result;
}

}  // namespace dl::table
