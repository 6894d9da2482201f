// FileSystem on S3 and S3-compatible stores (s3:// and s3a://), one instance per bucket.
//
// Commits are conditional PUTs (If-None-Match: *): a 412 is AlreadyExists. The first
// PutIfAbsent of an instance probes once that the store honours the header; a store that does
// not is refused unless the user opts into single-writer mode (aws_conditional_put: disabled).
// Rename is CopyObject + DELETE and NOT atomic: never use it for commit files.
#pragma once

#include <memory>
#include <string>

#include "dl/common/status.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/storage_options.hpp"

namespace dl {

struct S3Tuning {
  int list_page_size = 1000;  ///< max-keys of one ListObjectsV2 page
  int attempts = 5;           ///< per request, with exponential backoff
  int64_t first_backoff_ms = 100;
  int64_t max_backoff_ms = 5000;
};

/// The registry's factory: settings from ResolveS3Settings(options); InvalidArgument when no
/// credentials resolve. Makes no request.
Result<std::unique_ptr<FileSystem>> MakeS3FileSystem(const std::string& scheme,
                                                     const std::string& bucket,
                                                     const StorageOptions& options);
/// The same with explicit tuning (tests use small pages).
Result<std::unique_ptr<FileSystem>> MakeS3FileSystemWith(const std::string& scheme,
                                                         const std::string& bucket,
                                                         const StorageOptions& options,
                                                         const S3Tuning& tuning);

}  // namespace dl
