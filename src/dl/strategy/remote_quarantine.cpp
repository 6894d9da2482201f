// on_bad_rows: quarantine on an engine that commits the target itself (Spark): the engine
// writes the bad rows as Parquet files into a new directory of the quarantine table before
// its commit; they are listed here through our FileSystem and recorded in that commit's
// metadata, then committed to the quarantine table by our Delta module exactly as the DuckDB
// engine's (companion.hpp: a crash between the two commits is rolled forward).
#include <fmt/format.h>

#include <algorithm>

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/partition.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/strategy/bad_rows.hpp"

namespace dl::strategy {
namespace {

constexpr const char* kRole = "quarantine";

// Where the files' type of a column (`written`) is not the schema's (`table`) once merged,
// i.e. narrower: readers without type widening would refuse or misread such files. Nested
// types are compared field by field (a struct field the files lack is NULL to readers).
std::optional<std::string> NarrowerIn(const delta::DataType& written, const delta::DataType& table,
                                      const std::string& path) {
  using Kind = delta::DataType::Kind;
  if (written.kind != table.kind) return path;
  switch (written.kind) {
    case Kind::kArray:
      return NarrowerIn(*written.element, *table.element, path + ".element");
    case Kind::kMap:
      if (auto key = NarrowerIn(*written.key, *table.key, path + ".key")) return key;
      return NarrowerIn(*written.value, *table.value, path + ".value");
    case Kind::kStruct:
      for (const auto& f : written.fields) {
        auto it = std::find_if(table.fields.begin(), table.fields.end(),
                               [&](const delta::StructField& t) { return t.name == f.name; });
        if (it == table.fields.end()) return path + "." + f.name;
        if (auto inner = NarrowerIn(*f.type, *it->type, path + "." + f.name)) return inner;
      }
      return std::nullopt;
    default:
      return written.ToString() == table.ToString() ? std::nullopt
                                                    : std::optional<std::string>(path);
  }
}

// The engine casts a narrower column up to the table's type (engine::QuarantineRows); files
// that still hold another type than the schema records are refused, never committed.
Status CheckWrittenTypes(const delta::Schema& written, const delta::Schema& schema,
                         const std::string& root) {
  for (const auto& w : written.fields) {
    const delta::StructField* field = schema.Find(w.name);
    if (field == nullptr) continue;  // MergeSchema took every written column
    if (auto path = NarrowerIn(*w.type, *field->type, w.name)) {
      return Status::SchemaMismatch(
          "the engine wrote column {} of quarantine table {} as {} where the table has {}", *path,
          root, w.type->ToString(), field->type->ToString());
    }
  }
  return Status::OK();
}

// `info` with the files the engine wrote into <root>/<dir> recorded as the quarantine's;
// `current` is the quarantine table the engine was given (null: none yet).
Result<std::string> RecordWritten(table::TableContext& ctx, const std::string& root,
                                  const std::string& dir, const delta::Snapshot* current,
                                  delta::LoaderCommitInfo info) {
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
  DL_ASSIGN_OR_RETURN(delta::Schema schema, CompanionSchema(current, *written, root));
  DL_RETURN_IF_ERROR(CheckWrittenTypes(*written, schema, root));
  files.schema_string = delta::SerializeSchema(schema);
  RecordCompanion(info, files);
  return info.ToUserMetadata();
}

}  // namespace

Result<std::optional<engine::QuarantineRows>> RemoteQuarantine(
    table::TableContext& ctx, const Target& target, const delta::LoaderCommitInfo& info) {
  const config::TableConfig& t = target.config;
  if (t.on_bad_rows != config::OnBadRows::kQuarantine) {
    return std::optional<engine::QuarantineRows>();
  }
  engine::QuarantineRows q;
  const std::string root = QuarantineRoot(target.root);
  // Its schema only (the engine's files take its types; record merges theirs into it).
  std::shared_ptr<const delta::Snapshot> current;
  auto loaded = delta::Snapshot::LoadWithoutFiles(ctx.fs, &ctx.engine, root);
  if (loaded.ok()) {
    current = *loaded;
    q.columns = current->schema().fields;
  } else if (loaded.status().code() != StatusCode::kNotFound) {
    return loaded.status().WithContext("reading quarantine table " + root);
  }
  // Not hidden (no leading '_' or '.'): VACUUM of the quarantine table removes the files of
  // an attempt whose target commit never landed.
  const std::string dir = "batch-" + NewUuid();
  q.dir = root + "/" + dir;
  if (!t.audit_columns.enabled) q.source_file_column = t.audit_columns.source_file;
  q.record = [&ctx, root, dir, current, info]() {
    return RecordWritten(ctx, root, dir, current.get(), info);
  };
  return std::optional<engine::QuarantineRows>(std::move(q));
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
