#include "dl/orchestration/jobs_api.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>

#include "dl/common/logging.hpp"

namespace dl::orchestration {
namespace {

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string ErrorText(const http::Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    return log::RedactSecrets(j.value("error_code", "") + ": " + j["message"].get<std::string>());
  }
  return http::BodyExcerpt(r.body);
}

}  // namespace

Result<Workspace> WorkspaceFromEnv(const config::LoaderConfig& cfg) {
  const char* host = std::getenv(cfg.databricks_host_env.c_str());
  if (!host || !*host) {
    return Status::Config("${} is not set: job:... entries need the Databricks workspace URL "
                          "(databricks_host_env)",
                          cfg.databricks_host_env);
  }
  Workspace ws;
  ws.host = TrimSlash(host);
  if (ws.host.rfind("http://", 0) != 0 && ws.host.rfind("https://", 0) != 0) {
    ws.host = "https://" + ws.host;  // DATABRICKS_HOST is often given without a scheme
  }
  const char* token = std::getenv(cfg.databricks_token_env.c_str());
  ws.token = token ? token : "";
  ws.timeout_ms = int64_t{cfg.http_timeout_seconds} * 1000;
  return ws;
}

Result<int64_t> ParseJobId(const std::string& id) {
  bool digits = !id.empty() && id.size() < 19 &&
                id.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoll(id) <= 0) {
    return Status::InvalidArgument("job id '{}' is not a Databricks job id (a positive number)",
                                   id);
  }
  return std::stoll(id);
}

Result<LatestRun> GetLatestRun(const Workspace& ws, int64_t job_id) {
  http::Request req;
  req.url = fmt::format("{}/api/2.1/jobs/runs/list?job_id={}&limit=1", ws.host, job_id);
  req.bearer_token = ws.token;
  req.timeout_ms = ws.timeout_ms;
  DL_ASSIGN_OR_RETURN(auto resp, http::Send(req));
  if (!resp.ok()) {
    return Status::Io("Jobs API runs/list for job {}: HTTP {}: {}", job_id, resp.status,
                      ErrorText(resp));
  }
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (!j.is_object()) {
    return Status::Io("Jobs API runs/list for job {}: not JSON: {}", job_id,
                      http::BodyExcerpt(resp.body));
  }
  LatestRun run;
  if (!j.contains("runs") || !j["runs"].is_array() || j["runs"].empty()) return run;
  const auto& r = j["runs"][0];
  run.found = true;
  run.run_id = r.value("run_id", int64_t{0});
  if (r.contains("state") && r["state"].is_object()) {
    run.life_cycle_state = r["state"].value("life_cycle_state", "");
    run.result_state = r["state"].value("result_state", "");
    run.state_message = r["state"].value("state_message", "");
  }
  return run;
}

Result<int64_t> RunNow(const Workspace& ws, int64_t job_id, const http::RetryPolicy& policy,
                       int* attempts) {
  http::Request req;
  req.method = "POST";
  req.url = ws.host + "/api/2.1/jobs/run-now";
  req.body = nlohmann::json{{"job_id", job_id}}.dump();
  req.bearer_token = ws.token;
  req.timeout_ms = ws.timeout_ms;
  auto sent = http::SendWithRetries(req, policy);
  if (attempts) *attempts = sent.attempts;
  if (!sent.last.ok()) return sent.last.status();
  const http::Response& resp = *sent.last;
  if (!resp.ok()) {
    return Status::Io("Jobs API run-now for job {}: HTTP {}: {}", job_id, resp.status,
                      ErrorText(resp));
  }
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  return j.is_object() ? j.value("run_id", int64_t{0}) : int64_t{0};
}

}  // namespace dl::orchestration
