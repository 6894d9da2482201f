// Reading a range of commits: planned from a listing or from known paths, read in parallel
// batches, handed over in order; missing versions are either expired (log cleanup) or a gap.
#include "dl/delta/commit_range.hpp"

#include <algorithm>
#include <map>

#include "dl/storage/stat_many.hpp"

namespace dl::delta {
namespace {

// One version of the range and where its commit file is (or would be).
struct Planned {
  int64_t version = 0;
  std::string path;
  int64_t modification_time_ms = 0;
  bool listed_missing = false;  // the listing has no commit file for it
};

struct Plan {
  std::vector<Planned> versions;
  int64_t until = -1;
  // Versions before `versions` the listing has no commit for (a long log's cleaned-up past:
  // one range, not one entry per version).
  std::optional<ExpiredVersions> missing_first;
  // The oldest commit the log keeps, when the planning already knows it (or knows it is at
  // most `after`); unknown: listed in full if a version turns out to be missing.
  std::optional<int64_t> oldest;
};

// Every version by its commit path; versions the known segment lists carry its listing.
Plan PlanByPath(const std::string& root, int64_t after, int64_t until, const LogSegment& known) {
  std::map<int64_t, const LogPath*> listed;
  for (const LogPath& c : known.commits) listed[c.version] = &c;
  Plan plan;
  plan.until = until;
  if (listed.count(after)) plan.oldest = after;
  for (int64_t v = after + 1; v <= until; ++v) {
    auto it = listed.find(v);
    if (it != listed.end()) {
      plan.versions.push_back({v, it->second->path, it->second->modification_time_ms});
    } else {
      plan.versions.push_back({v, CommitPath(root, v)});
    }
  }
  return plan;
}

// The log listed from `after` on (all of it for -1).
Result<Plan> PlanFromListing(FileSystem& fs, const std::string& root, int64_t after,
                             std::optional<int64_t> until) {
  DL_ASSIGN_OR_RETURN(auto files,
                      after < 0 ? ListLogFiles(fs, root) : ListLogFilesFrom(fs, root, after));
  std::map<int64_t, const LogPath*> commits;
  for (const LogPath& f : files) {
    if (f.kind == LogPath::Kind::kCommit) commits[f.version] = &f;
  }
  const int64_t newest = commits.empty() ? after : std::max(after, commits.rbegin()->first);
  if (until && *until > newest) {
    return Status::NotFound("version {} of {} does not exist; the latest version is {}", *until,
                            root, newest);
  }
  Plan plan;
  plan.until = until.value_or(newest);
  if (after < 0 && !commits.empty()) plan.oldest = commits.begin()->first;
  if (commits.count(after)) plan.oldest = after;
  auto first = commits.upper_bound(after);
  const int64_t first_listed = first == commits.end() ? plan.until + 1 : first->first;
  if (first_listed > after + 1) {
    plan.missing_first = ExpiredVersions{after + 1, std::min(first_listed - 1, plan.until)};
  }
  for (int64_t v = first_listed; v <= plan.until; ++v) {
    auto it = commits.find(v);
    if (it != commits.end()) {
      plan.versions.push_back({v, it->second->path, it->second->modification_time_ms});
    } else {
      plan.versions.push_back({v, CommitPath(root, v), 0, true});
    }
  }
  return plan;
}

// The oldest commit file in the whole log (nullopt: none).
Result<std::optional<int64_t>> OldestCommit(FileSystem& fs, const std::string& root) {
  DL_ASSIGN_OR_RETURN(auto files, ListLogFiles(fs, root));
  for (const LogPath& f : files) {
    if (f.kind == LogPath::Kind::kCommit) return std::optional<int64_t>(f.version);
  }
  return std::optional<int64_t>();
}

Status MissingVersion(const std::string& root, int64_t version) {
  return Status::CorruptLog(
      "missing version {} of table {}: its commit file {} does not exist, though the log keeps "
      "older commits",
      version, root, CommitPath(root, version));
}

Result<std::vector<Action>> ParseCommit(const std::string& content, const std::string& path,
                                        bool commit_info_only) {
  if (commit_info_only) {
    std::string_view first(content);
    first = first.substr(0, first.find('\n'));
    if (first.find("\"commitInfo\"") != std::string_view::npos) return ParseActions(first, path);
  }
  return ParseActions(content, path);
}

// Reads the plan's commits in order. Missing versions before the first commit found are
// expired if the log keeps no older commit; any other missing version is a gap.
class RangeReader {
 public:
  RangeReader(FileSystem& fs, const std::string& root, const CommitRangeOptions& options,
              const std::function<Status(Commit&&)>& fn, Plan plan)
      : fs_(fs), root_(root), options_(options), fn_(fn), plan_(std::move(plan)) {
    missing_prefix_ = plan_.missing_first;
  }

  Result<CommitRangeInfo> Run() {
    info_.until = plan_.until;
    const size_t step = static_cast<size_t>(std::max(options_.parallel, 1));
    for (size_t i = 0; i < plan_.versions.size(); i += step) {
      std::vector<Planned> batch(plan_.versions.begin() + static_cast<std::ptrdiff_t>(i),
                                 plan_.versions.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                              plan_.versions.size(), i + step)));
      DL_RETURN_IF_ERROR(ReadBatch(batch));
    }
    DL_RETURN_IF_ERROR(SettleMissingPrefix());
    return info_;
  }

 private:
  Status ReadBatch(std::vector<Planned>& batch) {
    std::vector<std::string> paths;
    for (const Planned& p : batch) {
      if (!p.listed_missing) paths.push_back(p.path);
    }
    std::vector<Result<std::string>> contents = ReadMany(fs_, paths, options_.parallel);
    size_t next = 0;
    for (Planned& p : batch) {
      if (p.listed_missing) {
        DL_RETURN_IF_ERROR(OnMissing(p.version));
        continue;
      }
      Result<std::string>& content = contents[next++];
      if (!content.ok() && content.status().code() == StatusCode::kNotFound) {
        plan_.oldest.reset();  // removed since it was listed: the listing is stale
        DL_RETURN_IF_ERROR(OnMissing(p.version));
        continue;
      }
      if (!content.ok()) return content.status();
      if (!found_any_) {
        DL_RETURN_IF_ERROR(SettleMissingPrefix());
        found_any_ = true;
      }
      Commit commit{p.version, std::move(p.path), p.modification_time_ms, {}};
      DL_ASSIGN_OR_RETURN(commit.actions,
                          ParseCommit(*content, commit.path, options_.commit_info_only));
      DL_RETURN_IF_ERROR(fn_(std::move(commit)));
    }
    return Status::OK();
  }

  Status OnMissing(int64_t version) {
    // After a commit of the range was found, the log keeps an older commit than this one.
    if (found_any_) return MissingVersion(root_, version);
    if (!missing_prefix_) missing_prefix_ = ExpiredVersions{version, version};
    missing_prefix_->last = version;  // versions come in order: the prefix stays contiguous
    return Status::OK();
  }

  Status SettleMissingPrefix() {
    if (!missing_prefix_) return Status::OK();
    std::optional<int64_t> oldest = plan_.oldest;
    if (!oldest) {
      DL_ASSIGN_OR_RETURN(oldest, OldestCommit(fs_, root_));
    }
    if (oldest && missing_prefix_->last >= *oldest) {
      return MissingVersion(root_, std::max(missing_prefix_->first, *oldest));
    }
    info_.expired = missing_prefix_;
    missing_prefix_.reset();
    return Status::OK();
  }

  FileSystem& fs_;
  const std::string& root_;
  const CommitRangeOptions& options_;
  const std::function<Status(Commit&&)>& fn_;
  Plan plan_;
  CommitRangeInfo info_;
  std::optional<ExpiredVersions> missing_prefix_;  // missing before any commit was found
  bool found_any_ = false;
};

}  // namespace

const CommitInfo* Commit::commit_info() const {
  for (const Action& a : actions) {
    if (const auto* ci = std::get_if<CommitInfo>(&a)) return ci;
  }
  return nullptr;
}

Result<CommitRangeInfo> ForEachCommit(FileSystem& fs, const std::string& table_root, int64_t after,
                                      std::optional<int64_t> until,
                                      const CommitRangeOptions& options,
                                      const std::function<Status(Commit&&)>& fn) {
  after = std::max<int64_t>(after, -1);
  if (until && *until <= after) return CommitRangeInfo{*until, std::nullopt};
  Plan plan;
  if (options.known && until && *until <= options.known->version) {
    plan = PlanByPath(table_root, after, *until, *options.known);
  } else {
    DL_ASSIGN_OR_RETURN(plan, PlanFromListing(fs, table_root, after, until));
  }
  return RangeReader(fs, table_root, options, fn, std::move(plan)).Run();
}

Result<CommitRange> ReadCommitRange(FileSystem& fs, const std::string& table_root, int64_t after,
                                    std::optional<int64_t> until,
                                    const CommitRangeOptions& options) {
  CommitRange range;
  auto collect = [&range](Commit&& c) {
    range.commits.push_back(std::move(c));
    return Status::OK();
  };
  DL_ASSIGN_OR_RETURN(range.info, ForEachCommit(fs, table_root, after, until, options, collect));
  return range;
}

Result<bool> ForEachCommitNewestFirst(FileSystem& fs, const std::string& table_root,
                                      int64_t until, const CommitRangeOptions& options,
                                      const std::function<Result<bool>(const Commit&)>& fn) {
  const int64_t most = std::max(options.parallel, 1);
  int64_t chunk = 1;
  for (int64_t last = until; last >= 0; last -= chunk, chunk = std::min(chunk * 2, most)) {
    DL_ASSIGN_OR_RETURN(auto range, ReadCommitRange(fs, table_root, last - chunk, last, options));
    for (auto c = range.commits.rbegin(); c != range.commits.rend(); ++c) {
      DL_ASSIGN_OR_RETURN(bool stop, fn(*c));
      if (stop) return true;
    }
    if (range.info.expired) return false;  // log cleanup removed the older versions
  }
  return false;
}

}  // namespace dl::delta
