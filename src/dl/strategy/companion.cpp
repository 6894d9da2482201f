#include "dl/strategy/companion.hpp"

#include <fmt/format.h>

#include "dl/common/clock.hpp"
#include "dl/delta/commit_range.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/transaction.hpp"

namespace dl::strategy {
namespace {

// The companion's txn: the target version whose files it last committed.
constexpr const char* kCompanionAppId = "data_loader/companion";

// The `role` files `info` (of target version `version`) recorded, committed to `root`.
Status CommitRecorded(table::TableContext& ctx, const delta::LoaderCommitInfo& info,
                      int64_t version, const std::string& role, const std::string& root) {
  const auto* recorded = info.companion(role);
  if (recorded == nullptr || !*recorded) return Status::OK();
  CompanionFiles files{role, root, (*recorded)->adds, (*recorded)->schema_string};
  for (const auto& add : files.adds) {
    // Gone with the companion (deleted by hand): committing them would break it.
    DL_ASSIGN_OR_RETURN(bool there, ctx.fs.Exists(delta::ResolveDataPath(root, add.path)));
    if (!there) return Status::OK();
  }
  return CommitCompanion(ctx, files, version);
}

}  // namespace

std::string ChangeStoreRoot(const std::string& target_root) {
  return target_root + "/_dl_scd2_changes";
}

std::string QuarantineRoot(const std::string& target_root) { return target_root + "_quarantine"; }

Result<std::shared_ptr<const delta::Snapshot>> LoadCompanion(table::TableContext& ctx,
                                                             const std::string& root) {
  auto loaded = table::LoadSnapshot(ctx, root);
  if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound) {
    return std::shared_ptr<const delta::Snapshot>();
  }
  return loaded;
}

Result<delta::Schema> CompanionSchema(const delta::Snapshot* current, delta::Schema written,
                                      const std::string& root) {
  if (!current) return written;
  delta::SchemaMergeOptions opts;
  opts.allow_new_columns = true;
  // Our own table, following its target's columns: whether a column may widen is the
  // target's write to decide (a refused one never commits these files).
  opts.allow_type_widening = true;
  auto merged = delta::MergeSchema(current->schema(), written, opts);
  if (!merged.ok()) return merged.status().WithContext("writing " + root);
  return merged;
}

Result<CompanionFiles> WriteCompanionFiles(table::TableContext& ctx, const std::string& role,
                                           const std::string& root, const delta::Snapshot* current,
                                           const std::string& sql) {
  DL_ASSIGN_OR_RETURN(std::string select, ctx.engine.DeltaCompatibleSelect(sql));
  DL_ASSIGN_OR_RETURN(delta::Schema written, ctx.engine.SchemaOf(select));
  DL_ASSIGN_OR_RETURN(delta::Schema schema, CompanionSchema(current, std::move(written), root));
  DL_ASSIGN_OR_RETURN(std::string aligned, ctx.engine.AlignToSchema(select, schema));
  CompanionFiles out;
  out.role = role;
  out.root = root;
  out.schema_string = delta::SerializeSchema(schema);
  DL_ASSIGN_OR_RETURN(out.adds, ctx.engine.WriteDataFiles(aligned, root, schema, {}));
  return out;
}

void RecordCompanion(delta::LoaderCommitInfo& info, const CompanionFiles& files) {
  if (auto* field = info.companion(files.role)) {
    *field = delta::CompanionRecord{files.schema_string, files.adds};
  }
}

Status CommitCompanion(table::TableContext& ctx, const CompanionFiles& files,
                       int64_t target_version) {
  // A concurrent roll-forward of the same files conflicts on the txn; the retry sees them.
  for (int attempt = 0;; ++attempt) {
    auto loaded = delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, files.root);
    std::shared_ptr<const delta::Snapshot> snapshot;
    if (loaded.ok()) {
      snapshot = *loaded;
      if (snapshot->TxnVersion(kCompanionAppId).value_or(-1) >= target_version) {
        return Status::OK();
      }
    } else if (loaded.status().code() != StatusCode::kNotFound) {
      return loaded.status();
    }
    DL_ASSIGN_OR_RETURN(delta::Schema schema, delta::ParseSchemaString(files.schema_string));
    delta::Transaction tx(ctx.fs, &ctx.engine, files.root, snapshot);
    if (!snapshot) {
      delta::Metadata md;
      md.id = NewUuid();
      md.schema_string = files.schema_string;
      md.created_time = NowMs();
      tx.Add(delta::RequiredProtocol(schema, md.configuration));
      tx.Add(std::move(md));
    } else if (!(schema == snapshot->schema())) {
      delta::Metadata md = snapshot->metadata();
      md.schema_string = files.schema_string;
      auto upgraded = delta::UpgradeProtocol(snapshot->protocol(), schema, md.configuration);
      if (!(upgraded == snapshot->protocol())) tx.Add(upgraded);
      tx.Add(std::move(md));
    }
    for (const auto& a : files.adds) tx.Add(a);
    tx.Add(delta::SetTransaction{kCompanionAppId, target_version, NowMs()});
    tx.read_set().app_ids.insert(kCompanionAppId);
    tx.SetOperation("WRITE", {{"mode", snapshot ? "Append" : "ErrorIfExists"}});
    auto committed = tx.Commit();
    if (committed.ok()) return Status::OK();
    if (committed.status().code() != StatusCode::kCommitConflict || attempt >= 5) {
      return committed.status().WithContext("committing " + files.root);
    }
  }
}

Status RollForwardCompanion(table::TableContext& ctx, const delta::Snapshot& target,
                            const std::string& role, const std::string& root) {
  DL_ASSIGN_OR_RETURN(auto latest,
                      delta::LatestLoaderCommit(ctx.fs, target.table_root(), target.version(),
                                                &target.log_segment()));
  // The latest loader commit: earlier ones were rolled forward before it was made.
  if (!latest) return Status::OK();
  return CommitRecorded(ctx, latest->info, latest->version, role, root);
}

Status CommitRecordedCompanion(table::TableContext& ctx, const std::string& target_root,
                               int64_t version, const std::string& role,
                               const std::string& root) {
  delta::CommitRangeOptions options;
  options.commit_info_only = true;
  DL_ASSIGN_OR_RETURN(auto range,
                      delta::ReadCommitRange(ctx.fs, target_root, version - 1, version, options));
  if (range.commits.empty()) return Status::OK();  // cleaned up
  const delta::Commit& commit = range.commits.front();
  auto info = delta::LoaderCommitInfo::Of(commit.actions);
  if (!info.ok()) return info.status().WithContext(commit.path);
  return *info ? CommitRecorded(ctx, **info, version, role, root) : Status::OK();
}

}  // namespace dl::strategy
