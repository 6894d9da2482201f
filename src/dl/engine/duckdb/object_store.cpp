#include "dl/engine/duckdb/object_store.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/storage/object_store_settings.hpp"
#include "dl/storage/paths.hpp"

#ifndef DL_DUCKDB_EXTENSIONS_DIR
#define DL_DUCKDB_EXTENSIONS_DIR "third_party/duckdb_extensions"
#endif

namespace dl::engine::duck {

namespace {

enum class Store { kNone, kS3, kAzure };

// httpfs serves s3:// and s3a:// alike; the azure extension az://, azure:// and abfss://.
Store StoreOf(const std::string& location) {
  std::string scheme = UriScheme(location);
  if (scheme == "s3" || scheme == "s3a") return Store::kS3;
  if (scheme == "az" || scheme == "azure" || scheme == "abfs" || scheme == "abfss") {
    return Store::kAzure;
  }
  return Store::kNone;
}

std::string Where(const std::string& location) {
  return fmt::format("{}://{}", UriScheme(location), UriAuthority(location));
}

// "http://host:port/..." -> {"host:port", use_ssl=false}; no scheme means https.
std::pair<std::string, bool> SplitEndpoint(const std::string& url) {
  std::string rest = url;
  bool ssl = true;
  if (size_t p = rest.find("://"); p != std::string::npos) {
    ssl = AsciiLower(rest.substr(0, p)) != "http";
    rest = rest.substr(p + 3);
  }
  if (size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  return {rest, ssl};
}

Result<std::string> S3SecretBody(const std::string& location, const StorageOptions& options) {
  DL_ASSIGN_OR_RETURN(S3Settings s, ResolveS3Settings(options));
  std::vector<std::string> items = {"TYPE s3"};
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) items.push_back(fmt::format("{} {}", key, QuoteLiteral(value)));
  };
  add("KEY_ID", s.access_key_id);
  add("SECRET", s.secret_access_key);
  add("SESSION_TOKEN", s.session_token);
  add("REGION", s.region);
  if (!s.endpoint_url.empty()) {
    auto [host, ssl] = SplitEndpoint(s.endpoint_url);
    add("ENDPOINT", host);
    items.push_back(ssl ? "USE_SSL true" : "USE_SSL false");
  }
  add("URL_STYLE", s.virtual_hosted_style ? "vhost" : "path");
  add("SCOPE", location);
  return fmt::format("{}", fmt::join(items, ", "));
}

// A connection string where a key or SAS token is given (with BlobEndpoint for emulators such
// as Azurite), else the account name with the credential chain.
Result<std::string> AzureSecretBody(const std::string& location, const StorageOptions& options) {
  DL_ASSIGN_OR_RETURN(AzureSettings s, ResolveAzureSettings(options));
  std::string endpoint = s.blob_endpoint.empty()
                             ? fmt::format("https://{}.blob.core.windows.net", s.account_name)
                             : s.blob_endpoint;
  std::string protocol = endpoint.rfind("http://", 0) == 0 ? "http" : "https";
  std::string conn;
  if (!s.account_key.empty()) {
    conn = fmt::format("DefaultEndpointsProtocol={};AccountName={};AccountKey={};BlobEndpoint={};",
                       protocol, s.account_name, s.account_key, endpoint);
  } else if (!s.sas_token.empty()) {
    conn = fmt::format("BlobEndpoint={};SharedAccessSignature={};", endpoint, s.sas_token);
  }
  if (conn.empty()) {
    return fmt::format("TYPE azure, PROVIDER credential_chain, ACCOUNT_NAME {}, SCOPE {}",
                       QuoteLiteral(s.account_name), QuoteLiteral(location));
  }
  return fmt::format("TYPE azure, CONNECTION_STRING {}, SCOPE {}", QuoteLiteral(conn),
                     QuoteLiteral(location));
}

Status LoadExtension(Connection& conn, const std::string& dir, const std::string& name) {
  std::string path = JoinPath(dir, name + ".duckdb_extension");
  if (::access(path.c_str(), R_OK) != 0) {
    return Status::Config(
        "the DuckDB {} extension is missing: '{}' cannot be read (run "
        "scripts/fetch_duckdb_extensions.sh, or set DATA_LOADER_DUCKDB_EXTENSIONS to the directory "
        "holding {}.duckdb_extension)",
        name, path, name);
  }
  return conn.Execute("LOAD " + QuoteLiteral(path), fmt::format("loading the {} extension", name));
}

}  // namespace

std::vector<std::string> ObjectStoreLocations(const EngineOptions& options) {
  std::set<std::string> out;
  auto take = [&](const std::string& location) {
    if (StoreOf(location) == Store::kNone) return;
    std::string l = location;
    while (l.size() > 1 && l.back() == '/' && l.compare(l.size() - 3, 3, "://") != 0) l.pop_back();
    out.insert(l);
  };
  if (options.allowed_directories) {
    for (const auto& d : *options.allowed_directories) take(d);
  }
  for (const auto& f : options.allowed_files) take(f);
  for (const auto& l : options.object_store_locations) take(l);
  return {out.begin(), out.end()};
}

std::string ExtensionDirectory(const EngineOptions& options) {
  if (const char* env = std::getenv("DATA_LOADER_DUCKDB_EXTENSIONS"); env && *env) return env;
  if (!options.extension_directory.empty()) return options.extension_directory;
  return DL_DUCKDB_EXTENSIONS_DIR;
}

Status ConfigureObjectStores(Connection& conn, const EngineOptions& options,
                             const std::vector<std::string>& locations) {
  bool s3 = false, azure = false;
  for (const auto& l : locations) {
    s3 = s3 || StoreOf(l) == Store::kS3;
    azure = azure || StoreOf(l) == Store::kAzure;
  }
  const std::string dir = ExtensionDirectory(options);
  if (s3) DL_RETURN_IF_ERROR(LoadExtension(conn, dir, "httpfs"));
  if (azure) DL_RETURN_IF_ERROR(LoadExtension(conn, dir, "azure"));
  for (size_t i = 0; i < locations.size(); ++i) {
    const std::string& location = locations[i];
    StorageOptions storage = options.storage.For(location);
    Result<std::string> body = StoreOf(location) == Store::kS3 ? S3SecretBody(location, storage)
                                                               : AzureSecretBody(location, storage);
    if (!body.ok()) return body.status().WithContext(Where(location));
    // The statement holds credentials: DuckDB's error may quote it, so it is never passed on.
    Status st = conn.Execute(fmt::format("CREATE OR REPLACE SECRET {} ({})",
                                         QuoteIdent(fmt::format("dl_{}", i)), *body));
    if (!st.ok()) {
      return Status::Config("could not configure credentials for {}", Where(location));
    }
  }
  return Status::OK();
}

}  // namespace dl::engine::duck
