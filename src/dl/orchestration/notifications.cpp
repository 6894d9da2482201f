#include "dl/orchestration/notifications.hpp"

#include "dl/common/clock.hpp"
#include "dl/common/http_client.hpp"
#include "dl/common/logging.hpp"
#include "dl/orchestration/jobs_api.hpp"

namespace dl::orchestration {
namespace {

std::string Host(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t start = scheme + 3, end = url.find_first_of("/?#", start);
  std::string host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  if (size_t colon = host.rfind(':'); colon != std::string::npos) host = host.substr(0, colon);
  return host;
}

std::string Path(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? "" : url.substr(slash);
}

http::RetryPolicy Policy(const config::LoaderConfig& cfg,
                         const std::function<bool(int64_t)>& sleep) {
  http::RetryPolicy p;
  p.retries = cfg.notification_retries;
  p.backoff_ms = cfg.notification_backoff_ms;
  p.sleep = sleep;
  return p;
}

NotificationOutcome SendWebhook(const config::LoaderConfig& cfg, const std::string& url,
                                const nlohmann::ordered_json& summary,
                                const std::function<bool(int64_t)>& sleep) {
  NotificationOutcome out;
  http::Request req;
  req.method = "POST";
  req.url = url;
  req.body = WebhookBody(url, summary);
  req.timeout_ms = int64_t{cfg.http_timeout_seconds} * 1000;
  auto sent = http::SendWithRetries(req, Policy(cfg, sleep));
  out.attempts = sent.attempts;
  if (!sent.last.ok()) {
    out.detail = sent.last.status().message();
  } else {
    out.ok = sent.last->ok();
    out.detail = fmt::format("HTTP {}", sent.last->status);
    if (!out.ok && !sent.last->body.empty()) {
      out.detail += ": " + http::BodyExcerpt(sent.last->body, 200);
    }
  }
  return out;
}

NotificationOutcome TriggerJob(const config::LoaderConfig& cfg, const std::string& id,
                               const std::function<bool(int64_t)>& sleep) {
  NotificationOutcome out;
  auto job = ParseJobId(id);
  auto ws = WorkspaceFromEnv(cfg);
  if (!job.ok() || !ws.ok()) {
    out.detail = !job.ok() ? job.status().message() : ws.status().message();
    return out;
  }
  auto run = RunNow(*ws, *job, Policy(cfg, sleep), &out.attempts);
  out.ok = run.ok();
  out.detail = run.ok() ? fmt::format("run {} started", *run) : run.status().message();
  return out;
}

}  // namespace

nlohmann::ordered_json BuildRunSummary(const monitoring::RunMetrics& m, int exit_code,
                                       const std::string& error) {
  nlohmann::ordered_json tables = nlohmann::ordered_json::array();
  for (const auto& t : m.tables) {
    nlohmann::ordered_json row = {{"table", t.table},
                                  {"files_loaded", t.files_loaded},
                                  {"files_failed", t.files_failed},
                                  {"rows_loaded", t.rows_loaded},
                                  {"bytes_loaded", t.bytes_loaded}};
    if (t.target_version) row["version"] = *t.target_version;
    tables.push_back(std::move(row));
  }
  const bool success = exit_code == 0;
  std::string text = fmt::format(
      "data_loader run {} {}: {} file(s) loaded, {} failed, {} rows into {} table(s) in {:.1f} s",
      m.run_id, success ? "succeeded" : "FAILED", m.files_loaded(), m.files_failed(),
      m.rows_loaded(), m.tables.size(), m.duration_seconds());
  if (!error.empty()) text = fmt::format("data_loader run FAILED before loading: {}", error);
  nlohmann::ordered_json summary = {
      {"event", "data_loader.run"},
      {"run_id", m.run_id},
      {"status", success ? "success" : "failed"},
      {"exit_code", exit_code},
      {"started_at", FormatTimestampMs(m.start_ms)},
      {"finished_at", FormatTimestampMs(m.end_ms ? m.end_ms : NowMs())},
      {"duration_seconds", m.duration_seconds()},
      {"totals",
       {{"files_loaded", m.files_loaded()},
        {"files_failed", m.files_failed()},
        {"rows_loaded", m.rows_loaded()},
        {"bytes_loaded", m.bytes_loaded()}}},
      {"tables", std::move(tables)},
      {"text", log::RedactSecrets(text)}};
  if (!error.empty()) summary["error"] = log::RedactSecrets(error);
  return summary;
}

bool IsSlackWebhook(const std::string& url) {
  return Host(url) == "hooks.slack.com" || Path(url).rfind("/services/", 0) == 0;
}

std::string WebhookBody(const std::string& url, const nlohmann::ordered_json& summary) {
  if (IsSlackWebhook(url)) {
    return nlohmann::ordered_json{{"text", summary.value("text", std::string())}}.dump();
  }
  return summary.dump();
}

std::string RedactTarget(const std::string& entry) {
  if (entry.rfind("webhook:", 0) == 0) return "webhook:" + http::RedactUrl(entry.substr(8));
  return entry;
}

std::vector<NotificationOutcome> SendNotifications(const config::LoaderConfig& cfg,
                                                   const nlohmann::ordered_json& summary,
                                                   const std::function<bool(int64_t)>& sleep) {
  std::vector<NotificationOutcome> out;
  for (const std::string& entry : cfg.downstream_notifications) {
    NotificationOutcome o;
    if (entry.rfind("webhook:", 0) == 0) {
      o = SendWebhook(cfg, entry.substr(8), summary, sleep);
    } else if (entry.rfind("job:", 0) == 0) {
      o = TriggerJob(cfg, entry.substr(4), sleep);
    } else {
      o.detail = "not webhook:... or job:...";
    }
    o.target = RedactTarget(entry);
    if (o.ok) {
      log::Info("notification sent",
                {{"target", o.target}, {"attempts", o.attempts}, {"result", o.detail}});
    } else {
      log::Error("notification failed (the load itself is not affected)",
                 {{"target", o.target}, {"attempts", o.attempts}, {"error", o.detail}});
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace dl::orchestration
