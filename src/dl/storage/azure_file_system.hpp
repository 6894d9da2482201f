// The Azure Blob Storage backend: az://container/path, azure://container/path,
// abfs[s]://container/path and abfs[s]://container@account.dfs.core.windows.net/path.
#pragma once

#include <memory>
#include <string>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/storage_options.hpp"

namespace dl {

/// Container and account of a location's authority: "container" or
/// "container@account.dfs.core.windows.net" (also .blob.core.windows.net; an account the
/// options name otherwise is an error, see ResolveAzureSettings). InvalidArgument for anything
/// else.
struct AzureAuthority {
  std::string container;
  std::string account;  ///< empty when the authority does not name one
};
Result<AzureAuthority> ParseAzureAuthority(const std::string& authority);

/// The backend for one container. Credentials and endpoint from ResolveAzureSettings(options,
/// account of an abfs(s) authority). Every call goes to the Blob endpoint, abfs(s) URIs
/// included (the DFS endpoint is not used).
Result<std::unique_ptr<FileSystem>> MakeAzureFileSystem(const std::string& scheme,
                                                        const std::string& authority,
                                                        const StorageOptions& options);
/// As MakeAzureFileSystem, with `list_page_size` entries per List Blobs call (tests page small).
Result<std::unique_ptr<FileSystem>> MakeAzureFileSystemPaged(const std::string& scheme,
                                                             const std::string& authority,
                                                             const StorageOptions& options,
                                                             int list_page_size);

}  // namespace dl
