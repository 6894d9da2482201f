// Table operations: the Delta protocol (dl::delta) and an engine (dl::engine) put together.
// Strategies and the CLI use these; none of them writes SQL against files themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dl/delta/deletion_vector.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/delta/transaction.hpp"
#include "dl/engine/engine.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::table {

/// Where a table lives and what reads/writes it.
struct TableContext {
  FileSystem& fs;
  engine::Engine& engine;
};

/// Load the latest snapshot, or one by version or timestamp (ms since epoch).
Result<std::shared_ptr<const delta::Snapshot>> LoadSnapshot(
    TableContext& ctx, const std::string& root, std::optional<int64_t> version = {},
    std::optional<int64_t> timestamp_ms = {});

enum class WriteMode { kAppend, kOverwrite };
enum class SchemaEvolution { kNone, kAddNewColumns };

/// A source file a commit loaded; recorded in commitInfo so the table's own log says which
/// files it contains (exactly-once reconciliation reads it back).
using SourceFile = delta::SourceFile;

/// Rows of one data file a write marks deleted.
struct RowDeletes {
  delta::AddFile file;      ///< the live add (with its current deletion vector, if any)
  delta::RowIndexes rows;   ///< row indexes in the file, sorted and unique
};

/// Whether writes to this table mark rows deleted with deletion vectors instead of
/// rewriting files: the table property delta.enableDeletionVectors=true on a protocol that
/// lists the deletionVectors writer feature.
bool UsesDeletionVectors(const delta::Snapshot& snapshot);

/// The rows of `rows_sql` (a query with the `_dl_file` and `_dl_row` columns of a view
/// registered with RegisterSnapshotWithFileColumn over `snapshot`), grouped by file.
Result<std::vector<RowDeletes>> CollectRowDeletes(engine::Engine& engine,
                                                  const delta::Snapshot& snapshot,
                                                  const std::string& rows_sql);

/// Row tracking: whether a write that copies or updates rows of `snapshot` must carry their
/// row ids (WriteRequest::carries_row_ids), i.e. delta.enableRowTracking is on. Unsupported
/// naming the table when it is on but rewritten rows cannot keep their ids (the table names no
/// materialized row tracking columns).
Result<bool> KeepsRowIds(const delta::Snapshot& snapshot, const std::string& root);

/// Unsupported naming the table and the column when `columns` (a batch's) include an identity
/// column of `snapshot` whose values the table allocates (delta.identity.allowExplicitInsert
/// false): a rewrite could not tell a value given by hand from a row's kept one.
Status RefuseGivenIdentityValues(const delta::Snapshot& snapshot,
                                 const std::vector<std::string>& columns,
                                 const std::string& root);

struct WriteRequest {
  std::string source_sql;  ///< rows to write (a query over registered views)
  WriteMode mode = WriteMode::kAppend;
  /// With kOverwrite on a partitioned table: replace only the partitions the rows fall into.
  bool dynamic_partition_overwrite = false;
  std::vector<std::string> partition_by;  ///< for a new table; must match an existing one
  /// Clustering columns (config `clustering_columns`): a new table is created clustered by
  /// them; an existing table must be clustered by exactly these. Empty: no requirement.
  std::vector<std::string> cluster_by;
  SchemaEvolution schema_evolution = SchemaEvolution::kNone;
  delta::StringMap configuration;            ///< table properties for a new table
  std::optional<delta::SetTransaction> txn;  ///< idempotent write: skipped if already applied
  /// The rows were computed from the table (e.g. dedup against it): a concurrent commit that
  /// adds or removes files then conflicts instead of being blindly appended past.
  bool reads_table = false;
  /// The snapshot the rows were computed from (latest when unset; a null pointer: the table
  /// did not exist, so the write creates it or conflicts); commits are checked against what
  /// happened after it.
  std::optional<std::shared_ptr<const delta::Snapshot>> read_snapshot;
  /// Copy-on-write: files of the read snapshot this write replaces. They are removed in the
  /// same commit, so `source_sql` must include the rows of theirs that survive.
  std::vector<delta::AddFile> rewritten_files;
  /// Deletion vectors: rows of live files of the read snapshot this write deletes in place
  /// (the file stays; its deletion vector grows). Only for tables with deletion vectors
  /// enabled (see UsesDeletionVectors).
  std::vector<RowDeletes> row_deletes;
  /// Row tracking: `source_sql` also has the columns engine::kRowIdColumn and
  /// engine::kRowCommitVersionColumn (BIGINT): the row id a row keeps (NULL: a new row, fresh
  /// id) and the row commit version it keeps (NULL: changed by this commit). They are written
  /// to the table's materialized row tracking columns (not to its schema), which is what lets
  /// a write rewrite rows of a table with delta.enableRowTracking=true; dropped on other tables.
  bool carries_row_ids = false;
  /// Identity columns: the rows of the table the write carries again (copied, updated, closed)
  /// keep their identity values and new rows leave them NULL (allocated above the high-water
  /// mark), or give one where delta.identity.allowExplicitInsert allows it (the strategy
  /// refused a batch giving values the table allocates: RefuseGivenIdentityValues). A rewrite
  /// of an identity table without it is refused.
  bool keeps_identity_values = false;
  /// Change data feed (delta.enableChangeDataFeed): the columns that identify a row across a
  /// rewrite (merge: the keys; SCD2: the keys and the effective date). A deleted and an
  /// inserted row with equal values of these are recorded as an update's preimage and
  /// postimage; without any, rewritten rows are deletes and inserts.
  std::vector<std::string> change_keys;
  /// commitInfo operation and parameters; empty: "WRITE" with mode and partitionBy.
  std::string operation;
  delta::StringMap operation_parameters;
  /// Our commitInfo.dataLoader: the source files loaded, and what the strategy did.
  delta::LoaderCommitInfo loader_info;
  /// A column of the rows naming each row's source file (the audit column), so rows that
  /// break the table's CHECK constraints or generated columns are reported per file. Empty:
  /// a single source file of loader_info is named; with several none is.
  std::string source_file_column;
  /// Called after the data files are written and before the commit; an error abandons the
  /// write (e.g. a source file changed while it was read).
  std::function<Status()> before_commit;
  engine::WriteOptions write_options;  ///< partition_columns is filled in from the table
  delta::CommitOptions commit_options;
};

struct WriteResult {
  int64_t version = -1;  ///< -1 when skipped by txn
  bool skipped = false;  ///< txn already applied
  bool created = false;
  int64_t files_added = 0, files_removed = 0;
  int64_t deletion_vectors_added = 0;  ///< files that got a (larger) deletion vector
  int64_t rows_deleted_in_place = 0;   ///< rows newly marked deleted by deletion vectors
  int64_t rows_written = 0, bytes_written = 0;
  bool schema_changed = false;
  std::vector<std::string> added_paths;  ///< add.path of each new data file
  /// Rows written per value of write_options.count_rows_by (see engine::WriteOptions).
  std::map<std::string, int64_t> rows_by_value;
};

/// OK when a table may be created at `root`: nothing there, or only what writers of a table
/// leave (data files, partition directories, hidden files); InvalidArgument otherwise.
Status CheckCanCreateAt(FileSystem& fs, const std::string& root);

/// Refuse a table root that lies inside another Delta table (an ancestor directory holds a
/// `_delta_log`) or inside a `_delta_log`: that table's VACUUM, OPTIMIZE or overwrite would
/// treat this one's files as its own. InvalidArgument naming both.
Status CheckNotNested(FileSystem& fs, const std::string& root);

/// Append or overwrite `request.source_sql` into the table at root (creating it if missing).
Result<WriteResult> Write(TableContext& ctx, const std::string& root, const WriteRequest& request);

/// The change data feed of versions [from, to] (to unset: the latest) as a query over views
/// this registers on ctx.engine: the table's columns, `_change_type` (insert, delete,
/// update_preimage, update_postimage), `_commit_version` and `_commit_timestamp` (in-commit
/// timestamp, else the commit file's time). A commit's cdc files when it has them, else its
/// adds as inserts and its data-changing removes as deletes (PROTOCOL.md "Add CDC File").
/// NotFound naming the version for versions the table does not have (or log cleanup
/// removed); InvalidArgument naming the version for a range where the feed was not enabled.
Result<std::string> ChangeFeed(TableContext& ctx, const std::string& root, int64_t from,
                               std::optional<int64_t> to = {});

/// Copy-on-write delete: rewrite only the files containing rows matching `predicate`.
Result<WriteResult> DeleteWhere(TableContext& ctx, const std::string& root,
                                const std::string& predicate);

struct OptimizeOptions {
  int64_t target_file_size_bytes = 128LL << 20;
  int64_t min_file_size_bytes = 0;  ///< files below this are compacted; 0: target * 0.75
  std::vector<std::string> order_by;
  bool zorder = false;
};

struct OptimizeResult {
  int64_t version = -1;  ///< -1 when there was nothing to do
  int64_t files_removed = 0, files_added = 0;
  int64_t partitions_optimized = 0;
};

/// Bin-pack small files per partition (dataChange=false), optionally ordering rows.
Result<OptimizeResult> Optimize(TableContext& ctx, const std::string& root,
                                const OptimizeOptions& options);

struct VacuumOptions {
  bool dry_run = false;
  std::optional<double> retention_hours;
  bool force = false;
};

struct VacuumResult {
  std::vector<std::string> files;  ///< deleted (or to delete, for a dry run)
  /// `_dl_staging_*` directories of dead writers, deleted (or to delete) with their files
  std::vector<std::string> staging_dirs;
  int64_t bytes = 0;  ///< of files and staging_dirs
};

Result<VacuumResult> Vacuum(TableContext& ctx, const std::string& root,
                            const VacuumOptions& options);

/// A new commit that makes the table's contents those of `version`.
Result<WriteResult> Restore(TableContext& ctx, const std::string& root, int64_t version);

/// Column mapping tables only (Unsupported otherwise): rename `column` (a dotted path for a
/// nested field) to `new_name`, or drop it, in a metadata-only commit; the data files keep the
/// physical names. A partition column cannot be dropped.
Result<WriteResult> RenameColumn(TableContext& ctx, const std::string& root,
                                 const std::string& column, const std::string& new_name);
Result<WriteResult> DropColumn(TableContext& ctx, const std::string& root,
                               const std::string& column);

/// ALTER COLUMN TYPE for a table with delta.enableTypeWidening=true (InvalidArgument naming
/// the property otherwise): widen top-level `column` to `type` (a Delta type name, e.g. "long",
/// "decimal(12,2)") in a metadata-only commit that records the change in delta.typeChanges and
/// adds the typeWidening feature if needed; the data files keep their narrower types.
/// SchemaMismatch naming both types for a change that is not a widening.
Result<WriteResult> WidenColumn(TableContext& ctx, const std::string& root,
                                const std::string& column, const std::string& type);

/// Add CHECK constraint `name` (stored lower case) with the Spark SQL `expression` after
/// checking every row of the table against it (SchemaMismatch with the count otherwise), in a
/// metadata-only commit that adds the checkConstraints feature if needed; Unsupported when the
/// expression cannot be evaluated here. Drop: NotFound when the table has no such constraint.
Result<WriteResult> AddConstraint(TableContext& ctx, const std::string& root,
                                  const std::string& name, const std::string& expression);
Result<WriteResult> DropConstraint(TableContext& ctx, const std::string& root,
                                   const std::string& name);

/// Write a checkpoint for the latest version now.
Status Checkpoint(TableContext& ctx, const std::string& root);

/// One history entry (commitInfo of one commit).
struct HistoryEntry {
  int64_t version = 0;
  int64_t timestamp_ms = 0;
  nlohmann::ordered_json commit_info;
};

/// Newest first; versions whose commit files were cleaned up are absent.
Result<std::vector<HistoryEntry>> History(TableContext& ctx, const std::string& root,
                                          std::optional<int64_t> limit = {});

}  // namespace dl::table
