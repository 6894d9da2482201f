// on_bad_rows: quarantine on an engine that commits the target itself (Spark): the engine
// writes the bad rows as Parquet files into a new directory of the quarantine table before
// its commit; they are listed here through our FileSystem and recorded in that commit's
// metadata, then committed to the quarantine table by our Delta module exactly as the DuckDB
// engine's (companion.hpp: a crash between the two commits is rolled forward).
#include <fmt/format.h>

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/partition.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/strategy/bad_rows.hpp"

namespace dl::strategy {
namespace {

constexpr const char* kRole = "quarantine";

// `info` with the files the engine wrote into <root>/<dir> recorded as the quarantine's.
Result<std::string> RecordWritten(table::TableContext& ctx, const std::string& root,
                                  const std::string& dir, delta::LoaderCommitInfo info) {
  const std::string path = root + "/" + dir;
  DL_ASSIGN_OR_RETURN(auto entries, ctx.fs.List(path));
  CompanionFiles files{kRole, root, {}, ""};
  std::vector<std::string> paths;
  for (const auto& e : entries) {
    const std::string name = e.path.substr(e.path.find_last_of('/') + 1);
    // Hadoop's checksums (.x.crc) and markers (_SUCCESS) are no data files.
    if (e.is_dir || name.empty() || name[0] == '.' || name[0] == '_') continue;
    delta::AddFile add;
    add.path = delta::UriEncodePath(dir + "/" + name);
    add.size = e.size;
    add.modification_time = e.modification_time_ms;
    files.adds.push_back(std::move(add));
    paths.push_back(e.path);
  }
  if (files.adds.empty()) {
    return Status::Internal("the engine wrote no quarantine file into {}", path);
  }
  // The files' own schema (as the engine wrote them), read from their footers.
  const std::string view = "__dl_quarantined";
  DL_RETURN_IF_ERROR(ctx.engine.RegisterFiles(view, paths, engine::SourceOptions{}));
  auto written = ctx.engine.SchemaOf("SELECT * FROM " + engine::QuoteIdent(view));
  ctx.engine.DropSource(view);
  if (!written.ok()) return written.status().WithContext("reading " + path);
  DL_ASSIGN_OR_RETURN(auto current, LoadCompanion(ctx, root));
  DL_ASSIGN_OR_RETURN(delta::Schema schema,
                      CompanionSchema(current.get(), std::move(*written), root));
  files.schema_string = delta::SerializeSchema(schema);
  RecordCompanion(info, files);
  return info.ToUserMetadata();
}

}  // namespace

std::optional<engine::QuarantineRows> RemoteQuarantine(table::TableContext& ctx,
                                                       const Target& target,
                                                       const delta::LoaderCommitInfo& info) {
  const config::TableConfig& t = target.config;
  if (t.on_bad_rows != config::OnBadRows::kQuarantine) return std::nullopt;
  engine::QuarantineRows q;
  const std::string root = QuarantineRoot(target.root);
  // Not hidden (no leading '_' or '.'): VACUUM of the quarantine table removes the files of
  // an attempt whose target commit never landed.
  const std::string dir = "batch-" + NewUuid();
  q.dir = root + "/" + dir;
  if (!t.audit_columns.enabled) q.source_file_column = t.audit_columns.source_file;
  q.record = [&ctx, root, dir, info]() { return RecordWritten(ctx, root, dir, info); };
  return q;
}

Status RollForwardRemoteQuarantine(table::TableContext& ctx, const Target& target,
                                   const delta::Snapshot* snapshot) {
  if (!snapshot) return Status::OK();
  return RollForwardCompanion(ctx, *snapshot, kRole, QuarantineRoot(target.root));
}

Status CommitRemoteQuarantine(table::TableContext& ctx, const Target& target, int64_t version) {
  if (target.config.on_bad_rows != config::OnBadRows::kQuarantine) return Status::OK();
  Status st =
      CommitRecordedCompanion(ctx, target.root, version, kRole, QuarantineRoot(target.root));
  if (st.ok()) return st;
  // The target commit stands; the next batch rolls the quarantine forward.
  log::Warn("quarantine table not committed yet",
            {{"table", target.display_name}, {"version", version}, {"error", st.message()}});
  return Status::OK();
}

}  // namespace dl::strategy
