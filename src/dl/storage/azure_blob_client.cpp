// Azure Blob REST calls on libcurl, signed with SharedKey (OpenSSL HMAC) or a SAS token.
#include "dl/storage/azure_blob_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <pugixml.hpp>
#include <thread>

#include "dl/common/http_client.hpp"

namespace dl {
namespace {

// A service version Azure and Azurite both serve (List Blobs with Encoded names, Put Blob
// conditional headers, synchronous same-account Copy Blob).
constexpr char kApiVersion[] = "2021-08-06";

// Retries of transport errors, 5xx, 408 and 429: 200 ms, doubling, at most 5 s apart.
constexpr int kMaxRetries = 4;
constexpr int64_t kFirstBackoffMs = 200;
constexpr int64_t kMaxBackoffMs = 5000;

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Trim(const std::string& text) {
  size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = text.find_last_not_of(" \t\r\n");
  return text.substr(b, e - b + 1);
}

Result<std::string> Base64Decode(const std::string& text) {
  std::string clean;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  }
  if (clean.empty() || clean.size() % 4 != 0) return Status::InvalidArgument("not base64");
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return Status::InvalidArgument("not base64");
  size_t pad = clean.size() - clean.find_last_not_of('=') - 1;
  out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, 2));
  return out;
}

std::string Base64Encode(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string HttpDateNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// The path part of a URL, without the query ("" for "https://host").
std::string UrlPath(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {};
  return url.substr(slash, url.find('?', slash) - slash);
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    out += out.empty() ? "?" : "&";
    out += http::UrlEncode(k) + "=" + http::UrlEncode(v);
  }
  return out;
}

// One easy handle per thread, reset per request: keeps connections alive between calls.
CURL* ThreadHandle() {
  http::InitCurlOnce();
  struct Handle {
    CURL* curl = curl_easy_init();
    ~Handle() { curl_easy_cleanup(curl); }
  };
  thread_local Handle handle;
  curl_easy_reset(handle.curl);
  return handle.curl;
}

std::string Describe(const std::string& account, const AzureRequest& r) {
  std::string out = "account " + account + ", container " + r.container;
  if (!r.blob.empty()) out += ", blob " + r.blob;
  return out;
}

// One HTTP exchange. A transport failure is Io (Timeout) with curl's words, which name the
// host but never the URL's query.
Result<AzureResponse> Perform(const AzureRequest& request, const std::string& url,
                              const std::map<std::string, std::string>& headers) {
  CURL* curl = ThreadHandle();
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  for (const auto& [name, value] : headers) {
    if (name != "content-length") list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  AzureResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  // Blob names are sent as written: curl would otherwise fold "/./" and "/../" in the path.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);  // stalled for a minute: give up
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http::CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http::CurlCollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    return Status(rc == CURLE_OPERATION_TIMEDOUT ? StatusCode::kTimeout : StatusCode::kIo,
                  error[0] != '\0' ? error : curl_easy_strerror(rc));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

std::string EncodeBlobPath(const std::string& name) { return http::UrlEncodePath(name); }

std::string SharedKeyStringToSign(const std::string& account, const std::string& method,
                                  const std::string& url_path,
                                  const std::vector<std::pair<std::string, std::string>>& query,
                                  const std::map<std::string, std::string>& headers) {
  auto header = [&](const char* name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  };
  std::string out = method + "\n";
  for (const char* name :
       {"content-encoding", "content-language", "content-length", "content-md5", "content-type",
        "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"}) {
    std::string value = header(name);
    if (std::string_view(name) == "content-length" && value == "0") value.clear();
    out += value + "\n";
  }
  for (const auto& [name, value] : headers) {  // std::map: sorted by lower-case name
    if (name.rfind("x-ms-", 0) == 0) out += name + ":" + Trim(value) + "\n";
  }
  out += "/" + account + url_path;
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : query) params[Lower(k)].push_back(v);
  for (auto& [k, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + k + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

std::string AzureResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string AzureResponse::ErrorCode() const {
  std::string code = Header("x-ms-error-code");
  if (!code.empty() || body.empty()) return http::ServerErrorCode(code);
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return {};
  return http::ServerErrorCode(doc.child("Error").child_value("Code"));
}

Result<AzureBlobClient> AzureBlobClient::Make(AzureSettings settings) {
  std::string key;
  if (!settings.account_key.empty()) {
    auto decoded = Base64Decode(settings.account_key);
    if (!decoded.ok()) {
      return Status::InvalidArgument(
          "the Azure account key of account {} is not valid base64 (check "
          "azure_storage_account_key or the connection string's AccountKey)",
          settings.account_name);
    }
    key = std::move(decoded).value();
  }
  std::string endpoint = settings.blob_endpoint.empty()
                             ? "https://" + settings.account_name + ".blob.core.windows.net"
                             : settings.blob_endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return AzureBlobClient(std::move(settings), std::move(key), std::move(endpoint));
}

std::string AzureBlobClient::Url(
    const std::string& container, const std::string& blob,
    const std::vector<std::pair<std::string, std::string>>& query) const {
  std::string url = endpoint_ + "/" + container;
  if (!blob.empty()) url += "/" + EncodeBlobPath(blob);
  return url + QueryString(query);
}

std::string AzureBlobClient::CopySourceUrl(const std::string& container,
                                           const std::string& blob) const {
  std::string url = Url(container, blob);
  if (key_.empty() && !settings_.sas_token.empty()) url += "?" + settings_.sas_token;
  return url;
}

std::string AzureBlobClient::Redact(std::string text) const {
  for (const std::string* secret : {&settings_.account_key, &settings_.sas_token}) {
    if (secret->empty()) continue;
    for (size_t pos; (pos = text.find(*secret)) != std::string::npos;) {
      text.replace(pos, secret->size(), "***");
    }
  }
  for (size_t pos = 0; (pos = text.find("sig=", pos)) != std::string::npos; pos += 7) {
    size_t end = text.find_first_of("&\"' \n", pos + 4);
    text.replace(pos + 4, (end == std::string::npos ? text.size() : end) - pos - 4, "***");
  }
  return text;
}

std::string AzureBlobClient::Authorization(
    const AzureRequest& request, const std::string& url_path,
    const std::map<std::string, std::string>& headers) const {
  std::string to_sign = SharedKeyStringToSign(settings_.account_name, request.method, url_path,
                                              request.query, headers);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &mac_len);
  return "SharedKey " + settings_.account_name + ":" + Base64Encode(mac, mac_len);
}

void AzureBlobClient::Count(const AzureRequest& request) const {
  int kind = 1;  // GET
  if (request.method == "HEAD") {
    kind = 2;
  } else if (request.method == "PUT") {
    kind = 3;
  } else if (request.method == "DELETE") {
    kind = 4;
  } else if (std::find(request.query.begin(), request.query.end(),
                       std::pair<std::string, std::string>("comp", "list")) !=
             request.query.end()) {
    kind = 0;
  }
  (*counts_)[kind]++;
}

RequestCounts AzureBlobClient::Counts() const {
  const Tally& t = *counts_;
  return RequestCounts{t[0], t[1], t[2], t[3], t[4]};
}

Result<AzureResponse> AzureBlobClient::SendOnce(const AzureRequest& request) const {
  Count(request);
  std::map<std::string, std::string> headers = request.headers;
  headers["x-ms-date"] = HttpDateNow();
  headers["x-ms-version"] = kApiVersion;
  if (request.method == "PUT") {
    headers["content-length"] = std::to_string(request.body.size());
    if (!headers.count("content-type")) headers["content-type"] = "application/octet-stream";
  }
  std::string url = Url(request.container, request.blob, request.query);
  if (!key_.empty()) {
    headers["authorization"] = Authorization(request, UrlPath(url), headers);
  } else if (!settings_.sas_token.empty()) {
    url += (request.query.empty() ? "?" : "&") + settings_.sas_token;
  }
  auto response = Perform(request, url, headers);
  if (!response.ok()) {
    return Status(response.status().code(), Redact("Azure Blob " + request.method + " (" +
                                                   Describe(settings_.account_name, request) +
                                                   ") failed: " + response.status().message()));
  }
  return response;
}

Result<AzureResponse> AzureBlobClient::Send(const AzureRequest& request) const {
  int64_t delay = kFirstBackoffMs;
  for (int attempt = 1;; ++attempt) {
    auto response = SendOnce(request);
    bool retry = !response.ok() ? response.status().code() != StatusCode::kInvalidArgument
                                : response->status >= 500 || response->status == 408 ||
                                      response->status == 429;
    if (!retry || attempt > kMaxRetries) {
      if (response.ok()) {
        response->attempts = attempt;
      } else if (attempt > 1) {
        return Status(response.status().code(),
                      fmt::format("{} (after {} attempts)", response.status().message(), attempt));
      }
      return response;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    delay = std::min(delay * 2, kMaxBackoffMs);
  }
}

}  // namespace dl
