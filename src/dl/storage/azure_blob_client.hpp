// A small client for the Azure Blob REST API on libcurl: SharedKey signing (HMAC-SHA256 from
// OpenSSL) or a SAS token, retries with backoff, and error messages that name the account,
// container and blob but never a key, a SAS token or a signature.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/object_store_settings.hpp"

namespace dl {

using AzureQuery = std::vector<std::pair<std::string, std::string>>;

struct AzureRequest {
  AzureRequest(std::string method_, std::string container_, std::string blob_ = {},
               AzureQuery query_ = {})
      : method(std::move(method_)),
        container(std::move(container_)),
        blob(std::move(blob_)),
        query(std::move(query_)) {}

  std::string method;  ///< GET, HEAD, PUT, DELETE
  std::string container;
  std::string blob;                            ///< empty for container-level calls
  AzureQuery query;                            ///< raw (not encoded) values
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;                            ///< PUT only
};

struct AzureResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-case names
  int attempts = 0;                            ///< >1 when the call was retried

  std::string Header(const std::string& name) const;
  /// x-ms-error-code (HEAD answers have no body), else the <Code> of the error body.
  std::string ErrorCode() const;
};

class AzureBlobClient {
 public:
  /// InvalidArgument if the account key is not base64 (the key itself is never named).
  static Result<AzureBlobClient> Make(AzureSettings settings);

  /// Sends with retries (transport errors, 5xx, 408, 429: up to 4, 200 ms doubling); any HTTP
  /// status is a response.
  Result<AzureResponse> Send(const AzureRequest& request) const;

  /// The blob's URL without credentials (for x-ms-copy-source add CopySourceUrl).
  std::string Url(const std::string& container, const std::string& blob,
                  const std::vector<std::pair<std::string, std::string>>& query = {}) const;
  /// The URL Copy Blob reads the source from: with the SAS token when that is the credential.
  std::string CopySourceUrl(const std::string& container, const std::string& blob) const;

  const std::string& account() const { return settings_.account_name; }
  /// Requests sent so far (every attempt), by kind: listings, GET, HEAD, PUT (Copy Blob
  /// too), DELETE.
  RequestCounts Counts() const;
  /// `text` with the key, SAS token and any signature replaced by "***".
  std::string Redact(std::string text) const;

 private:
  AzureBlobClient(AzureSettings settings, std::string key, std::string endpoint)
      : settings_(std::move(settings)),
        key_(std::move(key)),
        endpoint_(std::move(endpoint)),
        counts_(std::make_shared<Tally>()) {}

  // list, get, head, put, del; shared so the client stays movable.
  using Tally = std::array<std::atomic<int64_t>, 5>;
  void Count(const AzureRequest& request) const;

  Result<AzureResponse> SendOnce(const AzureRequest& request) const;
  std::string Authorization(const AzureRequest& request, const std::string& url_path,
                            const std::map<std::string, std::string>& headers) const;

  AzureSettings settings_;
  std::string key_;       ///< decoded account key (binary); empty with SAS
  std::string endpoint_;  ///< Blob service URL of the account, no trailing '/'
  std::shared_ptr<Tally> counts_;
};

/// The SharedKey string-to-sign of a Blob request (protocol text, no cryptography): verb,
/// standard headers, canonicalized x-ms-* headers and resource. `url_path` is the encoded
/// path as sent; query values raw.
std::string SharedKeyStringToSign(const std::string& account, const std::string& method,
                                  const std::string& url_path,
                                  const std::vector<std::pair<std::string, std::string>>& query,
                                  const std::map<std::string, std::string>& headers);

/// Percent-encodes a blob name for a URL path, keeping its '/'.
std::string EncodeBlobPath(const std::string& name);

}  // namespace dl
