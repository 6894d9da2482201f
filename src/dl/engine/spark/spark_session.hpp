// A Spark Connect session: SQL, session confs and the server's version over gRPC, the
// protocol Databricks Connect speaks. Results come back decoded (small results only).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "dl/common/status.hpp"
#include "dl/engine/engine.hpp"
#include "dl/engine/spark/connection_string.hpp"

namespace spark::connect {
class DataType;
class Plan;
class Relation;
class StorageLevel;
}

namespace dl::engine::spark {

/// Errors: a statement Spark rejects is Engine with Spark's error class first
/// ("[TABLE_OR_VIEW_NOT_FOUND] ..."); a server that cannot be reached or does not answer in
/// time is Io (transient: worth retrying) naming host:port; refused credentials are
/// InvalidArgument. No message ever holds the token.
class SparkSession {
 public:
  struct Options {
    /// Deadline of the short calls (conf, version); SQL statements run without one.
    std::chrono::milliseconds call_timeout{60000};
  };

  /// A session on `remote` (its session_id, else a new UUID). Nothing is sent yet: an
  /// unreachable server shows at the first call.
  static Result<std::unique_ptr<SparkSession>> Connect(const SparkRemote& remote,
                                                       const Options& options);
  static Result<std::unique_ptr<SparkSession>> Connect(const SparkRemote& remote) {
    return Connect(remote, Options());
  }
  ~SparkSession();  // releases the server-side session (best effort)

  const SparkRemote& remote() const;
  const std::string& session_id() const;

  /// Run one SQL statement; a query's rows (or a command's result rows) come back as text.
  Result<QueryRows> Sql(const std::string& sql);
  /// Run a plan built with the generated protocol classes (a query's rows as text; a command
  /// such as WriteOperation answers none).
  Result<QueryRows> Execute(const ::spark::connect::Plan& plan);
  /// The schema of `input`'s rows as Spark types them (AnalyzePlan: nothing runs; the
  /// files a read names are opened for their schemas, as DESCRIBE QUERY opens them).
  Result<::spark::connect::DataType> Schema(const ::spark::connect::Relation& input);
  /// Whether LocalCheckpoint checkpoints here (a server of Spark 4.0 or later).
  Result<bool> CanCheckpoint();
  /// The rows of `input`, computed now and held by the server for this session (a local
  /// checkpoint: Spark 4.0 and later), as a relation whose plan is those rows alone: what
  /// reads it is not analysed again down to the tables `input` read, nor re-planned when one
  /// of them is written (a CACHE TABLE's plan is, on every write to such a table: seconds
  /// each). nullopt from a server before 4.0, which has no such command. Held until
  /// ReleaseCheckpoint or the session's end (the server frees its blocks when its JVM
  /// collects them); lost with an executor that held part of it (a later read then fails
  /// with a transient error). Kept at `level`, or in memory spilling to disk when null.
  Result<std::optional<::spark::connect::Relation>> LocalCheckpoint(
      const ::spark::connect::Relation& input,
      const ::spark::connect::StorageLevel* level = nullptr);
  Status ReleaseCheckpoint(const ::spark::connect::Relation& checkpoint);
  /// Session confs (spark.databricks.delta.write.txnAppId, ...), via the Config call.
  Status SetConf(const std::string& key, const std::string& value);
  Status UnsetConf(const std::string& key);
  /// The conf's value; nullopt when it is not set.
  Result<std::optional<std::string>> GetConf(const std::string& key);
  /// The server's Spark version ("4.1.0").
  Result<std::string> SparkVersion();

  class Impl;

 private:
  explicit SparkSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dl::engine::spark
