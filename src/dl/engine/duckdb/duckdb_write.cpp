// WriteDataFiles: COPY the rows as Parquet into a staging directory under the table root,
// then move each file to its Hive-style partition directory with a unique name and describe
// it as an add action.
//
// DuckDB writes the files (snappy unless the table's delta.compression.codec says otherwise;
// TIMESTAMPTZ as isAdjustedToUTC=true and TIMESTAMP as
// false, which is what Spark expects for timestamp / timestamp_ntz) and reports per-file row
// counts, column statistics and partition keys (RETURN_STATS). The partition keys are the
// Delta partition strings, serialized in SQL; the directory names are escaped by us
// (delta::PartitionDirectory), not by DuckDB. DuckDB cannot combine PARTITION_BY with a file
// size limit, and rotates files only between (large) row groups, so files well over the
// target are split in a second COPY.
// The staging directory is removed when the write ends; one a killed writer left is removed
// by the next run (StagingDir records its owner). On failure, files already moved are
// deleted; if the writer dies instead, no commit names them and VACUUM removes them.
//
// Object stores have no rename: there COPY writes straight to the final keys (DuckDB's own
// Hive-style directories under the table root, part-<uuid>.<codec>.parquet), which no reader
// sees until a commit names them. On failure the files COPY reported are deleted; files of a
// COPY that failed midway (or of a killed writer) are named by no commit, and VACUUM removes
// them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "dl/delta/column_mapping.hpp"
#include "dl/delta/parquet_codec.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/stats.hpp"
#include "dl/engine/duckdb/column_mapping_sql.hpp"
#include "dl/engine/duckdb/duckdb_engine.hpp"
#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/duckdb/object_store.hpp"
#include "dl/engine/duckdb/row_tally.hpp"
#include "dl/engine/duckdb/write_sql.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/staging_dir.hpp"

namespace dl::engine::duck {

namespace {

// One file COPY wrote, before it is moved.
struct StagedFile {
  std::string path;
  int64_t rows = 0;
  int64_t size = 0;
  delta::FileColumnStats stats;
  delta::PartitionValues partition_values;  // by table column name
};

delta::ColumnStats ToColumnStats(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& entries) {
  delta::ColumnStats stats;
  for (const auto& [key, value] : entries) {
    if (!value) continue;
    if (key == "min") stats.min = *value;
    if (key == "max") stats.max = *value;
    if (key == "has_nan") stats.has_nan = *value == "true";
    if (key == "null_count") {
      char* end = nullptr;
      long long n = std::strtoll(value->c_str(), &end, 10);
      if (end && *end == '\0') stats.null_count = n;
    }
  }
  return stats;
}

// Stats of one row of COPY ... RETURN_STATS (a MAP(VARCHAR, MAP(VARCHAR, VARCHAR))).
delta::FileColumnStats ReadColumnStats(duckdb_vector stats_vec, idx_t row) {
  delta::FileColumnStats out;
  auto range = VectorListEntry(stats_vec, row);
  if (!range) return out;
  duckdb_vector entries = duckdb_list_vector_get_child(stats_vec);
  duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
  for (idx_t i = range->first; i < range->second; ++i) {
    auto key = VectorValueAsString(keys, i);
    auto path = key ? ParseStatsKey(*key) : std::nullopt;
    if (path) out[*path] = ToColumnStats(VectorStringMap(values, i));
  }
  return out;
}

// The rows of COPY ... RETURN_STATS: filename, count, file_size_bytes, footer_size_bytes,
// column_statistics, partition_keys.
// `key_columns[i]` is the COPY column holding partition_columns[i] (empty: PartitionKeyColumn).
Result<std::vector<StagedFile>> ReadCopyResult(QueryResult& result,
                                               const std::vector<std::string>& partition_columns,
                                               const std::vector<std::string>& key_columns = {}) {
  std::vector<StagedFile> files;
  if (result.column_count() < 6) return Status::Internal("unexpected COPY RETURN_STATS result");
  while (DataChunk chunk = result.Next()) {
    for (idx_t r = 0; r < chunk.size(); ++r) {
      StagedFile f;
      f.path = VectorValueAsString(chunk.column(0), r).value_or("");
      f.rows = VectorValueAsInt64(chunk.column(1), r).value_or(0);
      f.size = VectorValueAsInt64(chunk.column(2), r).value_or(0);
      f.stats = ReadColumnStats(chunk.column(4), r);
      auto keys = VectorStringMap(chunk.column(5), r);
      for (size_t i = 0; i < partition_columns.size(); ++i) {
        std::string key = key_columns.empty() ? PartitionKeyColumn(i) : key_columns[i];
        std::optional<std::string> value;
        for (const auto& [k, v] : keys) {
          if (k == key) value = v;
        }
        if (value && value->empty()) value.reset();  // "" means null in Delta
        f.partition_values[partition_columns[i]] = value;
      }
      files.push_back(std::move(f));
    }
  }
  return files;
}

// Dictionaries stop at this many distinct values per column chunk: DuckDB's default lets them
// grow far larger, where building them costs more than they save (on a 1M-row, 20-column
// table: 10% less writer CPU for 2% larger files; low-cardinality columns keep theirs).
constexpr const char* kDictionaryLimit = "DICTIONARY_SIZE_LIMIT 10000";

// How the files name things: the partition keys of add.partitionValues (and of the
// directories), the data schema the stats follow, and COPY's FIELD_IDS option. Under column
// mapping all of these use physical names.
struct FileLayout {
  std::vector<std::string> partition_keys;
  delta::Schema data_schema;
  std::string field_ids;
  std::string codec;   ///< COPY's COMPRESSION (the neutral names are DuckDB's)
  std::string suffix;  ///< of the file names: snappy.parquet, zstd.parquet, ...
};

FileLayout LayoutFor(const delta::Schema& table_schema, const WriteOptions& options) {
  FileLayout layout{options.partition_columns, DataSchema(table_schema, options.partition_columns),
                    "", options.compression, delta::ParquetFileSuffix(options.compression)};
  if (!options.column_mapping) return layout;
  for (auto& key : layout.partition_keys) key = delta::PhysicalColumnName(table_schema, key);
  layout.field_ids = ", FIELD_IDS " + FieldIdsSql(layout.data_schema);
  layout.data_schema = delta::PhysicalSchema(layout.data_schema);
  return layout;
}

// `key_columns`: the partition key columns of the COPY query (none: not partitioned).
std::string CopyOptions(const std::vector<std::string>& key_columns, int64_t file_size,
                        const FileLayout& layout) {
  std::string options = fmt::format(
      "FORMAT parquet, COMPRESSION {}, FILENAME_PATTERN 'part-{{uuid}}', "
      "RETURN_STATS true, {}{}",
      layout.codec, kDictionaryLimit, layout.field_ids);
  if (!key_columns.empty()) {
    std::string keys;
    for (size_t i = 0; i < key_columns.size(); ++i) {
      keys += (i ? ", " : "") + QuoteIdent(key_columns[i]);
    }
    return options + ", PARTITION_BY (" + keys + ")";
  }
  return options + fmt::format(", FILE_SIZE_BYTES {}", std::max<int64_t>(file_size, 1));
}

// Re-split one oversized file into `dir` (appending to it when `in_place`: on object stores
// the parts go beside the big file, under their final keys). COPY only rotates files between
// row groups (122,880 rows by default) and not at all with PARTITION_BY, so size the row
// groups from the file's own bytes per row and put one row group in each file.
Result<std::vector<StagedFile>> SplitFile(Connection& conn, FileSystem& fs, const StagedFile& big,
                                          const std::string& dir, bool in_place,
                                          const std::string& extension, int64_t target,
                                          const FileLayout& layout) {
  int64_t rows_per_file = std::max<int64_t>(
      1, static_cast<int64_t>(static_cast<double>(big.rows) * static_cast<double>(target) /
                              static_cast<double>(big.size)));
  if (rows_per_file >= big.rows) return std::vector<StagedFile>{big};
  std::string sql = fmt::format(
      "COPY (SELECT * FROM read_parquet({}, hive_partitioning=false)) TO {} (FORMAT parquet, "
      "COMPRESSION {}, FILENAME_PATTERN 'part-{{uuid}}', FILE_EXTENSION '{}', "
      "RETURN_STATS true, {}, ROW_GROUP_SIZE {}, ROW_GROUPS_PER_FILE 1{}{})",
      QuoteLiteral(ReadPath(big.path)), QuoteLiteral(EnginePath(dir)), layout.codec, extension,
      kDictionaryLimit, rows_per_file, in_place ? ", APPEND true" : "", layout.field_ids);
  DL_ASSIGN_OR_RETURN(QueryResult result, conn.Query(sql, "splitting a large data file"));
  DL_ASSIGN_OR_RETURN(auto parts, ReadCopyResult(result, {}));
  for (auto& p : parts) {
    p.path = UserPath(p.path, dir);
    p.partition_values = big.partition_values;
  }
  Status removed = fs.Delete(big.path);
  if (!removed.ok() && !in_place) return parts;  // a staged leftover goes with the staging dir
  DL_RETURN_IF_ERROR(removed);
  return parts;
}

// Split the files well over the target size (COPY overshoots a little anyway).
Result<std::vector<StagedFile>> SplitOversized(Connection& conn, FileSystem& fs,
                                               std::vector<StagedFile> files,
                                               const std::string& staging, int64_t target,
                                               const FileLayout& layout) {
  std::vector<StagedFile> ready;
  for (auto& f : files) {
    if (target <= 0 || f.size <= target + target / 2) {
      ready.push_back(std::move(f));
      continue;
    }
    bool in_place = staging.empty();
    std::string dir =
        in_place ? f.path.substr(0, f.path.rfind('/')) : JoinPath(staging, "split-" + NewUuid());
    DL_ASSIGN_OR_RETURN(auto parts,
                        SplitFile(conn, fs, f, dir, in_place, in_place ? layout.suffix : "parquet",
                                  target, layout));
    for (auto& p : parts) ready.push_back(std::move(p));
  }
  return ready;
}

// Move a staged file to <table_root>/<partition dir>/part-<uuid>.<layout.suffix>.
Result<delta::AddFile> PublishFile(FileSystem& fs, const StagedFile& f,
                                   const std::string& table_root, const FileLayout& layout,
                                   int num_indexed_cols) {
  const auto& partition_columns = layout.partition_keys;
  const delta::Schema& data_schema = layout.data_schema;
  std::string stem = std::filesystem::path(f.path).stem().string();  // part-<uuid>
  std::string dir = delta::PartitionDirectory(partition_columns, f.partition_values);
  std::string name = stem + "." + layout.suffix;
  std::string relative = dir.empty() ? name : dir + "/" + name;
  std::string target = JoinPath(table_root, relative);
  if (!dir.empty()) DL_RETURN_IF_ERROR(fs.CreateDirs(JoinPath(table_root, dir)));
  DL_RETURN_IF_ERROR(fs.Rename(f.path, target));
  DL_ASSIGN_OR_RETURN(FileEntry entry, fs.Stat(target));
  delta::AddFile add;
  add.path = delta::UriEncodePath(relative);
  add.partition_values = f.partition_values;
  add.size = entry.size;
  add.modification_time = entry.modification_time_ms;
  add.data_change = true;
  add.stats = delta::BuildStatsJson(data_schema, f.rows, f.stats, num_indexed_cols);
  return add;
}

// Deletes, unless released, the files already published.
class WriteCleanup {
 public:
  explicit WriteCleanup(FileSystem& fs) : fs_(fs) {}
  ~WriteCleanup() {
    for (const auto& f : published_) (void)fs_.Delete(f);
  }
  void Published(std::string path) { published_.push_back(std::move(path)); }
  void Release() { published_.clear(); }

 private:
  FileSystem& fs_;
  std::vector<std::string> published_;
};

// The add action of a file COPY wrote straight to its final key below `root`.
Result<delta::AddFile> DescribeWrittenFile(const StagedFile& f, const std::string& root,
                                           const delta::Schema& data_schema, int num_indexed_cols) {
  std::string prefix = root + "/";
  if (f.path.compare(0, prefix.size(), prefix) != 0) {
    return Status::Internal("COPY wrote '{}' outside the table root '{}'", f.path, root);
  }
  delta::AddFile add;
  add.path = delta::UriEncodePath(f.path.substr(prefix.size()));
  add.partition_values = f.partition_values;
  add.size = f.size;
  add.modification_time = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  add.data_change = true;
  add.stats = delta::BuildStatsJson(data_schema, f.rows, f.stats, num_indexed_cols);
  return add;
}

}  // namespace

Result<std::vector<delta::AddFile>> DuckDbEngine::WriteDataFiles(const std::string& sql,
                                                                 const std::string& table_root,
                                                                 const delta::Schema& table_schema,
                                                                 const WriteOptions& options) {
  std::string context = fmt::format("writing data files to '{}'", table_root);
  // The codec reaches COPY's options as a word: only the ones named there.
  if (std::find(std::begin(delta::kParquetCodecs), std::end(delta::kParquetCodecs),
                options.compression) == std::end(delta::kParquetCodecs)) {
    return Status::InvalidArgument("unknown Parquet codec '{}'", options.compression);
  }
  DL_ASSIGN_OR_RETURN(auto query_columns, Describe(sql, context));
  std::optional<RowTally> tally;
  if (!options.count_rows_by.empty() && options.rows_by_value != nullptr) tally.emplace();
  DL_ASSIGN_OR_RETURN(std::string select, BuildWriteSelect(sql, query_columns, table_schema,
                                                           options, tally ? &*tally : nullptr));
  Result<std::vector<delta::AddFile>> adds =
      IsUri(table_root) ? WriteToObjectStore(select, table_root, table_schema, options)
                        : WriteLocal(select, table_root, table_schema, options);
  if (!adds.ok()) {
    return IsUri(table_root) ? adds.status().WithContext(context) : adds.status();
  }
  if (tally) *options.rows_by_value = tally->Counts();
  return adds;
}

Result<std::vector<delta::AddFile>> DuckDbEngine::WriteLocal(const std::string& select,
                                                             const std::string& table_root,
                                                             const delta::Schema& table_schema,
                                                             const WriteOptions& options) {
  std::string context = fmt::format("writing data files to '{}'", table_root);
  FileSystem& fs = *fs_;
  DL_RETURN_IF_ERROR(fs.CreateDirs(table_root));
  // Owned while it lives, so the next run can tell a killed writer's leftovers from ours.
  DL_ASSIGN_OR_RETURN(StagingDir staging_dir, StagingDir::Create(table_root));
  WriteCleanup cleanup(fs);
  const std::string staging = JoinPath(staging_dir.path(), "data");
  const FileLayout layout = LayoutFor(table_schema, options);
  const auto& partition_columns = layout.partition_keys;
  std::vector<std::string> keys;
  for (size_t i = 0; i < partition_columns.size(); ++i) keys.push_back(PartitionKeyColumn(i));
  std::string copy = fmt::format("COPY ({}) TO {} ({})", select, QuoteLiteral(staging),
                                 CopyOptions(keys, options.target_file_size_bytes, layout));
  DL_ASSIGN_OR_RETURN(QueryResult result, conn_.Query(copy, context));
  DL_ASSIGN_OR_RETURN(auto staged, ReadCopyResult(result, partition_columns));
  DL_ASSIGN_OR_RETURN(auto ready, SplitOversized(conn_, fs, std::move(staged), staging,
                                                 options.target_file_size_bytes, layout));

  std::vector<delta::AddFile> adds;
  for (const auto& f : ready) {
    if (f.rows == 0) continue;  // COPY may leave an empty file for an empty result
    auto add = PublishFile(fs, f, table_root, layout, options.num_indexed_cols);
    if (!add.ok()) return add.status().WithContext(context);
    cleanup.Published(delta::ResolveDataPath(table_root, add->path));
    adds.push_back(std::move(*add));
  }
  cleanup.Release();
  return adds;
}

Result<std::vector<delta::AddFile>> DuckDbEngine::WriteToObjectStore(
    const std::string& select, const std::string& table_root, const delta::Schema& table_schema,
    const WriteOptions& options) {
  std::string root = table_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  const FileLayout layout = LayoutFor(table_schema, options);
  const auto& partition_columns = layout.partition_keys;
  // The key columns take the partition columns' names, so DuckDB's directories are the usual
  // <column>=<value> (escaped by DuckDB; the add path records the key exactly).
  std::string query = select;
  if (!partition_columns.empty()) {
    std::vector<std::string> renames;
    for (size_t i = 0; i < partition_columns.size(); ++i) {
      renames.push_back(fmt::format("{} AS {}", QuoteIdent(PartitionKeyColumn(i)),
                                    QuoteIdent(partition_columns[i])));
    }
    query = fmt::format("SELECT * RENAME ({}) FROM ({}) AS \"_dl_w\"", fmt::join(renames, ", "),
                        select);
  }
  // APPEND: the table root already holds files; new names are fresh uuids.
  std::string copy = fmt::format(
      "COPY ({}) TO {} ({}, FILE_EXTENSION '{}', APPEND true)", query,
      QuoteLiteral(EnginePath(root)),
      CopyOptions(partition_columns, options.target_file_size_bytes, layout), layout.suffix);
  DL_ASSIGN_OR_RETURN(QueryResult result, conn_.Query(copy));
  DL_ASSIGN_OR_RETURN(auto written, ReadCopyResult(result, partition_columns, partition_columns));
  WriteCleanup cleanup(*fs_);
  for (auto& f : written) {
    f.path = UserPath(f.path, root);  // as the caller spells the root, so add.path is relative
    cleanup.Published(f.path);
  }
  DL_ASSIGN_OR_RETURN(auto ready, SplitOversized(conn_, *fs_, std::move(written), "",
                                                 options.target_file_size_bytes, layout));
  for (const auto& f : ready) cleanup.Published(f.path);

  const delta::Schema& data_schema = layout.data_schema;
  std::vector<delta::AddFile> adds;
  for (const auto& f : ready) {
    if (f.rows == 0) {  // COPY may leave an empty file for an empty result
      DL_RETURN_IF_ERROR(fs_->Delete(f.path));
      continue;
    }
    DL_ASSIGN_OR_RETURN(delta::AddFile add,
                        DescribeWrittenFile(f, root, data_schema, options.num_indexed_cols));
    adds.push_back(std::move(add));
  }
  cleanup.Release();
  return adds;
}

}  // namespace dl::engine::duck
