// What DuckDB's errors mean. The one place that reads DuckDB's error types and words: callers
// get a Status whose detail says whether the cause may pass and which source files (in the
// caller's spelling) it is about.
#pragma once

#include <duckdb.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::engine::duck {

/// The source files a session reads, by view: DuckDB names a file as it read it (EnginePath:
/// az://... for abfss://...; a pattern that matched nothing as ReadPath); errors name it as
/// the caller did.
class SourceFiles {
 public:
  /// The files `view` reads (replacing the files it read before).
  void Set(const std::string& view, const std::vector<std::string>& user_paths);
  struct Named {
    std::vector<std::string> files;  ///< the caller's paths, sorted
    std::string message;             ///< the message naming them so
  };
  /// The files DuckDB's `message` names (in its own words, not the SQL it echoes after them).
  Named NamedIn(std::string_view message) const;

 private:
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_view_;
};

/// The cause of a DuckDB error of `type` with `message` (DuckDB's words).
ErrorDetail::Cause CauseOf(duckdb_error_type type, std::string_view message);

/// Engine status for a DuckDB error (interrupts become Cancelled), `context` prefixing the
/// message, with its cause and the files of `sources` (may be null) DuckDB names, in the
/// caller's spelling (in the message too).
Status DuckError(duckdb_error_type type, std::string_view message, std::string_view context,
                 const SourceFiles* sources = nullptr);

/// DuckDB's words in an engine status: what follows "<Kind> Error: ", up to the line end.
std::string DuckWords(const Status& status);

}  // namespace dl::engine::duck
