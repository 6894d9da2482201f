// Structured logging: one line per record, as text (key=value) or JSON lines, to stderr.
//
//   2026-11-25T10:00:00.123Z INFO  loaded file table=sales.orders rows=10 error="a b"
//   {"ts":"2026-11-25T10:00:00.123Z","level":"info","msg":"loaded file","table":"sales.orders"}
//
// Values that look like secrets (fields named password/secret/token/..., credentials inside
// URLs, key=value pairs with such names inside strings) are redacted before output.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dl::log {

enum class Level { kDebug, kInfo, kWarning, kError };
enum class Format { kText, kJson };

/// Configure the process-wide logger (thread-safe to log from many threads). Default before
/// Configure: kInfo, kText, to stderr.
void Configure(Level level, Format format);
/// For tests: send output to a callback instead of stderr (nullptr restores stderr). The
/// callback receives one record without the trailing newline; calls are serialized.
void SetSinkForTesting(std::function<void(const std::string& line)> sink);
Level CurrentLevel();
Format CurrentFormat();

/// "debug", "info", "warn", "error".
const char* LevelName(Level level);
/// Parses the names above (and "warning"), case-insensitive.
std::optional<Level> ParseLevel(std::string_view name);

struct Field {
  std::string key;
  nlohmann::json value;
};

void Log(Level level, std::string_view message, std::initializer_list<Field> fields = {});
void Log(Level level, std::string_view message, const std::vector<Field>& fields);

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) {
  Log(Level::kDebug, m, f);
}
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) {
  Log(Level::kInfo, m, f);
}
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) {
  Log(Level::kWarning, m, f);
}
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) {
  Log(Level::kError, m, f);
}

/// Masks secrets inside free text: the password of "scheme://user:password@host" and the value
/// of key=value / key: value / "key":"value" pairs whose key names a secret (password, secret,
/// token, api_key, access_key, credential, signature, sig, ...). Used for every logged string
/// and by the metrics writers for error messages.
std::string RedactSecrets(std::string_view text);
/// True for field names that carry secrets (case-insensitive substring match).
bool IsSecretKey(std::string_view key);

/// Formats one record without the newline (what Log writes); exposed for tests and reuse.
std::string FormatRecord(Format format, int64_t ts_ms, Level level, std::string_view message,
                         const std::vector<Field>& fields);

/// Set by a live progress display drawing on stderr: log lines to stderr then first clear the
/// progress line, so the two never share a terminal line. The display redraws on its next tick.
void SetStderrProgressActive(bool active);

}  // namespace dl::log
