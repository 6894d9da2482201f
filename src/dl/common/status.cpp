#include "dl/common/status.hpp"

namespace dl {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kConfig: return "ConfigError";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kCommitConflict: return "CommitConflict";
    case StatusCode::kCorruptLog: return "CorruptLog";
    case StatusCode::kIo: return "IOError";
    case StatusCode::kEngine: return "EngineError";
    case StatusCode::kUnsupported: return "Unsupported";
    case StatusCode::kSchemaMismatch: return "SchemaMismatch";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kTimeout: return "Timeout";
    case StatusCode::kInternal: return "InternalError";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status out(code_, std::string(context) + ": " + message_);
  out.detail_ = detail_;
  return out;
}

const ErrorDetail& Status::detail() const {
  static const ErrorDetail kNone;
  return detail_ ? *detail_ : kNone;
}

Status Status::WithDetail(ErrorDetail detail) const {
  if (ok()) return *this;
  Status out = *this;
  out.detail_ = std::make_shared<const ErrorDetail>(std::move(detail));
  return out;
}

}  // namespace dl
