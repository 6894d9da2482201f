// Object store settings from storage options and the environment.
#include "dl/storage/object_store_settings.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string_view>

namespace dl {
namespace {

// The option, else the first environment variable set, else "".
std::string Setting(const StorageOptions& options, const char* key,
                    std::initializer_list<const char*> env = {}) {
  auto it = options.find(key);
  if (it != options.end()) return it->second;
  for (const char* name : env) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return {};
}

std::string Env(const char* name) { return Setting({}, "", {name}); }

// The first of the option keys that is set, else "".
std::string FirstOf(const StorageOptions& options, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    if (auto it = options.find(key); it != options.end()) return it->second;
  }
  return {};
}

bool Truthy(const std::string& value) {
  return value == "true" || value == "1" || value == "TRUE" || value == "True";
}

using IniSection = std::map<std::string, std::string>;

std::string Trim(std::string_view text) {
  const char* ws = " \t\r";
  size_t b = text.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = text.find_last_not_of(ws);
  return std::string(text.substr(b, e - b + 1));
}

std::string HomeFile(const char* env, const char* relative) {
  if (const char* p = std::getenv(env); p != nullptr && *p != '\0') return p;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + relative;
}

std::string CredentialsFilePath() {
  return HomeFile("AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials");
}
std::string ConfigFilePath() { return HomeFile("AWS_CONFIG_FILE", "/.aws/config"); }

// The keys of one profile in an AWS INI file: "[name]" in the credentials file, "[profile
// name]" (or "[default]") in the config file. A missing file is an empty profile. Indented
// lines (nested service settings) are skipped.
IniSection ProfileSection(const std::string& path, const std::string& profile, bool config_file) {
  const std::string want = config_file && profile != "default" ? "profile " + profile : profile;
  IniSection out;
  std::ifstream in(path);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      inside = Trim(std::string_view(t).substr(1, t.size() - 2)) == want;
      continue;
    }
    if (!inside || line[0] == ' ' || line[0] == '\t') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    out[Trim(std::string_view(t).substr(0, eq))] = Trim(std::string_view(t).substr(eq + 1));
  }
  return out;
}

std::string Lookup(const IniSection& section, const std::string& key) {
  auto it = section.find(key);
  return it == section.end() ? std::string() : it->second;
}

}  // namespace

Result<S3Settings> ResolveS3Settings(const StorageOptions& options) {
  S3Settings s;
  const std::string profile = Setting(options, "aws_profile", {"AWS_PROFILE"});
  const IniSection creds = ProfileSection(
      CredentialsFilePath(), profile.empty() ? "default" : profile, /*config_file=*/false);
  const IniSection config =
      ProfileSection(ConfigFilePath(), profile.empty() ? "default" : profile, /*config_file=*/true);
  // Key, secret and token travel together: never a key from one source with another's secret.
  if (options.count("aws_access_key_id")) {
    s.access_key_id = options.at("aws_access_key_id");
    s.secret_access_key = Setting(options, "aws_secret_access_key");
    s.session_token = Setting(options, "aws_session_token");
  } else if (!Env("AWS_ACCESS_KEY_ID").empty()) {
    s.access_key_id = Env("AWS_ACCESS_KEY_ID");
    s.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
    s.session_token = Env("AWS_SESSION_TOKEN");
  } else {
    s.access_key_id = Lookup(creds, "aws_access_key_id");
    s.secret_access_key = Lookup(creds, "aws_secret_access_key");
    s.session_token = Lookup(creds, "aws_session_token");
  }
  // The config accepts these option keys: each must take effect, never be ignored (an
  // ignored endpoint sends the requests, signed with the user's keys, to AWS itself).
  std::string region = FirstOf(options, {"aws_region", "aws_default_region"});
  if (region.empty()) region = Setting({}, "", {"AWS_REGION", "AWS_DEFAULT_REGION"});
  if (region.empty()) region = Lookup(config, "region");
  if (!region.empty()) s.region = region;
  s.endpoint_url = FirstOf(options, {"aws_endpoint_url", "aws_endpoint_url_s3", "aws_s3_endpoint"});
  if (s.endpoint_url.empty()) {
    s.endpoint_url = Setting({}, "", {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  }
  if (s.endpoint_url.empty()) s.endpoint_url = Lookup(config, "endpoint_url");
  s.virtual_hosted_style = Truthy(Setting(options, "aws_virtual_hosted_style_request"));
  s.allow_http = Truthy(Setting(options, "aws_allow_http", {"AWS_ALLOW_HTTP"})) ||
                 s.endpoint_url.rfind("http://", 0) == 0;
  s.single_writer = Setting(options, "aws_conditional_put") == "disabled" ||
                    Truthy(Setting(options, "aws_s3_allow_unsafe_rename"));
  if (s.access_key_id.empty() || s.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "no S3 credentials: set storage_options aws_access_key_id and aws_secret_access_key, or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in {} (AWS_PROFILE)",
        CredentialsFilePath());
  }
  return s;
}

namespace {

// Azurite's (and the old storage emulator's) published development account: not a secret.
constexpr char kEmulatorAccount[] = "devstoreaccount1";
constexpr char kEmulatorKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// The first of the option keys (delta-rs / object_store aliases) that is set, else "".
std::string FirstOption(const StorageOptions& options, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = options.find(key);
    if (it != options.end() && !it->second.empty()) return it->second;
  }
  return {};
}

std::string FirstEnv(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return {};
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// An Azure connection string ("Key=Value;..."; values may hold '='; keys in any case) named
// `what` in errors.
Result<AzureSettings> ParseConnectionString(const std::string& text, const char* what,
                                            bool* emulator) {
  std::map<std::string, std::string> kv;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(';', pos);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(pos, end - pos);
    pos = end + 1;
    if (part.find_first_not_of(" \t") == std::string::npos) continue;
    size_t eq = part.find('=');
    if (eq == std::string::npos) {
      return Status::InvalidArgument("{}: a part has no '=' (expected Key=Value;...)", what);
    }
    kv[Lower(part.substr(0, eq))] = part.substr(eq + 1);
  }
  AzureSettings s;
  *emulator = Truthy(kv["usedevelopmentstorage"]);
  s.account_name = kv["accountname"];
  s.account_key = kv["accountkey"];
  s.sas_token = kv["sharedaccesssignature"];
  s.blob_endpoint = kv["blobendpoint"];
  const std::string protocol = kv["defaultendpointsprotocol"];
  const std::string suffix = kv["endpointsuffix"];
  if (s.blob_endpoint.empty() && !s.account_name.empty() &&
      (protocol == "http" || !suffix.empty())) {
    s.blob_endpoint = (protocol.empty() ? "https" : protocol) + "://" + s.account_name + ".blob." +
                      (suffix.empty() ? "core.windows.net" : suffix);
  }
  return s;
}

// Fills each empty field of `into` from `from`.
void FillMissing(AzureSettings& into, const AzureSettings& from) {
  if (into.account_name.empty()) into.account_name = from.account_name;
  if (into.account_key.empty()) into.account_key = from.account_key;
  if (into.sas_token.empty()) into.sas_token = from.sas_token;
  if (into.blob_endpoint.empty()) into.blob_endpoint = from.blob_endpoint;
}

// The emulator's service root (AZURITE_BLOB_STORAGE_URL, as object_store reads it) with the
// account as the first path segment: Azurite serves accounts path-style.
std::string EmulatorEndpoint(const std::string& endpoint, const std::string& account) {
  std::string root = endpoint;
  if (root.empty()) root = FirstEnv({"AZURITE_BLOB_STORAGE_URL"});
  if (root.empty()) root = "http://127.0.0.1:10000";
  while (!root.empty() && root.back() == '/') root.pop_back();
  size_t host = root.find("://");
  bool has_path = root.find('/', host == std::string::npos ? 0 : host + 3) != std::string::npos;
  return has_path ? root : root + "/" + account;
}

// The account a URI names (container@account.dfs.core.windows.net) and one `key` names must
// agree: credentials for one account are never sent to another. Account names are no secret.
Status CheckSameAccount(const std::string& uri_account, const std::string& other,
                        const std::string& key) {
  if (uri_account.empty() || other.empty() || other == uri_account) return Status::OK();
  return Status::InvalidArgument(
      "the location names Azure account '{}' (container@{}.dfs.core.windows.net) but {} names "
      "account '{}': make them agree, or drop one",
      uri_account, uri_account, key, other);
}

// Fills the empty fields of `s` from a connection string (if any), whose AccountName must be
// `uri_account` when that is set.
Status MergeConnectionString(const std::string& text, const char* what,
                             const std::string& uri_account, AzureSettings& s, bool& emulator) {
  if (text.empty()) return Status::OK();
  bool dev = false;
  DL_ASSIGN_OR_RETURN(AzureSettings parsed, ParseConnectionString(text, what, &dev));
  DL_RETURN_IF_ERROR(
      CheckSameAccount(uri_account, parsed.account_name, std::string(what) + " (AccountName)"));
  FillMissing(s, parsed);
  emulator = emulator || dev;
  return Status::OK();
}

}  // namespace

Result<AzureSettings> ResolveAzureSettings(const StorageOptions& options,
                                           const std::string& uri_account) {
  // Per field: the URI's account, explicit options, then the options' connection string, then
  // the environment, then AZURE_STORAGE_CONNECTION_STRING, then the emulator's well-known
  // account.
  AzureSettings s;
  s.account_name = FirstOption(options, {"azure_storage_account_name"});
  DL_RETURN_IF_ERROR(CheckSameAccount(uri_account, s.account_name, "azure_storage_account_name"));
  if (!uri_account.empty()) s.account_name = uri_account;
  s.account_key = FirstOption(options, {"azure_storage_account_key", "azure_storage_access_key",
                                        "azure_storage_master_key"});
  s.sas_token = FirstOption(options, {"azure_storage_sas_token", "azure_storage_sas_key"});
  s.blob_endpoint = FirstOption(options, {"azure_storage_endpoint", "azure_endpoint"});
  bool emulator = Truthy(FirstOption(options, {"azure_storage_use_emulator"}));
  DL_RETURN_IF_ERROR(
      MergeConnectionString(FirstOption(options, {"azure_storage_connection_string"}),
                            "azure_storage_connection_string", uri_account, s, emulator));
  // A key or SAS from the environment belongs to the environment's account: it must be the
  // URI's too. Credentials the options give are used with the URI's account whatever the
  // environment names.
  const bool option_credential = !s.account_key.empty() || !s.sas_token.empty();
  const std::string env_account = option_credential ? "" : uri_account;
  DL_RETURN_IF_ERROR(CheckSameAccount(env_account, FirstEnv({"AZURE_STORAGE_ACCOUNT_NAME"}),
                                      "AZURE_STORAGE_ACCOUNT_NAME"));
  FillMissing(s, AzureSettings{FirstEnv({"AZURE_STORAGE_ACCOUNT_NAME"}),
                               FirstEnv({"AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY"}),
                               FirstEnv({"AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_SAS_KEY"}),
                               FirstEnv({"AZURE_STORAGE_ENDPOINT"})});
  emulator = emulator || Truthy(FirstEnv({"AZURE_STORAGE_USE_EMULATOR"}));
  DL_RETURN_IF_ERROR(MergeConnectionString(FirstEnv({"AZURE_STORAGE_CONNECTION_STRING"}),
                                           "AZURE_STORAGE_CONNECTION_STRING", env_account, s,
                                           emulator));
  if (emulator) {
    if (s.account_name.empty()) s.account_name = kEmulatorAccount;
    if (s.account_key.empty() && s.sas_token.empty()) s.account_key = kEmulatorKey;
    s.blob_endpoint = EmulatorEndpoint(s.blob_endpoint, s.account_name);
  }
  if (!s.sas_token.empty() && s.sas_token.front() == '?') s.sas_token.erase(0, 1);
  if (s.account_name.empty() || (s.account_key.empty() && s.sas_token.empty())) {
    std::string bearer = FirstOption(options, {"azure_storage_token", "azure_storage_client_id"});
    return Status::InvalidArgument(
        "no Azure credentials{}: set storage_options azure_storage_account_name with "
        "azure_storage_account_key or azure_storage_sas_token, or "
        "azure_storage_connection_string, or azure_storage_use_emulator: true (or "
        "AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN, "
        "or AZURE_STORAGE_CONNECTION_STRING)",
        bearer.empty() ? "" : " (bearer tokens and service principals are not supported yet)");
  }
  return s;
}

}  // namespace dl
