// Loading on an engine that writes AND commits Delta itself (Spark through Spark Connect):
// the strategy describes the operation in engine-neutral terms; the engine compiles it into
// its own plan. Our Delta module stays the reader of the log (reconcile finds the commit by
// the metadata it carries).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::engine {

/// Append one batch of source files to a Delta table in one commit.
struct AppendOperation {
  std::string table_root;          ///< the table's directory (as the remote can reach it)
  std::string format;              ///< parquet | csv | json
  std::vector<std::string> paths;  ///< the batch's files, as the plan names them
  /// Reader settings by neutral name (each engine spells them its own way): csv `header`
  /// (true|false), `delimiter`, `quote`, `escape`, `null_value`, `encoding`; json `format`
  /// (lines|array).
  std::map<std::string, std::string> reader_options;
  /// Audit columns (empty name: not added): the row's source file (as `paths` names it), the
  /// batch's load time and id.
  std::string source_file_column, load_timestamp_column, batch_id_column;
  std::string batch_id;
  int64_t load_time_ms = 0;
  std::vector<std::string> partition_columns;
  bool merge_schema = false;  ///< new source columns are added to the table
  /// Idempotency: the engine's commit is skipped when the table already holds this txn
  /// version (or a later one) of this app id.
  std::string txn_app_id;
  int64_t txn_version = 0;
  std::string user_metadata;  ///< commitInfo.userMetadata (LoaderCommitInfo::ToUserMetadata)
};

struct AppendOutcome {
  /// Rows per source file (as `paths` names them); only when source_file_column is set.
  std::map<std::string, int64_t> rows_per_file;
  int64_t rows = 0;
};

/// One session on a remote engine; one per loader worker.
class RemoteLoadEngine {
 public:
  virtual ~RemoteLoadEngine() = default;
  /// Errors name the failing source file in detail().files when the engine says which.
  virtual Result<AppendOutcome> Append(const AppendOperation& op) = 0;
};

}  // namespace dl::engine
