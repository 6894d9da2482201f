// Deleting rows in place with deletion vectors: the file stays, its deletion vector grows.
// Merge-on-read: a write touching a few rows of a large file writes a few bytes of bitmap
// instead of rewriting the file (OPTIMIZE later rewrites files without their deleted rows).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "dl/delta/stats.hpp"
#include "dl/table/table.hpp"
#include "dl/table/table_internal.hpp"

namespace dl::table {

bool UsesDeletionVectors(const delta::Snapshot& snapshot) {
  const auto& conf = snapshot.metadata().configuration;
  auto it = conf.find("delta.enableDeletionVectors");
  if (it == conf.end() || (it->second != "true" && it->second != "TRUE")) return false;
  const auto& features = snapshot.protocol().writer_features;
  return features && std::count(features->begin(), features->end(), "deletionVectors") > 0;
}

Result<std::vector<RowDeletes>> CollectRowDeletes(engine::Engine& engine,
                                                  const delta::Snapshot& snapshot,
                                                  const std::string& rows_sql) {
  DL_ASSIGN_OR_RETURN(auto rows, engine.Query(fmt::format(
                                     "SELECT f, string_agg(CAST(r AS VARCHAR), ',' ORDER BY r) "
                                     "FROM (SELECT DISTINCT \"_dl_file\" AS f, \"_dl_row\" AS r "
                                     "FROM ({})) GROUP BY f",
                                     rows_sql)));
  std::map<std::string, const delta::AddFile*> by_path;
  for (const auto& f : snapshot.files()) by_path.emplace(f.path, &f);
  std::vector<RowDeletes> out;
  for (const auto& r : rows.rows) {
    const std::string path = r.at(0).value_or("");
    auto it = by_path.find(path);
    if (it == by_path.end()) {
      return Status::Internal("rows to delete in '{}', which is not a live file of {}", path,
                              snapshot.table_root());
    }
    RowDeletes d{*it->second, {}};
    const std::string list = r.at(1).value_or("");  // "1,5,9"
    for (size_t i = 0; i < list.size();) {
      size_t end = std::min(list.find(',', i), list.size());
      d.rows.push_back(std::stoull(list.substr(i, end - i)));
      i = end + 1;
    }
    out.push_back(std::move(d));
  }
  return out;
}

namespace internal {

Status AddRowDeletes(FileSystem& fs, const std::string& root,
                     const std::vector<RowDeletes>& deletes, int64_t now_ms,
                     std::vector<delta::Action>& actions, WriteResult& result) {
  for (const auto& d : deletes) {
    if (d.rows.empty()) continue;
    delta::RowIndexes rows = d.rows;
    if (d.file.deletion_vector) {
      auto old = delta::ReadDeletionVector(fs, root, *d.file.deletion_vector);
      if (!old.ok()) {
        return old.status().WithContext(
            fmt::format("reading the deletion vector of '{}'", d.file.path));
      }
      rows = delta::UnionRows(*old, rows);
    }
    const int64_t before = d.file.deletion_vector ? d.file.deletion_vector->cardinality : 0;
    result.rows_deleted_in_place += static_cast<int64_t>(rows.size()) - before;
    actions.emplace_back(RemoveFor(d.file, now_ms, true));
    ++result.files_removed;
    auto records = delta::ParseStats(d.file.stats).num_records;
    if (records && static_cast<int64_t>(rows.size()) >= *records) continue;  // no row left
    DL_ASSIGN_OR_RETURN(auto dv, delta::WriteDeletionVector(fs, root, rows));
    delta::AddFile add = d.file;
    add.deletion_vector = std::move(dv);
    add.data_change = true;
    if (add.stats) {
      auto wide = delta::WithWideBounds(*add.stats);
      if (!wide.ok()) return wide.status().WithContext(fmt::format("stats of '{}'", add.path));
      add.stats = std::move(*wide);
    }
    actions.emplace_back(std::move(add));
    ++result.deletion_vectors_added;
  }
  return Status::OK();
}

}  // namespace internal
}  // namespace dl::table
