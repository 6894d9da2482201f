// Engine: compute and data-file I/O behind a small interface. The Delta module owns the
// protocol; an engine reads source files and table snapshots, runs SQL, and writes Parquet
// data files (returning their add actions with stats). DuckDB is the embedded default.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/delta/schema.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/storage_options.hpp"

struct ArrowArrayStream;  // the Arrow C stream interface (dl/engine/arrow_c.hpp)

namespace dl::engine {

/// Columns of a snapshot view with row ids (RegisterSnapshotWithFileColumn), and of the rows
/// a write that keeps row ids gives (table::WriteRequest::carries_row_ids).
inline constexpr char kRowIdColumn[] = "_dl_row_id";
inline constexpr char kRowCommitVersionColumn[] = "_dl_row_commit_version";

/// Columns a strategy adds to a batch to order its rows as they were delivered (the file's
/// place in the batch, the row's in its file); the engine's merge and SCD2 plans order by them.
inline constexpr const char* kFileOrderColumn = "__dl_file_order";
inline constexpr const char* kRowOrderColumn = "__dl_row_order";

struct EngineOptions {
  int threads = 0;               ///< 0: engine default (all cores)
  std::string memory_limit;      ///< e.g. "4GB"; empty: engine default
  std::string temp_directory;    ///< spill directory; empty: engine default
  /// Lock-down of file access: when set, the engine reads and writes files only below these
  /// directories and `allowed_files` (paths compared as written, not resolved), and the
  /// spill directory. Unset: no file restriction (unit tests). Either way the engine never
  /// installs or loads an extension after start-up and its settings are locked once set.
  /// URIs here name object-store locations (s3://bucket/prefix/, az://container/prefix/): the
  /// engine reads and writes them through DuckDB's httpfs / azure extensions, and nothing
  /// else in those stores.
  std::optional<std::vector<std::string>> allowed_directories;
  std::vector<std::string> allowed_files;

  // -- Object storage --
  /// Object-store locations the engine may use besides the URIs in allowed_directories and
  /// allowed_files (for an engine without a lock-down; a locked engine allows them too).
  /// For every such location the engine loads its extension and creates a secret scoped to
  /// it from `storage.For(location)` (see storage/object_store_settings.hpp).
  std::vector<std::string> object_store_locations;
  StorageConfig storage;
  /// Directory of httpfs.duckdb_extension / azure.duckdb_extension. Empty: the environment
  /// variable DATA_LOADER_DUCKDB_EXTENSIONS, else where scripts/fetch_duckdb_extensions.sh
  /// put them at build time. Never downloaded at run time.
  std::string extension_directory;
  /// The storage the engine touches itself (deletion vectors, deleting data files of a failed
  /// write, csv headers): the loader's routing FileSystem. Null: MakeFileSystem(storage).
  std::shared_ptr<FileSystem> file_system;
};

/// Source file format and reader options (csv: header, delim, quote, escape, nullstr,
/// columns as a DuckDB struct literal; json: format=newline_delimited|array|auto; any format:
/// filename=<column> adds a column holding each row's source file path).
struct SourceOptions {
  std::string format = "parquet";  ///< parquet | csv | json
  std::map<std::string, std::string> options;
  /// csv: infer each file's types on its own (slow: ms per file). By default files sharing a
  /// header line are read with the types inferred from the first of them.
  bool sniff_every_file = false;
  /// Read the files once into a temp table, so later binds and scans of the view read (and,
  /// for csv/json, sniff) them no more.
  bool materialize = false;
  /// Non-empty: the view also has a BIGINT column of this name that orders each file's rows as
  /// the file holds them (delivery order; a format without row numbers is materialized).
  std::string row_order_column;
  /// json: explicit decimal columns (name -> type), read exactly: the `columns` option names
  /// them as JSON, and the engine casts a json string's text or a number's digits, failing
  /// a number that a double, which DuckDB's json reader parses numbers into, may not hold.
  std::map<std::string, std::string> json_decimal_columns;
};

struct WriteOptions {
  std::vector<std::string> partition_columns;
  int64_t target_file_size_bytes = 128LL << 20;
  std::vector<std::string> order_by;  ///< sort rows within files by these columns
  bool zorder = false;                ///< order by a Z-order (bit interleave) of order_by
  int num_indexed_cols = 32;          ///< delta.dataSkippingNumIndexedCols
  /// Parquet codec of the data files (delta::ParquetCodecOf: snappy, zstd, gzip, uncompressed).
  std::string compression = "snappy";
  /// Column mapping (name or id mode): files name columns, nested ones too, by their physical
  /// names and carry their ids as Parquet field_ids; partition values and stats use the
  /// physical names.
  bool column_mapping = false;
  /// Count the rows written per value of this string column (e.g. the source-file audit
  /// column) in the same pass that writes them, into *rows_by_value (NULL counts as ""; left
  /// empty when the column is not a string). Empty or null: no counting.
  std::string count_rows_by;
  std::map<std::string, int64_t>* rows_by_value = nullptr;
};

/// Small query results as text (NULL as nullopt).
struct QueryRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

/// SchemaMismatch for rows `table` refuses, from `counts` (file, reason, rows; sorted by file):
/// the message says how many rows of which file and why, then `advice`; detail().files names
/// the files, so they fail alone and the rest of the batch loads.
Status RefusedRows(const QueryRows& counts, const std::string& table, std::string_view advice);

/// InvalidArgument for an overwrite with replace_where whose batch holds `bad` of `total` rows
/// where the predicate is not TRUE (every engine refuses such a batch before writing).
Status ReplaceWhereViolated(const std::string& bad, const std::string& total,
                            const std::string& table, const std::string& predicate);

/// A rule every row written to a table must satisfy, in the engine's dialect (compiled from
/// the table's Spark SQL by CompileTableExpression, engine/table_rules.hpp).
struct RowRule {
  std::string name;        ///< for messages: the constraint's name, or the column's
  std::string expression;  ///< a boolean (check), or the generated column's value
  /// Empty: a check, broken by a row where `expression` is not TRUE (FALSE or NULL). Else the
  /// generated column whose value must equal `expression` cast to its type, NULL-safe.
  std::string generated_column;
};

/// Rows breaking rule `rule` (an index into the rules given), per source file.
struct RuleViolation {
  size_t rule = 0;
  std::optional<std::string> source_file;  ///< nullopt: no source-file column, or NULL in it
  int64_t rows = 0;
};

/// A result column: its name and its type in the engine's own spelling (usable in its casts).
struct ColumnInfo {
  std::string name;
  std::string type;
};

/// A column to order rows by; NULLs come last unless nulls_first.
struct SortKey {
  std::string column;
  bool descending = false;
  bool nulls_first = false;
};

/// One row per key (Engine::Deduplicate): of the rows sharing the values of `keys` (NULLs
/// equal; no keys: the whole relation is one key), the first in `order` is kept.
struct Deduplication {
  std::vector<std::string> keys;
  std::vector<SortKey> order;
  std::vector<std::string> drop_columns;  ///< left out of the result (e.g. order-only columns)
  /// Non-empty: a trailing BIGINT column of this name counts the rows dropped for its key.
  std::string dropped_count_column;
};

class Engine : public delta::ParquetHandler {
 public:
  ~Engine() override = default;
  virtual std::string_view name() const = 0;

  /// A new session (connection) on the same database, for another thread.
  virtual Result<std::unique_ptr<Engine>> NewSession() = 0;

  /// Create or replace temp view `view` over source files. Engine errors name the file.
  virtual Status RegisterFiles(const std::string& view, const std::vector<std::string>& files,
                               const SourceOptions& options) = 0;
  /// Create or replace temp view `view` over a snapshot's live files (or `subset` of them):
  /// every schema column with the table's type, partition columns from the log, columns
  /// missing from older files as NULL, rows deleted by deletion vectors left out. With column
  /// mapping the files are read by physical names and the view shows the display names.
  virtual Status RegisterSnapshot(const std::string& view, const delta::Snapshot& snapshot,
                                  const std::vector<delta::AddFile>* subset = nullptr) = 0;

  /// Same view as RegisterSnapshot plus trailing columns `_dl_file` (VARCHAR: each row's
  /// add.path exactly as written in the log) and `_dl_row` (BIGINT: its row index in that
  /// file), for planning which files, and which rows of them, a write changes.
  /// With `row_ids` (row tracking tables only) also `_dl_row_id` and `_dl_row_commit_version`
  /// (BIGINT): each row's stable row id and row commit version, from the materialized columns
  /// where a file has them, else add.baseRowId + row index and add.defaultRowCommitVersion
  /// (PROTOCOL.md "Row Tracking"). Unsupported naming the file when one has no baseRowId.
  virtual Status RegisterSnapshotWithFileColumn(const std::string& view,
                                                const delta::Snapshot& snapshot,
                                                const std::vector<delta::AddFile>* subset,
                                                bool row_ids = false) = 0;

  /// A snapshot's data files `files` as a batch's source, as RegisterFiles reads files: the
  /// snapshot's columns, then `file_column` (each row's file as table root + "/" + add.path)
  /// and, when not empty, `row_order_column` (BIGINT: the row's index in its file).
  virtual Status RegisterSnapshotSource(const std::string& view, const delta::Snapshot& snapshot,
                                        const std::vector<delta::AddFile>& files,
                                        const std::string& file_column,
                                        const std::string& row_order_column) = 0;
  /// Drop what RegisterFiles or RegisterSnapshotSource registered as `view` (a materialized
  /// batch holds memory). Nothing if there is none.
  virtual void DropSource(const std::string& view) = 0;

  /// The result columns of `sql`, in order.
  virtual Result<std::vector<ColumnInfo>> DescribeColumns(const std::string& sql) = 0;
  /// A SELECT of `sql`'s rows, one per key (see Deduplication).
  virtual std::string Deduplicate(const std::string& sql, const Deduplication& dedup) const = 0;
  /// A SELECT of `sql`'s rows with every column but `columns`, in their order.
  virtual std::string WithoutColumns(const std::string& sql,
                                     const std::vector<std::string>& columns) const = 0;

  /// The Delta types of columns declared with type names of this engine's file readers
  /// (config csv_options.columns / json_options.columns). InvalidArgument naming the type
  /// when the engine does not know it.
  virtual Result<delta::Schema> ResolveColumnTypes(const std::vector<ColumnInfo>& columns) = 0;
  /// Keep `sql`'s rows in temp table `table` (replacing one of that name), so later queries
  /// read them without computing `sql` again; the relation is then "SELECT * FROM" it.
  virtual Status Materialize(const std::string& table, const std::string& sql) = 0;
  /// A timestamp (with time zone) expression from `ms`, an expression of milliseconds since
  /// the epoch; and the milliseconds since the epoch of timestamp expression `ts`.
  virtual std::string TimestampFromEpochMs(const std::string& ms) const = 0;
  virtual std::string EpochMsOf(const std::string& ts) const = 0;

  /// A SELECT over `sql` whose columns are exactly `schema`'s, by name and in order: columns
  /// present are cast to the schema type (nested structs aligned recursively), absent ones
  /// are NULL of that type. InvalidArgument naming the column when `sql` has a column the
  /// schema lacks, or a cast is impossible.
  virtual Result<std::string> AlignToSchema(const std::string& sql,
                                            const delta::Schema& schema) = 0;

  /// The Delta schema of a query's result. Unsupported naming the column for types with no
  /// Delta equivalent that cannot be cast (see DeltaTypeFromEngine).
  virtual Result<delta::Schema> SchemaOf(const std::string& sql) = 0;
  /// A SELECT list that casts `sql`'s columns to Delta-compatible types (unsigned -> wider
  /// signed, hugeint -> decimal(38,0), uuid/enum -> string, time -> string, ...).
  virtual Result<std::string> DeltaCompatibleSelect(const std::string& sql) = 0;

  /// Run `sql`, write its rows as Parquet under table_root (Hive-style partition directories,
  /// unique part-<uuid> file names, files near target size) and return one add action per
  /// file with size, modificationTime, partitionValues serialized per the protocol, and stats.
  /// Partition columns are not stored in the files. Nothing is committed.
  virtual Result<std::vector<delta::AddFile>> WriteDataFiles(const std::string& sql,
                                                            const std::string& table_root,
                                                            const delta::Schema& table_schema,
                                                            const WriteOptions& options) = 0;

  /// `sql` (rows aligned to `schema`) with the NULLs of each generated column of `generated`
  /// (rules with generated_column set) replaced by its expression cast to the column's type.
  virtual Result<std::string> FillGeneratedColumns(const std::string& sql,
                                                   const delta::Schema& schema,
                                                   const std::vector<RowRule>& generated) = 0;
  /// Count the rows of `sql` (aligned to `schema`) that break each of `rules`, per value of
  /// `source_file_column` (a string column of `sql`; empty: not per file). Nothing when every
  /// row satisfies every rule.
  virtual Result<std::vector<RuleViolation>> FindRuleViolations(
      const std::string& sql, const delta::Schema& schema, const std::vector<RowRule>& rules,
      const std::string& source_file_column) = 0;

  virtual Status Execute(const std::string& sql) = 0;
  virtual Result<QueryRows> Query(const std::string& sql) = 0;
  /// Write a query's rows to `path` ("/dev/stdout" allowed) as csv (with header), jsonl or
  /// parquet.
  virtual Status Export(const std::string& sql, const std::string& path,
                        std::string_view format) = 0;
  /// Run a SELECT and hand its rows over as an Arrow C stream in `out` (the consumer releases
  /// it): rows are computed and converted batch by batch as the consumer pulls them, never
  /// materialized first. This session runs nothing else until the stream is released, and
  /// must outlive it.
  virtual Status QueryArrow(const std::string& sql, ArrowArrayStream* out) = 0;
  /// Interrupt the running query of this session (from another thread).
  virtual void Interrupt() = 0;
};

Result<std::unique_ptr<Engine>> MakeDuckDbEngine(const EngineOptions& options = {});

/// SQL quoting: every identifier and literal that reaches SQL goes through these.
std::string QuoteIdent(std::string_view ident);
std::string QuoteLiteral(std::string_view text);

/// `sql` without its kRowIdColumn and kRowCommitVersionColumn columns.
std::string WithoutRowIdsSql(const std::string& sql);
/// `sql` with kRowIdColumn and kRowCommitVersionColumn renamed to `id_column` and
/// `version_column` (a row tracking table's materialized column names), last.
std::string MaterializedRowIdsSql(const std::string& sql, const std::string& id_column,
                                  const std::string& version_column);

}  // namespace dl::engine
