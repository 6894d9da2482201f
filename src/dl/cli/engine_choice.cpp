#include "dl/cli/engine_choice.hpp"

#include <cstdlib>

namespace dl::cli {

namespace {

Status ConfigError(const config::LoaderConfig& cfg, int line, const std::string& key,
                   const std::string& message, std::vector<config::ConfigProblem>* problems) {
  if (problems) problems->push_back({line, key, message});
  if (line > 0) return Status::Config("{}:{}: {}: {}", cfg.source_name, line, key, message);
  return Status::Config("{}: {}: {}", cfg.source_name, key, message);
}

const config::TableConfig* FirstSparkTable(const config::LoaderConfig& cfg) {
  for (const auto& t : cfg.tables) {
    if (t.engine == config::EngineKind::kSpark) return &t;
  }
  return nullptr;
}

Result<engine::spark::SparkRemote> Resolve(const config::LoaderConfig& cfg,
                                           std::vector<config::ConfigProblem>* problems) {
  const config::TableConfig* t = FirstSparkTable(cfg);
  auto remote = engine::spark::ResolveRemote(cfg.spark_remote,
                                             [](const char* name) { return std::getenv(name); });
  if (remote.ok()) return remote;
  const int line = t->engine_key == "engine" ? 0 : t->line;  // the global default: no line
  if (!cfg.spark_remote.empty()) {
    return ConfigError(cfg, cfg.spark_line, "spark.remote",
                       config::RedactEnvValues(cfg, remote.status().message()), problems);
  }
  return ConfigError(cfg, line, t->engine_key,
                     "spark needs a Spark Connect remote: " + remote.status().message(), problems);
}

}  // namespace

bool UsesSpark(const config::LoaderConfig& cfg) { return FirstSparkTable(cfg) != nullptr; }

Result<engine::spark::SparkRemote> SparkRemoteOf(const config::LoaderConfig& cfg) {
  return Resolve(cfg, nullptr);
}

Status CheckSparkRemote(const config::LoaderConfig& cfg,
                        std::vector<config::ConfigProblem>* problems) {
  if (!UsesSpark(cfg)) return Status::OK();
  return Resolve(cfg, problems).status();
}

Status RefuseSparkLoading(const config::LoaderConfig& cfg) {
  const config::TableConfig* t = FirstSparkTable(cfg);
  if (t == nullptr) return Status::OK();
  const int line = t->engine_key == "engine" ? 0 : t->line;
  return ConfigError(cfg, line, t->engine_key,
                     "loading " + config::DisplayName(cfg, *t) +
                         " is not yet supported on the spark engine (the Spark Connect client "
                         "and cluster-status are; use engine: duckdb to load)",
                     nullptr);
}

}  // namespace dl::cli
