// `storage_options:` (global and per table): delta-rs / object_store key names, checked, and
// scoped to the locations of each table.
#include <algorithm>
#include <cctype>
#include <map>

#include "dl/config/config_internal.hpp"
#include "dl/storage/paths.hpp"
#include "dl/storage/registry.hpp"

namespace dl::config::internal {
namespace {

// Every key delta-rs and object_store accept for S3, Azure and GCS, lower case, mapped to the
// one spelling our backends read (object_store's aliases and delta-rs' own keys; see
// docs.rs/object_store AmazonS3ConfigKey, AzureConfigKey, GoogleConfigKey, ClientConfigKey).
// A key missing here is a config error, never silently ignored.
const std::map<std::string, std::string, std::less<>>& KnownOptions() {
  static const auto* known = [] {
    auto* m = new std::map<std::string, std::string, std::less<>>();
    auto add = [&](std::string canonical, std::initializer_list<const char*> aliases) {
      for (const char* a : aliases) m->emplace(a, canonical);
      m->emplace(canonical, canonical);
    };
    // -- AWS S3 (and S3-compatible stores) --
    add("aws_access_key_id", {"access_key_id"});
    add("aws_secret_access_key", {"secret_access_key"});
    add("aws_session_token", {"aws_token", "session_token", "token"});
    add("aws_region", {"region"});
    add("aws_default_region", {"default_region"});
    add("aws_endpoint_url", {"aws_endpoint", "endpoint_url", "endpoint"});
    add("aws_endpoint_url_s3", {});
    add("aws_s3_endpoint", {});
    add("aws_bucket", {"aws_bucket_name", "bucket", "bucket_name"});
    add("aws_virtual_hosted_style_request", {"virtual_hosted_style_request"});
    add("aws_s3_express", {"s3_express"});
    add("aws_imdsv1_fallback", {"imdsv1_fallback"});
    add("aws_metadata_endpoint", {"metadata_endpoint"});
    add("aws_unsigned_payload", {"unsigned_payload"});
    add("aws_checksum_algorithm", {"checksum_algorithm"});
    add("aws_container_credentials_relative_uri", {});
    add("aws_container_credentials_full_uri", {});
    add("aws_container_authorization_token_file", {});
    add("aws_web_identity_token_file", {"web_identity_token_file"});
    add("aws_role_arn", {"role_arn"});
    add("aws_role_session_name", {"role_session_name"});
    add("aws_sts_endpoint", {"sts_endpoint"});
    add("aws_copy_if_not_exists", {"copy_if_not_exists"});
    add("aws_conditional_put", {"conditional_put"});
    add("aws_skip_signature", {"skip_signature"});
    add("aws_disable_tagging", {"disable_tagging"});
    add("aws_disable_bulk_delete", {"disable_bulk_delete"});
    add("aws_request_payer", {"request_payer"});
    add("aws_server_side_encryption", {});
    add("aws_sse_kms_key_id", {});
    add("aws_sse_bucket_key_enabled", {});
    add("aws_sse_customer_key_base64", {});
    add("aws_profile", {});
    add("aws_allow_http", {});
    add("aws_ec2_metadata_disabled", {});
    add("aws_ec2_metadata_timeout", {});
    add("aws_force_credential_load", {});
    add("aws_s3_allow_unsafe_rename", {});  // the single-writer opt-in
    add("aws_s3_locking_provider", {});
    add("aws_s3_pool_idle_timeout_seconds", {});
    add("aws_sts_pool_idle_timeout_seconds", {});
    add("aws_s3_get_internal_server_error_retries", {});
    add("delta_dynamo_table_name", {"dynamo_lock_table_name"});
    // -- Azure Blob / ADLS Gen2 --
    add("azure_storage_account_name", {"account_name"});
    add("azure_storage_account_key", {"azure_storage_access_key", "azure_storage_master_key",
                                      "access_key", "account_key", "master_key"});
    add("azure_storage_sas_token", {"azure_storage_sas_key", "sas_key", "sas_token"});
    add("azure_storage_connection_string", {"connection_string"});
    add("azure_storage_token", {"bearer_token"});
    add("azure_storage_client_id", {"azure_client_id", "client_id"});
    add("azure_storage_client_secret", {"azure_client_secret", "client_secret"});
    add("azure_storage_tenant_id", {"azure_storage_authority_id", "azure_tenant_id",
                                    "azure_authority_id", "tenant_id", "authority_id"});
    add("azure_storage_authority_host", {"azure_authority_host", "authority_host"});
    add("azure_storage_use_emulator", {"use_emulator"});
    add("azure_storage_endpoint", {"azure_endpoint"});
    add("azure_msi_endpoint", {"azure_identity_endpoint", "identity_endpoint", "msi_endpoint"});
    add("azure_object_id", {"object_id"});
    add("azure_msi_resource_id", {"msi_resource_id"});
    add("azure_federated_token_file", {"federated_token_file"});
    add("azure_use_fabric_endpoint", {"use_fabric_endpoint"});
    add("azure_use_azure_cli", {"use_azure_cli"});
    add("azure_skip_signature", {});
    add("azure_container_name", {"container_name"});
    add("azure_disable_tagging", {});
    add("azure_fabric_token_service_url", {});
    add("azure_fabric_workload_host", {});
    add("azure_fabric_session_token", {});
    add("azure_fabric_cluster_identifier", {});
    // -- Google Cloud Storage --
    add("google_service_account",
        {"google_service_account_path", "service_account", "service_account_path"});
    add("google_service_account_key", {"service_account_key"});
    add("google_bucket", {"google_bucket_name"});
    add("google_application_credentials", {});
    add("google_skip_signature", {});
    // -- HTTP client, any store (object_store's ClientConfigKey) --
    for (const char* k :
         {"allow_http", "allow_invalid_certificates", "connect_timeout", "timeout", "user_agent",
          "proxy_url", "proxy_ca_certificate", "proxy_excludes", "pool_idle_timeout",
          "pool_max_idle_per_host", "http1_only", "http2_only", "http2_keep_alive_interval",
          "http2_keep_alive_timeout", "http2_keep_alive_while_idle", "default_content_type",
          "max_retries", "retry_timeout"}) {
      add(k, {});
    }
    return m;
  }();
  return *known;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// " (did you mean 'x'?)" for the closest known key, if close enough.
std::string Suggestion(const std::string& key) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& [name, canonical] : KnownOptions()) {
    size_t d = EditDistance(key, name);
    if (d < best_distance) best_distance = d, best = name;
  }
  if (best_distance > std::max<size_t>(2, key.size() / 4)) return {};
  return fmt::format(" (did you mean '{}'?)", best);
}

// Values that are settings, never secrets, and too common to mask in printed text.
bool IsPlainSetting(const std::string& value) {
  static const char* const kWords[] = {"true", "false", "enabled", "disabled", "etag"};
  const std::string v = Lower(value);
  return std::find(std::begin(kWords), std::end(kWords), v) != std::end(kWords) ||
         std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(c); });
}

// The options our backends and engine read (canonical names). Any other known option would
// be ignored - an ignored aws_server_side_encryption writes unencrypted data - so it is refused.
bool IsSupportedStorageOption(std::string_view canonical) {
  static const char* const kSupported[] = {"aws_access_key_id",
                                           "aws_secret_access_key",
                                           "aws_session_token",
                                           "aws_region",
                                           "aws_default_region",
                                           "aws_endpoint_url",
                                           "aws_endpoint_url_s3",
                                           "aws_s3_endpoint",
                                           "aws_virtual_hosted_style_request",
                                           "aws_allow_http",
                                           "aws_profile",
                                           "aws_conditional_put",
                                           "aws_s3_allow_unsafe_rename",
                                           "azure_storage_account_name",
                                           "azure_storage_account_key",
                                           "azure_storage_sas_token",
                                           "azure_storage_connection_string",
                                           "azure_storage_endpoint",
                                           "azure_storage_use_emulator",
                                           "allow_http"};
  return std::find(std::begin(kSupported), std::end(kSupported), canonical) != std::end(kSupported);
}

}  // namespace

bool IsSecretStorageOption(std::string_view canonical) {
  auto has = [&](std::string_view part) { return canonical.find(part) != std::string_view::npos; };
  if (has("access_key_id")) return true;  // half of a credential pair: never printed either
  if (has("_file") || has("_url") || has("_endpoint") || has("_id")) return false;
  return has("secret") || has("token") || has("_key") || has("connection_string") ||
         has("password");
}

std::optional<std::string> CanonicalStorageOption(std::string_view key) {
  const auto& known = KnownOptions();
  auto it = known.find(Lower(key));
  if (it == known.end()) return std::nullopt;
  return it->second;
}

void ReadStorageOptions(MapReader& r, StorageOptions& out) {
  auto node = r.GetNode("storage_options");
  if (!node) return;
  if (!node->IsMap()) {
    r.Error("storage_options", "expected a mapping of option: value (delta-rs key names)");
    return;
  }
  MapReader sub(r.diag(), r.env(), *node, r.PathOf("storage_options"),
                r.LineOfKey("storage_options"));
  std::map<std::string, std::string> spelled;  // canonical -> key as written
  for (auto it = node->begin(); it != node->end(); ++it) {
    if (!it->first.IsScalar()) continue;  // reported by MapReader
    const std::string key = it->first.Scalar();
    sub.DeclareKnown(key);
    auto canonical = CanonicalStorageOption(key);
    if (!canonical) {
      sub.Error(key, fmt::format("unknown storage option '{}'{}", key, Suggestion(Lower(key))));
      continue;
    }
    if (!IsSupportedStorageOption(*canonical)) {
      sub.Error(key, fmt::format("storage option '{}' is a delta-rs option that data_loader does "
                                 "not support yet (it would be ignored); remove it",
                                 key));
      continue;
    }
    auto [first, fresh] = spelled.emplace(*canonical, key);
    if (!fresh) {
      sub.Error(key, fmt::format("'{}' and '{}' set the same option ({})", first->second, key,
                                 *canonical));
      continue;
    }
    std::string value;
    if (!sub.GetString(key, value)) continue;
    // Secrets are masked in printed output (RedactEnvValues); endpoints, regions and account
    // names stay readable so errors can name where they went.
    if (IsSecretStorageOption(*canonical) && !IsPlainSetting(value)) r.env().values.insert(value);
    out[*canonical] = std::move(value);
  }
}

void AddTableStorageScopes(const LoaderConfig& cfg, const TableConfig& t,
                           const StorageOptions& options, StorageConfig& storage) {
  if (options.empty()) return;
  storage.scopes.push_back({LexicallyNormal(TablePath(cfg, t)), options});
  if (t.source_path_pattern.empty()) return;
  const std::string base = t.file_format == FileFormat::kDelta
                               ? t.source_path_pattern
                               : SourcePatternBase(t.source_path_pattern);
  storage.scopes.push_back({LexicallyNormal(base), options});
}

namespace {

// The backend of one location can be made with its options: the scheme is served and its
// credentials resolve (no request is made). Errors name the key and the scheme.
void CheckBackend(Diagnostics& diag, int line, const std::string& key, const std::string& location,
                  const LoaderConfig& cfg) {
  // No scheme: local. No backend: ResolveLocation reported it already.
  if (location.empty() || UriScheme(location).empty() || !FindBackend(UriScheme(location))) return;
  auto fs = MakeFileSystemFor(location, cfg.storage);
  if (fs.ok()) return;
  diag.Add(line, key,
           RedactEnvValues(cfg, fmt::format("{}:// storage cannot be used: {}", UriScheme(location),
                                            fs.status().message())));
}

}  // namespace

void CheckStorageBackends(MapReader& r, const LoaderConfig& cfg) {
  for (std::string_view key : {"raw_data_path", "processed_data_path", "checkpoint_path"}) {
    if (r.Failed(key)) continue;
    const std::string& v = key == "raw_data_path"         ? cfg.raw_data_path
                           : key == "processed_data_path" ? cfg.processed_data_path
                                                          : cfg.checkpoint_path;
    CheckBackend(r.diag(), r.LineOfKey(key), std::string(key), v, cfg);
  }
  for (size_t i = 0; i < cfg.tables.size(); ++i) {
    const TableConfig& t = cfg.tables[i];
    const std::string key = fmt::format("tables[{}].source_path_pattern", i);
    CheckBackend(r.diag(), t.line, key, SourcePatternBase(t.source_path_pattern), cfg);
  }
  if (r.Failed("upstream_dependencies")) return;
  for (const std::string& spec : cfg.upstream_dependencies) {
    if (auto target = DependencyLocation(spec)) {
      CheckBackend(r.diag(), r.LineOfKey("upstream_dependencies"),
                   fmt::format("upstream_dependencies '{}'", spec), *target, cfg);
    }
  }
}

}  // namespace dl::config::internal

namespace dl::config {

Result<StorageOptions> StorageOptionsFromArgs(const std::vector<std::string>& key_values,
                                              std::set<std::string>* masked) {
  StorageOptions out;
  for (const std::string& kv : key_values) {
    const size_t eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    if (eq == std::string::npos || eq == 0) {  // never echoed: it may be a secret
      return Status::Config(
          "--storage-option takes KEY=VALUE (e.g. aws_region=eu-west-1); one "
          "has {}",
          eq == 0 ? "no KEY" : "no '='");
    }
    auto canonical = internal::CanonicalStorageOption(key);
    if (!canonical) {
      return Status::Config("--storage-option {}: unknown storage option '{}'{}", key, key,
                            internal::Suggestion(internal::Lower(key)));
    }
    bool expanded = false;
    auto value = internal::Interpolate(std::string_view(kv).substr(eq + 1), &expanded, masked);
    if (!value.ok())
      return Status::Config("--storage-option {}: {}", key, value.status().message());
    if (masked && internal::IsSecretStorageOption(*canonical) && !internal::IsPlainSetting(*value))
      masked->insert(*value);
    out[*canonical] = std::move(*value);
  }
  return out;
}

}  // namespace dl::config
