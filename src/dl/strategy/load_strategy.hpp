// Loading strategies: how one batch of source files becomes one commit on its target table.
// The loader decides which files form a batch and retries; a strategy only turns the batch
// into rows and commits them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/delta/transaction.hpp"
#include "dl/engine/remote_load.hpp"
#include "dl/strategy/source.hpp"
#include "dl/table/table.hpp"

namespace dl::strategy {

/// One batch of source files for one table, in load order (modification time, then path).
struct Batch {
  std::string id;
  std::vector<table::SourceFile> files;
  int64_t load_time_ms = 0;
  /// Commits up to this version are known not to hold any of `files` (-1: none checked).
  /// Later ones, up to the snapshot the batch reads, are checked with the commit options'
  /// check_winner before anything is written; the commit itself checks the rest.
  int64_t checked_version = -1;
  /// Set when the table's source is a Delta table: `files` are its data files, and the
  /// commit records the source version loaded in a txn.
  std::shared_ptr<const DeltaSource> delta_source;
  /// On an engine that commits itself (Spark): the batch's txn version, kept by the caller
  /// across retries of the same files so the engine skips a write that already landed
  /// (0: take the next one; reset to 0 when the version turns out to be another's).
  int64_t* txn_version = nullptr;
};

/// Where a batch goes.
struct Target {
  const config::TableConfig& config;
  std::string root;          ///< the Delta table's directory
  std::string display_name;  ///< "database.table" for messages
  /// Set when the table runs on an engine that writes and commits itself (engine: spark).
  engine::RemoteLoadEngine* remote = nullptr;
};

struct BatchOutcome {
  table::WriteResult write;
  /// Rows each source file contributed to the table (after dedup); empty when the audit
  /// source-file column is off.
  std::map<std::string, int64_t> rows_per_file;
  /// False when they could not be counted after the commit (the files are loaded; their rows
  /// are not known).
  bool rows_per_file_known = true;
};

/// Whether batches of this table may commit in parallel: only blind appends can; anything
/// that reads the target (dedup against it, merges) runs one batch at a time.
bool BatchesMayRunInParallel(const config::TableConfig& table);

/// Whether all of a run's new files form one batch: an overwrite replaces the table with
/// everything that arrived, and an SCD2 batch with retire_absent_keys is a full snapshot
/// (keys it lacks are closed), so neither can be split into commits.
bool LoadsWholeRunAsOneBatch(const config::TableConfig& table);

/// Apply commit_options.check_winner to the table's commits (after, snapshot's version]: what
/// happened between planning a batch and reading the snapshot it is computed from. Commits
/// log cleanup removed are older than anything a running loader planned against: skipped.
Status CheckCommitsSince(table::TableContext& ctx, const delta::Snapshot& snapshot, int64_t after,
                         const delta::CommitOptions& options);

/// Load `batch` into `target` with the table's strategy and commit it. `commit_options`
/// carries the loader's check of concurrent winners (files another writer loaded).
Result<BatchOutcome> LoadBatch(table::TableContext& ctx, const Target& target, const Batch& batch,
                               const delta::CommitOptions& commit_options);

/// Append or overwrite (full, dynamic partitions, replace_where) on target.remote (an engine that writes and
/// commits itself): one command per batch.
Result<BatchOutcome> LoadRemoteAppend(table::TableContext& ctx, const Target& target,
                                      const Batch& batch,
                                      const delta::CommitOptions& commit_options);

/// Merge on target.remote: one MERGE command per batch.
Result<BatchOutcome> LoadRemoteMerge(table::TableContext& ctx, const Target& target,
                                     const Batch& batch,
                                     const delta::CommitOptions& commit_options);

/// SCD2 on target.remote: one MERGE command per batch (and, with sequence_column, an append
/// to the change store before it).
Result<BatchOutcome> LoadRemoteScd2(table::TableContext& ctx, const Target& target,
                                    const Batch& batch,
                                    const delta::CommitOptions& commit_options);

/// What the remote engine (Spark, reading a Delta source's data files as parquet) cannot read
/// correctly in `source`: Unsupported naming the source table, `table` and the feature
/// (column mapping, type widening, deletion vectors, a binary or nested partition column).
/// Checked when the run is planned, before anything is written.
Status CheckRemoteDeltaSource(const DeltaSource& source, const std::string& table);

/// The txn app id of the table's commits on a remote engine (named for the first strategy
/// that used it; kept so that a table's recorded versions stay its own).
std::string RemoteTxnAppId(const Target& target);

}  // namespace dl::strategy
