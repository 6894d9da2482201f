// Copy-on-write planning on the DuckDB engine: which data files of a table hold rows with
// given keys. Only those files are rewritten by a merge or an SCD2 batch (strategy/); every
// other file stays as it is.
#pragma once

#include <string>
#include <vector>

#include "dl/delta/snapshot.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::duck {

struct KeyFiles {
  std::vector<delta::AddFile> files;  ///< live files holding at least one matching row
  int64_t candidates = 0;             ///< files left after pruning by min/max stats
};

/// The live files of `snapshot` holding a row whose `keys` equal a row of `keys_sql` (a query
/// with those columns) and, when `row_filter` is not empty, satisfying it (a SQL predicate
/// over the table's columns). Files are first pruned by the min/max stats of the first key
/// column, then the candidates' key columns are read to find the exact files.
/// The live files of `snapshot` whose min/max stats of `key` may hold one of the values of
/// column `key` of `keys_sql`; files without such stats (or a key that is a partition column
/// or of a type whose stats are inexact) are always kept.
Result<std::vector<delta::AddFile>> PruneFilesByKeyStats(Engine& engine,
                                                         const delta::Snapshot& snapshot,
                                                         const std::string& key,
                                                         const std::string& keys_sql);

Result<KeyFiles> FindFilesWithKeys(Engine& engine, const delta::Snapshot& snapshot,
                                   const std::vector<std::string>& keys,
                                   const std::string& keys_sql, const std::string& row_filter = "");

}  // namespace dl::engine::duck
