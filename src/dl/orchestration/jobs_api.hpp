// The two Databricks Jobs API 2.1 calls cluster mode makes: the latest run of a job
// (GET /api/2.1/jobs/runs/list?job_id=..&limit=1) and triggering one (POST /api/2.1/jobs/run-now).
#pragma once

#include <cstdint>
#include <string>

#include "dl/common/http_client.hpp"
#include "dl/config/loader_config.hpp"

namespace dl::orchestration {

struct Workspace {
  std::string host;   ///< https://<workspace>, from $<databricks_host_env>
  std::string token;  ///< from $<databricks_token_env>; empty: no Authorization header
  int64_t timeout_ms = 30000;
};

/// Config error naming the variable when $<databricks_host_env> is unset or not http(s).
Result<Workspace> WorkspaceFromEnv(const config::LoaderConfig& cfg);

/// InvalidArgument unless the id is a positive integer (the Jobs API's job_id).
Result<int64_t> ParseJobId(const std::string& id);

struct LatestRun {
  bool found = false;  ///< the job has a run at all
  int64_t run_id = 0;
  std::string life_cycle_state;  ///< PENDING, RUNNING, TERMINATED, ...
  std::string result_state;      ///< SUCCESS, FAILED, ... (when terminated)
  std::string state_message;
  bool succeeded() const { return life_cycle_state == "TERMINATED" && result_state == "SUCCESS"; }
};

Result<LatestRun> GetLatestRun(const Workspace& ws, int64_t job_id);

/// Trigger a run; retried on transport errors and 5xx / 429 per `policy`. Returns the new
/// run_id; `attempts` gets the number of requests made.
Result<int64_t> RunNow(const Workspace& ws, int64_t job_id, const http::RetryPolicy& policy,
                       int* attempts);

}  // namespace dl::orchestration
