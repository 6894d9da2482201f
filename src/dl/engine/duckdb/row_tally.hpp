// Rows per value of a column, counted in the same pass that writes them: the write's SELECT
// passes the column through a volatile scalar function that tallies each value as the rows
// flow into COPY, so nothing reads the written files back to count them.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "dl/common/status.hpp"
#include "dl/engine/duckdb/duckdb_handle.hpp"

namespace dl::engine::duck {

/// Register the tally function in `conn`'s database (once per database).
Status RegisterRowTally(Connection& conn);

/// One tally, open while it lives: Sql(expr) is `expr` (a VARCHAR expression) unchanged, and
/// every row it is evaluated for counts under its value (NULL under "").
class RowTally {
 public:
  RowTally();
  ~RowTally();
  RowTally(const RowTally&) = delete;
  RowTally& operator=(const RowTally&) = delete;

  std::string Sql(const std::string& expr) const;
  /// The counts so far (complete once the statement that evaluated Sql() has finished).
  std::map<std::string, int64_t> Counts() const;

 private:
  int64_t id_;
};

}  // namespace dl::engine::duck
