// Wall-clock time and identifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dl {

/// Milliseconds since the Unix epoch.
int64_t NowMs();
/// A random (version 4) UUID, lower-case with dashes.
std::string NewUuid();
/// "2024-01-01T10:00:00.123Z" (UTC).
std::string FormatTimestampMs(int64_t ms);
/// Parse "YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.fff...]]" with optional "Z" or "+hh:mm"
/// (no zone means UTC) into ms since the epoch.
std::optional<int64_t> ParseTimestampMs(std::string_view text);

}  // namespace dl
