// Building Spark Connect plans for the loading operations (private to dl/engine/spark): the
// batch's files as a relation (spark_source.cpp) with the audit columns (spark_columns.cpp),
// SQL text with Spark's quoting, and the error mapping every operation shares (spark_plan.cpp).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dl/engine/remote_load.hpp"
#include "dl/engine/spark/spark_session.hpp"
#include "spark/connect/base.pb.h"

namespace dl::engine::spark {

namespace pb = ::spark::connect;

/// Hidden columns of a batch view (dropped before anything is written): the row's file as the
/// plan names it, its position in the batch and the row's position within its file.
inline constexpr const char* kFileColumn = "__dl_file";
inline constexpr const char* kFileOrderColumn = "__dl_file_order";
inline constexpr const char* kRowOrderColumn = "__dl_row_order";

/// Spark SQL quoting: `ident` (backticks doubled), 'literal' (backslash and quote escaped).
std::string SparkIdent(std::string_view name);
std::string SparkLiteral(std::string_view value);
/// Spark SQL's spelling of a Delta type (`BIGINT`, `DECIMAL(10,2)`, `STRUCT<`a`: INT>`).
std::string SparkType(const delta::DataType& t);

/// A column and its Spark SQL type (SparkTypeText's spelling).
struct Column {
  std::string name, type;
};

/// A Spark type in Spark's catalog spelling (`int`, `decimal(10,2)`, `array<bigint>`,
/// `map<string,int>`), every struct field name backquoted: `struct<`a:b`:int>`. DESCRIBE
/// leaves them bare (`struct<a:b:int>`), which no reader can split back into name and type.
std::string SparkTypeText(const pb::DataType& type);

/// The Delta type of a Spark SQL type as SparkTypeText or DESCRIBE spells it (`int`,
/// `decimal(10,2)`, `array<bigint>`, `struct<a:int,b:string>`); nullptr for one Delta has no
/// type for (`void`, intervals) or text it does not read.
delta::DataTypePtr DeltaTypeOfSpark(std::string_view spark_type);

/// `expr` (of `type`) as a value Spark can compare (IS DISTINCT FROM) and hash: Spark does
/// neither for maps (the DuckDB engine compares them as their entries, in order), so every map
/// in it becomes the array of its entries; a NULL struct stays NULL, apart from a struct of
/// NULLs.
std::string SparkComparable(const std::string& expr, const delta::DataType& type);

/// A type as SparkTypeText spells it, in the form Spark SQL reads back (a CAST, ADD COLUMNS).
std::string SparkSqlType(const std::string& described);

/// The batch's files: rows per file (which also gives Spark's spelling of each path, mapped
/// here to the plan's) and the total. A file Spark cannot read fails by name.
struct ReadFiles {
  std::map<std::string, std::string> path_of_uri;
  std::map<std::string, int64_t> rows_per_file;
  int64_t rows = 0;
  /// The files' columns: read (ReadSourceColumns) only when op drops or rescues the columns
  /// the table lacks.
  std::vector<Column> source_columns;
  /// The source view (OpenSource) every later relation reads the files through; empty: each
  /// relation scans the files itself.
  std::string view;
  bool view_row_order = false;  ///< the view holds each row's position in its file
};

/// A temp view of op's files (their columns and each row's file): Spark lists the files and
/// infers their types once, when the view is made, not again for each relation over it (a
/// csv batch's inference is a job over every file). With `row_order`, also each row's
/// position in its file (for WithAuditColumns' hidden columns). Dropped by CloseSource.
Status OpenSource(SparkSession& session, const AppendOperation& op, bool row_order,
                  ReadFiles& files);
void CloseSource(SparkSession& session, const AppendOperation& op);

/// Rows per file into `files` (through files.view when open).
Status CountRowsPerFile(SparkSession& session, const AppendOperation& op, ReadFiles& files);

/// Rows per value of `column` (empty: all rows, under "") in the Parquet files `files`.
Result<std::map<std::string, int64_t>> CountRowsInParquet(SparkSession& session,
                                                          const std::vector<std::string>& files,
                                                          const std::string& column);

/// ClassifyError for a load's failure; when Spark named no file, the files of a small batch
/// are each read alone and the ones that fail are named.
Status ClassifyLoadError(SparkSession& session, Status st, const AppendOperation& op);

/// With op.new_columns kDrop or kRescue: the files' columns into files.source_columns (an
/// analysis; csv/json inference reads the files). A column clashing with the rescued-data
/// column, or no column the table has, is a SchemaMismatch as on DuckDB.
Status ReadSourceColumns(SparkSession& session, const AppendOperation& op, ReadFiles& files);

/// The source with the audit columns op asks for; with `hidden`, also kFileColumn,
/// kFileOrderColumn and kRowOrderColumn. The data columns are the files' (kKeep), or the
/// ones the table has with, for kRescue, the rescued-data column after them. Each row's file
/// is mapped back to the plan's path: by files.path_of_uri when a count gave Spark's
/// spellings (a substring when each is one prefix and the path), else in the same scan (the
/// spelling Spark is expected to give, else decoded; a file that is not one of the plan's
/// fails the scan by name before anything is committed). Over files.view when open.
pb::Relation WithAuditColumns(const AppendOperation& op, const ReadFiles& files, bool hidden);

/// How Spark spells a local path in _metadata.file_path (`file:` and java.net.URI's escapes);
/// other paths as they are.
std::string SparkUriOf(const std::string& path);

/// The session confs every load sets before it writes (set per operation: a session Spark
/// restarted has lost them): Parquet timestamps as INT64 microseconds, as the DuckDB engine
/// writes them, not Spark's default INT96 (which readers decode as nanoseconds: 9999-12-31,
/// a common SCD2 open end, overflows there); ANSI mode and the UTC time zone, which the
/// compiled config fragments need to mean what they mean on DuckDB. When op's files are all
/// local paths, Spark stats them on the driver instead of in a listing job (Spark's default
/// past 32 paths).
Status PrepareSession(SparkSession& session, const AppendOperation& op);

/// String literals as SparkLiteral writes them (backslash escapes) whatever the cluster's
/// default: with spark.sql.parser.escapedStringLiterals on, Spark keeps the backslashes in
/// the value, so a path holding ' or \ would name another file. Part of PrepareSession; a
/// session that sends literals without it (the catalog's) calls this first.
Status PinStringLiterals(SparkSession& session);

/// A relation from SQL text.
pb::Relation SqlRelation(const std::string& query);

/// CREATE OR REPLACE TEMP VIEW `name` over `input`.
Status CreateView(SparkSession& session, const std::string& name, pb::Relation input);

/// Where the batch's column types come from: the files' own (parquet, Delta tables) or
/// explicit columns, or Spark's inference from csv or json text.
enum class Inferred { kNone, kCsv, kJson };
Inferred InferredTypes(const AppendOperation& op);

/// The Spark type to cast a batch column `c` to so that it meets `table`'s columns: up to
/// the table column's type when that is a widening of `c`'s (lossless: `int` under `long`;
/// Delta refuses to append a narrower type), `BIGINT` for a csv `int` the table lacks (as
/// the DuckDB engine infers csv integers), the table's date or timestamp type for json text
/// (which DuckDB infers as such and Spark as strings); "" leaves it as it is.
std::string AlignedType(const Column& c, const std::vector<delta::StructField>& table,
                        Inferred inferred);

/// Whether a csv batch is read without multiLine (a quoted line break then splits its row):
/// types are inferred and a file's name holds a glob character, which Spark's multiLine
/// inference cannot read.
bool CsvWithoutMultiLine(const AppendOperation& op);

/// CreateView, with the data columns cast to AlignedType against op.table_columns, so a
/// table either engine creates (or a column either adds) has the same type, and a batch
/// meets a table the other engine created. The view then reads a second one, `<name>_read`,
/// made over `input` when a type may need a cast; DropView(op) drops what it made.
Status CreateTypedView(SparkSession& session, const AppendOperation& op, const std::string& name,
                       pb::Relation input);
void DropView(SparkSession& session, const std::string& name, const AppendOperation& op);

/// The columns of a query, in order, with their Spark SQL types (its schema as Spark types
/// it: analysed, not run).
Result<std::vector<Column>> ColumnsOf(SparkSession& session, const std::string& query);

/// The columns of a batch view that came from the files (not audit nor hidden ones).
std::vector<std::string> DataColumns(const AppendOperation& op,
                                     const std::vector<Column>& columns);

/// SchemaMismatch "<key> column '<column>' of <table> is not in the files" (as on DuckDB).
Status CheckPresent(const std::vector<std::string>& columns, const std::string& column,
                    const std::string& key, const AppendOperation& op);

/// Case-insensitive (Spark's default resolution, delta::SameColumnName).
bool HasColumn(const std::vector<std::string>& names, const std::string& name);
bool HasColumn(const std::vector<delta::StructField>& columns, const std::string& name);

/// SQL over a batch view's row: whether a key or the sequence column is NULL, and why
/// (`NULL in primary_keys column 'id'`, as the DuckDB engine says it).
struct NullKeyTests {
  std::string any_null, reason;
};
NullKeyTests NullKeysOf(const std::vector<std::string>& keys,
                        const std::optional<std::string>& sequence_column);

/// NULL in a key or the sequence column of batch view `view`: the files holding such rows fail
/// by name (RefusedRows, as on DuckDB with on_bad_rows: fail).
Status CheckNullKeys(SparkSession& session, const AppendOperation& op, const std::string& view,
                     const std::vector<std::string>& keys,
                     const std::optional<std::string>& sequence_column);

/// The rows of batch view `view` with a NULL key or sequence value: without `quarantine`,
/// CheckNullKeys; with it they are written as it asks (spark_quarantine.cpp) and `view` is
/// replaced by its other rows. The userMetadata quarantine->record gave; nullopt when no row
/// was written.
Result<std::optional<std::string>> SeparateNullKeys(
    SparkSession& session, const AppendOperation& op,
    const std::optional<QuarantineRows>& quarantine, const std::string& view,
    const std::vector<std::string>& keys, const std::optional<std::string>& sequence_column);

/// The rows of batch view `view`, and in the same scan CheckNullKeys' check (whose breakdown
/// by file runs only when a NULL was found).
Result<int64_t> CountRowsCheckingNullKeys(SparkSession& session, const AppendOperation& op,
                                          const std::string& view,
                                          const std::vector<std::string>& keys,
                                          const std::optional<std::string>& sequence_column);

/// Columns of `written` that op.table_columns lacks: added by an ALTER TABLE commit with
/// merge_schema (Delta's MERGE evolves the schema only for UPDATE SET * / INSERT *), else a
/// SchemaMismatch naming the column, as a write on DuckDB refuses it.
Status AddNewColumns(SparkSession& session, const AppendOperation& op,
                     const std::vector<Column>& written);

/// The types of `written`'s columns that op.table_columns has, checked as the DuckDB engine
/// checks a batch against its table (delta::MergeSchema): a narrower type is fine (the batch
/// view casts it up), a wider one widens the table's column by an ALTER TABLE ... ALTER COLUMN
/// ... TYPE commit when op.widen_types, and any other is a SchemaMismatch
/// naming the column and both types. Delta's MERGE would otherwise cast the batch into the
/// table's type silently (a long's overflow failing, a double rounded to a float).
Status AlignTableTypes(SparkSession& session, const AppendOperation& op,
                       const std::vector<Column>& written);

/// A statement (MERGE) whose commit carries op's txn and userMetadata: Delta's session confs,
/// set for it and unset again whatever happens. A statement whose txn version was applied is
/// skipped by Delta (no commit, no rows). Into a table with a partition column whose name
/// holds a dot or backquote, Delta's repartition before a MERGE's write is off for the
/// statement (it cannot resolve such a name), then the session's own value is put back.
Result<QueryRows> SqlWithTxn(SparkSession& session, const AppendOperation& op,
                             const std::string& sql);

/// Rows per kFileColumn value of `query` (which must have it).
Result<ReadFiles> CountRowsByFile(SparkSession& session, const std::string& query);

/// An Engine error from analysing a config fragment is the config's: a Config error naming
/// `key` (merge_condition, delete_condition, replace_where) and the table.
Status FragmentError(const Status& st, const char* key, const AppendOperation& op);

/// A config fragment `key` of op (nullopt: none) compiled into Spark SQL in place
/// (spark_fragment.hpp); a Config error naming the key and the table when it cannot be.
Status InSparkDialect(std::optional<std::string>& fragment, const char* key,
                      const AppendOperation& op);

/// A Spark error as ours: Delta's concurrent-commit refusals are CommitConflict; an error
/// naming one of op's files is that file's (cause data).
Status ClassifyError(Status st, const AppendOperation& op);

}  // namespace dl::engine::spark
