// Snapshot: the state of a Delta table at one version, built by replaying its log.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/delta/schema.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta {

class ParquetHandler;

class Snapshot {
 public:
  /// Load the latest version (or `version`). NotFound if table_root has no _delta_log;
  /// CorruptLog for gaps, unreadable commits or checkpoints (v2 ones with their sidecars), a
  /// replayed commit lacking its in-commit timestamp or not after the previous one while they
  /// are enabled; Unsupported for unknown reader features (naming feature and table).
  static Result<std::shared_ptr<const Snapshot>> Load(FileSystem& fs, ParquetHandler* parquet,
                                                       const std::string& table_root,
                                                       std::optional<int64_t> version = {});
  /// Load the latest version whose commit timestamp is <= timestamp_ms (in-commit timestamp
  /// when enabled, else commitInfo.timestamp, else file modification time). With in-commit
  /// timestamps enabled later, a time at or after the enablement timestamp searches only the
  /// versions from the enablement on, an earlier one only those before it (PROTOCOL.md).
  static Result<std::shared_ptr<const Snapshot>> LoadAtTimestamp(FileSystem& fs,
                                                                  ParquetHandler* parquet,
                                                                  const std::string& table_root,
                                                                  int64_t timestamp_ms);

  /// The latest version without its file list: protocol, metadata, txns and domains only;
  /// files() and tombstones() are empty and has_files() is false. Enough for a blind append
  /// (its conflict checks look only at the winning commits), at a fraction of the cost on big
  /// tables. Never use one to plan removes or reads.
  static Result<std::shared_ptr<const Snapshot>> LoadWithoutFiles(FileSystem& fs,
                                                                  ParquetHandler* parquet,
                                                                  const std::string& table_root);

  const std::string& table_root() const { return table_root_; }
  int64_t version() const { return version_; }
  int64_t timestamp_ms() const { return timestamp_ms_; }  ///< commit time of version()
  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  const Schema& schema() const { return schema_; }
  const std::vector<std::string>& partition_columns() const {
    return metadata_.partition_columns;
  }
  /// Live files, in a deterministic order (by path). Empty unless has_files().
  const std::vector<AddFile>& files() const { return files_; }
  /// False for a snapshot from LoadWithoutFiles.
  bool has_files() const { return has_files_; }
  /// Remove tombstones still in the log (needed by checkpoints and VACUUM).
  const std::vector<RemoveFile>& tombstones() const { return tombstones_; }
  const std::map<std::string, SetTransaction>& transactions() const { return txns_; }
  /// Live (not removed) domain metadata, by domain.
  const std::map<std::string, DomainMetadata>& domains() const { return domains_; }
  const LogSegment& log_segment() const { return segment_; }

  std::optional<int64_t> TxnVersion(const std::string& app_id) const;
  int64_t TotalSize() const;
  /// Table property with a default, e.g. Property("delta.checkpointInterval", "10").
  std::string Property(const std::string& key, const std::string& fallback) const;

  // Built by log replay.
  struct State;
  Snapshot(std::string table_root, LogSegment segment, int64_t version, int64_t timestamp_ms,
           Protocol protocol, Metadata metadata, Schema schema, std::vector<AddFile> files,
           std::vector<RemoveFile> tombstones, std::map<std::string, SetTransaction> txns,
           std::map<std::string, DomainMetadata> domains, bool has_files = true);

 private:
  std::string table_root_;
  LogSegment segment_;
  int64_t version_ = -1;
  int64_t timestamp_ms_ = 0;
  Protocol protocol_;
  Metadata metadata_;
  Schema schema_;
  std::vector<AddFile> files_;
  std::vector<RemoveFile> tombstones_;
  std::map<std::string, SetTransaction> txns_;
  std::map<std::string, DomainMetadata> domains_;
  bool has_files_ = true;

  static Result<std::shared_ptr<const Snapshot>> LoadSegment(FileSystem& fs,
                                                             ParquetHandler* parquet,
                                                             const std::string& table_root,
                                                             LogSegment seg, bool with_files);
};

}  // namespace dl::delta
