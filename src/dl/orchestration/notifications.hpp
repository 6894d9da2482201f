// Downstream notifications (cluster mode), sent after a run:
//   webhook:<url>  POST a JSON run summary (Slack incoming webhooks get {"text": ...})
//   job:<id>       trigger a Databricks job run (Jobs API 2.1 run-now)
// Each is retried with backoff (notification_retries, notification_backoff_ms). A failing
// notification is reported; it never changes the outcome of the load.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/monitoring/run_metrics.hpp"

namespace dl::orchestration {

/// The run summary webhooks receive: event, run_id, status (success|failed), exit_code,
/// started_at/finished_at (UTC), duration_seconds, totals, per-table figures, and `text`,
/// a one-line human summary.
/// `error`: why the run could not run at all (the summary then has "error" and status failed).
nlohmann::ordered_json BuildRunSummary(const monitoring::RunMetrics& metrics, int exit_code,
                                       const std::string& error = {});

/// True for Slack incoming-webhook URLs: host hooks.slack.com, or a path under /services/
/// (Slack's webhook path shape, also used by Slack-compatible receivers).
bool IsSlackWebhook(const std::string& url);

/// The body POSTed to a webhook: the summary, or {"text": summary.text} for Slack.
std::string WebhookBody(const std::string& url, const nlohmann::ordered_json& summary);

struct NotificationOutcome {
  std::string target;  ///< the entry with its URL redacted (safe to log and print)
  bool ok = false;
  int attempts = 0;
  std::string detail;  ///< "HTTP 200", "run 42 started", or the error
};

/// Send every downstream notification. `sleep(ms)` waits between attempts and returns false
/// to give up (default: sleep). Logs one record per notification.
std::vector<NotificationOutcome> SendNotifications(
    const config::LoaderConfig& cfg, const nlohmann::ordered_json& summary,
    const std::function<bool(int64_t ms)>& sleep = {});

/// "webhook:https://hooks.slack.com/services/***": URLs reduced by http::RedactUrl.
std::string RedactTarget(const std::string& entry);

}  // namespace dl::orchestration
