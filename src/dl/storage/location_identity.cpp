// Location identity: the scheme aliases of S3 and Azure folded onto one key.
#include "dl/storage/location_identity.hpp"

#include <map>
#include <mutex>

#include "dl/storage/azure_file_system.hpp"
#include "dl/storage/object_store_settings.hpp"
#include "dl/storage/paths.hpp"

namespace dl {
namespace {

bool IsAzureScheme(std::string_view scheme) {
  return scheme == "az" || scheme == "azure" || scheme == "abfs" || scheme == "abfss";
}

// The Azure key names the account: abfss://container@account.dfs.core.windows.net/key, with
// `azure_account` for a URI that names none; az://container/key when no account is known.
std::string AzureKey(const std::string& authority, std::string_view rest,
                     std::string_view azure_account) {
  auto where = ParseAzureAuthority(authority);
  if (!where.ok()) return "az://" + authority + std::string(rest);  // refused where it is used
  const std::string account =
      where->account.empty() ? std::string(azure_account) : std::move(where->account);
  if (account.empty()) return "az://" + where->container + std::string(rest);
  return "abfss://" + where->container + "@" + account + ".dfs.core.windows.net" +
         std::string(rest);
}

}  // namespace

std::string LocationKey(std::string_view location, std::string_view azure_account) {
  const std::string scheme = UriScheme(location);
  if (scheme.empty()) return std::string(location);
  const std::string authority = UriAuthority(location);
  const size_t head = scheme.size() + 3;  // "scheme://"
  if (location.size() < head || location.substr(scheme.size(), 3) != "://") {
    return std::string(location);  // dbfs:/x and the like: no authority to fold
  }
  const std::string_view rest = location.substr(head + authority.size());
  if (scheme == "s3" || scheme == "s3a") return "s3://" + authority + std::string(rest);
  if (IsAzureScheme(scheme)) return AzureKey(authority, rest, azure_account);
  return scheme + "://" + authority + std::string(rest);
}

struct LocationIdentity::State {
  StorageConfig storage;
  std::mutex mu;
  std::map<std::string, std::string> accounts;  ///< by the options' text
};

LocationIdentity::LocationIdentity() : state_(std::make_shared<State>()) {}

LocationIdentity::LocationIdentity(StorageConfig storage) : state_(std::make_shared<State>()) {
  state_->storage = std::move(storage);
}

std::string LocationIdentity::AzureAccount(const std::string& location) const {
  // Without scopes every location has the global options: one answer for all.
  const bool scoped = !state_->storage.scopes.empty();
  const StorageOptions options = scoped ? state_->storage.For(location) : StorageOptions{};
  std::string cache_key;
  for (const auto& [k, v] : options) cache_key += k + "=" + v + "\n";
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->accounts.find(cache_key);
  if (it != state_->accounts.end()) return it->second;
  // The account az://container reaches with these options (no account in the URI).
  auto settings = ResolveAzureSettings(scoped ? options : state_->storage.global);
  std::string account = settings.ok() ? settings->account_name : "";
  state_->accounts.emplace(std::move(cache_key), account);
  return account;
}

std::string LocationIdentity::Key(std::string_view location) const {
  const std::string scheme = UriScheme(location);
  // An Azure location without an account in its URI means the configured one.
  if (IsAzureScheme(scheme) && UriAuthority(location).find('@') == std::string::npos) {
    const std::string spelled(location);
    return LocationKey(spelled, AzureAccount(spelled));
  }
  return LocationKey(location, "");
}

bool LocationIdentity::SameOrInside(std::string_view inner, std::string_view outer) const {
  return IsSameOrInside(Key(inner), Key(outer));
}

}  // namespace dl
