// Signed S3 requests on libcurl.
#include "dl/storage/s3_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "dl/common/http_client.hpp"
#include "dl/storage/s3_xml.hpp"

namespace dl::s3 {
namespace {

// Sorted by name, as the canonical request of SigV4 has it (libcurl 7.88 does not sort).
std::string EncodeQuery(std::vector<std::pair<std::string, std::string>> query) {
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += http::UrlEncode(k) + "=" + http::UrlEncode(v);
  }
  return out;
}

std::string Digest(const EVP_MD* md, const std::string& data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), buf, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(buf), len);
}

bool Retryable(const Response& r) {
  if (r.status >= 500 || r.status == 429) return true;  // 503 SlowDown included
  return r.status == 409 && ParseError(r.body).code == "ConditionalRequestConflict";
}

}  // namespace

std::string EncodeKey(const std::string& key) { return http::UrlEncodePath(key); }

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Sha256Hex(const std::string& data) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : Digest(EVP_sha256(), data)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Md5Base64(const std::string& data) {
  std::string raw = Digest(EVP_md5(), data);
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Client::Client(S3Settings settings, std::string bucket, RetryPolicy retry)
    : settings_(std::move(settings)), bucket_(std::move(bucket)), retry_(retry) {
  http::InitCurlOnce();
  sigv4_ = "aws:amz:" + settings_.region + ":s3";
  if (!settings_.endpoint_url.empty() && settings_.endpoint_url.find("://") == std::string::npos) {
    settings_.endpoint_url = "https://" + settings_.endpoint_url;
  }
  while (!settings_.endpoint_url.empty() && settings_.endpoint_url.back() == '/') {
    settings_.endpoint_url.pop_back();
  }
}

Client::~Client() {
  for (void* h : pool_) curl_easy_cleanup(static_cast<CURL*>(h));
}

RequestCounts Client::Counts() const {
  RequestCounts c;
  c.list = counts_[static_cast<int>(Kind::kList)];
  c.get = counts_[static_cast<int>(Kind::kGet)];
  c.head = counts_[static_cast<int>(Kind::kHead)];
  c.put = counts_[static_cast<int>(Kind::kPut)];
  c.del = counts_[static_cast<int>(Kind::kDelete)];
  return c;
}

std::string Client::Url(const Request& req) const {
  // Path style on a custom endpoint unless asked otherwise; virtual-hosted on AWS itself. The
  // bucket-level path keeps its trailing '/' ("/bucket/?list-type=2"): libcurl 7.88 signs
  // "/bucket?..." wrongly.
  std::string url;
  const std::string path = "/" + EncodeKey(req.key);
  if (settings_.endpoint_url.empty()) {
    url = "https://" + bucket_ + ".s3." + settings_.region + ".amazonaws.com" + path;
  } else if (settings_.virtual_hosted_style) {
    size_t host = settings_.endpoint_url.find("://") + 3;
    url = settings_.endpoint_url.substr(0, host) + bucket_ + "." +
          settings_.endpoint_url.substr(host) + path;
  } else {
    url = settings_.endpoint_url + "/" + bucket_ + path;
  }
  if (!req.query.empty()) url += "?" + EncodeQuery(req.query);
  return url;
}

void* Client::TakeHandle() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      void* h = pool_.back();
      pool_.pop_back();
      curl_easy_reset(static_cast<CURL*>(h));  // keeps the connection cache
      return h;
    }
  }
  return curl_easy_init();
}

void Client::ReturnHandle(void* handle) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  pool_.push_back(handle);
}

Result<Response> Client::SendOnce(const Request& req) {
  CURL* h = static_cast<CURL*>(TakeHandle());
  if (h == nullptr) return Status::Internal("cannot create an HTTP handle");
  counts_[static_cast<int>(req.kind)]++;
  Response resp;
  const std::string url = Url(req);
  curl_slist* headers = nullptr;
  auto add = [&](const std::string& line) { headers = curl_slist_append(headers, line.c_str()); };
  add("x-amz-content-sha256: " + Sha256Hex(req.body));
  if (!settings_.session_token.empty()) add("x-amz-security-token: " + settings_.session_token);
  for (const auto& [k, v] : req.headers) add(k + ": " + v);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  // Keys are sent as written: curl would otherwise fold "/./" and "/../" in the path.
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, settings_.allow_http ? "http,https" : "https");
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, settings_.access_key_id.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, settings_.secret_access_key.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  // No overall timeout (objects may be large): give up on a connection that stalls.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "data_loader");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http::CurlAppendBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http::CurlCollectHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp.headers);
  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_slist_free_all(headers);
  ReturnHandle(h);
  if (rc != CURLE_OK) {
    return Status::Io("S3 {} s3://{}/{}: {}", req.method, bucket_, req.key, curl_easy_strerror(rc));
  }
  return resp;
}

Result<Response> Client::Send(const Request& req) {
  int64_t delay = retry_.first_backoff_ms;
  bool unknown = false;
  for (int attempt = 1;; ++attempt) {
    Result<Response> r = SendOnce(req);
    bool again = r.ok() ? Retryable(*r) : true;
    if (!again || attempt >= retry_.attempts) {
      if (r.ok()) r->earlier_attempt_unknown = unknown;
      return r;
    }
    unknown |= !r.ok() || r->status >= 500;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(delay, retry_.max_backoff_ms)));
    delay *= 2;
  }
}

Status ErrorStatus(const Response& r, const std::string& op, const std::string& bucket,
                   const std::string& key) {
  ErrorInfo e = ParseError(r.body);
  const std::string where = "s3://" + bucket + "/" + key;
  std::string detail = e.code.empty() ? fmt::format("HTTP {}", r.status)
                                      : fmt::format("HTTP {} {}: {}", r.status, e.code, e.message);
  if (r.status == 403) {
    return Status::InvalidArgument(
        "S3 {} {}: access denied to bucket '{}' ({}); check the credentials and their "
        "permissions for this bucket and prefix",
        op, where, bucket, detail);
  }
  if (e.code == "NoSuchBucket") {
    return Status::InvalidArgument("S3 {} {}: bucket '{}' does not exist", op, where, bucket);
  }
  if (r.status == 404) return Status::NotFound("{}: not found", where);
  return Status::Io("S3 {} {}: {}", op, where, detail);
}

}  // namespace dl::s3
