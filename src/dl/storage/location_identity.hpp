// Location identity: one key for every spelling of a place on object storage, so a file
// reached through s3a:// is the file loaded through s3://. Paths keep the spelling they were
// recorded with (trackers, commits); only comparisons go through keys.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "dl/storage/storage_options.hpp"

namespace dl {

/// The key two spellings of one object-store location share (docs/object_storage.md,
/// "Which spellings are the same location"):
/// - `s3a://b/k` is `s3://b/k`;
/// - `az://c/k`, `azure://c/k`, `abfs(s)://c/k` mean container c of the account their options
///   name (`azure_account`), and are `abfss://c@<that account>.dfs.core.windows.net/k`, as is
///   `abfs(s)://c@<account>.dfs.core.windows.net/k` (or `.blob.`) of that account: the
///   same blobs. Another account in the URI is another place. With no account configured the
///   short forms are `az://c/k` (they cannot be used then; nothing to fold).
/// The scheme is compared lower case; the bucket, container, account and key as written (keys
/// are case-sensitive and `//`, `.` segments name other objects). Local paths and other
/// schemes are returned unchanged.
std::string LocationKey(std::string_view location, std::string_view azure_account);

/// Keys of locations under one config's storage options (az://c means the account those
/// options, with the environment, name for the location, as ResolveAzureSettings finds it).
/// Cheap to copy; copies share a cache.
class LocationIdentity {
 public:
  /// No options: az://c means the account of the environment (AZURE_STORAGE_*), if any.
  LocationIdentity();
  explicit LocationIdentity(StorageConfig storage);

  /// LocationKey with the Azure account `location`'s options name.
  std::string Key(std::string_view location) const;
  /// The same location, whatever the spelling.
  bool Same(std::string_view a, std::string_view b) const { return Key(a) == Key(b); }
  /// `inner` is `outer` or lies below it (IsSameOrInside on keys).
  bool SameOrInside(std::string_view inner, std::string_view outer) const;

 private:
  struct State;
  std::string AzureAccount(const std::string& location) const;
  std::shared_ptr<State> state_;
};

}  // namespace dl
