// Object store settings from storage options and the environment.
#include "dl/storage/object_store_settings.hpp"

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
  std::string region = Setting(options, "aws_region", {"AWS_REGION", "AWS_DEFAULT_REGION"});
  if (region.empty()) region = Lookup(config, "region");
  if (!region.empty()) s.region = region;
  s.endpoint_url =
      Setting(options, "aws_endpoint_url", {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
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

Result<AzureSettings> ResolveAzureSettings(const StorageOptions& options) {
  AzureSettings s;
  s.account_name =
      Setting(options, "azure_storage_account_name", {"AZURE_STORAGE_ACCOUNT_NAME"});
  s.account_key = Setting(options, "azure_storage_account_key", {"AZURE_STORAGE_ACCOUNT_KEY"});
  s.sas_token = Setting(options, "azure_storage_sas_token", {"AZURE_STORAGE_SAS_TOKEN"});
  if (!s.sas_token.empty() && s.sas_token.front() == '?') s.sas_token.erase(0, 1);
  if (s.account_name.empty() || (s.account_key.empty() && s.sas_token.empty())) {
    return Status::InvalidArgument(
        "no Azure credentials: set storage_options azure_storage_account_name with "
        "azure_storage_account_key or azure_storage_sas_token (or AZURE_STORAGE_ACCOUNT_NAME "
        "with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN)");
  }
  return s;
}

}  // namespace dl
