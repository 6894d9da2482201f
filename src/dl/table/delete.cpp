// DELETE: copy-on-write (the files holding matching rows are rewritten without them), or in
// place with deletion vectors; with the change data feed on, the deleted rows go to cdc files.
#include <set>

#include "dl/common/clock.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/parquet_codec.hpp"
#include "dl/table/table.hpp"
#include "dl/table/table_internal.hpp"

namespace dl::table {

using engine::QuoteIdent;

namespace {

// DELETE on a table with deletion vectors: no data file is rewritten.
Result<WriteResult> DeleteInPlace(TableContext& ctx, const std::string& root,
                                  const std::shared_ptr<const delta::Snapshot>& snapshot,
                                  const std::string& rows_sql, const std::string& predicate,
                                  int64_t deleted_rows) {
  DL_ASSIGN_OR_RETURN(auto deletes, CollectRowDeletes(ctx.engine, *snapshot, rows_sql));
  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  tx.read_set().whole_table = true;
  WriteResult result;
  std::vector<delta::Action> files;
  DL_RETURN_IF_ERROR(internal::AddRowDeletes(ctx.fs, root, deletes, NowMs(), files, result));
  DL_RETURN_IF_ERROR(internal::AddChangeData(ctx, root, snapshot->protocol(),
                                             snapshot->metadata(), snapshot->schema(), {}, files));
  tx.AddAll(std::move(files));
  tx.SetOperation("DELETE", {{"predicate", nlohmann::json::array({predicate}).dump()}});
  tx.SetOperationMetrics({{"numRemovedFiles", std::to_string(result.files_removed)},
                          {"numAddedFiles", "0"},
                          {"numDeletionVectorsAdded", std::to_string(result.deletion_vectors_added)},
                          {"numDeletedRows", std::to_string(deleted_rows)},
                          {"numCopiedRows", "0"}});
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  result.version = commit.version;
  return result;
}

}  // namespace

Result<WriteResult> DeleteWhere(TableContext& ctx, const std::string& root,
                                const std::string& predicate) {
  if (predicate.find(';') != std::string::npos) {
    return Status::InvalidArgument("delete predicate must be a single SQL expression: {}",
                                   predicate);
  }
  DL_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(ctx, root));
  const std::string scan = "__dl_delete_scan";
  DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshotWithFileColumn(scan, *snapshot, nullptr));
  // Parenthesised so the predicate cannot escape its clause.
  DL_ASSIGN_OR_RETURN(auto hit, ctx.engine.Query(fmt::format(
                                    "SELECT _dl_file, count(*) FROM {} WHERE ({}) GROUP BY 1",
                                    QuoteIdent(scan), predicate)));
  std::set<std::string> touched;
  int64_t deleted_rows = 0;
  for (const auto& row : hit.rows) {
    touched.insert(row.at(0).value_or(""));
    deleted_rows += std::stoll(row.at(1).value_or("0"));
  }
  WriteResult result;
  if (touched.empty()) return result;  // nothing matches: no commit, like Spark
  if (UsesDeletionVectors(*snapshot)) {
    return DeleteInPlace(ctx, root, snapshot,
                         fmt::format("SELECT * FROM {} WHERE ({})", QuoteIdent(scan), predicate),
                         predicate, deleted_rows);
  }

  std::vector<delta::AddFile> rewrite;
  for (const auto& f : snapshot->files()) {
    if (touched.count(f.path)) rewrite.push_back(f);
  }
  // Kept rows keep their row ids and row commit versions on a row tracking table.
  DL_ASSIGN_OR_RETURN(auto copied,
                      internal::CopyRows(ctx, *snapshot, "__dl_delete_src", rewrite, root));
  std::string keep =
      fmt::format("SELECT * FROM ({}) WHERE ({}) IS NOT TRUE", copied.sql, predicate);
  engine::WriteOptions wopts;
  wopts.partition_columns = snapshot->partition_columns();
  wopts.column_mapping = delta::UsesColumnMapping(snapshot->metadata().configuration);
  DL_ASSIGN_OR_RETURN(wopts.compression,
                      delta::ParquetCodecOf(snapshot->metadata().configuration, root));
  DL_ASSIGN_OR_RETURN(auto adds, ctx.engine.WriteDataFiles(keep, root, copied.file_schema, wopts));

  delta::Transaction tx(ctx.fs, &ctx.engine, root, snapshot);
  tx.read_set().whole_table = true;
  int64_t now = NowMs();
  std::vector<delta::Action> files;
  for (const auto& f : rewrite) files.emplace_back(internal::RemoveFor(f, now, true));
  result.files_removed = static_cast<int64_t>(rewrite.size());
  result.files_added = static_cast<int64_t>(adds.size());
  result.rows_written = internal::CountRecords(adds);
  result.bytes_written = internal::TotalBytes(adds);
  for (auto& a : adds) files.emplace_back(std::move(a));
  DL_RETURN_IF_ERROR(internal::AddChangeData(ctx, root, snapshot->protocol(),
                                             snapshot->metadata(), snapshot->schema(), {}, files));
  tx.AddAll(std::move(files));
  tx.SetOperation("DELETE", {{"predicate", nlohmann::json::array({predicate}).dump()}});
  tx.SetOperationMetrics({{"numRemovedFiles", std::to_string(result.files_removed)},
                          {"numAddedFiles", std::to_string(result.files_added)},
                          {"numDeletedRows", std::to_string(deleted_rows)},
                          {"numCopiedRows", std::to_string(result.rows_written)}});
  DL_ASSIGN_OR_RETURN(auto commit, tx.Commit());
  result.version = commit.version;
  return result;
}

}  // namespace dl::table
