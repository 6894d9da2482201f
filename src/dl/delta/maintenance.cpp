#include "dl/delta/maintenance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "dl/common/clock.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/deletion_vector.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/storage/paths.hpp"

namespace dl::delta {
namespace {

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr char kDefaultLogRetention[] = "interval 30 days";
constexpr char kDefaultFileRetention[] = "interval 1 week";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(Lower(text.substr(start, i - start)));
  }
  return words;
}

// Milliseconds per unit (negative: microseconds, divided instead); 0 for unknown units.
int64_t UnitMs(std::string unit) {
  if (unit.size() > 1 && unit.back() == 's' && unit != "ms") unit.pop_back();
  if (unit == "week") return 7 * kDayMs;
  if (unit == "day") return kDayMs;
  if (unit == "hour") return kHourMs;
  if (unit == "minute") return 60 * 1000;
  if (unit == "second") return 1000;
  if (unit == "millisecond" || unit == "ms") return 1;
  if (unit == "microsecond") return -1000;
  return 0;
}

std::string FormatHours(int64_t ms) {
  if (ms % kHourMs == 0) return fmt::format("{}h", ms / kHourMs);
  return fmt::format("{:g}h", static_cast<double>(ms) / kHourMs);
}

Result<int64_t> PropertyIntervalMs(const Snapshot& snapshot, const std::string& key,
                                   const char* fallback) {
  auto ms = ParseIntervalMs(snapshot.Property(key, fallback));
  if (!ms.ok()) {
    return Status::Config("table {}: {}: {}", snapshot.table_root(), key, ms.status().message());
  }
  return ms;
}

}  // namespace

Result<int64_t> ParseIntervalMs(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        "invalid interval '{}': {} (expected e.g. 'interval 7 days', '168 hours', '1 week'; "
        "units: weeks, days, hours, minutes, seconds, milliseconds)",
        text, why);
  };
  std::vector<std::string> words = SplitWords(text);
  size_t i = !words.empty() && words[0] == "interval" ? 1 : 0;
  if (i == words.size()) return bad("no amount");
  int64_t total = 0;
  for (; i < words.size(); i += 2) {
    const std::string& num = words[i];
    int64_t n = 0;
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc() || end != num.data() + num.size() || n < 0) {
      return bad(fmt::format("'{}' is not a non-negative whole number", num));
    }
    if (i + 1 == words.size()) return bad(fmt::format("no unit after {}", num));
    int64_t unit = UnitMs(words[i + 1]);
    if (unit == 0) return bad(fmt::format("unknown unit '{}'", words[i + 1]));
    int64_t ms = 0;
    if (unit < 0) {
      ms = n / -unit;
    } else if (__builtin_mul_overflow(n, unit, &ms)) {
      return bad("too large");
    }
    if (__builtin_add_overflow(total, ms, &total)) return bad("too large");
  }
  return total;
}

namespace {

// Writes a file through `write(target)` so that no reader sees it partial: an object store
// shows an object whole or not at all, so it goes straight to its key; a local file is written
// under a hidden temp name beside it (log listing ignores it) and renamed into place.
Status WriteWhole(FileSystem& fs, const std::string& path,
                  const std::function<Status(const std::string&)>& write) {
  if (IsUri(path)) return write(path);
  size_t slash = path.rfind('/');
  std::string tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + "." + NewUuid() +
                    ".tmp";
  Status st = write(tmp);
  if (st.ok()) st = fs.Rename(tmp, path);
  if (!st.ok()) (void)fs.Delete(tmp);
  return st;
}

}  // namespace

Status WriteCheckpoint(FileSystem& fs, ParquetHandler& parquet, const Snapshot& snapshot,
                       int64_t now_ms) {
  DL_ASSIGN_OR_RETURN(
      int64_t retention,
      PropertyIntervalMs(snapshot, "delta.deletedFileRetentionDuration", kDefaultFileRetention));
  std::vector<std::string> lines;
  lines.reserve(snapshot.files().size() + snapshot.tombstones().size() + 3);
  // A v2Checkpoint table gets a UUID-named v2 spec checkpoint (checkpointMetadata first, file
  // actions inline, no sidecars); others the classic V1 one.
  const bool v2 = UsesV2Checkpoints(snapshot.protocol());
  if (v2) {
    nlohmann::ordered_json cm = {{"checkpointMetadata", {{"version", snapshot.version()},
                                                         {"tags", nlohmann::json::object()}}}};
    lines.push_back(cm.dump());
  }
  lines.push_back(SerializeAction(snapshot.protocol()));
  lines.push_back(SerializeAction(snapshot.metadata()));
  for (const auto& [app_id, txn] : snapshot.transactions()) lines.push_back(SerializeAction(txn));
  for (const auto& [domain, dm] : snapshot.domains()) lines.push_back(SerializeAction(dm));
  for (const auto& add : snapshot.files()) lines.push_back(SerializeAction(add));
  for (const auto& tombstone : snapshot.tombstones()) {
    // Spark treats a missing deletionTimestamp as 0, i.e. expired.
    if (tombstone.deletion_timestamp.value_or(0) + retention <= now_ms) continue;
    RemoveFile rm = tombstone;
    rm.stats.reset();
    rm.tags.reset();
    lines.push_back(SerializeAction(rm));
  }

  const std::string& root = snapshot.table_root();
  std::string path = v2 ? V2CheckpointPath(root, snapshot.version(), NewUuid())
                        : CheckpointPath(root, snapshot.version());
  DL_RETURN_IF_ERROR(WriteWhole(fs, path, [&](const std::string& target) {
    return parquet.WriteCheckpoint(target, lines);
  }));
  DL_ASSIGN_OR_RETURN(FileEntry written, fs.Stat(path));

  // Never move the hint backwards past a newer checkpoint written concurrently.
  std::string last_path = LastCheckpointPath(root);
  if (auto existing = fs.Read(last_path); existing.ok()) {
    auto j = nlohmann::json::parse(*existing, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("version") && j["version"].is_number_integer() &&
        j["version"].get<int64_t>() > snapshot.version()) {
      return Status::OK();
    }
  }
  nlohmann::ordered_json last = nlohmann::ordered_json::object();
  last["version"] = snapshot.version();
  last["size"] = static_cast<int64_t>(lines.size());
  last["sizeInBytes"] = written.size;
  last["numOfAddFiles"] = static_cast<int64_t>(snapshot.files().size());
  return fs.WriteAtomic(last_path, last.dump());
}

namespace {

// The log files of one version that cleanup may delete together.
struct VersionFiles {
  std::vector<FileEntry> files;
  bool complete_checkpoint = false;
  int64_t checkpoint_mtime = 0;
  std::map<int32_t, std::set<int32_t>> parts;  // num_parts -> parts seen
};

std::optional<int64_t> CrcVersion(const std::string& name) {
  if (name.size() != 24 || name.compare(20, 4, ".crc") != 0) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || end != name.data() + 20) return std::nullopt;
  return v;
}

void Classify(const FileEntry& entry, std::map<int64_t, VersionFiles>& versions) {
  std::string name = entry.path.substr(entry.path.rfind('/') + 1);
  if (auto crc = CrcVersion(name)) {
    versions[*crc].files.push_back(entry);
    return;
  }
  auto log_path = LogPath::Parse(name);
  if (!log_path) return;
  using Kind = LogPath::Kind;
  // A compacted file spans versions; file it under its end so it goes only when all do.
  int64_t v = log_path->kind == Kind::kCompacted ? log_path->end_version : log_path->version;
  VersionFiles& vf = versions[v];
  vf.files.push_back(entry);
  if (log_path->kind == Kind::kCheckpoint || log_path->kind == Kind::kUuidCheckpoint) {
    vf.complete_checkpoint = true;
  } else if (log_path->kind == Kind::kMultiPartCheckpoint) {
    auto& seen = vf.parts[log_path->num_parts];
    seen.insert(log_path->part);
    vf.complete_checkpoint |= static_cast<int32_t>(seen.size()) == log_path->num_parts;
  } else {
    return;
  }
  // Conservative for multi-part checkpoints: the checkpoint is as young as its newest part.
  vf.checkpoint_mtime = std::max(vf.checkpoint_mtime, entry.modification_time_ms);
}

// The newest complete checkpoint at or before the cutoff, such that everything older is also
// past the cutoff (so nothing newer than the cutoff is ever deleted).
std::optional<int64_t> CleanupBoundary(const std::map<int64_t, VersionFiles>& versions,
                                       int64_t max_version, int64_t cutoff) {
  std::optional<int64_t> boundary;
  int64_t newest_below = INT64_MIN;  // newest mtime among versions before the current one
  for (const auto& [version, vf] : versions) {
    if (version > max_version || newest_below > cutoff) break;
    if (vf.complete_checkpoint && vf.checkpoint_mtime <= cutoff) boundary = version;
    for (const auto& f : vf.files) newest_below = std::max(newest_below, f.modification_time_ms);
  }
  return boundary;
}

}  // namespace

Result<std::vector<std::string>> CleanupExpiredLogs(FileSystem& fs, const Snapshot& snapshot,
                                                    int64_t now_ms) {
  DL_ASSIGN_OR_RETURN(int64_t retention, PropertyIntervalMs(snapshot, "delta.logRetentionDuration",
                                                            kDefaultLogRetention));
  DL_ASSIGN_OR_RETURN(auto entries, fs.List(LogDir(snapshot.table_root())));
  std::map<int64_t, VersionFiles> versions;
  for (const auto& e : entries) {
    if (!e.is_dir) Classify(e, versions);
  }
  std::vector<std::string> deleted;
  auto boundary = CleanupBoundary(versions, snapshot.version(), now_ms - retention);
  if (!boundary) return deleted;
  // Oldest first, so an interrupted cleanup still leaves a contiguous log.
  for (const auto& [version, vf] : versions) {
    if (version >= *boundary) break;
    for (const auto& f : vf.files) {
      Status st = fs.Delete(f.path);
      if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
      deleted.push_back(f.path);
    }
  }
  return deleted;
}

namespace {

// The file of an on-disk deletion vector; none for inline ones or undecodable descriptors
// (which the reader reports when the file is read).
std::optional<std::string> DeletionVectorFile(const std::string& root,
                                              const std::optional<DeletionVector>& dv) {
  if (!dv || dv->storage_type == "i") return std::nullopt;
  auto path = DeletionVectorPath(root, *dv);
  if (!path.ok()) return std::nullopt;
  return *path;
}

// Lexical only (URI-aware: "s3://b" stays "s3://b"); the paths come from one listing.
std::string Normal(const std::string& path) { return LexicallyNormal(path); }

// '_' and '.' names are hidden (the log, temp and checksum files) unless they are directories
// of a partition column that itself starts with '_'. The change data files below
// `_change_data/` are not: no snapshot lists them, they age like any unreferenced file (as
// Spark's VACUUM has them).
bool IsHidden(std::string_view relative, const std::vector<std::string>& columns) {
  constexpr std::string_view kChangeData = "_change_data/";
  size_t first = relative.starts_with(kChangeData) ? kChangeData.size() : 0;
  for (size_t start = first; start < relative.size();) {
    const size_t slash = std::min(relative.find('/', start), relative.size());
    const std::string name(relative.substr(start, slash - start));
    start = slash + 1;
    if (name.empty() || (name[0] != '_' && name[0] != '.')) continue;
    bool partition_dir = std::any_of(columns.begin(), columns.end(), [&](const std::string& c) {
      return name.rfind(c + "=", 0) == 0;
    });
    if (!partition_dir) return true;
  }
  return false;
}

Result<int64_t> VacuumRetention(const Snapshot& snapshot, std::optional<int64_t> retention_ms,
                                bool force) {
  DL_ASSIGN_OR_RETURN(
      int64_t table_ms,
      PropertyIntervalMs(snapshot, "delta.deletedFileRetentionDuration", kDefaultFileRetention));
  if (!retention_ms) return table_ms;
  if (*retention_ms < 0) {
    return Status::InvalidArgument("vacuum retention must not be negative (got {} ms)",
                                   *retention_ms);
  }
  if (*retention_ms < table_ms && !force) {
    return Status::InvalidArgument(
        "retention of {} is below the table's delta.deletedFileRetentionDuration ({}); pass "
        "--force to vacuum anyway (files still needed by readers of older versions or by "
        "running writers may be deleted)",
        FormatHours(*retention_ms), FormatHours(table_ms));
  }
  return *retention_ms;
}

}  // namespace

Result<VacuumPlan> PlanVacuum(FileSystem& fs, const Snapshot& snapshot, int64_t now_ms,
                              std::optional<int64_t> retention_ms, bool force) {
  VacuumPlan plan;
  DL_ASSIGN_OR_RETURN(plan.retention_ms, VacuumRetention(snapshot, retention_ms, force));
  const std::string root = Normal(snapshot.table_root());
  std::set<std::string> live;
  for (const auto& add : snapshot.files()) {
    live.insert(Normal(ResolveDataPath(root, add.path)));
    if (auto dv = DeletionVectorFile(root, add.deletion_vector)) live.insert(Normal(*dv));
  }
  // A tombstone keeps its data file and its DV file: readers of versions before the remove
  // still need both. They age from the tombstone, not from the file.
  std::unordered_map<std::string, int64_t> deleted_at;
  auto tombstoned = [&](const std::string& path, int64_t ts) {
    int64_t& at = deleted_at[Normal(path)];
    at = std::max(at, ts);
  };
  for (const auto& rm : snapshot.tombstones()) {
    const int64_t ts = rm.deletion_timestamp.value_or(0);
    tombstoned(ResolveDataPath(root, rm.path), ts);
    if (auto dv = DeletionVectorFile(root, rm.deletion_vector)) tombstoned(*dv, ts);
  }

  const int64_t cutoff = now_ms - plan.retention_ms;
  // A directory holding its own _delta_log is another table nested in this one: not ours.
  DL_ASSIGN_OR_RETURN(auto entries, fs.ListRecursive(root, kDeltaLogDirName));
  for (auto& entry : entries) {
    std::string path = Normal(entry.path);
    if (path.size() <= root.size() + 1 || !IsSameOrInside(path, root)) continue;
    std::string_view relative =
        std::string_view(path).substr(root.size() + (root.back() == '/' ? 0 : 1));
    if (IsHidden(relative, snapshot.partition_columns()) || live.count(path) != 0) continue;
    // A tombstoned file must also outlive its tombstone: readers of versions before the
    // remove may still open it.
    int64_t age_from = entry.modification_time_ms;
    if (auto it = deleted_at.find(path); it != deleted_at.end()) {
      age_from = std::max(age_from, it->second);
    }
    if (age_from > cutoff) continue;
    plan.bytes += entry.size;
    entry.path = path;
    plan.files.push_back(std::move(entry));
  }
  return plan;
}

Result<std::vector<std::string>> RemoveStaleLogTemps(FileSystem& fs, const std::string& table_root,
                                                     int64_t latest_version) {
  std::vector<std::string> removed;
  DL_ASSIGN_OR_RETURN(auto entries, fs.List(LogDir(table_root)));
  for (const auto& e : entries) {
    std::string name = e.path.substr(e.path.rfind('/') + 1);
    if (name.size() < 26 || name[0] != '.' || name.compare(name.size() - 4, 4, ".tmp") != 0) {
      continue;
    }
    std::string_view digits(name.data() + 1, 20);
    if (name[21] != '.' ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    int64_t version = std::stoll(std::string(digits));
    bool commit = name.compare(21, 6, ".json.") == 0;
    if (version > latest_version || (!commit && version == latest_version)) continue;
    if (fs.Delete(e.path).ok()) removed.push_back(name);
  }
  return removed;
}

}  // namespace dl::delta
