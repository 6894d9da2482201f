// Loading on Spark: each operation becomes ONE Spark Connect command that writes and commits
// (Delta's DataFrameWriter with txnAppId/txnVersion/userMetadata), so a retried batch that
// already landed is skipped by Delta and our log reader recognises the commit.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "dl/engine/remote_load.hpp"
#include "dl/engine/spark/spark_session.hpp"

namespace dl::engine::spark {

class SparkLoadEngine : public RemoteLoadEngine {
 public:
  explicit SparkLoadEngine(std::unique_ptr<SparkSession> session) : session_(std::move(session)) {}
  static Result<std::unique_ptr<RemoteLoadEngine>> Connect(const SparkRemote& remote);

  /// Two scans of the sources: rows per file (a GROUP BY on the file-path metadata column,
  /// which also gives Spark's spelling of each path) and the write itself.
  Result<AppendOutcome> Append(const AppendOperation& op) override;

 private:
  std::unique_ptr<SparkSession> session_;
};

/// A path as Spark reports a file (`file:/x`, `file:///x`, %-escaped) in the form the plan
/// names local files (`/x`); other URIs only unescaped.
std::string PathOfSparkUri(std::string_view uri);

}  // namespace dl::engine::spark
