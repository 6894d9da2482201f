// Rows a keyed strategy (scd2, merge) cannot load: NULL in a primary key or the sequence
// column. The file holding them fails by name, or with on_bad_rows: quarantine the rows go
// to the quarantine table beside the target and the rest loads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dl/engine/remote_load.hpp"
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

/// on_bad_rows: quarantine on an engine that commits the target itself (Spark;
/// engine::QuarantineRows): the directory of the quarantine table it writes the bad rows into
/// and its columns (the types the engine's files must hold) and, once written, `info`'s
/// userMetadata with those files recorded as the quarantine's (SchemaMismatch naming the
/// column and the quarantine table when the files hold another type than its schema records).
/// nullopt when the table does not quarantine.
Result<std::optional<engine::QuarantineRows>> RemoteQuarantine(
    table::TableContext& ctx, const Target& target, const delta::LoaderCommitInfo& info);

/// Before a batch on such an engine: the quarantine files the table's latest loader commit
/// recorded, committed if a crash left them behind (RollForwardCompanion).
Status RollForwardRemoteQuarantine(table::TableContext& ctx, const Target& target,
                                   const delta::Snapshot* snapshot);

/// After the engine's commit `version` that holds the batch (maybe an earlier attempt's): the
/// quarantine files it recorded committed to the quarantine table. A failure is logged: the
/// target commit stands and the next batch rolls the quarantine forward.
Status CommitRemoteQuarantine(table::TableContext& ctx, const Target& target, int64_t version);

}  // namespace dl::strategy
