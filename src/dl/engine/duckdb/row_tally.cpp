#include "dl/engine/duckdb/row_tally.hpp"

#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace dl::engine::duck {

namespace {

constexpr const char* kFunction = "__dl_tally_rows";

// Open tallies by id, process-wide (a write's SQL names its tally by id).
struct Tallies {
  std::mutex mu;
  std::map<int64_t, std::map<std::string, int64_t>> open;
  std::atomic<int64_t> next_id{1};
};

Tallies& AllTallies() {
  static Tallies* tallies = new Tallies();  // never destroyed: sessions may outlive statics
  return *tallies;
}

std::string_view View(duckdb_string_t& s) {
  return {duckdb_string_t_data(&s), duckdb_string_t_length(s)};
}

// __dl_tally_rows(value VARCHAR, tally BIGINT) -> value. Called from DuckDB's worker threads
// with flat vectors; rows of one source file arrive in runs, so a chunk is counted as runs
// and merged under the lock once.
void TallyRows(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  duckdb_vector values = duckdb_data_chunk_get_vector(input, 0);
  duckdb_vector ids = duckdb_data_chunk_get_vector(input, 1);
  duckdb_vector_reference_vector(output, values);
  idx_t n = duckdb_data_chunk_get_size(input);
  if (n == 0) return;
  uint64_t* id_validity = duckdb_vector_get_validity(ids);
  if (!duckdb_validity_row_is_valid(id_validity, 0)) {
    duckdb_scalar_function_set_error(info, "__dl_tally_rows: NULL tally id");
    return;
  }
  int64_t id = static_cast<int64_t*>(duckdb_vector_get_data(ids))[0];
  auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(values));
  uint64_t* validity = duckdb_vector_get_validity(values);
  std::vector<std::pair<std::string_view, int64_t>> runs;
  for (idx_t i = 0; i < n; ++i) {
    std::string_view v = duckdb_validity_row_is_valid(validity, i) ? View(data[i]) : "";
    if (!runs.empty() && runs.back().first == v) {
      ++runs.back().second;
    } else {
      runs.emplace_back(v, 1);
    }
  }
  Tallies& tallies = AllTallies();
  std::lock_guard lock(tallies.mu);
  auto it = tallies.open.find(id);
  if (it == tallies.open.end()) {
    duckdb_scalar_function_set_error(info, "__dl_tally_rows: no such tally");
    return;
  }
  for (const auto& [value, rows] : runs) it->second[std::string(value)] += rows;
}

}  // namespace

Status RegisterRowTally(Connection& conn) {
  duckdb_scalar_function fn = duckdb_create_scalar_function();
  duckdb_scalar_function_set_name(fn, kFunction);
  LogicalType varchar(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
  LogicalType bigint(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
  duckdb_scalar_function_add_parameter(fn, varchar.get());
  duckdb_scalar_function_add_parameter(fn, bigint.get());
  duckdb_scalar_function_set_return_type(fn, varchar.get());
  duckdb_scalar_function_set_function(fn, TallyRows);
  // Volatile: never folded, deduplicated or cached; called for NULLs too (they count).
  duckdb_scalar_function_set_volatile(fn);
  duckdb_scalar_function_set_special_handling(fn);
  duckdb_state state = duckdb_register_scalar_function(conn.get(), fn);
  duckdb_destroy_scalar_function(&fn);
  if (state != DuckDBSuccess) return Status::Internal("could not register {}", kFunction);
  return Status::OK();
}

RowTally::RowTally() : id_(AllTallies().next_id++) {
  Tallies& tallies = AllTallies();
  std::lock_guard lock(tallies.mu);
  tallies.open[id_];
}

RowTally::~RowTally() {
  Tallies& tallies = AllTallies();
  std::lock_guard lock(tallies.mu);
  tallies.open.erase(id_);
}

std::string RowTally::Sql(const std::string& expr) const {
  return fmt::format("{}({}, {})", kFunction, expr, id_);
}

std::map<std::string, int64_t> RowTally::Counts() const {
  Tallies& tallies = AllTallies();
  std::lock_guard lock(tallies.mu);
  return tallies.open.at(id_);
}

}  // namespace dl::engine::duck
