// Resolved settings of each object store: credentials and endpoints from the storage options
// (delta-rs key names) and the cloud's standard environment variables. Shared by the storage
// backends (listing, commits) and the engine (data files), so both reach the same store the
// same way.
#pragma once

#include <string>

#include "dl/common/status.hpp"
#include "dl/storage/storage_options.hpp"

namespace dl {

struct S3Settings {
  std::string access_key_id;
  std::string secret_access_key;  ///< secret
  std::string session_token;      ///< secret
  std::string region = "us-east-1";
  /// "http://127.0.0.1:9000" for S3-compatible stores; empty for AWS.
  std::string endpoint_url;
  bool virtual_hosted_style = false;  ///< bucket in the host name instead of the path
  /// Plain http to the endpoint (aws_allow_http, or an endpoint that says http://).
  bool allow_http = false;
  /// The store does not honour conditional PUTs and the user vouches for a single writer
  /// (aws_conditional_put: disabled, or delta-rs' aws_s3_allow_unsafe_rename: true).
  bool single_writer = false;
};

/// Options first (aws_access_key_id, aws_secret_access_key, aws_session_token, aws_region,
/// aws_endpoint_url, aws_virtual_hosted_style_request, aws_allow_http, aws_profile, ...), then
/// AWS_* environment variables, then the profile (aws_profile, AWS_PROFILE, else "default") of
/// the shared credentials and config files (~/.aws/credentials and ~/.aws/config, or
/// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE). The access key, secret and token come
/// from one source together. InvalidArgument naming what is missing.
Result<S3Settings> ResolveS3Settings(const StorageOptions& options);

struct AzureSettings {
  std::string account_name;
  std::string account_key;  ///< secret (base64)
  std::string sas_token;    ///< secret, without the leading '?'
  /// The account's Blob service URL (containers below it): "http://127.0.0.1:10000/
  /// devstoreaccount1" for Azurite; empty for Azure itself (https://<account>.blob.core...).
  std::string blob_endpoint;
};

/// Each field from, in order: the options (delta-rs / object_store key names:
/// azure_storage_account_name; azure_storage_account_key, _access_key or _master_key;
/// azure_storage_sas_token or _sas_key; azure_storage_endpoint or azure_endpoint), the options'
/// azure_storage_connection_string (AccountName, AccountKey, SharedAccessSignature,
/// BlobEndpoint, DefaultEndpointsProtocol, EndpointSuffix, UseDevelopmentStorage), the
/// AZURE_STORAGE_* environment variables, AZURE_STORAGE_CONNECTION_STRING. With
/// azure_storage_use_emulator (or UseDevelopmentStorage=true) the missing parts are Azurite's
/// well-known account, key and http://127.0.0.1:10000/<account> (AZURITE_BLOB_STORAGE_URL
/// overrides the host; an endpoint without a path gets /<account> appended). InvalidArgument
/// naming what is missing; never a secret in the message.
/// `uri_account` is the account a location's authority names (abfss://container@account.dfs.
/// core.windows.net/...), "" if none: it is the account, and one that azure_storage_account_name
/// or a connection string's AccountName names otherwise is an InvalidArgument naming both (as
/// is AZURE_STORAGE_ACCOUNT_NAME or AZURE_STORAGE_CONNECTION_STRING when the credentials come
/// from the environment).
Result<AzureSettings> ResolveAzureSettings(const StorageOptions& options,
                                           const std::string& uri_account = "");

}  // namespace dl
