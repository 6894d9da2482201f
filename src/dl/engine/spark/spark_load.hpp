// Loading on Spark: each operation becomes ONE Spark Connect command that writes and commits
// (Delta's DataFrameWriter with txnAppId/txnVersion/userMetadata), so a retried batch that
// already landed is skipped by Delta and our log reader recognises the commit.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dl/engine/remote_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"
#include "dl/engine/spark/spark_session.hpp"

namespace dl::engine::spark {

class SparkLoadEngine : public RemoteLoadEngine {
 public:
  explicit SparkLoadEngine(std::unique_ptr<SparkSession> session) : session_(std::move(session)) {}
  static Result<std::unique_ptr<RemoteLoadEngine>> Connect(const SparkRemote& remote);

  /// The files listed and typed once (a temp view), then the write itself; before it, with
  /// dedup, replace_where or explicit columns, a scan counts rows per file (a GROUP BY on the
  /// file-path metadata column; with dedup, the rows it keeps). A plain append counts nothing:
  /// count_from_commit.
  Result<AppendOutcome> Append(const AppendOperation& op) override;
  /// One MERGE per batch (spark_merge.cpp); scans: the counts with the NULL-key check (one
  /// scan of the ranked batch; with merge_condition or before the table exists, a count and
  /// the outcomes' join with the table) and the MERGE itself.
  Result<MergeOutcome> Merge(const MergeOperation& op) override;
  /// One MERGE per batch (spark_scd2.cpp) over the versions computed with window functions
  /// from the batch, the table's current rows of its keys and the change store.
  Result<Scd2Outcome> Scd2(const Scd2Operation& op) override;
  Result<std::map<std::string, int64_t>> CountRowsInFiles(const std::vector<std::string>& files,
                                                          const std::string& column) override;

 private:
  std::unique_ptr<SparkSession> session_;
};

/// `view` (whose columns are `columns`) with each row's rank within its key in column
/// kRankColumn (1: the row op.dedup keeps), and the key columns (op.dedup's, else every data
/// column); keys missing from the files are a SchemaMismatch naming them.
inline constexpr const char* kRankColumn = "__dl_rn";
struct Ranked {
  std::string sql;
  std::vector<std::string> keys;
  std::vector<std::string> columns;  ///< the view's, in order (what KeptRows selects)
};
Result<Ranked> RankedQuery(const AppendOperation& op, const std::string& view,
                           const std::vector<Column>& columns);
/// The rows of `ranked` that dedup keeps, without the rank.
std::string KeptRows(const Ranked& ranked);

/// The deduplicating SELECT over `view` (whose columns are `columns`: a batch view with the hidden
/// columns of spark_plan.hpp) for op.dedup: KeptRows, and with drop_keys_in_table only the keys the
/// table lacks; keys missing from the files are a SchemaMismatch naming them.
Result<std::string> DedupQuery(const AppendOperation& op, const std::string& view,
                               const std::vector<Column>& columns);

/// The write of `input` to op.table_root in op.mode, committed with op's txn options and
/// userMetadata (Delta's DataFrameWriter options).
pb::Plan WritePlan(const AppendOperation& op, pb::Relation input);

/// `query` (whose columns are `columns`) without the batch view's hidden columns: its other
/// columns by name (Spark 3.5 has no `SELECT * EXCEPT`).
std::string WithoutHiddenColumns(const std::string& query, const std::vector<Column>& columns);

/// A path as Spark reports a file (`file:/x`, `file:///x`, %-escaped) in the form the plan
/// names local files (`/x`); other URIs only unescaped.
std::string PathOfSparkUri(std::string_view uri);

}  // namespace dl::engine::spark
