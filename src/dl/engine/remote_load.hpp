// Loading on an engine that writes AND commits Delta itself (Spark through Spark Connect):
// the strategy describes the operation in engine-neutral terms; the engine compiles it into
// its own plan. Our Delta module stays the reader of the log (reconcile finds the commit by
// the metadata it carries).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/schema.hpp"

namespace dl::engine {

/// One row per key of a batch: the row with the highest sequence column value, then the
/// first delivered (file order, then row order) or, with last_wins, the last.
struct Dedup {
  std::vector<std::string> keys;  ///< empty: every data column (whole-row duplicates)
  std::string keys_key;           ///< the config key that named them (for messages)
  std::optional<std::string> sequence_column;
  bool last_wins = false;
  /// Also drop rows whose key the table (AppendOperation::table_columns) already holds.
  bool drop_keys_in_table = false;
};

/// How the rows meet the table: added, replacing it, or replacing the partitions they hold.
enum class WriteMode { kAppend, kOverwrite, kOverwritePartitions };

/// Append one batch of source files to a Delta table in one commit (or, with mode, overwrite
/// the table or the partitions the batch holds).
struct AppendOperation {
  WriteMode mode = WriteMode::kAppend;
  std::string display_name;        ///< "database.table" for messages
  std::string table_root;          ///< the table's directory (as the remote can reach it)
  std::string format;              ///< parquet | csv | json
  std::vector<std::string> paths;  ///< the batch's files, as the plan names them
  std::vector<int64_t> sizes;      ///< their sizes in bytes (empty: not known)
  /// Reader settings by neutral name (each engine spells them its own way): csv `header`
  /// (true|false), `delimiter`, `quote`, `escape`, `null_value`, `encoding`, `multi_line`
  /// (true|false: whether a quoted value may hold line breaks); json `format` (lines|array).
  std::map<std::string, std::string> reader_options;
  /// Explicit csv/json columns (name and Delta type, in order): the files are read with this
  /// schema (csv by position, json by key) and a value that does not fit fails its file.
  /// Empty: types are inferred.
  std::vector<delta::StructField> columns;
  /// A Delta table's data files as the source (format parquet): `paths` are the files as the
  /// plan names them (table root + "/" + add.path as logged), `read_paths` the same files as
  /// they are read (add.path decoded), `columns` the table's columns in order. A column named
  /// in `partition_values` takes each file's value from there (Delta's partition string of
  /// paths[i], nullopt: NULL); the others are read from the files with the column's type.
  struct TableFiles {
    std::vector<std::string> read_paths;
    std::vector<delta::StructField> columns;
    std::map<std::string, std::vector<std::optional<std::string>>> partition_values;
  };
  std::optional<TableFiles> table_files;
  /// json `format` auto: the files holding one top-level array (the others hold lines),
  /// decided per file from its first bytes.
  std::set<std::string> json_array_paths;
  /// What happens to source columns the table (table_columns) lacks.
  enum class NewColumns {
    kKeep,    ///< written (merge_schema decides whether the table takes them)
    kDrop,    ///< left out (schema_evolution_mode none)
    kRescue,  ///< packed into rescued_data_column as a JSON object (rescue)
  };
  NewColumns new_columns = NewColumns::kKeep;
  std::string rescued_data_column;  ///< with kRescue
  /// Audit columns (empty name: not added): the row's source file (as `paths` names it), the
  /// batch's load time and id.
  std::string source_file_column, load_timestamp_column, batch_id_column;
  std::string batch_id;
  int64_t load_time_ms = 0;
  std::vector<std::string> partition_columns;
  bool merge_schema = false;  ///< new source columns are added to the table
  /// A table column may widen to a wider batch type (delta/type_widening.hpp), as on DuckDB:
  /// the table has delta.enableTypeWidening=true and merge_schema is set. Otherwise a batch
  /// type the table's column does not hold losslessly is a SchemaMismatch (merge, SCD2).
  bool widen_types = false;
  /// With kOverwrite: only the table's rows where this predicate (a checked config fragment)
  /// is TRUE are replaced; every batch row must satisfy it (else InvalidArgument, nothing
  /// written).
  std::optional<std::string> replace_where;
  /// Dedup of the batch; with drop_keys_in_table and table_columns holding every key, rows
  /// whose key the table already holds are dropped too (NULL keys equal).
  std::optional<Dedup> dedup;
  /// The table's columns (names and types); nullopt when there is no table yet.
  std::optional<std::vector<delta::StructField>> table_columns;
  /// Delta table properties (config `table_properties`): a table the write creates gets them
  /// in its first commit, with the protocol features they enable; for an existing table,
  /// those it lacks or holds with another value, set by a commit of their own before the
  /// batch's (idempotent: a rerun finds them set).
  std::map<std::string, std::string> table_properties;
  /// Clustering columns (config `clustering_columns`) of a table the write creates.
  std::vector<std::string> clustering_columns;
  /// The Parquet codec of the data files the write adds when the table (after the write) has
  /// delta.compression.codec (delta::ParquetCodecOf); empty: the engine's own default.
  std::string compression;
  /// Idempotency: the engine's commit is skipped when the table already holds this txn
  /// version (or a later one) of this app id.
  std::string txn_app_id;
  int64_t txn_version = 0;
  std::string user_metadata;  ///< commitInfo.userMetadata (LoaderCommitInfo::ToUserMetadata)
};

struct AppendOutcome {
  /// Rows per source file (as `paths` names them) written (after dedup); only when
  /// source_file_column is set.
  std::map<std::string, int64_t> rows_per_file;
  int64_t rows = 0;
  /// The engine counted nothing (rows_per_file and rows are empty): the caller takes them
  /// from the commit's add actions (a file whose source_file_column min and max name one
  /// source file: its numRecords) and CountRowsInFiles for the other data files.
  bool count_from_commit = false;
};

/// on_bad_rows: quarantine (merge, scd2): the batch's rows with a NULL key or sequence value
/// are not loaded. Before the commit they are written, as the DuckDB engine writes them (the
/// row, `_quarantine_reason`, `_quarantined_at` = the batch's load time, and the row's file as
/// source_file_column when set), as Parquet files into `dir`: a new directory inside the
/// quarantine table, whose files nothing commits. Then `record` is called once and the commit
/// carries the userMetadata it returns (recording those files) instead of
/// rows.user_metadata. Without a bad row nothing is written and record is not called.
/// The files hold the quarantine table's types: a column of `columns` whose batch type is
/// narrower (delta/type_widening.hpp: an `int` where the table has `long`) is cast up to it,
/// as the DuckDB engine aligns its files to the table; a wider or another type is left for
/// `record` (the table widens, or refuses naming the column, as on DuckDB). Columns the table
/// lacks (or all, without a table) take the types the DuckDB engine would give them.
struct QuarantineRows {
  std::string dir;
  std::string source_file_column;  ///< the batch has no source-file audit column: add this
  std::vector<delta::StructField> columns;  ///< the quarantine table's; empty: no table yet
  std::function<Result<std::string>()> record;
};

/// Merge (upsert) one batch into a Delta table in one commit, as the DuckDB engine does:
/// the batch deduplicated per key (rows.dedup, last delivered wins), matched rows updated
/// (or deleted when delete_condition holds), the others inserted; NULL keys (or sequence
/// values) fail their files or are quarantined. Without a table, its inserts create it.
struct MergeOperation {
  /// The batch as an append would read it (files, reader, audit columns, partitioning, txn,
  /// metadata, merge_schema) with dedup set and table_columns the table's columns.
  AppendOperation rows;
  /// Config fragments, checked by engine/expression_check when the config was read:
  /// merge_condition over source.col and target.col, delete_condition over the source row.
  std::optional<std::string> merge_condition, delete_condition;
  std::vector<std::string> update_columns, except_columns;  ///< as configured
  bool delete_unmatched = false;  ///< when_not_matched_by_source: delete
  /// Set: rows with a NULL key or sequence value are quarantined, else they fail their files.
  std::optional<QuarantineRows> quarantine;
};

struct MergeOutcome {
  /// Rows inserted or updated per source file (as `paths` names them); only when
  /// source_file_column is set.
  std::map<std::string, int64_t> rows_per_file;
  int64_t source_rows = 0, collapsed = 0, inserted = 0, updated = 0, deleted = 0,
          unchanged = 0;
};

/// SCD Type 2: one batch's rows applied as events to the table's version history in one
/// commit, as the DuckDB engine does (docs/architecture.md, "SCD Type 2"). NULL keys (or
/// sequence values) fail the files holding them, or are quarantined (`quarantine`).
struct Scd2Operation {
  /// The batch as an append would read it, with table_columns the table's columns; the txn
  /// version also orders the batch's events after every earlier batch's.
  AppendOperation rows;
  std::vector<std::string> keys;
  std::vector<std::string> tracking_columns;  ///< empty: every data column
  std::optional<std::string> sequence_column;
  /// Checked config fragment over the row; `delete_columns` are the columns it names (NULL
  /// where neither the table nor the batch has them).
  std::optional<std::string> delete_condition;
  std::vector<std::string> delete_columns;
  std::string effective_column, end_column, current_column;
  std::optional<std::string> open_end_value;
  bool retire_absent_keys = false;
  /// With sequence_column: the change store (every event ever applied, to replay keys with a
  /// late event), its columns when it exists, and the table's applied txn version: the
  /// store's rows of later batches belong to attempts whose commit has not landed (yet).
  /// Each stored event carries its attempt's batch id; of an applied txn version only the
  /// events of the attempt that landed it are read.
  std::string change_store_root;
  std::optional<std::vector<std::string>> change_store_columns;
  int64_t applied_txn_version = 0;
  /// The batch id of the commit that applied applied_txn_version (the table's log, newest
  /// commits first); nullopt when no such commit is left in the log.
  std::optional<std::string> applied_batch_id;
  /// Set: rows with a NULL key or sequence value are quarantined, else they fail their files.
  std::optional<QuarantineRows> quarantine;
};

struct Scd2Outcome {
  /// Versions each source file's rows became (as `paths` names them); only when
  /// source_file_column is set.
  std::map<std::string, int64_t> rows_per_file;
  int64_t versions = 0;  ///< versions opened, closed or updated
};

/// One session on a remote engine; one per loader worker.
class RemoteLoadEngine {
 public:
  virtual ~RemoteLoadEngine() = default;
  /// Errors name the failing source file in detail().files when the engine says which.
  virtual Result<AppendOutcome> Append(const AppendOperation& op) = 0;
  virtual Result<MergeOutcome> Merge(const MergeOperation& op) = 0;
  virtual Result<Scd2Outcome> Scd2(const Scd2Operation& op) = 0;
  /// Rows per value of `column` (a physical column name; empty: all rows, under "") in the
  /// Parquet data files `files` (as the engine reaches them).
  virtual Result<std::map<std::string, int64_t>> CountRowsInFiles(
      const std::vector<std::string>& files, const std::string& column) = 0;
};

}  // namespace dl::engine
