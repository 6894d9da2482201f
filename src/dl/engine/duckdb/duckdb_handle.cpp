#include "dl/engine/duckdb/duckdb_handle.hpp"

#include <fmt/format.h>

namespace dl::engine::duck {

// ---- LogicalType / DataChunk ----

LogicalType& LogicalType::operator=(LogicalType&& o) noexcept {
  if (this != &o) {
    if (t_) duckdb_destroy_logical_type(&t_);
    t_ = std::exchange(o.t_, nullptr);
  }
  return *this;
}

LogicalType::~LogicalType() {
  if (t_) duckdb_destroy_logical_type(&t_);
}

DataChunk& DataChunk::operator=(DataChunk&& o) noexcept {
  if (this != &o) {
    if (c_) duckdb_destroy_data_chunk(&c_);
    c_ = std::exchange(o.c_, nullptr);
  }
  return *this;
}

DataChunk::~DataChunk() {
  if (c_) duckdb_destroy_data_chunk(&c_);
}

// ---- Vector access ----

bool VectorIsValid(duckdb_vector v, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(v);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}

namespace {

std::string StringAt(duckdb_vector v, idx_t row) {
  auto* strings = static_cast<duckdb_string_t*>(duckdb_vector_get_data(v));
  duckdb_string_t& s = strings[row];
  return std::string(duckdb_string_t_data(&s), duckdb_string_t_length(s));
}

template <typename T>
T At(duckdb_vector v, idx_t row) {
  return static_cast<T*>(duckdb_vector_get_data(v))[row];
}

}  // namespace

std::optional<std::string> VectorValueAsString(duckdb_vector v, idx_t row) {
  if (!VectorIsValid(v, row)) return std::nullopt;
  LogicalType type(duckdb_vector_get_column_type(v));
  switch (type.id()) {
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
      return StringAt(v, row);
    case DUCKDB_TYPE_BOOLEAN:
      return At<bool>(v, row) ? "true" : "false";
    case DUCKDB_TYPE_TINYINT:
      return std::to_string(At<int8_t>(v, row));
    case DUCKDB_TYPE_SMALLINT:
      return std::to_string(At<int16_t>(v, row));
    case DUCKDB_TYPE_INTEGER:
      return std::to_string(At<int32_t>(v, row));
    case DUCKDB_TYPE_BIGINT:
      return std::to_string(At<int64_t>(v, row));
    case DUCKDB_TYPE_UTINYINT:
      return std::to_string(At<uint8_t>(v, row));
    case DUCKDB_TYPE_USMALLINT:
      return std::to_string(At<uint16_t>(v, row));
    case DUCKDB_TYPE_UINTEGER:
      return std::to_string(At<uint32_t>(v, row));
    case DUCKDB_TYPE_UBIGINT:
      return std::to_string(At<uint64_t>(v, row));
    case DUCKDB_TYPE_FLOAT:
      return fmt::format("{}", At<float>(v, row));
    case DUCKDB_TYPE_DOUBLE:
      return fmt::format("{}", At<double>(v, row));
    default:
      return fmt::format("<unsupported type {}>", static_cast<int>(type.id()));
  }
}

std::optional<int64_t> VectorValueAsInt64(duckdb_vector v, idx_t row) {
  if (!VectorIsValid(v, row)) return std::nullopt;
  LogicalType type(duckdb_vector_get_column_type(v));
  switch (type.id()) {
    case DUCKDB_TYPE_TINYINT:
      return At<int8_t>(v, row);
    case DUCKDB_TYPE_SMALLINT:
      return At<int16_t>(v, row);
    case DUCKDB_TYPE_INTEGER:
      return At<int32_t>(v, row);
    case DUCKDB_TYPE_BIGINT:
      return At<int64_t>(v, row);
    case DUCKDB_TYPE_UTINYINT:
      return At<uint8_t>(v, row);
    case DUCKDB_TYPE_USMALLINT:
      return At<uint16_t>(v, row);
    case DUCKDB_TYPE_UINTEGER:
      return At<uint32_t>(v, row);
    case DUCKDB_TYPE_UBIGINT:
      return static_cast<int64_t>(At<uint64_t>(v, row));
    default:
      return std::nullopt;
  }
}

std::optional<std::pair<idx_t, idx_t>> VectorListEntry(duckdb_vector v, idx_t row) {
  if (!VectorIsValid(v, row)) return std::nullopt;
  duckdb_list_entry e = At<duckdb_list_entry>(v, row);
  return std::make_pair(static_cast<idx_t>(e.offset), static_cast<idx_t>(e.offset + e.length));
}

std::vector<std::pair<std::string, std::optional<std::string>>> VectorStringMap(duckdb_vector v,
                                                                                idx_t row) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  auto range = VectorListEntry(v, row);
  if (!range) return out;
  duckdb_vector entries = duckdb_list_vector_get_child(v);
  duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
  for (idx_t i = range->first; i < range->second; ++i) {
    out.emplace_back(VectorValueAsString(keys, i).value_or(""), VectorValueAsString(values, i));
  }
  return out;
}

// ---- QueryResult ----

QueryResult& QueryResult::operator=(QueryResult&& o) noexcept {
  if (this != &o) {
    if (r_ && valid_) duckdb_destroy_result(r_.get());
    r_ = std::move(o.r_);
    valid_ = std::exchange(o.valid_, false);
    sources_ = std::move(o.sources_);
  }
  return *this;
}

QueryResult::~QueryResult() {
  if (r_ && valid_) duckdb_destroy_result(r_.get());
}

LogicalType QueryResult::column_logical_type(idx_t i) {
  return LogicalType(duckdb_column_logical_type(r_.get(), i));
}

std::vector<std::string> QueryResult::column_names() {
  std::vector<std::string> names;
  for (idx_t i = 0; i < column_count(); ++i) names.push_back(column_name(i));
  return names;
}

QueryRows QueryResult::ToText() {
  QueryRows rows;
  rows.columns = column_names();
  while (DataChunk chunk = Next()) {
    for (idx_t r = 0; r < chunk.size(); ++r) {
      std::vector<std::optional<std::string>> row;
      row.reserve(rows.columns.size());
      for (idx_t c = 0; c < rows.columns.size(); ++c) {
        row.push_back(VectorValueAsString(chunk.column(c), r));
      }
      rows.rows.push_back(std::move(row));
    }
  }
  return rows;
}

Status QueryResult::FetchStatus(std::string_view context) const {
  const char* err = duckdb_result_error(r_.get());
  if (err == nullptr) return Status::OK();
  return DuckError(duckdb_result_error_type(r_.get()), err, context, sources_.get());
}

// ---- PreparedStatement ----

PreparedStatement& PreparedStatement::operator=(PreparedStatement&& o) noexcept {
  if (this != &o) {
    if (s_) duckdb_destroy_prepare(&s_);
    s_ = std::exchange(o.s_, nullptr);
    sources_ = std::move(o.sources_);
  }
  return *this;
}

PreparedStatement::~PreparedStatement() {
  if (s_) duckdb_destroy_prepare(&s_);
}

Status PreparedStatement::BindResult(duckdb_state state, idx_t index) {
  if (state == DuckDBSuccess) return Status::OK();
  const char* err = duckdb_prepare_error(s_);
  return Status::Engine("binding parameter {}: {}", index, err ? err : "bind failed");
}

Status PreparedStatement::BindVarchar(idx_t index, std::string_view value) {
  return BindResult(duckdb_bind_varchar_length(s_, index, value.data(), value.size()), index);
}
Status PreparedStatement::BindInt64(idx_t index, int64_t value) {
  return BindResult(duckdb_bind_int64(s_, index, value), index);
}
Status PreparedStatement::BindBool(idx_t index, bool value) {
  return BindResult(duckdb_bind_boolean(s_, index, value), index);
}
Status PreparedStatement::BindNull(idx_t index) {
  return BindResult(duckdb_bind_null(s_, index), index);
}

Result<QueryResult> PreparedStatement::Execute(std::string_view context) {
  QueryResult result;
  result.set_valid();
  result.set_sources(sources_);
  if (duckdb_execute_prepared(s_, result.raw()) == DuckDBError) {
    return DuckError(duckdb_result_error_type(result.raw()), duckdb_result_error(result.raw()),
                     context, sources_.get());
  }
  return result;
}

Result<QueryResult> PreparedStatement::ExecuteStreaming(std::string_view context) {
  duckdb_pending_result pending = nullptr;
  if (duckdb_pending_prepared_streaming(s_, &pending) == DuckDBError) {
    const char* err = pending ? duckdb_pending_error(pending) : nullptr;
    Status st = DuckError(DUCKDB_ERROR_INVALID, err ? err : "cannot start the query", context,
                          sources_.get());
    if (pending) duckdb_destroy_pending(&pending);
    return st;
  }
  QueryResult result;
  result.set_valid();
  result.set_sources(sources_);
  duckdb_state state = duckdb_execute_pending(pending, result.raw());
  duckdb_destroy_pending(&pending);
  if (state == DuckDBError) {
    return DuckError(duckdb_result_error_type(result.raw()), duckdb_result_error(result.raw()),
                     context, sources_.get());
  }
  return result;
}

std::vector<Column> PreparedStatement::columns() const {
  std::vector<Column> cols;
  idx_t n = duckdb_prepared_statement_column_count(s_);
  for (idx_t i = 0; i < n; ++i) {
    cols.push_back(
        {duckdb_prepared_statement_column_name(s_, i),
         std::make_shared<LogicalType>(duckdb_prepared_statement_column_logical_type(s_, i))});
  }
  return cols;
}

// ---- Database ----

Result<Database> Database::Open(const EngineOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) {
    return Status::Engine("cannot create DuckDB config");
  }
  std::vector<std::pair<std::string, std::string>> settings = {
      // No extension comes in after start-up: built-in ones only, nothing from the network.
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
      {"allow_community_extensions", "false"},
  };
  if (options.threads > 0) settings.emplace_back("threads", std::to_string(options.threads));
  if (!options.memory_limit.empty()) settings.emplace_back("memory_limit", options.memory_limit);
  if (!options.temp_directory.empty()) {
    settings.emplace_back("temp_directory", options.temp_directory);
  }
  for (const auto& [key, value] : settings) {
    if (duckdb_set_config(config, key.c_str(), value.c_str()) == DuckDBError) {
      duckdb_destroy_config(&config);
      return Status::Config("invalid engine setting {}='{}'", key, value);
    }
  }
  Database db;
  char* error = nullptr;
  duckdb_state state = duckdb_open_ext(nullptr, &db.db_, config, &error);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    Status st = Status::Engine("cannot open DuckDB: {}", error ? error : "unknown error");
    if (error) duckdb_free(error);
    return st;
  }
  return db;
}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    if (db_) duckdb_close(&db_);
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  if (db_) duckdb_close(&db_);
}

// ---- Connection ----

Result<Connection> Connection::Open(const Database& db) {
  Connection conn;
  if (duckdb_connect(db.get(), &conn.c_) == DuckDBError) {
    return Status::Engine("cannot connect to DuckDB");
  }
  return conn;
}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    if (c_) duckdb_disconnect(&c_);
    c_ = std::exchange(o.c_, nullptr);
    sources_ = std::move(o.sources_);
  }
  return *this;
}

Connection::~Connection() {
  if (c_) duckdb_disconnect(&c_);
}

Status Connection::Execute(const std::string& sql, std::string_view context) {
  auto result = Query(sql, context);
  return result.status();
}

Result<QueryResult> Connection::Query(const std::string& sql, std::string_view context) {
  QueryResult result;
  result.set_valid();
  result.set_sources(sources_);
  if (duckdb_query(c_, sql.c_str(), result.raw()) == DuckDBError) {
    return DuckError(duckdb_result_error_type(result.raw()), duckdb_result_error(result.raw()),
                     context, sources_.get());
  }
  return result;
}

Result<PreparedStatement> Connection::Prepare(const std::string& sql, std::string_view context) {
  duckdb_prepared_statement raw = nullptr;
  duckdb_state state = duckdb_prepare(c_, sql.c_str(), &raw);
  PreparedStatement stmt(raw, sources_);  // destroyed even when prepare fails
  if (state == DuckDBError) {
    const char* err = duckdb_prepare_error(raw);
    return DuckError(DUCKDB_ERROR_INVALID, err ? err : "prepare failed", context, sources_.get());
  }
  return stmt;
}

// ---- Appender ----

Result<Appender> Appender::Create(const Connection& conn, const std::string& catalog,
                                  const std::string& schema, const std::string& table) {
  duckdb_appender raw = nullptr;
  duckdb_state state =
      duckdb_appender_create_ext(conn.get(), catalog.c_str(), schema.c_str(), table.c_str(), &raw);
  Appender app;
  app.a_ = raw;
  if (state == DuckDBError) {
    return app.Check(state, fmt::format("creating appender on {}", table));
  }
  return app;
}

Appender& Appender::operator=(Appender&& o) noexcept {
  if (this != &o) {
    if (a_) duckdb_appender_destroy(&a_);
    a_ = std::exchange(o.a_, nullptr);
  }
  return *this;
}

Appender::~Appender() {
  if (a_) duckdb_appender_destroy(&a_);
}

Status Appender::Check(duckdb_state state, std::string_view what) {
  if (state == DuckDBSuccess) return Status::OK();
  if (a_ == nullptr) return Status::Engine("{}: appender unavailable", what);
  duckdb_error_data err = duckdb_appender_error_data(a_);
  Status st = DuckError(duckdb_error_data_error_type(err), duckdb_error_data_message(err), what);
  duckdb_destroy_error_data(&err);
  return st;
}

Status Appender::AppendVarchar(std::string_view value) {
  return Check(duckdb_append_varchar_length(a_, value.data(), value.size()), "appending");
}
Status Appender::AppendInt64(int64_t value) {
  return Check(duckdb_append_int64(a_, value), "appending");
}
Status Appender::AppendBool(bool value) {
  return Check(duckdb_append_bool(a_, value), "appending");
}
Status Appender::AppendNull() { return Check(duckdb_append_null(a_), "appending"); }
Status Appender::EndRow() { return Check(duckdb_appender_end_row(a_), "appending a row"); }
Status Appender::Flush() { return Check(duckdb_appender_flush(a_), "flushing appender"); }
Status Appender::Close() { return Check(duckdb_appender_close(a_), "closing appender"); }

}  // namespace dl::engine::duck
