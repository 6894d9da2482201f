// Move-only RAII wrappers over the DuckDB C API. Every DuckDB error becomes a dl::Status at
// the call that produced it, with DuckDB's message intact.
#pragma once

#include <duckdb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/engine/duckdb/duck_error.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

/// Owns one duckdb_logical_type.
class LogicalType {
 public:
  LogicalType() = default;
  explicit LogicalType(duckdb_logical_type t) : t_(t) {}
  LogicalType(LogicalType&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  LogicalType& operator=(LogicalType&& o) noexcept;
  LogicalType(const LogicalType&) = delete;
  LogicalType& operator=(const LogicalType&) = delete;
  ~LogicalType();

  duckdb_logical_type get() const { return t_; }
  duckdb_type id() const { return t_ ? duckdb_get_type_id(t_) : DUCKDB_TYPE_INVALID; }

 private:
  duckdb_logical_type t_ = nullptr;
};

/// A result column: its name and type.
struct Column {
  std::string name;
  std::shared_ptr<LogicalType> type;
};

/// Owns one data chunk of a result.
class DataChunk {
 public:
  explicit DataChunk(duckdb_data_chunk c) : c_(c) {}
  DataChunk(DataChunk&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  DataChunk& operator=(DataChunk&& o) noexcept;
  DataChunk(const DataChunk&) = delete;
  DataChunk& operator=(const DataChunk&) = delete;
  ~DataChunk();

  explicit operator bool() const { return c_ != nullptr; }
  idx_t size() const { return duckdb_data_chunk_get_size(c_); }
  duckdb_vector column(idx_t i) const { return duckdb_data_chunk_get_vector(c_, i); }
  duckdb_data_chunk get() const { return c_; }

 private:
  duckdb_data_chunk c_ = nullptr;
};

/// Vector access helpers. `row` indexes the (flat) vector of a fetched chunk.
bool VectorIsValid(duckdb_vector v, idx_t row);
/// VARCHAR/BLOB as bytes; booleans, integers and floating point as text; NULL as nullopt.
/// Other types give "<unsupported TYPE>" (cast to VARCHAR in SQL to read them).
std::optional<std::string> VectorValueAsString(duckdb_vector v, idx_t row);
std::optional<int64_t> VectorValueAsInt64(duckdb_vector v, idx_t row);
/// For LIST and MAP vectors: the [offset, offset+length) rows of the child vector.
std::optional<std::pair<idx_t, idx_t>> VectorListEntry(duckdb_vector v, idx_t row);
/// A MAP(VARCHAR, VARCHAR) value as pairs (NULL values as nullopt).
std::vector<std::pair<std::string, std::optional<std::string>>> VectorStringMap(duckdb_vector v,
                                                                                idx_t row);

/// Owns a materialized duckdb_result.
class QueryResult {
 public:
  QueryResult() : r_(std::make_unique<duckdb_result>()) {}
  QueryResult(QueryResult&&) noexcept = default;
  QueryResult& operator=(QueryResult&& o) noexcept;
  ~QueryResult();

  duckdb_result* raw() { return r_.get(); }
  idx_t column_count() { return duckdb_column_count(r_.get()); }
  std::string column_name(idx_t i) { return duckdb_column_name(r_.get(), i); }
  duckdb_type column_type(idx_t i) { return duckdb_column_type(r_.get(), i); }
  LogicalType column_logical_type(idx_t i);
  std::vector<std::string> column_names();
  /// The next chunk; an empty (false) chunk at the end.
  DataChunk Next() { return DataChunk(duckdb_fetch_chunk(*r_)); }
  /// All rows as text via VectorValueAsString (small results only).
  QueryRows ToText();
  /// After Next() returned the end: the error that ended a streaming result early, if any.
  Status FetchStatus(std::string_view context) const;

  void set_valid() { valid_ = true; }
  /// The files its errors may name (the session's).
  void set_sources(std::shared_ptr<const SourceFiles> sources) { sources_ = std::move(sources); }

 private:
  std::unique_ptr<duckdb_result> r_;
  bool valid_ = false;  // duckdb_result must be destroyed even after an error
  std::shared_ptr<const SourceFiles> sources_;
};

/// Owns a prepared statement.
class PreparedStatement {
 public:
  /// `sources`: the files its errors may name (the session's).
  explicit PreparedStatement(duckdb_prepared_statement s,
                             std::shared_ptr<const SourceFiles> sources = nullptr)
      : s_(s), sources_(std::move(sources)) {}
  PreparedStatement(PreparedStatement&& o) noexcept
      : s_(std::exchange(o.s_, nullptr)), sources_(std::move(o.sources_)) {}
  PreparedStatement& operator=(PreparedStatement&& o) noexcept;
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;
  ~PreparedStatement();

  Status BindVarchar(idx_t index, std::string_view value);
  Status BindInt64(idx_t index, int64_t value);
  Status BindBool(idx_t index, bool value);
  Status BindNull(idx_t index);
  Result<QueryResult> Execute(std::string_view context = {});
  /// Execute without materializing: chunks are produced as Next() asks for them, which saves
  /// copying big results. The connection runs nothing else until the result is consumed.
  Result<QueryResult> ExecuteStreaming(std::string_view context = {});

  duckdb_statement_type statement_type() const { return duckdb_prepared_statement_type(s_); }
  /// Result columns (names and types) without running the statement.
  std::vector<Column> columns() const;

 private:
  Status BindResult(duckdb_state state, idx_t index);
  duckdb_prepared_statement s_ = nullptr;
  std::shared_ptr<const SourceFiles> sources_;
};

/// Owns a database (in-memory). Shared by the sessions of one engine.
class Database {
 public:
  static Result<Database> Open(const EngineOptions& options);
  Database(Database&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Database& operator=(Database&& o) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  duckdb_database get() const { return db_; }

 private:
  Database() = default;
  duckdb_database db_ = nullptr;
};

/// Owns a connection (one session).
class Connection {
 public:
  static Result<Connection> Open(const Database& db);
  Connection(Connection&& o) noexcept
      : c_(std::exchange(o.c_, nullptr)), sources_(std::move(o.sources_)) {}
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Run one or more statements, discarding results. `context` prefixes errors.
  Status Execute(const std::string& sql, std::string_view context = {});
  /// Run and materialize the result of `sql`.
  Result<QueryResult> Query(const std::string& sql, std::string_view context = {});
  Result<PreparedStatement> Prepare(const std::string& sql, std::string_view context = {});
  /// Thread-safe: interrupt the running query of this connection.
  void Interrupt() { duckdb_interrupt(c_); }
  duckdb_connection get() const { return c_; }
  /// The source files this session reads: its errors name those DuckDB's message names.
  SourceFiles& sources() { return *sources_; }

 private:
  Connection() = default;
  duckdb_connection c_ = nullptr;
  std::shared_ptr<SourceFiles> sources_ = std::make_shared<SourceFiles>();
};

/// Owns an appender on a (temp) table.
class Appender {
 public:
  static Result<Appender> Create(const Connection& conn, const std::string& catalog,
                                 const std::string& schema, const std::string& table);
  Appender(Appender&& o) noexcept : a_(std::exchange(o.a_, nullptr)) {}
  Appender& operator=(Appender&& o) noexcept;
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  ~Appender();

  Status AppendVarchar(std::string_view value);
  Status AppendInt64(int64_t value);
  Status AppendBool(bool value);
  Status AppendNull();
  Status AppendOptional(const std::optional<std::string>& value) {
    return value ? AppendVarchar(*value) : AppendNull();
  }
  Status EndRow();
  Status Flush();
  Status Close();

 private:
  Appender() = default;
  Status Check(duckdb_state state, std::string_view what);
  duckdb_appender a_ = nullptr;
};

}  // namespace dl::engine::duck
