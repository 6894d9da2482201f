#include "dl/table/table_internal.hpp"

#include <nlohmann/json.hpp>

#include "dl/delta/row_tracking.hpp"
#include "dl/delta/stats.hpp"
#include "dl/table/table.hpp"

namespace dl::table::internal {

delta::RemoveFile RemoveFor(const delta::AddFile& add, int64_t now_ms, bool data_change) {
  delta::RemoveFile r;
  r.path = add.path;
  r.deletion_timestamp = now_ms;
  r.data_change = data_change;
  r.extended_file_metadata = true;
  r.partition_values = add.partition_values;
  r.size = add.size;
  r.tags = add.tags;
  r.deletion_vector = add.deletion_vector;
  r.base_row_id = add.base_row_id;
  r.default_row_commit_version = add.default_row_commit_version;
  return r;
}

int64_t CountRecords(const std::vector<delta::AddFile>& adds) {
  int64_t n = 0;
  for (const auto& a : adds) n += delta::ParseStats(a.stats).num_records.value_or(0);
  return n;
}

int64_t TotalBytes(const std::vector<delta::AddFile>& adds) {
  int64_t n = 0;
  for (const auto& a : adds) n += a.size;
  return n;
}

std::string JsonList(const std::vector<std::string>& names) { return nlohmann::json(names).dump(); }

}  // namespace dl::table::internal

namespace dl::table {

Status RefuseRowIdRewrite(const delta::Snapshot* snapshot, const std::string& root,
                          std::string_view what) {
  if (snapshot == nullptr ||
      !delta::RowTrackingEnabled(snapshot->protocol(), snapshot->metadata())) {
    return Status::OK();
  }
  return Status::Unsupported(
      "table {} uses writer feature rowTracking (delta.enableRowTracking=true): {} would copy "
      "or update existing rows, and data_loader cannot keep their row ids stable yet; nothing "
      "was written (appends, inserts, whole-table overwrites and deletes with deletion vectors "
      "are supported; run this one with Spark)",
      root, what);
}

}  // namespace dl::table
