// The Delta table's own settings on Spark: a table a batch creates gets the config's table
// properties and clustering in the batch's commit (or in an empty table's commit just before
// it, CreateEmptyTable); an existing table gets the properties it lacks by a commit of their
// own before the batch's.
#pragma once

#include "dl/engine/remote_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_session.hpp"

namespace dl::engine::spark {

/// Writes `input` as the batch's commit, as WritePlan does (op.mode, txn, userMetadata), except
/// that a table the write creates with op.table_properties or op.clustering_columns is created
/// by one CREATE TABLE ... AS SELECT carrying the txn and userMetadata (Delta's DataFrameWriter
/// cannot cluster a path's table), and an existing table's op.table_properties are set first.
Status WriteBatch(SparkSession& session, const AppendOperation& op, pb::Relation input);

/// The table created empty with input's columns (no row of it is written), op's partitioning,
/// clustering and properties, by a CREATE TABLE ... AS SELECT that carries no batch (no txn,
/// no userMetadata): the table the batch's own commit then writes into, for when something
/// must be written inside the table's directory before that commit. A table (or any file)
/// already at the path: CommitConflict, as for WriteBatch.
Status CreateEmptyTable(SparkSession& session, const AppendOperation& op, pb::Relation input);

/// ALTER TABLE ... SET TBLPROPERTIES of op.table_properties on the existing table, a commit
/// without the batch (nothing when there are none): a rerun finds them set and skips it.
Status SetTableProperties(SparkSession& session, const AppendOperation& op);

}  // namespace dl::engine::spark
