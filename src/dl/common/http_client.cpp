#include "dl/common/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>

#include "dl/common/logging.hpp"

namespace dl::http {
namespace {

struct CurlHandle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlHandle() {
    if (headers) curl_slist_free_all(headers);
    if (h) curl_easy_cleanup(h);
  }
};

}  // namespace

Result<Response> Send(const Request& req) {
  InitCurlOnce();
  CurlHandle c;
  if (!c.h) return Status::Internal("cannot create an HTTP handle");
  const std::string where = req.method + " " + RedactUrl(req.url);
  Response resp;
  curl_easy_setopt(c.h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout_ms));
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_ms));
  curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect could carry the token away
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, CurlAppendBody);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, "data_loader");
  if (!req.body.empty() || req.method == "POST" || req.method == "PATCH") {
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
    c.headers = curl_slist_append(c.headers, "Content-Type: application/json");
    c.headers = curl_slist_append(c.headers, "Expect:");  // no 100-continue round trip
  }
  c.headers = curl_slist_append(c.headers, "Accept: application/json");
  if (!req.bearer_token.empty()) {
    std::string auth = "Authorization: Bearer " + req.bearer_token;
    c.headers = curl_slist_append(c.headers, auth.c_str());
  }
  for (const auto& [k, v] : req.headers) {
    std::string line = k + ": " + v;
    c.headers = curl_slist_append(c.headers, line.c_str());
  }
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Status::Timeout("{}: no answer within {} ms", where, req.timeout_ms);
  }
  if (rc != CURLE_OK) return Status::Io("{}: {}", where, curl_easy_strerror(rc));
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

Attempted SendWithRetries(const Request& request, const RetryPolicy& policy) {
  Attempted out;
  int64_t delay = policy.backoff_ms;
  for (int attempt = 0;; ++attempt) {
    out.last = Send(request);
    out.attempts = attempt + 1;
    bool again = out.last.ok() ? out.last->retryable()
                               : out.last.status().code() == StatusCode::kIo ||
                                     out.last.status().code() == StatusCode::kTimeout;
    if (!again || attempt >= policy.retries) return out;
    int64_t wait = std::min(delay, policy.max_backoff_ms);
    if (policy.sleep) {
      if (!policy.sleep(wait)) return out;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
    delay *= 2;
  }
}

std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "***";
  size_t host_start = scheme + 3;
  size_t path = url.find_first_of("/?#", host_start);
  std::string host = url.substr(host_start, path == std::string::npos ? std::string::npos
                                                                      : path - host_start);
  if (size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  std::string out = url.substr(0, host_start) + host;
  if (path == std::string::npos || url[path] != '/') return out;
  size_t end = url.find_first_of("/?#", path + 1);
  out += url.substr(path, end == std::string::npos ? std::string::npos : end - path);
  if (end != std::string::npos) out += url[end] + std::string("***");  // "/***", "?***"...
  return out;
}

std::string UrlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string UrlEncodePath(const std::string& path) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out += UrlEncode(path.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return out;
    out += '/';
    start = slash + 1;
  }
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t CurlAppendBody(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

size_t CurlCollectHeader(char* data, size_t size, size_t count, void* headers) {
  auto& out = *static_cast<std::map<std::string, std::string>*>(headers);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    out.clear();
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
  };
  std::string name(trim(line.substr(0, colon)));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out[name] = std::string(trim(line.substr(colon + 1)));
  return size * count;
}

std::string BodyExcerpt(const std::string& body, size_t max_chars) {
  std::string one_line;
  for (char c : body.substr(0, max_chars)) one_line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  if (body.size() > max_chars) one_line += "...";
  return log::RedactSecrets(one_line);
}

std::string ServerErrorCode(std::string_view code) {
  const bool token =
      !code.empty() && code.size() <= 64 && std::all_of(code.begin(), code.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  return token ? std::string(code) : std::string();
}

std::string ServerErrorMessage(std::string_view message, size_t max_chars) {
  std::string text(message.substr(0, message.find_first_of("\r\n")));
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // What follows these phrases is derived from the request's signature inputs.
  for (std::string_view phrase : {"string to sign", "stringtosign", "canonical request",
                                  "canonicalrequest", "signature provided"}) {
    if (size_t at = lower.find(phrase); at != std::string::npos) {
      text = text.substr(0, at + phrase.size()) + " ***";
      lower = lower.substr(0, at + phrase.size());
    }
  }
  // AWS access key ids: AKIA/ASIA and 16 more capitals or digits.
  for (size_t at = 0; (at = text.find("A", at)) != std::string::npos; ++at) {
    if ((text.compare(at, 4, "AKIA") != 0 && text.compare(at, 4, "ASIA") != 0) ||
        at + 20 > text.size()) {
      continue;
    }
    const bool id = std::all_of(text.begin() + at + 4, text.begin() + at + 20, [](char c) {
      return std::isupper(static_cast<unsigned char>(c)) ||
             std::isdigit(static_cast<unsigned char>(c));
    });
    if (id) text.replace(at + 4, 16, "***");
  }
  if (text.size() > max_chars) text = text.substr(0, max_chars) + "...";
  return log::RedactSecrets(text);
}

}  // namespace dl::http
