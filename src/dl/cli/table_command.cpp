#include "dl/cli/table_command.hpp"

#include <glob.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "dl/cli/output.hpp"
#include "dl/cli/table_session.hpp"
#include "dl/common/clock.hpp"
#include "dl/delta/column_mapping.hpp"
#include "dl/delta/stats.hpp"
#include "dl/discovery/discover.hpp"
#include "dl/storage/paths.hpp"
#include "dl/table/table.hpp"

namespace dl::cli {
namespace {

using nlohmann::ordered_json;

std::string TempDir() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

Status Describe(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto snap, SnapshotFor(s, a));
  const auto& md = snap->metadata();
  const ordered_json j = DescribeJson(a, *snap);
  if (a.json) {
    PrintJson(j);
    return Status::OK();
  }
  std::cout << "table      " << a.path << "\nversion    " << snap->version() << " ("
            << FormatTimestampMs(snap->timestamp_ms()) << ")\nid         " << md.id
            << "\nprotocol   " << j["protocol"].dump() << "\npartitions "
            << ordered_json(md.partition_columns).dump() << "\nfiles      " << snap->files().size()
            << " (" << snap->TotalSize() << " bytes)\nproperties " << j["properties"].dump()
            << "\nschema\n";
  for (const auto& f : snap->schema().fields) {
    std::cout << "  " << f.name << " " << f.type->ToString() << (f.nullable ? "" : " NOT NULL")
              << "\n";
  }
  return Status::OK();
}

Status History(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(ordered_json out, HistoryJson(a));
  if (a.json) {
    PrintJson(out);
    return Status::OK();
  }
  for (const auto& e : out) {
    std::cout << e["version"].get<int64_t>() << "\t" << e["timestamp"].get<std::string>() << "\t"
              << (e["operation"].is_string() ? e["operation"].get<std::string>() : "?") << "\t"
              << e["operationParameters"].dump() << "\t" << e["operationMetrics"].dump() << "\n";
  }
  return Status::OK();
}

Status Files(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto snap, SnapshotFor(s, a));
  // Column mapping keys partition values by physical name; show the display names.
  std::map<std::string, std::string> display;
  if (delta::UsesColumnMapping(snap->metadata().configuration)) {
    for (const auto& c : snap->partition_columns()) {
      display[delta::PhysicalColumnName(snap->schema(), c)] = c;
    }
  }
  ordered_json out = ordered_json::array();
  for (const auto& f : snap->files()) {
    ordered_json pv = ordered_json::object();
    for (const auto& [k, v] : f.partition_values) {
      auto name = display.find(k);
      pv[name == display.end() ? k : name->second] = v ? ordered_json(*v) : ordered_json();
    }
    auto stats = delta::ParseStats(f.stats);
    out.push_back({{"path", f.path},
                   {"size", f.size},
                   {"partitionValues", pv},
                   {"modificationTime", f.modification_time},
                   {"numRecords", stats.num_records ? ordered_json(*stats.num_records)
                                                    : ordered_json()}});
    if (f.deletion_vector) out.back()["deletedRows"] = f.deletion_vector->cardinality;
  }
  if (a.json) {
    PrintJson(out);
    return Status::OK();
  }
  for (const auto& f : out) {
    std::cout << f["path"].get<std::string>() << "\t" << f["size"].get<int64_t>() << "\t"
              << f["numRecords"].dump() << "\t" << f["partitionValues"].dump() << "\n";
  }
  return Status::OK();
}

std::string FormatFromPath(const std::string& path, const std::string& fallback) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".parquet")) return "parquet";
  if (ends(".jsonl") || ends(".json") || ends(".ndjson")) return "jsonl";
  if (ends(".csv")) return "csv";
  return fallback;
}

// The rows of the query `prepare` returns, to a.output in a.format (or the output's).
Status ExportRows(const TableArgs& a,
                  const std::function<Result<std::string>(Session&)>& prepare) {
  std::string format = a.format.empty() ? FormatFromPath(a.output, "csv") : a.format;
  // The engine opens its output with truncation, which would wipe a redirected stdout
  // file; export to a temp file and copy it to stdout instead.
  const std::string out = a.output != "/dev/stdout"
                              ? a.output
                              : fmt::format("{}/dl_scan_{}.{}", TempDir(), NewUuid(), format);
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a, {out}));
  DL_ASSIGN_OR_RETURN(std::string sql, prepare(s));
  if (a.output != "/dev/stdout") return s.engine->Export(sql, out, format);
  Status st = s.engine->Export(sql, out, format);
  if (st.ok()) {
    auto content = s.fs->Read(out);
    if (content.ok()) std::cout << *content << std::flush;
    st = content.status();
  }
  (void)s.fs->Delete(out);
  return st;
}

Status Scan(const TableArgs& a) {
  return ExportRows(a, [&](Session& s) { return PrepareScan(s, a, SplitList(a.columns)); });
}

Status Changes(const TableArgs& a) {
  return ExportRows(a, [&](Session& s) { return PrepareChanges(s, a); });
}

Result<std::vector<std::string>> ExpandSources(FileSystem& fs,
                                               const std::vector<std::string>& patterns) {
  std::vector<std::string> files;
  for (const auto& given : patterns) {
    DL_ASSIGN_OR_RETURN(std::string p, ResolveLocation(given));
    if (IsUri(p)) {  // object stores have no glob(3): list below the pattern's base
      DL_ASSIGN_OR_RETURN(auto found, discovery::Discover(fs, p));
      if (found.empty()) return Status::NotFound("--source {} matches no file", p);
      for (auto& f : found) files.push_back(std::move(f.path));
      continue;
    }
    glob_t g{};
    int rc = ::glob(p.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH) {
      globfree(&g);
      return Status::NotFound("--source {} matches no file", p);
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    globfree(&g);
  }
  return files;
}

Status WriteCmd(const TableArgs& a) {
  if (a.mode != "append" && a.mode != "overwrite") {
    return Status::InvalidArgument("--mode must be append or overwrite, not '{}'", a.mode);
  }
  if (a.schema_evolution != "none" && a.schema_evolution != "add_new_columns") {
    return Status::InvalidArgument("--schema-evolution must be none or add_new_columns");
  }
  DL_ASSIGN_OR_RETURN(auto files, ExpandSources(*a.fs, a.sources));
  std::string format = a.format.empty() ? FormatFromPath(files.front(), "parquet") : a.format;
  if (format == "jsonl") format = "json";
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a, files));
  engine::SourceOptions sopts;
  sopts.format = format;
  DL_RETURN_IF_ERROR(s.engine->RegisterFiles("__dl_source", files, sopts));
  table::WriteRequest req;
  req.source_sql = "SELECT * FROM __dl_source";
  req.mode = a.mode == "overwrite" ? table::WriteMode::kOverwrite : table::WriteMode::kAppend;
  req.partition_by = a.partition_by;
  req.cluster_by = a.cluster_by;
  req.schema_evolution = a.schema_evolution == "add_new_columns"
                             ? table::SchemaEvolution::kAddNewColumns
                             : table::SchemaEvolution::kNone;
  for (const auto& p : a.properties) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--property takes KEY=VALUE, not '{}'", p);
    }
    req.configuration[p.substr(0, eq)] = p.substr(eq + 1);
  }
  for (const auto& f : files) {
    DL_ASSIGN_OR_RETURN(auto st, s.fs->Stat(f));
    req.loader_info.source_files.push_back({f, st.size, st.modification_time_ms});
  }
  auto written = table::Write(*s.ctx, a.path, req);
  if (written.status().code() == StatusCode::kSchemaMismatch) {
    // A column or type mismatch comes from the data: name the files it was read from
    // (unless the error does already, as a violated rule's does).
    const std::string& message = written.status().message();
    std::string names;
    bool named = false;
    for (const auto& f : files) {
      names += (names.empty() ? "" : ", ") + f;
      named |= message.find(f) != std::string::npos;
    }
    if (!named) return written.status().WithContext("source " + names);
  }
  DL_ASSIGN_OR_RETURN(auto r, std::move(written));
  std::cout << "version " << r.version << ": wrote " << r.rows_written << " rows in "
            << r.files_added << " files" << (r.files_removed ? ", removed " : "")
            << (r.files_removed ? std::to_string(r.files_removed) + " files" : "") << "\n";
  return Status::OK();
}

Status Delete(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto r, table::DeleteWhere(*s.ctx, a.path, a.where));
  if (r.version < 0) {
    std::cout << "no rows match; nothing changed\n";
  } else if (r.deletion_vectors_added > 0 || r.files_added == 0) {
    std::cout << "version " << r.version << ": deleted " << r.rows_deleted_in_place
              << " rows in place (" << r.deletion_vectors_added << " deletion vectors, "
              << r.files_removed - r.deletion_vectors_added << " files emptied)\n";
  } else {
    std::cout << "version " << r.version << ": rewrote " << r.files_removed << " files into "
              << r.files_added << "\n";
  }
  return Status::OK();
}

Status OptimizeCmd(const TableArgs& a) {
  if (!a.zorder_by.empty() && !a.sort_by.empty()) {
    return Status::InvalidArgument("--zorder-by and --sort-by cannot be combined");
  }
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  table::OptimizeOptions o;
  o.target_file_size_bytes = a.target_size;
  o.zorder = !a.zorder_by.empty();
  o.order_by = o.zorder ? a.zorder_by : a.sort_by;
  DL_ASSIGN_OR_RETURN(auto r, table::Optimize(*s.ctx, a.path, o));
  ordered_json j{{"version", r.version >= 0 ? ordered_json(r.version) : ordered_json()},
                 {"files_removed", r.files_removed},
                 {"files_added", r.files_added},
                 {"partitions_optimized", r.partitions_optimized}};
  if (a.json) {
    PrintJson(j);
  } else if (r.version < 0) {
    std::cout << "nothing to optimize\n";
  } else {
    std::cout << "version " << r.version << ": compacted " << r.files_removed << " files into "
              << r.files_added << " in " << r.partitions_optimized << " partitions\n";
  }
  return Status::OK();
}

Status VacuumCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  table::VacuumOptions o{a.dry_run, a.retention_hours, a.force};
  DL_ASSIGN_OR_RETURN(auto r, table::Vacuum(*s.ctx, a.path, o));
  if (a.json) {
    PrintJson({{"dry_run", a.dry_run},
               {"files", r.files},
               {"staging_dirs", r.staging_dirs},
               {"bytes", r.bytes}});
    return Status::OK();
  }
  for (const auto& f : r.files) std::cout << f << "\n";
  for (const auto& d : r.staging_dirs) std::cout << d << "/ (staging of a dead writer)\n";
  std::cout << (a.dry_run ? "would delete " : "deleted ") << r.files.size() << " files";
  if (!r.staging_dirs.empty()) std::cout << " and " << r.staging_dirs.size() << " staging dirs";
  std::cout << " (" << r.bytes << " bytes)\n";
  return Status::OK();
}

Status CheckpointCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_RETURN_IF_ERROR(table::Checkpoint(*s.ctx, a.path));
  std::cout << "checkpoint written\n";
  return Status::OK();
}

Status RestoreCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto r, table::Restore(*s.ctx, a.path, a.version.value()));
  std::cout << "version " << r.version << ": restored to version " << *a.version << " (removed "
            << r.files_removed << " files, re-added " << r.files_added << ")\n";
  return Status::OK();
}

Status RenameColumnCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto r, table::RenameColumn(*s.ctx, a.path, a.column, a.new_name));
  std::cout << "version " << r.version << ": renamed column " << a.column << " to " << a.new_name
            << "\n";
  return Status::OK();
}

Status DropColumnCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto r, table::DropColumn(*s.ctx, a.path, a.column));
  std::cout << "version " << r.version << ": dropped column " << a.column << "\n";
  return Status::OK();
}

Status WidenColumnCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto r, table::WidenColumn(*s.ctx, a.path, a.column, a.type));
  std::cout << "version " << r.version << ": widened column " << a.column << " to " << a.type
            << "\n";
  return Status::OK();
}

Status AddConstraintCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto r, table::AddConstraint(*s.ctx, a.path, a.constraint, a.expression));
  std::cout << "version " << r.version << ": added CHECK constraint " << a.constraint << " ("
            << a.expression << ")\n";
  return Status::OK();
}

Status DropConstraintCmd(const TableArgs& a) {
  DL_ASSIGN_OR_RETURN(auto s, OpenSession(a));
  DL_ASSIGN_OR_RETURN(auto r, table::DropConstraint(*s.ctx, a.path, a.constraint));
  std::cout << "version " << r.version << ": dropped CHECK constraint " << a.constraint << "\n";
  return Status::OK();
}

CLI::App* Verb(CLI::App* table, const std::shared_ptr<TableArgs>& args, const char* name,
               const char* help, Status (*run)(const TableArgs&), int& exit_code) {
  auto* cmd = table->add_subcommand(name, help);
  cmd->add_option("path", args->path, "Table directory")->required();
  // The verbs that change files refuse a table nested in another (see CheckNotNested).
  static const std::set<std::string> kChangesFiles = {"write",         "delete",     "optimize",
                                                      "vacuum",        "restore",    "checkpoint",
                                                      "rename-column", "drop-column",
                                                      "widen-column",  "add-constraint",
                                                      "drop-constraint"};
  const bool changes_files = kChangesFiles.count(name) != 0;
  cmd->add_option("--storage-option", args->storage_options,
                  "Object store option KEY=VALUE as in storage_options: (delta-rs key names, "
                  "e.g. aws_region=eu-west-1; values may use ${VAR}), repeatable");
  cmd->callback([args, run, changes_files, &exit_code] {
    Status st = OpenStorage(*args);
    if (st.ok() && changes_files) st = table::CheckNotNested(*args->fs, args->path);
    if (st.ok()) st = run(*args);
    // Option values never reach the terminal, whatever error carries them.
    exit_code = st.ok() ? 0 : ReportError(MaskStatus(st, args->masked));
  });
  return cmd;
}

// --version and --timestamp: the table as of a version or a time.
void AsOfOptions(CLI::App* cmd, TableArgs& args, const char* version_help) {
  cmd->add_option("--version", args.version, version_help);
  cmd->add_option("--timestamp", args.timestamp, "Table as of this time (ISO-8601)");
}

// --output and --format of the verbs that print or export rows.
void ExportOptions(CLI::App* cmd, TableArgs& args) {
  cmd->add_option("--output", args.output,
                  "Output file (.csv, .jsonl, .parquet); default stdout");
  cmd->add_option("--format", args.format, "csv | jsonl | parquet")
      ->check(CLI::IsMember({"csv", "jsonl", "parquet"}));
}

}  // namespace

void AddTableCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TableArgs>();
  auto* table = app.add_subcommand("table", "Look at and maintain a Delta table");
  table->require_subcommand(1);

  auto* d = Verb(table, args, "describe", "Schema, partitioning, protocol, properties, size",
                 Describe, exit_code);
  d->add_flag("--json", args->json, "Machine-readable output");
  AsOfOptions(d, *args, "Table version");

  auto* h = Verb(table, args, "history", "Commits, newest first", History, exit_code);
  h->add_flag("--json", args->json, "Machine-readable output");
  h->add_option("--limit", args->limit, "At most this many commits");

  auto* f = Verb(table, args, "files", "Live data files", Files, exit_code);
  f->add_flag("--json", args->json, "Machine-readable output");
  AsOfOptions(f, *args, "Table version");

  auto* sc = Verb(table, args, "scan", "Print or export rows", Scan, exit_code);
  AsOfOptions(sc, *args, "Table version (time travel)");
  ExportOptions(sc, *args);
  sc->add_option("--columns", args->columns, "Comma-separated columns");
  sc->add_option("--where", args->where, "SQL filter");
  sc->add_option("--order-by", args->order_by, "Comma-separated columns");
  sc->add_option("--limit", args->limit, "At most this many rows");

  auto* ch = Verb(table, args, "changes",
                  "Change data feed: rows inserted, updated and deleted by a range of versions",
                  Changes, exit_code);
  ch->add_option("--from", args->from_version, "First version")->required();
  ch->add_option("--to", args->to_version, "Last version (default: the latest)");
  ExportOptions(ch, *args);

  auto* w = Verb(table, args, "write", "Append or overwrite files into the table (creates it)",
                 WriteCmd, exit_code);
  w->add_option("--source", args->sources, "Source file or glob (repeatable)")->required();
  w->add_option("--format", args->format, "parquet | csv | json (default: from extension)")
      ->check(CLI::IsMember({"parquet", "csv", "json", "jsonl"}));
  w->add_option("--mode", args->mode, "append | overwrite");
  w->add_option("--partition-by", args->partition_by, "Partition columns of a new table")
      ->delimiter(',');
  w->add_option("--cluster-by", args->cluster_by,
                "Clustering columns of a new table (an existing one must have them)")
      ->delimiter(',');
  w->add_option("--schema-evolution", args->schema_evolution, "none | add_new_columns");
  w->add_option("--property", args->properties,
                "Table property KEY=VALUE (e.g. delta.enableDeletionVectors=true), repeatable");

  auto* del = Verb(table, args, "delete", "Delete rows (copy-on-write, or deletion vectors)",
                   Delete, exit_code);
  del->add_option("--where", args->where, "SQL predicate of rows to delete")->required();

  auto* o = Verb(table, args, "optimize", "Compact small files", OptimizeCmd, exit_code);
  o->add_option("--target-size", args->target_size, "Target file size in bytes");
  o->add_option("--zorder-by", args->zorder_by, "Z-order by columns")->delimiter(',');
  o->add_option("--sort-by", args->sort_by, "Sort by columns")->delimiter(',');
  o->add_flag("--json", args->json, "Machine-readable output");

  auto* v = Verb(table, args, "vacuum", "Delete unreferenced old files", VacuumCmd, exit_code);
  v->add_flag("--dry-run", args->dry_run, "List what would be deleted");
  v->add_option("--retention-hours", args->retention_hours, "Retention (default: table's)");
  v->add_flag("--force", args->force, "Allow a retention below the table's");
  v->add_flag("--json", args->json, "Machine-readable output");

  Verb(table, args, "checkpoint", "Write a checkpoint now", CheckpointCmd, exit_code);
  auto* r = Verb(table, args, "restore", "Return the table to an earlier version (new commit)",
                 RestoreCmd, exit_code);
  r->add_option("--version", args->version, "Version to restore")->required();

  auto* rc =
      Verb(table, args, "rename-column", "Rename a column of a column-mapped table (metadata only)",
           RenameColumnCmd, exit_code);
  rc->add_option("--column", args->column, "Column (a.b for a nested field)")->required();
  rc->add_option("--to", args->new_name, "New name")->required();
  auto* dc =
      Verb(table, args, "drop-column", "Drop a column of a column-mapped table (metadata only)",
           DropColumnCmd, exit_code);
  dc->add_option("--column", args->column, "Column (a.b for a nested field)")->required();
  auto* wc = Verb(table, args, "widen-column",
                  "Widen a column's type (delta.enableTypeWidening=true; metadata only)",
                  WidenColumnCmd, exit_code);
  wc->add_option("--column", args->column, "Top-level column")->required();
  wc->add_option("--type", args->type, "Wider Delta type: long, double, decimal(12,2), ...")
      ->required();

  auto* ac = Verb(table, args, "add-constraint",
                  "Add a CHECK constraint (Spark SQL) after checking every row of the table",
                  AddConstraintCmd, exit_code);
  ac->add_option("name", args->constraint, "Constraint name")->required();
  ac->add_option("expression", args->expression, "Boolean SQL expression, e.g. 'id > 0'")
      ->required();
  auto* dcon = Verb(table, args, "drop-constraint", "Drop a CHECK constraint", DropConstraintCmd,
                    exit_code);
  dcon->add_option("name", args->constraint, "Constraint name")->required();
}

}  // namespace dl::cli
