// Our own commit metadata: what a loader commit records about itself, so the table's log
// says which source files it holds (exactly-once reconciliation reads it back). Our commits
// carry it as commitInfo.dataLoader; commits Spark makes for us carry the same object as
// commitInfo.userMetadata, a JSON string {"dataLoader": {...}} (Spark sets it from the
// session conf spark.databricks.delta.commitInfo.userMetadata).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta {

/// The commitInfo key of our metadata, and the key wrapping it inside userMetadata.
inline constexpr char kLoaderCommitInfoKey[] = "dataLoader";

/// One version of a source file a commit loaded: a file rewritten in place is a new version.
struct SourceFile {
  std::string path;
  int64_t size = 0;
  int64_t modification_time_ms = 0;
  /// The object store's ETag ("" for local files and for loads recorded before ETags were):
  /// an object overwritten with the same size within the same second differs only here.
  std::string etag;
  bool operator==(const SourceFile&) const = default;
};

/// What a merge did (commitInfo.dataLoader.merge).
struct MergeStats {
  int64_t source_rows = 0;
  int64_t collapsed_duplicates = 0;
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t deleted = 0;
  int64_t unchanged = 0;
  int64_t candidate_files = 0;
  int64_t rewritten_files = 0;
  int64_t deletion_vector_files = 0;
  bool operator==(const MergeStats&) const = default;
};

/// What a replaceWhere overwrite replaced (commitInfo.dataLoader.replaceWhere).
struct ReplaceWhereStats {
  std::string predicate;
  int64_t replaced_rows = 0;
  int64_t removed_files = 0;
  int64_t rewritten_files = 0;
  bool operator==(const ReplaceWhereStats&) const = default;
};

/// Data files of a companion table (change store, quarantine) that its own commit adds right
/// after the target's (see strategy/companion.hpp).
struct CompanionRecord {
  std::string schema_string;
  std::vector<AddFile> adds;
};

/// The Delta source version a commit loaded up to (commitInfo.dataLoader.deltaSource), for an
/// engine whose commit cannot carry the source's txn itself (Spark's carries only the table's):
/// the txn `app_id` = `version` is committed right after, and rolled forward from here when a
/// crash came between the two.
struct DeltaSourceVersion {
  std::string app_id;
  int64_t version = -1;
  bool operator==(const DeltaSourceVersion&) const = default;
};

struct LoaderCommitInfo {
  std::vector<SourceFile> source_files;            ///< "sourceFiles"
  std::optional<std::string> batch_id;             ///< "batchId"
  std::optional<MergeStats> merge;                 ///< "merge"
  std::optional<ReplaceWhereStats> replace_where;  ///< "replaceWhere"
  std::optional<CompanionRecord> change_store;     ///< "changeStore"
  std::optional<CompanionRecord> quarantine;       ///< "quarantine"
  std::optional<DeltaSourceVersion> delta_source;  ///< "deltaSource": {"appId", "version"}

  /// The companion field named `role` ("changeStore" or "quarantine"); null for another name.
  std::optional<CompanionRecord>* companion(std::string_view role);
  const std::optional<CompanionRecord>* companion(std::string_view role) const;

  bool empty() const;
  /// The commitInfo.dataLoader object (fields in a fixed order; unset ones left out).
  nlohmann::ordered_json ToJson() const;
  /// CorruptLog naming the field when a known field is malformed; unknown fields are ignored.
  static Result<LoaderCommitInfo> FromJson(const nlohmann::ordered_json& json);
  /// The commitInfo.userMetadata string for a commit another engine makes for us.
  std::string ToUserMetadata() const;

  /// Ours from a commitInfo: its dataLoader field, else its userMetadata when that is our
  /// JSON. nullopt when the commit is not ours. A userMetadata that is not ours (text, other
  /// JSON, or malformed under our key) is the user's and is ignored; a malformed dataLoader
  /// field is CorruptLog.
  static Result<std::optional<LoaderCommitInfo>> Of(const CommitInfo& commit_info);
  /// The same from a commit's actions (its commitInfo; nullopt without one).
  static Result<std::optional<LoaderCommitInfo>> Of(const std::vector<Action>& actions);
};

/// A commit of ours: its version and what it recorded.
struct LoaderCommit {
  int64_t version = -1;
  LoaderCommitInfo info;
};

/// The newest commit of ours at or below `version` of the table at `table_root` (`known`: a
/// snapshot's log segment, with `version` at most its version), for rolling forward what a
/// crash left between a loader commit and the commit that follows it. Reads only commitInfo,
/// newest first, as far back as it takes (other writers and our txn-only commits may have
/// committed any number of times since). nullopt when no commit the log holds is ours: none
/// was made, or log cleanup removed it. That one is older than the log retention (30 days by
/// default), and every run of ours rolls forward before it commits, so only a crash right
/// after it and then no run of ours on the table for that long leaves something behind.
Result<std::optional<LoaderCommit>> LatestLoaderCommit(FileSystem& fs,
                                                       const std::string& table_root,
                                                       int64_t version,
                                                       const LogSegment* known = nullptr);

}  // namespace dl::delta
