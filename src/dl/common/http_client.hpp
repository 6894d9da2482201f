// A small blocking HTTP client on libcurl, for the REST calls of cluster mode (Unity Catalog,
// the Databricks Jobs API, webhooks). JSON in, JSON out; no exceptions.
//
// Bearer tokens travel only in the Authorization header and are never part of a message this
// client returns: error texts name the method and a redacted URL (see RedactUrl).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::http {

struct Request {
  std::string method = "GET";  ///< GET, POST, PATCH, DELETE
  std::string url;
  std::string body;          ///< sent as application/json when not empty (and for POST)
  std::string bearer_token;  ///< "Authorization: Bearer <token>" when not empty
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timeout_ms = 30000;         ///< whole request
  int64_t connect_timeout_ms = 5000;  ///< TCP connect
};

struct Response {
  long status = 0;
  std::string body;
  bool ok() const { return status >= 200 && status < 300; }
  /// 5xx, 408 and 429: worth another try.
  bool retryable() const { return status >= 500 || status == 408 || status == 429; }
};

/// Send one request. A transport failure (refused, unreachable, timed out, TLS) is an Io
/// (or Timeout) error naming method and redacted URL; any HTTP status is a Response.
Result<Response> Send(const Request& request);

struct RetryPolicy {
  int retries = 3;              ///< further attempts after the first
  int64_t backoff_ms = 1000;    ///< first delay; doubled per attempt
  int64_t max_backoff_ms = 30000;
  /// Sleeps between attempts; returns false to give up (e.g. a stop signal). Default: sleep.
  std::function<bool(int64_t ms)> sleep;
};

struct Attempted {
  Result<Response> last = Status::Internal("no attempt");
  int attempts = 0;
};

/// Send with retries on transport errors and retryable statuses. `last` holds the final
/// response (possibly a non-2xx one) or the final transport error.
Attempted SendWithRetries(const Request& request, const RetryPolicy& policy);

/// "https://host:port/first-segment" with user info dropped and everything after the first
/// path segment replaced by "***" ("https://hooks.slack.com/services/***", "https://h/x?***"):
/// webhook URLs carry secrets in the path or query.
std::string RedactUrl(const std::string& url);
/// Percent-encode one URL path segment or query value.
std::string UrlEncode(const std::string& text);
/// Percent-encode each '/'-separated segment of an object key or blob name, keeping the '/'.
std::string UrlEncodePath(const std::string& path);

// -- Shared by the libcurl clients here and in storage/ --
/// curl_global_init, once per process (it is not thread-safe), before the first handle.
void InitCurlOnce();
/// CURLOPT_WRITEFUNCTION appending to the std::string in CURLOPT_WRITEDATA.
size_t CurlAppendBody(char* data, size_t size, size_t count, void* body);
/// CURLOPT_HEADERFUNCTION filling the std::map<std::string, std::string> in CURLOPT_HEADERDATA
/// (names lower case, values trimmed); a new status line (after 100 Continue) starts over.
size_t CurlCollectHeader(char* data, size_t size, size_t count, void* headers);
/// A short, single-line excerpt of a response body for error messages (secrets redacted).
std::string BodyExcerpt(const std::string& body, size_t max_chars = 300);

/// An object store's error Code as our messages may carry it: a token of letters, digits and
/// ". _ -" ("AccessDenied"), else "" (anything else is not a code and may echo the request).
std::string ServerErrorCode(std::string_view code);
/// An object store's error Message as our messages may carry it: its first line, at most
/// `max_chars`, with what could echo the request's secrets masked: the rest from "string to
/// sign" / "canonical request" on, signature, credential and SAS values (RedactSecrets) and
/// AWS access key ids. Bodies also carry <StringToSign>, <CanonicalRequest>,
/// <SignatureProvided>, <AWSAccessKeyId>, <AuthenticationErrorDetail>: never pass those on.
std::string ServerErrorMessage(std::string_view message, size_t max_chars = 200);

}  // namespace dl::http
