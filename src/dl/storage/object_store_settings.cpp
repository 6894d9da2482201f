// Object store settings from storage options and the environment.
#include "dl/storage/object_store_settings.hpp"

#include <cstdlib>

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

bool Truthy(const std::string& value) {
  return value == "true" || value == "1" || value == "TRUE" || value == "True";
}

}  // namespace

Result<S3Settings> ResolveS3Settings(const StorageOptions& options) {
  S3Settings s;
  s.access_key_id = Setting(options, "aws_access_key_id", {"AWS_ACCESS_KEY_ID"});
  s.secret_access_key = Setting(options, "aws_secret_access_key", {"AWS_SECRET_ACCESS_KEY"});
  s.session_token = Setting(options, "aws_session_token", {"AWS_SESSION_TOKEN"});
  std::string region = Setting(options, "aws_region", {"AWS_REGION", "AWS_DEFAULT_REGION"});
  if (!region.empty()) s.region = region;
  s.endpoint_url = Setting(options, "aws_endpoint_url", {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  s.virtual_hosted_style = Truthy(Setting(options, "aws_virtual_hosted_style_request"));
  if (s.access_key_id.empty() || s.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "no S3 credentials: set storage_options aws_access_key_id and aws_secret_access_key, or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
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
