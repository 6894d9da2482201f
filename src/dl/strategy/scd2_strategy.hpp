// SCD Type 2: every batch's rows are events applied to the table's version history (see
// docs/architecture.md, "SCD Type 2", and scd2_sql.hpp for the SQL).
#pragma once

#include "dl/strategy/load_strategy.hpp"

namespace dl::strategy {

/// Apply `batch` to `target` as SCD2 events and commit: copy-on-write of the files holding
/// touched keys, then the change store (with sequence_column) and the quarantine table. A
/// commit conflict re-plans against the new snapshot, a bounded number of times.
Result<BatchOutcome> LoadScd2(table::TableContext& ctx, const Target& target, const Batch& batch,
                              const delta::CommitOptions& commit_options);

}  // namespace dl::strategy
