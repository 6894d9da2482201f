// The XML of S3 answers (ListObjectsV2, DeleteObjects, errors), read with pugixml.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::s3 {

struct ListedObject {
  std::string key;
  int64_t size = 0;
  int64_t modification_time_ms = 0;
  std::string etag;  ///< without the surrounding quotes
};

struct ListPage {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;  ///< each ends with the delimiter
  bool truncated = false;
  std::string next_continuation_token;
};

/// A ListObjectsV2 answer; a body that is not one is an Io error.
Result<ListPage> ParseListPage(const std::string& body);

struct ErrorInfo {
  std::string code;     ///< "NoSuchBucket", "AccessDenied", ...; empty if the body has none
  std::string message;  ///< the store's text, cleaned (http::ServerErrorMessage)
};

/// The <Error><Code/><Message/></Error> of an answer; empty fields if the body is not one.
/// Nothing else of the body is kept (it may echo the request's signature inputs), and the
/// code and message are cleaned for our messages (http::ServerErrorCode, ServerErrorMessage).
ErrorInfo ParseError(const std::string& body);

struct DeleteError {
  std::string key;
  std::string code;
  std::string message;
};

/// The request body of DeleteObjects for `keys` (quiet mode: only failures are answered).
std::string DeleteObjectsBody(const std::vector<std::string>& keys);
/// The failed keys of a DeleteObjects answer.
Result<std::vector<DeleteError>> ParseDeleteErrors(const std::string& body);

/// "2026-12-04T17:00:52.123Z" as milliseconds since the epoch; 0 if unreadable.
int64_t ParseIso8601Ms(const std::string& text);
/// An ETag without its quotes.
std::string Unquote(std::string etag);

}  // namespace dl::s3
