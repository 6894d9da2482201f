// Error text as it may be stored or shown (logs, the tracker, `status`).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dl {

/// Longest error text kept where errors are stored or shown.
inline constexpr size_t kMaxErrorText = 1000;

/// `message` without the engine's echo of the failing SQL ("\n\nLINE n: ..."), at most
/// kMaxErrorText bytes (cut at a UTF-8 character boundary and marked "...(truncated)").
std::string BoundedErrorText(std::string_view message);

}  // namespace dl
