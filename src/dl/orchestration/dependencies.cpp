#include "dl/orchestration/dependencies.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/engine/engine.hpp"
#include "dl/orchestration/jobs_api.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"

namespace dl::orchestration {
namespace {

bool IsName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string Ago(int64_t now_ms, int64_t ts_ms) {
  return fmt::format("{} ({} s ago)", FormatTimestampMs(ts_ms), (now_ms - ts_ms) / 1000);
}

DependencyState CheckTable(const config::LoaderConfig& cfg, const Dependency& d,
                           const DependencyContext& ctx, FileSystem& fs, int64_t now) {
  DependencyState s{d.spec, false, ""};
  auto root = ResolveTablePath(cfg, d.target);
  if (!root.ok()) {
    s.detail = root.status().message();
    return s;
  }
  auto snap = delta::Snapshot::LoadWithoutFiles(fs, ctx.parquet, *root);
  if (!snap.ok()) {
    s.detail = snap.status().code() == StatusCode::kNotFound
                   ? fmt::format("no Delta table at {}", *root)
                   : snap.status().message();
    return s;
  }
  const int64_t ts = (*snap)->timestamp_ms();
  const int64_t version = (*snap)->version();
  if (cfg.dependency_max_age_seconds) {
    s.met = now - ts <= *cfg.dependency_max_age_seconds * 1000;
    s.detail =
        fmt::format("version {} committed {}; {} dependency_max_age_seconds {}", version,
                    Ago(now, ts), s.met ? "within" : "older than", *cfg.dependency_max_age_seconds);
    return s;
  }
  std::optional<int64_t> last = ctx.last_run_start_ms;
  if (!last) last = LastSuccessfulRunStart(cfg, fs);
  if (!last) {
    s.met = true;
    s.detail = fmt::format("version {} committed {}; no earlier run of ours", version,
                           FormatTimestampMs(ts));
    return s;
  }
  s.met = ts > *last;
  s.detail =
      fmt::format("version {} committed {}, {} our last successful run ({})", version,
                  FormatTimestampMs(ts), s.met ? "after" : "not after", FormatTimestampMs(*last));
  return s;
}

DependencyState CheckFile(const Dependency& d, FileSystem& fs) {
  DependencyState s{d.spec, false, ""};
  auto exists = fs.Exists(d.target);
  if (!exists.ok()) {
    s.detail = exists.status().message();
  } else {
    s.met = *exists;
    s.detail = s.met ? "exists" : fmt::format("no file at {}", d.target);
  }
  return s;
}

DependencyState CheckJob(const config::LoaderConfig& cfg, const Dependency& d) {
  DependencyState s{d.spec, false, ""};
  auto id = ParseJobId(d.target);
  auto ws = WorkspaceFromEnv(cfg);
  if (!id.ok() || !ws.ok()) {
    s.detail = !id.ok() ? id.status().message() : ws.status().message();
    return s;
  }
  auto run = GetLatestRun(*ws, *id);
  if (!run.ok()) {
    s.detail = run.status().message();
  } else if (!run->found) {
    s.detail = fmt::format("job {} has no runs", *id);
  } else {
    s.met = run->succeeded();
    s.detail = fmt::format("latest run {}: {}{}{}", run->run_id, run->life_cycle_state,
                           run->result_state.empty() ? "" : " " + run->result_state,
                           run->state_message.empty() ? "" : " (" + run->state_message + ")");
  }
  return s;
}

}  // namespace

Result<Dependency> ParseDependency(const std::string& spec) {
  size_t colon = spec.find(':');
  Dependency d;
  d.spec = spec;
  std::string kind = colon == std::string::npos ? "" : spec.substr(0, colon);
  d.target = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "table") {
    d.kind = DependencyKind::kTable;
  } else if (kind == "file") {
    d.kind = DependencyKind::kFile;
  } else if (kind == "job") {
    d.kind = DependencyKind::kJob;
  } else {
    return Status::Config(
        "upstream_dependencies: '{}' must look like table:..., file:... or "
        "job:...",
        spec);
  }
  if (d.target.empty()) return Status::Config("upstream_dependencies: '{}' names nothing", spec);
  return d;
}

Result<std::string> ResolveTablePath(const config::LoaderConfig& cfg, const std::string& name) {
  // A path or an object-store URI (the config resolved and checked it) names the table itself.
  if (!name.empty() && (name[0] == '/' || IsUri(name))) return name;
  size_t last = name.rfind('.');
  std::string database = last == std::string::npos ? "" : name.substr(0, last);
  std::string table = last == std::string::npos ? name : name.substr(last + 1);
  size_t first = database.find('.');
  bool ok = IsName(table) && (first == std::string::npos ? IsName(database)
                                                         : IsName(database.substr(0, first)) &&
                                                               IsName(database.substr(first + 1)));
  if (!ok) {
    return Status::Config(
        "table:{}: write database.table, catalog.schema.table, an absolute "
        "path or a URI",
        name);
  }
  config::TableConfig t;
  t.database_name = database;
  t.table_name = table;
  return config::TablePath(cfg, t);
}

Result<std::unique_ptr<engine::Engine>> MakeDependencyEngine(const config::LoaderConfig& cfg) {
  engine::EngineOptions options;
  options.threads = 1;
  options.storage = cfg.storage;
  options.allowed_directories = std::vector<std::string>{cfg.processed_data_path};
  for (const std::string& spec : cfg.upstream_dependencies) {
    auto d = ParseDependency(spec);
    if (!d.ok() || d->kind != DependencyKind::kTable) continue;
    auto path = ResolveTablePath(cfg, d->target);
    if (path.ok()) options.allowed_directories->push_back(*path);
  }
  return engine::MakeDuckDbEngine(options);
}

std::vector<DependencyState> CheckDependenciesOnce(const config::LoaderConfig& cfg,
                                                   const DependencyContext& ctx) {
  std::unique_ptr<FileSystem> own_fs;
  FileSystem* fs = ctx.fs;
  if (!fs) {
    own_fs = MakeFileSystem(cfg.storage);
    fs = own_fs.get();
  }
  const int64_t now = ctx.now_ms ? ctx.now_ms : NowMs();
  // Tables with checkpoints need a Parquet reader: bring an engine when the caller has none.
  DependencyContext local = ctx;
  std::unique_ptr<engine::Engine> own_engine;
  bool has_table = std::any_of(cfg.upstream_dependencies.begin(), cfg.upstream_dependencies.end(),
                               [](const std::string& d) { return d.rfind("table:", 0) == 0; });
  if (!local.parquet && has_table) {
    auto e = MakeDependencyEngine(cfg);
    if (e.ok()) {
      own_engine = std::move(*e);
      local.parquet = own_engine.get();
    }
  }
  std::vector<DependencyState> out;
  for (const std::string& spec : cfg.upstream_dependencies) {
    auto d = ParseDependency(spec);
    if (!d.ok()) {
      out.push_back({spec, false, d.status().message()});
      continue;
    }
    switch (d->kind) {
      case DependencyKind::kTable:
        out.push_back(CheckTable(cfg, *d, local, *fs, now));
        break;
      case DependencyKind::kFile:
        out.push_back(CheckFile(*d, *fs));
        break;
      case DependencyKind::kJob:
        out.push_back(CheckJob(cfg, *d));
        break;
    }
  }
  return out;
}

WaitOutcome AwaitDependencies(const config::LoaderConfig& cfg, const DependencyContext& ctx,
                              const std::function<bool(int64_t ms)>& sleep) {
  WaitOutcome out;
  const bool wait = cfg.on_unmet_dependencies == config::OnUnmetDependencies::kWait;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(cfg.dependency_wait_timeout_seconds);
  for (;;) {
    DependencyContext now_ctx = ctx;
    now_ctx.now_ms = 0;  // each check reads the clock
    out.states = CheckDependenciesOnce(cfg, now_ctx);
    ++out.checks;
    out.met = std::all_of(out.states.begin(), out.states.end(),
                          [](const DependencyState& s) { return s.met; });
    for (const auto& s : out.states) {
      if (!s.met) {
        log::Warn("upstream dependency not met",
                  {{"dependency", s.spec}, {"detail", s.detail}, {"check", out.checks}});
      }
    }
    if (out.met || !wait) return out;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return out;
    int64_t pause = std::min<int64_t>(left, int64_t{cfg.dependency_poll_interval_seconds} * 1000);
    if (sleep) {
      if (!sleep(pause)) {
        out.stopped = true;
        return out;
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    }
  }
}

std::string UnmetMessage(const std::vector<DependencyState>& states) {
  std::string list;
  for (const auto& s : states) {
    if (!s.met) list += fmt::format("{}{} ({})", list.empty() ? "" : "; ", s.spec, s.detail);
  }
  return "upstream dependencies not met: " + list;
}

std::string LastRunStatePath(const config::LoaderConfig& cfg) {
  return JoinPath(JoinPath(cfg.checkpoint_path, "orchestration"), "last_run.json");
}

Status RecordRun(const config::LoaderConfig& cfg, FileSystem& fs, const std::string& run_id,
                 int64_t start_ms, int64_t end_ms, bool success) {
  nlohmann::ordered_json j = {{"last_run_id", run_id},
                              {"last_run_start_ms", start_ms},
                              {"last_run_end_ms", end_ms},
                              {"last_run_success", success}};
  auto previous = LastSuccessfulRunStart(cfg, fs);
  if (success) {
    j["last_successful_run_start_ms"] = start_ms;
  } else if (previous) {
    j["last_successful_run_start_ms"] = *previous;
  }
  DL_RETURN_IF_ERROR(fs.CreateDirs(JoinPath(cfg.checkpoint_path, "orchestration")));
  return fs.WriteAtomic(LastRunStatePath(cfg), j.dump(2) + "\n");
}

std::optional<int64_t> LastSuccessfulRunStart(const config::LoaderConfig& cfg, FileSystem& fs) {
  auto text = fs.Read(LastRunStatePath(cfg));
  if (!text.ok()) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("last_successful_run_start_ms") ||
      !j["last_successful_run_start_ms"].is_number_integer()) {
    return std::nullopt;
  }
  return j["last_successful_run_start_ms"].get<int64_t>();
}

std::string UnmetStatePath(const config::LoaderConfig& cfg) {
  return JoinPath(JoinPath(cfg.checkpoint_path, "orchestration"), "unmet_dependencies.json");
}

Status RecordUnmet(const config::LoaderConfig& cfg, FileSystem& fs,
                   const std::vector<DependencyState>& states, bool timed_out, int64_t at_ms) {
  nlohmann::ordered_json unmet = nlohmann::ordered_json::array();
  for (const auto& s : states) {
    if (!s.met) unmet.push_back(s.spec);
  }
  nlohmann::ordered_json j = {{"at_ms", at_ms}, {"timed_out", timed_out}, {"unmet", unmet}};
  DL_RETURN_IF_ERROR(fs.CreateDirs(JoinPath(cfg.checkpoint_path, "orchestration")));
  return fs.WriteAtomic(UnmetStatePath(cfg), j.dump(2) + "\n");
}

Status ClearUnmet(const config::LoaderConfig& cfg, FileSystem& fs) {
  auto there = fs.Exists(UnmetStatePath(cfg));
  if (!there.ok() || !*there) return there.status();
  return fs.Delete(UnmetStatePath(cfg));
}

std::vector<std::string> TimedOutDependencies(const config::LoaderConfig& cfg, FileSystem& fs) {
  auto text = fs.Read(UnmetStatePath(cfg));
  if (!text.ok()) return {};
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.value("timed_out", false) || !j["unmet"].is_array()) return {};
  std::vector<std::string> out;
  for (const auto& spec : j["unmet"]) {
    if (spec.is_string()) out.push_back(spec.get<std::string>());
  }
  return out;
}

}  // namespace dl::orchestration
