// Checkpoint rows straight into Delta action structs, for fast log replay.
#pragma once

#include <string>

#include "dl/delta/parquet_handler.hpp"
#include "dl/engine/duckdb/duckdb_handle.hpp"

namespace dl::engine::duck {

/// Build the actions of a checkpoint scan whose columns are the file's action structs, named
/// as in the file (add, remove, metaData, ..., sidecar). Add and remove rows are read member by
/// member from the vectors; anything unusual (deletion vectors, missing required fields,
/// unexpected member types) and the rare action kinds go through JSON and delta::ParseAction,
/// so both routes yield the same actions and the same errors. `source` names the checkpoint;
/// `expected_rows` (0 if unknown) sizes the add list.
Result<delta::CheckpointActions> ReadCheckpointRows(QueryResult& result, const std::string& source,
                                                    size_t expected_rows);

/// Whether the STRUCT value at `row` of `v` has only null members. A file action packed from
/// some of its members (ProjectAction in duckdb_checkpoint.cpp) is never null itself: one
/// whose members are all null stands for no action.
bool AllMembersNull(duckdb_vector v, idx_t row);

}  // namespace dl::engine::duck
