// Spark Connect results (Arrow IPC streams in ExecutePlanResponse.arrow_batch) as
// engine::QueryRows: small results only (counts, metrics, lists), each value in string form.
#pragma once

#include <string_view>

#include "dl/common/status.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::spark {

/// Append the rows of one Arrow IPC stream (a schema message, then record batches) to
/// `rows`; the column names are taken from the first stream. Values in string form:
/// integers and decimals in plain digits, booleans true/false, doubles in their shortest
/// round-trip form, dates YYYY-MM-DD, timestamps YYYY-MM-DD HH:MM:SS[.ffffff] (in UTC for
/// timestamps with a time zone), binary as lower-case hex; NULL as nullopt. Unsupported
/// naming the column for nested types; InvalidArgument when the bytes are not Arrow IPC.
Status AppendArrowIpc(std::string_view ipc, QueryRows* rows);

}  // namespace dl::engine::spark
