#include "dl/cli/engine_choice.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <utility>

#include "dl/engine/spark/spark_fragment.hpp"

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

namespace {

// What a Spark table asks for that the Spark engine cannot do yet: the key and why; "" when
// everything is supported.
std::pair<std::string, std::string> SparkGap(const config::TableConfig& t) {
  // The fragments reach Spark compiled from DuckDB SQL: what does not compile is refused here.
  const std::pair<const char*, const std::optional<std::string>*> fragments[] = {
      {"merge_condition", &t.merge_condition},
      {"delete_condition", &t.delete_condition},
      {"replace_where", &t.replace_where}};
  for (const auto& [key, fragment] : fragments) {
    if (!*fragment) continue;
    auto spark = engine::spark::SparkFragment(**fragment);
    if (!spark.ok()) return {key, spark.status().message()};
  }
  return {};
}

}  // namespace

Status RefuseSparkLoading(const config::LoaderConfig& cfg) {
  for (size_t i = 0; i < cfg.tables.size(); ++i) {
    const config::TableConfig& t = cfg.tables[i];
    if (t.engine != config::EngineKind::kSpark) continue;
    auto [key, what] = SparkGap(t);
    if (key.empty()) continue;
    return ConfigError(cfg, t.line, fmt::format("tables[{}].{}", i, key),
                       fmt::format("{} of {} is not yet supported on the spark engine ({}; see "
                                   "docs/spark_engine.md); use engine: duckdb for it",
                                   what, config::DisplayName(cfg, t), t.engine_key),
                       nullptr);
  }
  return Status::OK();
}

}  // namespace dl::cli
