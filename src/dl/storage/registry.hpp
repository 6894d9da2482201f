// The storage registry: one FileSystem per URI scheme, and one FileSystem that routes every
// location the loader touches to the backend of its scheme.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/storage_options.hpp"

namespace dl {

/// Makes the FileSystem for one authority (bucket, container) of a scheme. The options are
/// the location's StorageConfig::For; a backend resolves credentials from them and from the
/// environment, and fails (InvalidArgument, naming the scheme and the missing option) when
/// none are usable.
using FileSystemFactory = std::function<Result<std::unique_ptr<FileSystem>>(
    const std::string& scheme, const std::string& authority, const StorageOptions& options)>;

/// The factory for a scheme ("" is the local filesystem), or nullptr when no backend serves it.
const FileSystemFactory* FindBackend(std::string_view scheme);

/// A FileSystem for all locations: each call goes to the backend of its path's scheme and
/// authority, made on first use with config.For(path) (and kept for later calls). A location
/// whose scheme has no backend is InvalidArgument naming the scheme, never "not found".
std::unique_ptr<FileSystem> MakeFileSystem(StorageConfig config = {});

/// The backend for one location, as MakeFileSystem would pick it: checks early (validate)
/// that the scheme is served and its credentials resolve. Makes no request.
Result<std::unique_ptr<FileSystem>> MakeFileSystemFor(const std::string& location,
                                                      const StorageConfig& config);

}  // namespace dl
