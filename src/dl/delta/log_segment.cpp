// Listing _delta_log and choosing the checkpoint + commits that make up one version.
#include "dl/delta/log_segment.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

namespace dl::delta {
namespace {

constexpr size_t kVersionDigits = 20;

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses exactly `digits` decimal digits at the start of s.
template <typename T>
std::optional<T> Number(std::string_view s, size_t digits) {
  if (s.size() < digits || !AllDigits(s.substr(0, digits))) return std::nullopt;
  T v = 0;
  auto r = std::from_chars(s.data(), s.data() + digits, v);
  if (r.ec != std::errc() || r.ptr != s.data() + digits) return std::nullopt;  // overflow
  return v;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

// The rest of a name after "<version>.checkpoint.": parts, UUID or plain.
bool ParseCheckpointSuffix(std::string_view rest, LogPath* out) {
  if (rest == "parquet") {
    out->kind = LogPath::Kind::kCheckpoint;
    return true;
  }
  // <10 digits>.<10 digits>.parquet
  if (rest.size() == 10 + 1 + 10 + 8 && rest[10] == '.' && rest.substr(21) == ".parquet") {
    auto part = Number<int32_t>(rest, 10);
    auto parts = Number<int32_t>(rest.substr(11), 10);
    if (!part || !parts || *part < 1 || *part > *parts) return false;
    out->kind = LogPath::Kind::kMultiPartCheckpoint;
    out->part = *part;
    out->num_parts = *parts;
    return true;
  }
  // <uuid>.json or <uuid>.parquet
  if (rest.size() > 37 && IsUuid(rest.substr(0, 36)) && rest[36] == '.' &&
      (rest.substr(37) == "json" || rest.substr(37) == "parquet")) {
    out->kind = LogPath::Kind::kUuidCheckpoint;
    return true;
  }
  return false;
}

std::string VersionName(int64_t version) { return fmt::format("{:020d}", version); }

// A set of checkpoint files for one version that readers may use together.
struct Checkpoint {
  int64_t version = 0;
  int rank = 0;  // preference among checkpoints of one version: classic, multi-part, UUID
  std::vector<LogPath> parts;
};

// Complete checkpoints, ascending by version then preference. Multi-part sets missing a
// part are dropped (a writer may have died half-way).
std::vector<Checkpoint> CompleteCheckpoints(const std::vector<LogPath>& files) {
  std::vector<Checkpoint> out;
  std::map<std::pair<int64_t, int32_t>, std::map<int32_t, LogPath>> multi;
  for (const LogPath& f : files) {
    switch (f.kind) {
      case LogPath::Kind::kCheckpoint:
        out.push_back({f.version, 0, {f}});
        break;
      case LogPath::Kind::kUuidCheckpoint:
        out.push_back({f.version, 2, {f}});
        break;
      case LogPath::Kind::kMultiPartCheckpoint:
        multi[{f.version, f.num_parts}].emplace(f.part, f);
        break;
      default:
        break;
    }
  }
  for (auto& [key, parts] : multi) {
    if (static_cast<int32_t>(parts.size()) != key.second) continue;  // parts are 1..n, unique
    Checkpoint cp{key.first, 1, {}};
    for (auto& [part, f] : parts) cp.parts.push_back(f);
    out.push_back(std::move(cp));
  }
  std::sort(out.begin(), out.end(), [](const Checkpoint& a, const Checkpoint& b) {
    return std::tie(a.version, a.rank) < std::tie(b.version, b.rank);
  });
  return out;
}

// _last_checkpoint's "parts" for `version`, used only to choose between two complete
// checkpoints of the same version. Any problem with the file means "no hint".
std::optional<int64_t> HintedParts(FileSystem& fs, const std::string& root, int64_t version) {
  auto content = fs.Read(LastCheckpointPath(root));
  if (!content.ok()) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(*content);
    if (!j.is_object() || j.value("version", int64_t{-1}) != version) return std::nullopt;
    return j.value("parts", int64_t{1});
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

const Checkpoint* ChooseCheckpoint(const std::vector<Checkpoint>& complete, int64_t target,
                                   FileSystem& fs, const std::string& root) {
  auto newest = std::find_if(complete.rbegin(), complete.rend(),
                             [&](const Checkpoint& c) { return c.version <= target; });
  if (newest == complete.rend()) return nullptr;
  const int64_t v = newest->version;
  // Ties are rare (a classic and a multi-part checkpoint of one version); let the hint decide.
  auto first = std::find_if(complete.begin(), complete.end(),
                            [&](const Checkpoint& c) { return c.version == v; });
  if (&*first == &*newest) return &*newest;
  if (auto parts = HintedParts(fs, root, v)) {
    for (auto it = first; it != complete.end() && it->version == v; ++it) {
      if (static_cast<int64_t>(it->parts.size()) == *parts && it->rank != 2) return &*it;
    }
  }
  return &*first;
}

}  // namespace

std::optional<LogPath> LogPath::Parse(const std::string& file_name) {
  auto slash = file_name.rfind('/');
  std::string_view name(file_name);
  if (slash != std::string::npos) name.remove_prefix(slash + 1);
  auto version = Number<int64_t>(name, kVersionDigits);
  if (!version || name.size() <= kVersionDigits || name[kVersionDigits] != '.') {
    return std::nullopt;
  }
  std::string_view rest = name.substr(kVersionDigits + 1);
  LogPath out;
  out.version = *version;
  out.path = file_name;
  if (rest == "json") {
    out.kind = Kind::kCommit;
    return out;
  }
  constexpr std::string_view kCheckpoint = "checkpoint.";
  if (rest.substr(0, kCheckpoint.size()) == kCheckpoint) {
    if (!ParseCheckpointSuffix(rest.substr(kCheckpoint.size()), &out)) return std::nullopt;
    return out;
  }
  // <start>.<end>.compacted.json
  auto end = Number<int64_t>(rest, kVersionDigits);
  if (end && rest.substr(kVersionDigits) == ".compacted.json" && *end >= *version) {
    out.kind = Kind::kCompacted;
    out.end_version = *end;
    return out;
  }
  return std::nullopt;
}

std::string LogDir(const std::string& table_root) { return JoinPath(table_root, "_delta_log"); }

std::string CommitPath(const std::string& table_root, int64_t version) {
  return JoinPath(LogDir(table_root), VersionName(version) + ".json");
}

std::string CheckpointPath(const std::string& table_root, int64_t version) {
  return JoinPath(LogDir(table_root), VersionName(version) + ".checkpoint.parquet");
}

std::string V2CheckpointPath(const std::string& table_root, int64_t version,
                             const std::string& uuid) {
  return JoinPath(LogDir(table_root), VersionName(version) + ".checkpoint." + uuid + ".parquet");
}

std::string LastCheckpointPath(const std::string& table_root) {
  return JoinPath(LogDir(table_root), "_last_checkpoint");
}

namespace {

// The log files named after `start_after` (all of them when empty), sorted.
Result<std::vector<LogPath>> ListLogFilesAfter(FileSystem& fs, const std::string& table_root,
                                               const std::string& start_after) {
  auto not_a_table = [&] {
    return Status::NotFound("{} is not a Delta table (no _delta_log)", table_root);
  };
  auto entries = start_after.empty() ? fs.List(LogDir(table_root))
                                     : fs.ListAfter(LogDir(table_root), start_after);
  if (!entries.ok()) {
    if (entries.status().code() == StatusCode::kNotFound) return not_a_table();
    return entries.status();
  }
  std::vector<LogPath> files;
  files.reserve(entries->size());
  bool any_version = false;
  for (const FileEntry& e : *entries) {
    if (e.is_dir) continue;  // _staged_commits/, _sidecars/
    auto p = LogPath::Parse(e.path);
    if (!p) continue;  // .crc, temp files, _last_checkpoint, junk
    p->size = e.size;
    p->modification_time_ms = e.modification_time_ms;
    any_version |= p->kind != LogPath::Kind::kCompacted;
    files.push_back(std::move(*p));
  }
  if (!any_version) return not_a_table();
  std::sort(files.begin(), files.end(), [](const LogPath& a, const LogPath& b) {
    return std::tie(a.version, a.kind, a.num_parts, a.part, a.path) <
           std::tie(b.version, b.kind, b.num_parts, b.part, b.path);
  });
  return files;
}

// The version _last_checkpoint names; any problem with the file means "no hint".
std::optional<int64_t> HintedCheckpointVersion(FileSystem& fs, const std::string& root) {
  auto content = fs.Read(LastCheckpointPath(root));
  if (!content.ok()) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(*content);
    if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer()) {
      return std::nullopt;
    }
    return j["version"].get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

Result<std::vector<LogPath>> ListLogFiles(FileSystem& fs, const std::string& table_root) {
  return ListLogFilesAfter(fs, table_root, "");
}

Result<std::vector<LogPath>> ListLogFilesFrom(FileSystem& fs, const std::string& table_root,
                                              int64_t version) {
  // Every name of `version` starts with its 20 digits, so all sort after them.
  return ListLogFilesAfter(fs, table_root, VersionName(version));
}

std::optional<int64_t> EarliestRecoverableVersion(const std::vector<LogPath>& files) {
  for (const LogPath& f : files) {
    if (f.kind == LogPath::Kind::kCommit && f.version == 0) return 0;
  }
  auto complete = CompleteCheckpoints(files);
  if (complete.empty()) return std::nullopt;
  return complete.front().version;
}

Result<LogSegment> LogSegment::Build(FileSystem& fs, const std::string& table_root,
                                     std::optional<int64_t> version) {
  // The listing is authoritative and _last_checkpoint only a hint: with one, list from its
  // checkpoint on (object stores then list only the log's tail), and use that listing only if
  // it holds a complete checkpoint of the hinted version. A stale, corrupt or dangling hint
  // falls back to listing the whole log, so it cannot mislead.
  if (auto hinted = HintedCheckpointVersion(fs, table_root);
      hinted && *hinted >= 0 && (!version || *version >= *hinted)) {
    auto tail = ListLogFilesAfter(fs, table_root, VersionName(*hinted));
    if (tail.ok()) {
      auto complete = CompleteCheckpoints(*tail);
      if (std::any_of(complete.begin(), complete.end(),
                      [&](const Checkpoint& c) { return c.version == *hinted; })) {
        return FromListing(*tail, fs, table_root, version);
      }
    }
  }
  DL_ASSIGN_OR_RETURN(auto files, ListLogFiles(fs, table_root));
  return FromListing(files, fs, table_root, version);
}

Result<LogSegment> LogSegment::FromListing(const std::vector<LogPath>& files, FileSystem& fs,
                                           const std::string& table_root,
                                           std::optional<int64_t> version) {
  std::map<int64_t, const LogPath*> commits;
  for (const LogPath& f : files) {
    if (f.kind == LogPath::Kind::kCommit) commits[f.version] = &f;
  }
  std::vector<Checkpoint> complete = CompleteCheckpoints(files);
  int64_t latest = -1;
  if (!commits.empty()) latest = commits.rbegin()->first;
  if (!complete.empty()) latest = std::max(latest, complete.back().version);
  if (latest < 0) return Status::NotFound("{} is not a Delta table (no _delta_log)", table_root);
  if (version && *version > latest) {
    return Status::NotFound("version {} of {} does not exist; the latest version is {}", *version,
                            table_root, latest);
  }
  if (version && *version < 0) return Status::NotFound("version {} does not exist", *version);
  const int64_t target = version.value_or(latest);

  LogSegment seg;
  seg.version = target;
  int64_t next = 0;
  if (const Checkpoint* cp = ChooseCheckpoint(complete, target, fs, table_root)) {
    seg.checkpoint_version = cp->version;
    seg.checkpoint_parts = cp->parts;
    if (auto it = commits.find(cp->version); it != commits.end()) {
      seg.checkpoint_commit = *it->second;
    }
    next = cp->version + 1;
  } else if (!commits.count(0) && !complete.empty()) {
    // Older commits were cleaned up and no checkpoint at or before target remains.
    return Status::NotFound(
        "version {} of {} can no longer be reconstructed; the earliest available version is {}",
        target, table_root, complete.front().version);
  }
  for (auto it = commits.lower_bound(next); next <= target; ++next, ++it) {
    if (it == commits.end() || it->first != next) {
      return Status::CorruptLog("missing version {} in {}", next, LogDir(table_root));
    }
    seg.commits.push_back(*it->second);
  }
  return seg;
}

}  // namespace dl::delta
