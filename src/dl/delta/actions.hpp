// Delta log actions (PROTOCOL.md "Actions") and their JSON form.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dl/common/status.hpp"

namespace dl::delta {

/// Partition values as stored in the log: column -> serialized value, nullopt for null.
using PartitionValues = std::map<std::string, std::optional<std::string>>;
using StringMap = std::map<std::string, std::string>;

struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  std::optional<std::vector<std::string>> reader_features;  // present iff reader version 3
  std::optional<std::vector<std::string>> writer_features;  // present iff writer version 7
  bool operator==(const Protocol&) const = default;
};

struct Format {
  std::string provider = "parquet";
  StringMap options;
  bool operator==(const Format&) const = default;
};

struct Metadata {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  Format format;
  std::string schema_string;
  std::vector<std::string> partition_columns;
  StringMap configuration;
  std::optional<int64_t> created_time;
  bool operator==(const Metadata&) const = default;
};

struct DeletionVector {
  std::string storage_type;  // "u", "i" or "p"
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;
  std::optional<int64_t> max_row_index;
  /// storageType + pathOrInlineDv (+ "@" offset): the DV part of a logical file's key.
  std::string UniqueId() const;
  bool operator==(const DeletionVector&) const = default;
};

struct AddFile {
  std::string path;  // URI-encoded, relative to the table root (or absolute URI)
  PartitionValues partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;
  bool data_change = true;
  std::optional<std::string> stats;  // JSON string, kept raw; parse on demand
  std::optional<StringMap> tags;
  std::optional<DeletionVector> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;
};

struct RemoveFile {
  std::string path;
  std::optional<int64_t> deletion_timestamp;
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size;
  std::optional<std::string> stats;
  std::optional<StringMap> tags;
  std::optional<DeletionVector> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
};

struct AddCdcFile {
  std::string path;
  PartitionValues partition_values;
  int64_t size = 0;
  bool data_change = false;
  std::optional<StringMap> tags;
};

struct SetTransaction {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;
};

struct DomainMetadata {
  std::string domain;
  std::string configuration;
  bool removed = false;
};

/// commitInfo is free-form (engines add their own fields); kept as JSON.
struct CommitInfo {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  std::optional<int64_t> timestamp() const;
  std::optional<int64_t> in_commit_timestamp() const;
  std::string operation() const;
};

using Action = std::variant<CommitInfo, Protocol, Metadata, AddFile, RemoveFile, AddCdcFile,
                            SetTransaction, DomainMetadata>;

/// Parse one log line. Returns nullopt for an unknown action (readers must ignore those);
/// CorruptLog when the line is not JSON or a known action lacks a required field.
Result<std::optional<Action>> ParseAction(std::string_view line);
/// Parse a whole commit file (newline-delimited JSON). `source` names the file in errors.
/// A commit that is empty (0 bytes, blank lines) or holds no known action is CorruptLog.
Result<std::vector<Action>> ParseActions(std::string_view content, std::string_view source);
/// Parse a commit file line by line, handing each known action to `fn` without building a
/// vector (log replay of large commits). Errors name `source` and the line; an empty commit
/// is CorruptLog as in ParseActions.
Status ForEachAction(std::string_view content, std::string_view source,
                     const std::function<void(Action&&)>& fn);
/// Serialize one action as a single JSON line (no newline), field names as Spark writes them.
std::string SerializeAction(const Action& action);
/// Serialize a commit: one action per line, each ending in '\n'.
std::string SerializeActions(const std::vector<Action>& actions);

}  // namespace dl::delta
