// Signed S3 requests on libcurl (CURLOPT_AWS_SIGV4), with retries and request counts. The
// credentials go to libcurl only: no message or log of this client holds them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/object_store_settings.hpp"

namespace dl::s3 {

enum class Kind { kList, kGet, kHead, kPut, kDelete };

struct Request {
  Kind kind = Kind::kGet;
  std::string method = "GET";
  std::string key;  ///< object key; empty for a request on the bucket
  std::vector<std::pair<std::string, std::string>> query;  ///< not yet encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-case names
  /// An earlier attempt of this request failed in a way that may have applied it (transport
  /// error, 5xx): a 412 now may be our own earlier write.
  bool earlier_attempt_unknown = false;
  bool ok() const { return status >= 200 && status < 300; }
  std::string Header(const std::string& lower_name) const;
};

struct RetryPolicy {
  int attempts = 5;
  int64_t first_backoff_ms = 100;
  int64_t max_backoff_ms = 5000;
};

class Client {
 public:
  Client(S3Settings settings, std::string bucket, RetryPolicy retry);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Send with retries on transport errors, 5xx, 429 and 409 ConditionalRequestConflict
  /// (never on 412). Any final HTTP answer is a Response; a transport failure an Io error.
  Result<Response> Send(const Request& request);
  RequestCounts Counts() const;
  const std::string& bucket() const { return bucket_; }

 private:
  Result<Response> SendOnce(const Request& request);
  std::string Url(const Request& request) const;
  void* TakeHandle();
  void ReturnHandle(void* handle);

  S3Settings settings_;
  std::string bucket_;
  RetryPolicy retry_;
  std::string sigv4_;  ///< "aws:amz:<region>:s3"
  std::array<std::atomic<int64_t>, 5> counts_{};
  std::mutex pool_mu_;
  std::vector<void*> pool_;  ///< idle CURL handles, reused for their connections
};

/// The Status of a failed answer to `op` on s3://bucket/key: 403 names the bucket and key and
/// asks to check the credentials, NoSuchBucket says the bucket does not exist, 404 is
/// NotFound; the store's error code and message are included, credentials never.
Status ErrorStatus(const Response& response, const std::string& op, const std::string& bucket,
                   const std::string& key);

/// A key percent-encoded per '/'-separated segment, as SigV4 and x-amz-copy-source want it.
std::string EncodeKey(const std::string& key);

/// Lower-case hex SHA-256 and base64 MD5 of data (OpenSSL EVP).
std::string Sha256Hex(const std::string& data);
std::string Md5Base64(const std::string& data);

}  // namespace dl::s3
