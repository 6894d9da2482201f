#include "dl/table/table_internal.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

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

Status RefuseRowIdRewrite(const delta::Snapshot* snapshot, const std::string& root,
                          std::string_view what) {
  if (snapshot == nullptr ||
      !delta::RowTrackingEnabled(snapshot->protocol(), snapshot->metadata())) {
    return Status::OK();
  }
  return Status::Unsupported(
      "table {} uses writer feature rowTracking (delta.enableRowTracking=true): {} would copy "
      "or update existing rows without their row ids; nothing was written",
      root, what);
}

Result<std::vector<delta::StructField>> MaterializedRowIdColumns(const delta::Snapshot& snapshot,
                                                                 const std::string& root) {
  std::vector<delta::StructField> out;
  const auto& config = snapshot.metadata().configuration;
  for (const char* key : {delta::kRowIdColumnKey, delta::kRowCommitVersionColumnKey}) {
    auto it = config.find(key);
    if (it == config.end() || it->second.empty()) {
      return Status::Unsupported(
          "table {} has delta.enableRowTracking=true but no table property {}, so rewritten "
          "rows cannot keep their row ids; nothing was written",
          root, key);
    }
    if (snapshot.schema().Find(it->second) != nullptr) {
      return Status::CorruptLog(
          "table {}: the materialized row tracking column {} ({}) is also a column of the schema",
          root, it->second, key);
    }
    out.push_back(delta::StructField{it->second, delta::DataType::Primitive("long"), true});
  }
  return out;
}

Result<CopiedRows> CopyRows(TableContext& ctx, const delta::Snapshot& snapshot,
                            const std::string& view, const std::vector<delta::AddFile>& files,
                            const std::string& root) {
  CopiedRows out{"SELECT * FROM " + engine::QuoteIdent(view), snapshot.schema()};
  if (!delta::RowTrackingEnabled(snapshot.protocol(), snapshot.metadata())) {
    DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshot(view, snapshot, &files));
    return out;
  }
  DL_ASSIGN_OR_RETURN(auto materialized, MaterializedRowIdColumns(snapshot, root));
  DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshotWithFileColumn(view, snapshot, &files, true));
  std::vector<std::string> items;
  for (const auto& f : snapshot.schema().fields) items.push_back(engine::QuoteIdent(f.name));
  items.push_back(fmt::format("{} AS {}", engine::QuoteIdent(engine::kRowIdColumn),
                              engine::QuoteIdent(materialized[0].name)));
  items.push_back(fmt::format("{} AS {}", engine::QuoteIdent(engine::kRowCommitVersionColumn),
                              engine::QuoteIdent(materialized[1].name)));
  out.sql = fmt::format("SELECT {} FROM {}", fmt::join(items, ", "), engine::QuoteIdent(view));
  for (auto& f : materialized) out.file_schema.fields.push_back(std::move(f));
  return out;
}

}  // namespace dl::table::internal

namespace dl::table {

Result<bool> KeepsRowIds(const delta::Snapshot& snapshot, const std::string& root) {
  if (!delta::RowTrackingEnabled(snapshot.protocol(), snapshot.metadata())) return false;
  DL_RETURN_IF_ERROR(internal::MaterializedRowIdColumns(snapshot, root).status());
  return true;
}

}  // namespace dl::table
