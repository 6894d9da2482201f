#include "dl/engine/duckdb/object_store.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "dl/engine/duckdb/engine_util.hpp"
#include "dl/engine/sql_util.hpp"
#include "dl/storage/azure_file_system.hpp"
#include "dl/storage/object_store_settings.hpp"
#include "dl/storage/paths.hpp"

#ifndef DL_DUCKDB_EXTENSIONS_DIR
#define DL_DUCKDB_EXTENSIONS_DIR "third_party/duckdb_extensions"
#endif

namespace dl::engine::duck {

namespace {

enum class Store { kNone, kS3, kAzure };

bool IsAbfs(const std::string& scheme) { return scheme == "abfs" || scheme == "abfss"; }

// httpfs serves s3:// and s3a:// alike; the azure extension az:// and azure:// (abfs(s) as
// az://, see EnginePath).
Store StoreOf(const std::string& location) {
  std::string scheme = UriScheme(location);
  if (scheme == "s3" || scheme == "s3a") return Store::kS3;
  if (scheme == "az" || scheme == "azure" || IsAbfs(scheme)) return Store::kAzure;
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

// The settings of an Azure location: the account of an abfs(s) authority with the options'
// credentials, as our storage backend resolves them (one account, or an error naming both).
Result<AzureSettings> AzureSettingsOf(const std::string& location, const StorageOptions& options) {
  std::string account;
  if (IsAbfs(UriScheme(location))) {
    DL_ASSIGN_OR_RETURN(AzureAuthority where, ParseAzureAuthority(UriAuthority(location)));
    account = where.account;
  }
  return ResolveAzureSettings(options, account);
}

// A connection string where a key or SAS token is given (with BlobEndpoint for emulators such
// as Azurite), else the account name with the credential chain. Scoped to the location as
// DuckDB spells it.
std::string AzureSecretBody(const std::string& location, const AzureSettings& s) {
  // Readers escape glob characters (ReadPath): a pattern is matched to a secret as written,
  // the files it names by their own path.
  std::string scope = QuoteLiteral(EnginePath(location));
  if (ReadPath(location) != EnginePath(location)) {
    scope = fmt::format("[{}, {}]", scope, QuoteLiteral(ReadPath(location)));
  }
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
                       QuoteLiteral(s.account_name), scope);
  }
  return fmt::format("TYPE azure, CONNECTION_STRING {}, SCOPE {}", QuoteLiteral(conn), scope);
}

// DuckDB picks a secret by the longest scope a path starts with: two accounts whose locations
// share an engine prefix (the same container name) would read each other's files.
Status CheckOneAccountPerPrefix(const std::vector<std::pair<std::string, std::string>>& azure) {
  for (size_t i = 0; i < azure.size(); ++i) {
    for (size_t j = i + 1; j < azure.size(); ++j) {
      const auto& [a, a_account] = azure[i];
      const auto& [b, b_account] = azure[j];
      if (a_account == b_account) continue;
      if (!IsSameOrInside(EnginePath(a), EnginePath(b)) &&
          !IsSameOrInside(EnginePath(b), EnginePath(a))) {
        continue;
      }
      return Status::Config(
          "{} (Azure account '{}') and {} (account '{}') overlap in a container of the same "
          "name: data files are read through the Blob API as {}, which cannot tell the accounts "
          "apart; use containers of different names or prefixes that do not nest",
          a, a_account, b, b_account, EnginePath(a));
    }
  }
  return Status::OK();
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
  if (s3) {
    DL_RETURN_IF_ERROR(LoadExtension(conn, dir, "httpfs"));
    // The engine names every S3 object exactly (ReadPath leaves S3 paths alone): without this
    // httpfs globs keys with '*' or '[' (reading other objects) and takes what follows a '?'
    // as query parameters (failing on every key with one). A secret cannot set it: httpfs
    // 1.4 stores the secret's url_compatibility_mode under a name it never reads.
    DL_RETURN_IF_ERROR(conn.Execute("SET GLOBAL s3_url_compatibility_mode = true",
                                    "configuring the httpfs extension"));
  }
  if (azure) DL_RETURN_IF_ERROR(LoadExtension(conn, dir, "azure"));
  std::vector<std::pair<std::string, std::string>> azure_accounts;  // location, account
  for (size_t i = 0; i < locations.size(); ++i) {
    const std::string& location = locations[i];
    StorageOptions storage = options.storage.For(location);
    auto azure_body = [&]() -> Result<std::string> {
      DL_ASSIGN_OR_RETURN(AzureSettings settings, AzureSettingsOf(location, storage));
      azure_accounts.emplace_back(location, settings.account_name);
      return AzureSecretBody(location, settings);
    };
    Result<std::string> body =
        StoreOf(location) == Store::kS3 ? S3SecretBody(location, storage) : azure_body();
    if (!body.ok()) return body.status().WithContext(Where(location));
    // The statement holds credentials: DuckDB's error may quote it, so it is never passed on.
    Status st = conn.Execute(fmt::format("CREATE OR REPLACE SECRET {} ({})",
                                         QuoteIdent(fmt::format("dl_{}", i)), *body));
    if (!st.ok()) {
      return Status::Config("could not configure credentials for {}", Where(location));
    }
  }
  return CheckOneAccountPerPrefix(azure_accounts);
}

std::string EnginePath(const std::string& path) {
  const std::string scheme = UriScheme(path);
  if (!IsAbfs(scheme) || path.compare(scheme.size(), 3, "://") != 0) return path;
  const std::string authority = UriAuthority(path);
  return "az://" + authority.substr(0, authority.find('@')) +
         path.substr(scheme.size() + 3 + authority.size());
}

std::vector<std::string> EnginePaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const auto& p : paths) out.push_back(EnginePath(p));
  return out;
}

namespace {

// Where DuckDB's local glob starts matching: it takes the first component of an absolute
// path as written ("/data" of /data/x), the others it matches ('/' and '\' both separate).
size_t LocalGlobStart(const std::string& path) {
  if (path.empty() || path.front() != '/') return 0;
  size_t name = path.find_first_not_of("/\\");
  if (name == std::string::npos) return path.size();
  size_t end = path.find_first_of("/\\", name);
  return end == std::string::npos ? path.size() : end;
}

bool HasGlobChar(std::string_view text) { return text.find_first_of("*?[") != std::string::npos; }

}  // namespace

std::string ReadPath(const std::string& path) {
  std::string engine = EnginePath(path);
  const Store store = StoreOf(engine);
  if (store == Store::kS3) return engine;  // compatibility mode: httpfs takes it as written
  if (ReadAsWritten(engine)) return engine;
  // The azure extension's glob takes '\\' as an escape; locally it separates, like '/'.
  const std::string_view special = store == Store::kAzure ? "*?[\\" : "*?[";
  const size_t from = store == Store::kAzure
                          ? UriScheme(engine).size() + 3 + UriAuthority(engine).size()
                          : LocalGlobStart(engine);
  std::string out = engine.substr(0, from);
  for (size_t i = from; i < engine.size(); ++i) {
    const char c = engine[i];
    if (special.find(c) == std::string_view::npos) {
      out += c;
    } else {
      out += {'[', c, ']'};  // a one-character class matches that character only
    }
  }
  return out;
}

std::vector<std::string> ReadPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const auto& p : paths) out.push_back(ReadPath(p));
  return out;
}

bool ReadAsWritten(const std::string& path) {
  if (StoreOf(path) != Store::kNone) return false;
  const size_t from = LocalGlobStart(path);
  std::string_view rest = std::string_view(path).substr(from);
  if (from == path.size()) return path.starts_with('/') && HasGlobChar(path);  // in the root
  return HasGlobChar(rest) && rest.find('\\') != std::string_view::npos;
}

std::string UserPath(const std::string& engine_path, const std::string& user_root) {
  const std::string from = EnginePath(user_root);
  if (from == user_root || engine_path.compare(0, from.size(), from) != 0) return engine_path;
  return user_root + engine_path.substr(from.size());
}

std::string UserPathSql(const std::string& column, const std::vector<std::string>& user_paths) {
  std::map<std::string, std::string> prefixes;  // as DuckDB reports it -> as the user wrote it
  for (const auto& p : user_paths) {
    const std::string scheme = UriScheme(p);
    if (EnginePath(p) == p) continue;
    const std::string user = p.substr(0, scheme.size() + 3 + UriAuthority(p).size()) + "/";
    prefixes.emplace(EnginePath(user), user);
  }
  if (prefixes.empty()) return column;
  std::string cases;
  for (const auto& [from, to] : prefixes) {
    cases += fmt::format(" WHEN starts_with({0}, {1}) THEN {2} || substr({0}, length({1}) + 1)",
                         column, QuoteLiteral(from), QuoteLiteral(to));
  }
  return fmt::format("CASE{} ELSE {} END", cases, column);
}

}  // namespace dl::engine::duck
