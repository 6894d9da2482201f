// Change data feed (delta.enableChangeDataFeed, PROTOCOL.md "Change Data Files", "Add CDC
// File"): the cdc files a write adds to its commit, and reading the changes of a range of
// versions (`table changes`).
#include "dl/engine/change_data.hpp"

#include <fmt/format.h>

#include "dl/delta/column_mapping.hpp"
#include "dl/delta/commit_range.hpp"
#include "dl/delta/parquet_codec.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/table/table.hpp"
#include "dl/table/table_internal.hpp"

namespace dl::table {
namespace {

constexpr const char* kChangeDataDir = "_change_data";

// A snapshot holding no file list, only what reading files as rows of the table needs (the
// engine reads a given subset of files with its schema, partitioning and column mapping).
std::shared_ptr<const delta::Snapshot> FileReader(const std::string& root,
                                                  const delta::Protocol& protocol,
                                                  const delta::Metadata& metadata,
                                                  const delta::Schema& schema) {
  return std::make_shared<delta::Snapshot>(root, delta::LogSegment{}, -1, 0, protocol, metadata,
                                           schema, std::vector<delta::AddFile>{},
                                           std::vector<delta::RemoveFile>{},
                                           std::map<std::string, delta::SetTransaction>{},
                                           std::map<std::string, delta::DomainMetadata>{}, false);
}

// The table's schema plus the `_change_type` column of change data files.
delta::Schema WithChangeType(delta::Schema schema) {
  delta::StructField f;
  f.name = engine::kChangeTypeColumn;
  f.type = delta::DataType::Primitive("string");
  f.nullable = true;
  schema.fields.push_back(std::move(f));
  return schema;
}

// A remove read as the file it retires (its rows as they were: its deletion vector applies).
delta::AddFile AsFile(const delta::RemoveFile& r) {
  delta::AddFile f;
  f.path = r.path;
  f.partition_values = r.partition_values.value_or(delta::PartitionValues{});
  f.size = r.size.value_or(0);
  f.deletion_vector = r.deletion_vector;
  return f;
}

std::vector<std::string> ColumnNames(const delta::Schema& schema) {
  std::vector<std::string> out;
  for (const auto& f : schema.fields) out.push_back(f.name);
  return out;
}

}  // namespace

namespace internal {

Status AddChangeData(TableContext& ctx, const std::string& root, const delta::Protocol& protocol,
                     const delta::Metadata& metadata, const delta::Schema& schema,
                     const std::vector<std::string>& keys, std::vector<delta::Action>& actions) {
  if (!delta::ChangeDataFeedEnabled(metadata.configuration)) return Status::OK();
  std::vector<delta::AddFile> removed, added;
  for (const auto& a : actions) {
    if (const auto* r = std::get_if<delta::RemoveFile>(&a); r && r->data_change) {
      removed.push_back(AsFile(*r));
    }
    if (const auto* f = std::get_if<delta::AddFile>(&a); f && f->data_change) added.push_back(*f);
  }
  // Only new rows, or only whole files removed: readers take the adds as inserts and the
  // removes as deletes (PROTOCOL.md), no cdc file is needed.
  if (removed.empty() || added.empty()) return Status::OK();
  auto files = FileReader(root, protocol, metadata, schema);
  const std::string old_view = "__dl_cdf_old", new_view = "__dl_cdf_new";
  DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshot(old_view, *files, &removed));
  DL_RETURN_IF_ERROR(ctx.engine.RegisterSnapshot(new_view, *files, &added));
  engine::WriteOptions wopts;
  wopts.partition_columns = metadata.partition_columns;
  wopts.column_mapping = delta::UsesColumnMapping(metadata.configuration);
  DL_ASSIGN_OR_RETURN(wopts.compression, delta::ParquetCodecOf(metadata.configuration, root));
  DL_ASSIGN_OR_RETURN(
      auto written,
      ctx.engine.WriteDataFiles(
          engine::WriteChangeRowsSql(old_view, new_view, ColumnNames(schema), keys),
          JoinPath(root, kChangeDataDir), WithChangeType(schema), wopts));
  if (written.empty()) {
    // Every row removed is added back unchanged: the commit only moves rows, which is what
    // dataChange=false says (readers of changes skip it, conflicts are checked as before).
    for (auto& a : actions) {
      if (auto* r = std::get_if<delta::RemoveFile>(&a)) r->data_change = false;
      if (auto* f = std::get_if<delta::AddFile>(&a)) f->data_change = false;
    }
    return Status::OK();
  }
  for (auto& w : written) {
    delta::AddCdcFile cdc;
    cdc.path = std::string(kChangeDataDir) + "/" + w.path;
    cdc.partition_values = std::move(w.partition_values);
    cdc.size = w.size;
    cdc.data_change = false;
    actions.emplace_back(std::move(cdc));
  }
  return Status::OK();
}

}  // namespace internal

namespace {

// Reads the change rows of one commit after another, following the table's metadata.
class ChangeReader {
 public:
  ChangeReader(TableContext& ctx, std::string root, const delta::Snapshot& start, int64_t from,
               int64_t to)
      : ctx_(ctx),
        root_(std::move(root)),
        protocol_(start.protocol()),
        metadata_(start.metadata()),
        schema_(start.schema()),
        from_(from),
        to_(to) {}

  Status Read(delta::Commit&& commit) {
    std::vector<delta::AddFile> cdc, added, removed;
    for (auto& a : commit.actions) {
      if (auto* p = std::get_if<delta::Protocol>(&a)) {
        DL_RETURN_IF_ERROR(delta::CheckCanRead(*p, metadata_, root_));
        protocol_ = std::move(*p);
      } else if (auto* m = std::get_if<delta::Metadata>(&a)) {
        DL_ASSIGN_OR_RETURN(schema_, delta::ParseSchemaString(m->schema_string));
        metadata_ = std::move(*m);
      } else if (auto* c = std::get_if<delta::AddCdcFile>(&a)) {
        delta::AddFile f;
        f.path = c->path;
        f.partition_values = c->partition_values;
        f.size = c->size;
        cdc.push_back(std::move(f));
      } else if (auto* f = std::get_if<delta::AddFile>(&a); f && f->data_change) {
        added.push_back(std::move(*f));
      } else if (auto* r = std::get_if<delta::RemoveFile>(&a); r && r->data_change) {
        removed.push_back(AsFile(*r));
      }
    }
    if (cdc.empty() && added.empty() && removed.empty()) return Status::OK();
    if (!delta::ChangeDataFeedEnabled(metadata_.configuration)) {
      return Status::InvalidArgument(
          "table {}: the change data feed was not enabled at version {} "
          "(delta.enableChangeDataFeed is not true), so the changes of versions {} to {} were "
          "not recorded; read a range where it was enabled",
          root_, commit.version, from_, to_);
    }
    engine::CommitChanges part;
    part.version = commit.version;
    part.timestamp_ms = CommitTimestamp(commit);
    const std::string view = fmt::format("__dl_changes_{}", commit.version);
    if (!cdc.empty()) {
      // The commit's cdc files hold all of its changes; its adds and removes are skipped.
      auto files = FileReader(root_, protocol_, metadata_, WithChangeType(schema_));
      DL_RETURN_IF_ERROR(ctx_.engine.RegisterSnapshot(view, *files, &cdc));
      part.sql = "SELECT * FROM " + engine::QuoteIdent(view);
    } else {
      auto files = FileReader(root_, protocol_, metadata_, schema_);
      DL_RETURN_IF_ERROR(ctx_.engine.RegisterSnapshotWithFileColumn(view + "_r", *files, &removed));
      DL_RETURN_IF_ERROR(ctx_.engine.RegisterSnapshotWithFileColumn(view + "_a", *files, &added));
      part.sql = engine::InferredChangeRowsSql(view + "_r", view + "_a", ColumnNames(schema_));
    }
    parts_.push_back(std::move(part));
    return Status::OK();
  }

  // The feed's query; an empty one (typed like the table) when no commit changed rows.
  Result<std::string> Sql() {
    if (parts_.empty()) {
      auto files = FileReader(root_, protocol_, metadata_, WithChangeType(schema_));
      const std::vector<delta::AddFile> none;
      DL_RETURN_IF_ERROR(ctx_.engine.RegisterSnapshot("__dl_changes_none", *files, &none));
      parts_.push_back({"SELECT * FROM \"__dl_changes_none\"", from_, 0});
    }
    return engine::ChangeFeedSql(parts_);
  }

 private:
  // In-commit timestamp when the commit has one, else the commit file's modification time.
  static int64_t CommitTimestamp(const delta::Commit& commit) {
    const delta::CommitInfo* ci = commit.commit_info();
    if (ci) {
      if (auto ict = ci->in_commit_timestamp()) return *ict;
    }
    if (commit.modification_time_ms > 0) return commit.modification_time_ms;
    return ci ? ci->timestamp().value_or(0) : 0;
  }

  TableContext& ctx_;
  std::string root_;
  delta::Protocol protocol_;
  delta::Metadata metadata_;
  delta::Schema schema_;
  int64_t from_, to_;
  std::vector<engine::CommitChanges> parts_;
};

}  // namespace

Result<std::string> ChangeFeed(TableContext& ctx, const std::string& root, int64_t from,
                               std::optional<int64_t> to) {
  if (from < 0) {
    return Status::InvalidArgument("table {}: --from must be a version (0 or more), not {}", root,
                                   from);
  }
  if (to && *to < from) {
    return Status::InvalidArgument("table {}: --to {} is before --from {}", root, *to, from);
  }
  DL_ASSIGN_OR_RETURN(auto latest, delta::LogSegment::Build(ctx.fs, root));
  for (int64_t v : {from, to.value_or(from)}) {
    if (v > latest.version) {
      return Status::NotFound("table {} has no version {} (its latest version is {})", root, v,
                              latest.version);
    }
  }
  const int64_t until = to.value_or(latest.version);
  auto start = LoadSnapshot(ctx, root, from);
  if (!start.ok()) {
    return start.status().WithContext(
        fmt::format("reading the changes of table {} from version {}", root, from));
  }
  ChangeReader reader(ctx, root, **start, from, until);
  DL_ASSIGN_OR_RETURN(auto info, delta::ForEachCommit(ctx.fs, root, from - 1, until, {},
                                                       [&](delta::Commit&& c) {
                                                         return reader.Read(std::move(c));
                                                       }));
  if (info.expired) {
    return Status::NotFound(
        "table {}: versions {} to {} were removed by log cleanup, so their changes cannot be "
        "read; start at version {} or later",
        root, info.expired->first, info.expired->last, info.expired->last + 1);
  }
  return reader.Sql();
}

}  // namespace dl::table
