// Status and Result: the one error type of the project (Arrow style, no exceptions).
#pragma once

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dl {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // bad user input (command line, arguments)
  kConfig,           // bad configuration (names the key)
  kNotFound,
  kAlreadyExists,    // put-if-absent lost (a commit file exists)
  kCommitConflict,   // a concurrent commit conflicts with ours
  kCorruptLog,       // the Delta log cannot be read as the protocol says
  kIo,
  kEngine,           // the compute engine (DuckDB) reported an error
  kUnsupported,      // a protocol feature or type we do not handle
  kSchemaMismatch,   // data does not fit the table schema
  kCancelled,
  kTimeout,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

/// What is known about a failure beyond its message, filled by the component that knows it
/// (an engine knows which source file it could not read, and why), so callers decide what to
/// do next without parsing text another component wrote.
struct ErrorDetail {
  enum class Cause {
    kUnknown,
    kTransient,  ///< retrying may help: network, HTTP 5xx, throttling, out of memory, a lock
    kData,       ///< the data: a corrupt or unreadable file, values or a schema that do not fit
    kQuery,      ///< the statement: it does not parse or bind (bad SQL, unknown column)
  };
  Cause cause = Cause::kUnknown;
  /// The source files at fault, as the caller named them (the config's and the plan's
  /// paths, never an engine's spelling of them).
  std::vector<std::string> files;
  /// The engine's own class of the error (Spark's "TABLE_OR_VIEW_NOT_FOUND",
  /// "DELTA_CONCURRENT_APPEND"), empty when it gave none: checked instead of the message.
  std::string error_class;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return {}; }

#define DL_STATUS_FACTORY(Name, Code)                                             \
  template <typename... Args>                                                     \
  static Status Name(fmt::format_string<Args...> f, Args&&... args) {              \
    return Status(StatusCode::Code, fmt::format(f, std::forward<Args>(args)...)); \
  }
  DL_STATUS_FACTORY(InvalidArgument, kInvalidArgument)
  DL_STATUS_FACTORY(Config, kConfig)
  DL_STATUS_FACTORY(NotFound, kNotFound)
  DL_STATUS_FACTORY(AlreadyExists, kAlreadyExists)
  DL_STATUS_FACTORY(CommitConflict, kCommitConflict)
  DL_STATUS_FACTORY(CorruptLog, kCorruptLog)
  DL_STATUS_FACTORY(Io, kIo)
  DL_STATUS_FACTORY(Engine, kEngine)
  DL_STATUS_FACTORY(Unsupported, kUnsupported)
  DL_STATUS_FACTORY(SchemaMismatch, kSchemaMismatch)
  DL_STATUS_FACTORY(Cancelled, kCancelled)
  DL_STATUS_FACTORY(Timeout, kTimeout)
  DL_STATUS_FACTORY(Internal, kInternal)
#undef DL_STATUS_FACTORY

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "CodeName: message", for logs and the command line.
  std::string ToString() const;

  /// Prefix the message with context ("reading X: <message>"), keeping code and detail.
  Status WithContext(std::string_view context) const;

  /// The failure's detail; empty (cause unknown, no files) when nobody knew more.
  const ErrorDetail& detail() const;
  /// The same status carrying `detail`.
  Status WithDetail(ErrorDetail detail) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::shared_ptr<const ErrorDetail> detail_;  // shared: statuses are copied along the way
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T ValueOr(T fallback) const { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace dl

#define DL_CONCAT_INNER(a, b) a##b
#define DL_CONCAT(a, b) DL_CONCAT_INNER(a, b)

#define DL_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::dl::Status _dl_st = (expr);             \
    if (!_dl_st.ok()) return _dl_st;          \
  } while (0)

#define DL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define DL_ASSIGN_OR_RETURN(lhs, expr) \
  DL_ASSIGN_OR_RETURN_IMPL(DL_CONCAT(_dl_res_, __LINE__), lhs, expr)
