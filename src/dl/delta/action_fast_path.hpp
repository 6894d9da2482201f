// Private: a DOM-free parser for the hot lines of log replay (add and remove).
#pragma once

#include <optional>
#include <string_view>

#include "dl/delta/actions.hpp"

namespace dl::delta::internal {

/// Parse an {"add":{...}} or {"remove":{...}} line straight into the struct. Returns nullopt
/// for any other line and for anything unusual (escaped keys are fine; deletion vectors,
/// floats, missing required fields, malformed JSON are not): the caller then falls back to
/// the general parser, which also produces the error messages. So this path only ever
/// accepts lines the general parser would parse to the same action.
std::optional<Action> TryParseFileAction(std::string_view line);

/// The general (nlohmann DOM) parser alone, for differential tests of the fast path.
Result<std::optional<Action>> ParseActionWithDom(std::string_view line);

}  // namespace dl::delta::internal
