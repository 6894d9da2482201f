// `data_loader run | validate | create-example-config`: the loader's main job.
#include "dl/cli/run_command.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "dl/catalog/uc_names.hpp"
#include "dl/cli/engine_choice.hpp"
#include "dl/cli/output.hpp"
#include "dl/cli/run_session.hpp"
#include "dl/common/logging.hpp"
#include "dl/loader/loader.hpp"
#include "dl/loader/locked_engine.hpp"
#include "dl/monitoring/progress.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/location_identity.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"

namespace dl::cli {
namespace {

constexpr double kMaxIntervalSeconds = 7 * 24 * 3600;  // --interval: a week at most

log::Level ToLogLevel(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kDebug:
      return log::Level::kDebug;
    case config::LogLevel::kInfo:
      return log::Level::kInfo;
    case config::LogLevel::kWarning:
      return log::Level::kWarning;
    case config::LogLevel::kError:
      return log::Level::kError;
  }
  return log::Level::kInfo;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

int Run(const RunArgs& args, const RunHooks& hooks) {
  auto cfg = LoadConfig(WithConfigFromEnv(args.config));
  if (!cfg.ok()) return ReportError(cfg.status());
  RunRequest req;
  loader::RunOptions& options = req.options;
  options.tables = SplitList(args.tables);
  options.dry_run = args.dry_run;
  options.optimize = args.optimize;
  options.vacuum = args.vacuum;
  options.reload_missing = args.reload_missing;
  options.progress =
      !args.dry_run && monitoring::StderrIsTerminal() && log::CurrentFormat() == log::Format::kText;
  if (hooks.prepare) {
    if (Status st = hooks.prepare(*cfg, options); !st.ok()) return ReportError(st);
  }
  req.watch = args.watch;
  req.interval_seconds = args.interval;
  req.on_pass = [dry_run = args.dry_run](const loader::RunResult& result) {
    if (dry_run) {
      std::cout << result.plan;
    } else {
      std::cout << monitoring::FormatSummary(result.metrics);
      // A table that could not start (its log unreadable, its bucket missing, ...) has no
      // failed file to show: its error goes under the table, not only to the log.
      if (!result.table_errors.empty()) {
        std::cout << fmt::format("Tables not loaded ({}):\n", result.table_errors.size());
        for (const auto& e : result.table_errors) std::cout << "  " << e << "\n";
      }
      std::cout << std::flush;
    }
  };
  loader::StopToken stop;
  loader::ScopedSignalHandlers signals(stop);
  RunOutcome outcome = ExecuteRun(*cfg, std::move(req), stop);
  if (!outcome.error.ok()) return ReportError(outcome.error, *cfg);
  return outcome.exit_code;
}

int Validate(const ConfigArgs& args) {
  auto cfg = LoadConfig(args);
  if (!cfg.ok()) return ReportError(cfg.status());
  if (Status st = RefuseSparkLoading(*cfg); !st.ok()) return ReportError(st);
  std::string out = fmt::format("{}: valid, {} table(s)\n", cfg->source_name, cfg->tables.size());
  for (const auto& t : cfg->tables) {
    out += fmt::format("  {} ({}, {}) <- {}\n  -> {}\n", config::DisplayName(*cfg, t),
                       config::ToString(t.loading_strategy), config::ToString(t.file_format),
                       t.source_path_pattern, config::TablePath(*cfg, t));
  }
  // Allowed (discovery skips Delta tables and checkpoint_path), but rarely meant.
  if (LocationIdentity(cfg->storage)
          .SameOrInside(CanonicalPath(cfg->processed_data_path),
                        CanonicalPath(cfg->raw_data_path))) {
    out += "warning: raw_data_path contains processed_data_path; discovery skips the Delta "
           "tables below it, but every run walks them: give raw files their own directory\n";
  }
  std::cout << config::RedactEnvValues(*cfg, out);  // values from ${ENV} print as ***
  return 0;
}

int CreateExampleConfig(const std::string& output, const std::string& base_dir, bool force) {
  auto fs = MakeFileSystem();
  if (!force) {
    auto exists = fs->Exists(output);
    if (exists.ok() && *exists) {
      return ReportError(Status::InvalidArgument("{} exists; pass --force to overwrite it",
                                                 output));
    }
  }
  std::string base = base_dir;
  if (base.empty()) {
    char cwd[4096];
    base = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
  }
  Status st = fs->WriteAtomic(output, config::ExampleConfig(base));
  if (!st.ok()) return ReportError(st);
  std::cerr << fmt::format("wrote {} (data under {})\n", output, base);
  return 0;
}

}  // namespace

void AddConfigOptions(CLI::App& cmd, ConfigArgs& args) {
  auto* file = cmd.add_option("--config,-c", args.file, "YAML or JSON config file");
  auto* inline_cfg =
      cmd.add_option("--config-json", args.inline_text, "the config inline (YAML or JSON)");
  file->excludes(inline_cfg);
  cmd.add_option("--log-level", args.log_level, "DEBUG, INFO, WARNING or ERROR")
      ->check(CLI::IsMember({"DEBUG", "INFO", "WARNING", "ERROR"}, CLI::ignore_case));
  cmd.add_option("--log-format", args.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}, CLI::ignore_case));
}

Result<config::LoaderConfig> LoadConfig(const ConfigArgs& args) {
  // Logging comes first so config errors are logged in the requested format too.
  log::Format format = args.log_format == "json" || args.log_format == "JSON" ? log::Format::kJson
                                                                             : log::Format::kText;
  log::Configure(log::ParseLevel(args.log_level).value_or(log::Level::kInfo), format);
  if (args.file.empty() && args.inline_text.empty()) {
    return Status::InvalidArgument("give --config FILE or --config-json TEXT");
  }
  auto cfg = LoadCheckedConfig(args.file, args.inline_text, "--config-json", nullptr);
  if (!cfg.ok()) return cfg.status();
  // --log-level wins over the config's log_level.
  log::Level level = args.log_level.empty() ? ToLogLevel(cfg->log_level)
                                            : log::ParseLevel(args.log_level).value();
  log::Configure(level, format);
  return cfg;
}

ConfigArgs WithConfigFromEnv(ConfigArgs args) {
  if (args.file.empty() && args.inline_text.empty()) {
    if (const char* f = std::getenv("DATALOADER_CONFIG_FILE"); f && *f) {
      args.file = f;
    } else if (const char* j = std::getenv("DATALOADER_CONFIG_JSON"); j && *j) {
      args.inline_text = j;
    }
  }
  return args;
}

void AddRunOptions(CLI::App& cmd, RunArgs& args) {
  AddConfigOptions(cmd, args.config);
  cmd.get_option("--log-level")->envname("DATALOADER_LOG_LEVEL");
  cmd.get_option("--log-format")->envname("DATALOADER_LOG_FORMAT");
  cmd.add_option("--tables", args.tables, "only these tables (comma-separated names)")
      ->envname("DATALOADER_TABLES");
  cmd.add_flag("--dry-run", args.dry_run, "show what would be loaded; change nothing")
      ->envname("DATALOADER_DRY_RUN");
  cmd.add_flag("--optimize", args.optimize, "compact small files of each table afterwards")
      ->envname("DATALOADER_OPTIMIZE");
  cmd.add_flag("--vacuum", args.vacuum, "delete unreferenced files afterwards (7-day retention)")
      ->envname("DATALOADER_VACUUM");
  cmd.add_flag("--reload-missing", args.reload_missing,
               "load again the files the tracker says were loaded that a deleted, recreated or "
               "restored table no longer holds");
  cmd.add_flag("--watch", args.watch, "keep loading new files until stopped (SIGINT/SIGTERM)")
      ->envname("DATALOADER_WATCH");
  // CLI::PositiveNumber's message prints the range of double (308 digits): say it plainly.
  cmd.add_option("--interval", args.interval, "seconds between passes with --watch")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            double v = 0;
            try {
              size_t used = 0;
              v = std::stod(text, &used);
              if (used != text.size()) return "'" + text + "' is not a number of seconds";
            } catch (const std::exception&) {
              return "'" + text + "' is not a number of seconds";
            }
            if (!(v > 0) || v > kMaxIntervalSeconds) {
              return fmt::format("must be more than 0 and at most {} seconds (7 days), not {}",
                                 kMaxIntervalSeconds, text);
            }
            return {};
          },
          "SECONDS"))
      ->envname("DATALOADER_INTERVAL");
}

int RunLoader(const RunArgs& args, const RunHooks& hooks) { return Run(args, hooks); }

void AddRunCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Load every new file of the configured tables");
  AddRunOptions(*run, *args);
  run->callback([args, &exit_code] { exit_code = Run(*args, {}); });

  auto vargs = std::make_shared<ConfigArgs>();
  auto* validate = app.add_subcommand("validate", "Check a config; exit 2 naming each problem");
  AddConfigOptions(*validate, *vargs);
  validate->callback([vargs, &exit_code] { exit_code = Validate(*vargs); });

  struct ExampleArgs {
    std::string output = "config.yaml";
    std::string base_dir;
    bool force = false;
  };
  auto eargs = std::make_shared<ExampleArgs>();
  auto* example = app.add_subcommand("create-example-config",
                                     "Write a commented example config for the demo data");
  example->add_option("--output,-o", eargs->output, "where to write it")->capture_default_str();
  example->add_option("--base-dir", eargs->base_dir,
                      "directory holding raw/, processed/ and checkpoints/ (default: current)");
  example->add_flag("--force", eargs->force, "overwrite an existing file");
  example->callback([eargs, &exit_code] {
    exit_code = CreateExampleConfig(eargs->output, eargs->base_dir, eargs->force);
  });
}

}  // namespace dl::cli
