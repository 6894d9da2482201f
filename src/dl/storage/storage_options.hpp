// Storage options: credentials and endpoints of object stores, as the config gives them.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dl {

/// Options of one storage backend, by the key names delta-rs uses (aws_access_key_id,
/// aws_endpoint_url, azure_storage_account_name, google_service_account_path, ...). Values
/// may be secrets: never log or print them.
using StorageOptions = std::map<std::string, std::string>;

/// Options for the locations at or below `prefix` (a table root, a source base).
struct StorageScope {
  std::string prefix;
  StorageOptions options;
};

/// Every storage option of a config: global ones, and per-table ones scoped to the table's
/// locations.
struct StorageConfig {
  StorageOptions global;
  std::vector<StorageScope> scopes;

  /// The options for a location: the global ones, overlaid by each scope that holds the
  /// location, longer prefixes last (so they win).
  StorageOptions For(const std::string& location) const;
};

}  // namespace dl
