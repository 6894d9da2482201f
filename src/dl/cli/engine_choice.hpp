// Which engine a config's tables run on, and what the Spark engine can do so far.
#pragma once

#include "dl/common/status.hpp"
#include "dl/config/loader_config.hpp"
#include "dl/engine/spark/connection_string.hpp"

namespace dl::cli {

/// True when a table of cfg runs on the Spark engine.
bool UsesSpark(const config::LoaderConfig& cfg);

/// The Spark Connect remote of cfg: spark.remote, else SPARK_REMOTE, else DATABRICKS_HOST +
/// DATABRICKS_TOKEN + DATABRICKS_CLUSTER_ID. A Config error (exit 2) naming the key or
/// variable when it is missing or malformed.
Result<engine::spark::SparkRemote> SparkRemoteOf(const config::LoaderConfig& cfg);

/// Every command that reads a config: a config with Spark tables must name a usable remote.
Status CheckSparkRemote(const config::LoaderConfig& cfg,
                        std::vector<config::ConfigProblem>* problems);

/// Loading (run, run-cluster, validate): a Spark table asking for what the Spark engine cannot
/// do yet (any strategy but append, dedup, ...) is a Config error naming that key; never
/// silently run on DuckDB.
Status RefuseSparkLoading(const config::LoaderConfig& cfg);

}  // namespace dl::cli
