// QueryArrow: a query's rows as an Arrow C stream. The query runs as a streaming result and
// each DuckDB chunk is converted to an Arrow record batch when the consumer asks for the next
// one, so a scan is never held in memory twice.
#include <cerrno>
#include <string>
#include <vector>

#include "dl/engine/arrow_c.hpp"
#include "dl/engine/duckdb/duckdb_engine.hpp"
#include "dl/engine/sql_util.hpp"

namespace dl::engine::duck {
namespace {

struct ArrowStreamState {
  QueryResult result;
  duckdb_arrow_options options = nullptr;
  std::string error;  // what get_last_error returns after a callback failed

  explicit ArrowStreamState(QueryResult r) : result(std::move(r)) {
    options = duckdb_result_get_arrow_options(result.raw());
  }
  ~ArrowStreamState() {
    if (options) duckdb_destroy_arrow_options(&options);
  }
  ArrowStreamState(const ArrowStreamState&) = delete;
  ArrowStreamState& operator=(const ArrowStreamState&) = delete;
};

ArrowStreamState* StateOf(ArrowArrayStream* stream) {
  return static_cast<ArrowStreamState*>(stream->private_data);
}

// The callbacks report failures as errno values; the message waits for get_last_error.
int Fail(ArrowStreamState* state, std::string message) {
  state->error = std::move(message);
  return EIO;
}

// 0, or EIO with DuckDB's message kept; `error` is destroyed either way.
int Check(ArrowStreamState* state, duckdb_error_data error) {
  if (error == nullptr) return 0;
  int rc = 0;
  if (duckdb_error_data_has_error(error)) rc = Fail(state, duckdb_error_data_message(error));
  duckdb_destroy_error_data(&error);
  return rc;
}

int GetSchema(ArrowArrayStream* stream, ArrowSchema* out) {
  auto* state = StateOf(stream);
  const idx_t n = state->result.column_count();
  std::vector<LogicalType> owned;
  std::vector<duckdb_logical_type> types;
  std::vector<std::string> names;
  std::vector<const char*> name_ptrs;
  for (idx_t i = 0; i < n; ++i) {
    owned.push_back(state->result.column_logical_type(i));
    types.push_back(owned.back().get());
    names.push_back(state->result.column_name(i));
  }
  for (const auto& name : names) name_ptrs.push_back(name.c_str());
  return Check(state,
               duckdb_to_arrow_schema(state->options, types.data(), name_ptrs.data(), n, out));
}

int GetNext(ArrowArrayStream* stream, ArrowArray* out) {
  auto* state = StateOf(stream);
  for (;;) {
    DataChunk chunk = state->result.Next();
    if (!chunk) {
      // The end, or the error that ended the query (a data file that cannot be read).
      Status st = state->result.FetchStatus("scanning");
      if (!st.ok()) return Fail(state, st.message());
      out->release = nullptr;
      return 0;
    }
    if (chunk.size() == 0) continue;
    return Check(state, duckdb_data_chunk_to_arrow(state->options, chunk.get(), out));
  }
}

const char* GetLastError(ArrowArrayStream* stream) {
  auto* state = StateOf(stream);
  return state->error.empty() ? nullptr : state->error.c_str();
}

void Release(ArrowArrayStream* stream) {
  delete StateOf(stream);
  stream->release = nullptr;
}

}  // namespace

Status DuckDbEngine::QueryArrow(const std::string& sql, ArrowArrayStream* out) {
  DL_ASSIGN_OR_RETURN(PreparedStatement prepared, conn_.Prepare(StripStatementEnd(sql)));
  if (prepared.statement_type() != DUCKDB_STATEMENT_TYPE_SELECT) {
    return Status::InvalidArgument("only a SELECT can be read as Arrow");
  }
  DL_ASSIGN_OR_RETURN(QueryResult result, prepared.ExecuteStreaming());
  out->get_schema = GetSchema;
  out->get_next = GetNext;
  out->get_last_error = GetLastError;
  out->release = Release;
  out->private_data = new ArrowStreamState(std::move(result));
  return Status::OK();
}

}  // namespace dl::engine::duck
