#include "dl/engine/duckdb/duck_error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "dl/common/http_client.hpp"
#include "dl/engine/duckdb/object_store.hpp"

namespace dl::engine::duck {

namespace {

using Cause = ErrorDetail::Cause;

// DuckDB's words without the statement it echoes after them ("\n\nLINE 1: SELECT ...").
std::string_view WithoutSqlEcho(std::string_view message) {
  return message.substr(0, message.find("\n\nLINE "));
}

// The error type a message names ("Binder Error: ..."), for errors that come without one
// (a failed prepare).
duckdb_error_type TypeNamedIn(std::string_view message) {
  static const std::pair<std::string_view, duckdb_error_type> kNames[] = {
      {"Parser Error: ", DUCKDB_ERROR_PARSER},
      {"Syntax Error: ", DUCKDB_ERROR_SYNTAX},
      {"Binder Error: ", DUCKDB_ERROR_BINDER},
      {"Catalog Error: ", DUCKDB_ERROR_CATALOG},
      {"Conversion Error: ", DUCKDB_ERROR_CONVERSION},
      {"Invalid Input Error: ", DUCKDB_ERROR_INVALID_INPUT},
      {"Out of Range Error: ", DUCKDB_ERROR_OUT_OF_RANGE},
      {"Out of Memory Error: ", DUCKDB_ERROR_OUT_OF_MEMORY},
      {"IO Error: ", DUCKDB_ERROR_IO},
      {"HTTP Error: ", DUCKDB_ERROR_HTTP},
  };
  for (const auto& [name, type] : kNames) {
    if (message.rfind(name, 0) == 0) return type;
  }
  return DUCKDB_ERROR_INVALID;
}

// The HTTP status an error of DuckDB's httpfs reports ("... error on 'url' (HTTP 503)"), or 0.
int HttpStatusIn(std::string_view words) {
  for (size_t at = words.find("HTTP "); at != std::string_view::npos;
       at = words.find("HTTP ", at + 1)) {
    std::string_view code = words.substr(at + 5, 4);
    if (code.size() >= 3 &&
        std::all_of(code.begin(), code.begin() + 3,
                    [](unsigned char c) { return std::isdigit(c); }) &&
        (code.size() == 3 || !std::isdigit(static_cast<unsigned char>(code[3])))) {
      return std::stoi(std::string(code.substr(0, 3)));
    }
  }
  return 0;
}

bool TransientHttp(int status) { return status == 408 || status == 429 || status >= 500; }

// The azure extension names the answer's reason phrase and error code, not its status
// ("failed with code 'ServerBusy', Reason Phrase: 'Server Busy', Message: ...").
bool TransientAzureAnswer(std::string_view words) {
  if (words.find("Reason Phrase: '") == std::string_view::npos) return false;
  static const std::string_view kTransient[] = {
      "'Server Busy'",     "'Service Unavailable'", "'Internal Server Error'", "'Bad Gateway'",
      "'Gateway Timeout'", "'Too Many Requests'",   "'Request Timeout'",       "'ServerBusy'",
      "'InternalError'",   "'OperationTimedOut'"};
  return std::any_of(std::begin(kTransient), std::end(kTransient),
                     [&](std::string_view t) { return words.find(t) != std::string_view::npos; });
}

// httpfs names an S3 object by its URL, quoted: http(s)://host/bucket/key (path style) or
// http(s)://bucket.host/key (virtual hosts), the key %-encoded ("a b.csv" as "a%20b.csv").
bool UrlNamesObject(std::string_view words, std::string_view uri) {
  if (uri.rfind("s3://", 0) != 0) return false;
  std::string_view rest = uri.substr(5);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view bucket = rest.substr(0, slash);
  std::string key = http::UrlEncodePath(std::string(rest.substr(slash + 1)));
  if (words.find(fmt::format("/{}/{}'", bucket, key)) != std::string_view::npos) return true;
  size_t host = words.find(fmt::format("://{}.", bucket));
  return host != std::string_view::npos &&
         words.find(fmt::format("/{}'", key), host) != std::string_view::npos;
}

}  // namespace

void SourceFiles::Set(const std::string& view, const std::vector<std::string>& user_paths) {
  auto& files = by_view_[view];
  files.clear();
  for (const auto& p : user_paths) {
    files.emplace_back(EnginePath(p), p);
    // "No files found that match the pattern" names the file as the reader got it.
    if (ReadPath(p) != EnginePath(p)) files.emplace_back(ReadPath(p), p);
  }
}

SourceFiles::Named SourceFiles::NamedIn(std::string_view message) const {
  std::string_view words = WithoutSqlEcho(message);
  // engine -> user; a path sorts before the paths that are a prefix of it
  std::map<std::string, std::string, std::greater<>> named;
  for (const auto& [view, files] : by_view_) {
    for (const auto& [engine, user] : files) {
      for (size_t at = words.find(engine); at != std::string_view::npos;
           at = words.find(engine, at + 1)) {
        // Where a longer path of ours starts the same way (a.csv, a.csv.gz), that one is named.
        bool longer = std::any_of(files.begin(), files.end(), [&](const auto& other) {
          return other.first.size() > engine.size() &&
                 words.substr(at, other.first.size()) == other.first;
        });
        if (!longer) {
          named.emplace(engine, user);
          break;
        }
      }
      if (UrlNamesObject(words, engine)) named.emplace(engine, user);
    }
  }
  Named out{{}, std::string(message)};
  std::set<std::string> users;
  for (const auto& [engine, user] : named) {
    users.insert(user);
    if (engine == user) continue;
    for (size_t at = out.message.find(engine); at != std::string::npos;
         at = out.message.find(engine, at + user.size())) {
      out.message.replace(at, engine.size(), user);
    }
  }
  out.files.assign(users.begin(), users.end());
  return out;
}

ErrorDetail::Cause CauseOf(duckdb_error_type type, std::string_view message) {
  std::string_view words = WithoutSqlEcho(message);
  if (type == DUCKDB_ERROR_INVALID) type = TypeNamedIn(words);
  switch (type) {
    case DUCKDB_ERROR_OUT_OF_MEMORY:
    case DUCKDB_ERROR_NETWORK:
      return Cause::kTransient;
    case DUCKDB_ERROR_HTTP: {
      int status = HttpStatusIn(words);
      return status == 0 || TransientHttp(status) ? Cause::kTransient : Cause::kUnknown;
    }
    case DUCKDB_ERROR_IO: {
      // Another process holds the database file's lock; object stores fail as IO errors.
      if (words.find("Could not set lock") != std::string_view::npos) return Cause::kTransient;
      if (TransientAzureAnswer(words)) return Cause::kTransient;
      int status = HttpStatusIn(words);
      return status != 0 && TransientHttp(status) ? Cause::kTransient : Cause::kUnknown;
    }
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_SYNTAX:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_CATALOG:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED:
      return Cause::kQuery;
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_DECIMAL:
    case DUCKDB_ERROR_MISMATCH_TYPE:
      return Cause::kData;
    default:
      return Cause::kUnknown;
  }
}

Status DuckError(duckdb_error_type type, std::string_view message, std::string_view context,
                 const SourceFiles* sources) {
  auto text = [&](std::string_view m) {
    return context.empty() ? std::string(m) : fmt::format("{}: {}", context, m);
  };
  if (type == DUCKDB_ERROR_INTERRUPT) return Status(StatusCode::kCancelled, text(message));
  ErrorDetail detail;
  detail.cause = CauseOf(type, message);
  if (!sources) return Status(StatusCode::kEngine, text(message)).WithDetail(std::move(detail));
  SourceFiles::Named named = sources->NamedIn(message);
  detail.files = std::move(named.files);
  return Status(StatusCode::kEngine, text(named.message)).WithDetail(std::move(detail));
}

std::string DuckWords(const Status& status) {
  std::string_view m = WithoutSqlEcho(status.message());
  size_t at = m.find(" Error: ");
  if (at != std::string_view::npos) m.remove_prefix(at + 8);
  return std::string(m.substr(0, m.find('\n')));
}

}  // namespace dl::engine::duck
