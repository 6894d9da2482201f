// Rows a keyed strategy (scd2, merge) cannot load: NULL in a primary key or the sequence
// column. The file holding them fails by name, or with on_bad_rows: quarantine the rows go
// to the quarantine table beside the target and the rest loads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dl/strategy/companion.hpp"
#include "dl/strategy/load_strategy.hpp"

namespace dl::strategy {

/// A column that must not be NULL and the config key that makes it so.
struct RequiredColumn {
  std::string column;
  std::string key;  ///< "primary_keys", "sequence_column"
};

struct BadRows {
  std::string keep;                          ///< predicate over the source rows: the rows to load
  std::optional<CompanionFiles> quarantine;  ///< written, committed after the target commit
  int64_t quarantined = 0;
};

/// Check the rows of `source_sql` (a batch projection with kFileOrderColumn) for NULLs in
/// `required`. on_bad_rows fail: SchemaMismatch naming each file, column and count.
/// quarantine: their rows are written as files of the quarantine table (not committed).
Result<BadRows> SeparateBadRows(table::TableContext& ctx, const Target& target, const Batch& batch,
                                const std::string& source_sql,
                                const std::vector<RequiredColumn>& required);

}  // namespace dl::strategy
