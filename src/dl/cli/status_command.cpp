#include "dl/cli/status_command.hpp"

#include <iostream>

#include "dl/cli/output.hpp"
#include "dl/cli/run_command.hpp"
#include "dl/cli/spark_catalog.hpp"
#include "dl/common/clock.hpp"
#include "dl/discovery/discover.hpp"
#include "dl/loader/locked_engine.hpp"
#include "dl/loader/reconcile.hpp"
#include "dl/storage/registry.hpp"
#include "dl/table/table.hpp"
#include "dl/tracker/file_tracker.hpp"

namespace dl::cli {
namespace {

using nlohmann::ordered_json;

// What a run would warn about the table's source before planning: a missing base (a typo
// in a prefix looks like files not landed yet). One listing request, not a discovery.
ordered_json SourceWarnings(FileSystem& fs, const config::TableConfig& t) {
  ordered_json out = ordered_json::array();
  auto exists = discovery::PatternBaseExists(fs, t.source_path_pattern);
  if (!exists.ok()) {
    out.push_back(fmt::format("source_path_pattern {}: {}", t.source_path_pattern,
                              exists.status().message()));
  } else if (!*exists) {
    out.push_back(fmt::format("source_path_pattern {}: its base directory does not exist",
                              t.source_path_pattern));
  }
  return out;
}

Result<ordered_json> TableStatus(const config::LoaderConfig& cfg, const config::TableConfig& t,
                                 FileSystem& fs, engine::Engine& engine,
                                 tracker::FileTracker& tracker) {
  const std::string name = config::DisplayName(cfg, t);
  ordered_json out = {{"table", name},
                      {"path", config::TablePath(cfg, t)},
                      {"strategy", config::ToString(t.loading_strategy)}};
  table::TableContext ctx{fs, engine};
  auto snap = table::LoadSnapshot(ctx, config::TablePath(cfg, t));
  if (snap.ok()) {
    out["version"] = (*snap)->version();
    out["data_files"] = (*snap)->files().size();
  } else if (snap.status().code() == StatusCode::kNotFound) {
    out["version"] = nullptr;
    if (Status can = table::CheckCanCreateAt(fs, config::TablePath(cfg, t)); !can.ok()) {
      out["table_error"] = can.ToString();
    }
  } else {
    out["table_error"] = snap.status().ToString();
  }
  DL_ASSIGN_OR_RETURN(auto records, tracker.Load(name));
  std::map<std::string, int64_t> counts;
  for (const char* s : {"pending", "processing", "completed", "failed", "skipped"}) counts[s] = 0;
  int64_t rows = 0, rows_unknown = 0, last_load = -1;
  ordered_json failures = ordered_json::array();
  for (const auto& [path, r] : records) {
    ++counts[tracker::FileStatusName(r.status)];
    if (r.status == tracker::FileStatus::kCompleted) {
      rows += r.rows_loaded.value_or(0);
      // A load reconciled from the table's log (a run killed after its commit) or whose count
      // failed after a remote engine's commit: loaded, its rows not counted.
      if (!r.rows_loaded) ++rows_unknown;
      last_load = std::max(last_load, r.processing_end_time_ms.value_or(r.updated_at_ms));
    }
    if (r.status == tracker::FileStatus::kFailed) {
      failures.push_back(
          {{"file", path}, {"retries", r.retry_count}, {"error", r.error_message.value_or("")}});
    }
  }
  out["files"] = counts;
  // What the last run found (see loader/reconcile.hpp); with no table, every completed file.
  auto mark = loader::ReadReconcileMark(fs, loader::ReconcileMarkPath(tracker.path(), name));
  out["files_missing_from_table"] =
      out["version"].is_null() && !out.contains("table_error")
          ? counts["completed"]
          : (mark ? static_cast<int64_t>(mark->missing.size()) : int64_t{0});
  // The tracker's count is a claim the table's log backs; with the log unreadable (an empty
  // or corrupt commit) it cannot be checked, so status makes no claim.
  out["rows_loaded"] = out.contains("table_error") && snap.status().code() != StatusCode::kNotFound
                           ? ordered_json(nullptr)
                           : ordered_json(rows);
  out["files_rows_unknown"] = rows_unknown;
  out["last_load"] = last_load >= 0 ? ordered_json(FormatTimestampMs(last_load)) : nullptr;
  out["failures"] = failures;
  out["source_warnings"] = SourceWarnings(fs, t);
  return out;
}

void PrintText(const ordered_json& tables) {
  for (const auto& t : tables) {
    std::string version = t.contains("version") && !t["version"].is_null()
                              ? std::to_string(t["version"].get<int64_t>())
                              : "(no table yet)";
    std::cout << fmt::format("{} [{}] version {}\n", t["table"].get<std::string>(),
                             t["strategy"].get<std::string>(), version);
    if (t.contains("table_error")) {
      std::cout << "  error: " << t["table_error"].get<std::string>() << "\n";
    }
    const auto& f = t["files"];
    std::cout << fmt::format(
        "  files: {} completed, {} failed, {} skipped, {} pending, {} processing\n",
        f["completed"].get<int64_t>(), f["failed"].get<int64_t>(), f["skipped"].get<int64_t>(),
        f["pending"].get<int64_t>(), f["processing"].get<int64_t>());
    std::string rows = t["rows_loaded"].is_null() ? "unknown (the table cannot be read)"
                                                  : std::to_string(t["rows_loaded"].get<int64_t>());
    if (int64_t unknown = t["files_rows_unknown"].get<int64_t>();
        unknown > 0 && !t["rows_loaded"].is_null()) {
      rows = fmt::format("at least {} ({} loaded file(s) with rows not counted)", rows, unknown);
    }
    std::cout << fmt::format(
        "  rows loaded: {}   last load: {}\n", rows,
        t["last_load"].is_null() ? "never" : t["last_load"].get<std::string>());
    if (int64_t missing = t["files_missing_from_table"].get<int64_t>(); missing > 0) {
      std::cout << fmt::format(
          "  warning: {} file(s) the tracker records as loaded are not in the table (it was "
          "deleted, recreated or restored); `run --reload-missing` loads them again\n",
          missing);
    }
    for (const auto& w : t["source_warnings"]) {
      std::cout << "  warning: " << w.get<std::string>() << "\n";
    }
    for (const auto& fail : t["failures"]) {
      std::cout << fmt::format("  failed: {} (attempts {}): {}\n", fail["file"].get<std::string>(),
                               fail["retries"].get<int>(), fail["error"].get<std::string>());
    }
  }
}

int ShowStatus(const ConfigArgs& args, const std::string& tables, bool json) {
  auto cfg = LoadConfig(args);
  if (!cfg.ok()) return ReportError(cfg.status());
  std::vector<std::string> names;
  for (size_t start = 0; start < tables.size();) {
    size_t comma = std::min(tables.find(',', start), tables.size());
    if (comma > start) names.push_back(tables.substr(start, comma - start));
    start = comma + 1;
  }
  auto report = StatusReport(*cfg, names);
  if (!report.ok()) return ReportError(report.status(), *cfg);
  if (json) {
    PrintJson(*report);
  } else {
    PrintText((*report)["tables"]);
  }
  return 0;
}

}  // namespace

Result<nlohmann::ordered_json> StatusReport(const config::LoaderConfig& loaded,
                                            const std::vector<std::string>& tables) {
  config::LoaderConfig cfg = loaded;  // the Spark catalog may say where tables live
  DL_RETURN_IF_ERROR(ResolveSparkCatalogLocations(cfg));
  DL_ASSIGN_OR_RETURN(auto selected, config::SelectTables(cfg, tables));
  auto fs = MakeFileSystem(cfg.storage);
  DL_ASSIGN_OR_RETURN(auto engine, loader::MakeLockedEngine(cfg));
  tracker::FileTracker tracker(*fs, *engine, config::TrackerPath(cfg));
  ordered_json out = ordered_json::array();
  for (const auto* t : selected) {
    DL_ASSIGN_OR_RETURN(auto st, TableStatus(cfg, *t, *fs, *engine, tracker));
    out.push_back(std::move(st));
  }
  return ordered_json{{"tracker", config::TrackerPath(cfg)}, {"tables", std::move(out)}};
}

void AddStatusCommand(CLI::App& app, int& exit_code) {
  struct Args {
    ConfigArgs config;
    std::string tables;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("status", "Per table: files by status, rows, version, failures");
  AddConfigOptions(*cmd, args->config);
  cmd->add_option("--tables", args->tables, "only these tables (comma-separated names)");
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback(
      [args, &exit_code] { exit_code = ShowStatus(args->config, args->tables, args->json); });
}

}  // namespace dl::cli
