// Discover: walk from the literal prefix of a glob, pruning directories that cannot match.
#include "dl/discovery/discover.hpp"

#include <algorithm>

#include "dl/common/clock.hpp"
#include "dl/discovery/glob.hpp"
#include "dl/storage/paths.hpp"

namespace dl::discovery {
namespace {

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string ChildPath(const std::string& dir, std::string_view name) {
  if (dir.empty()) return std::string(name);  // relative pattern: no "./" prefix
  return JoinPath(dir, std::string(name));
}

// Strip trailing slashes (but keep "/" itself).
std::string TrimTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// Whether `dir` is an excluded directory under any spelling (opts.excluded_dirs holds keys:
// see Discover).
bool IsExcluded(const DiscoverOptions& opts, const std::string& dir) {
  if (opts.excluded_dirs.empty()) return false;
  const std::string key = opts.identity.Key(dir);
  return std::find(opts.excluded_dirs.begin(), opts.excluded_dirs.end(), key) !=
         opts.excluded_dirs.end();
}

class Walker {
 public:
  Walker(FileSystem& fs, const GlobMatcher& matcher, const DiscoverOptions& opts,
         DiscoverStats& stats, std::vector<DiscoveredFile>& out)
      : fs_(fs), matcher_(matcher), opts_(opts), stats_(stats), out_(out) {}

  // List dir and follow the entries the matcher's states allow.
  Status Walk(const std::string& dir, const GlobMatcher::States& states, int depth) {
    auto listed = fs_.List(dir.empty() ? "." : dir);
    if (!listed.ok()) {
      // A subdirectory removed while we walk is not an error; the base is checked earlier.
      if (listed.status().code() == StatusCode::kNotFound && depth > 0) return Status::OK();
      return listed.status();
    }
    ++stats_.directories_listed;
    // A Delta table below the base: its files are table data (maybe the loader's own
    // output), never source files. The base itself may be one when the pattern says so.
    if (depth > 0 && HoldsDeltaLog(*listed)) {
      stats_.delta_tables_skipped.push_back(dir.empty() ? "." : dir);
      return Status::OK();
    }
    for (const FileEntry& e : *listed) {
      std::string_view name = BaseName(e.path);
      GlobMatcher::States next = matcher_.Step(states, name, /*skip_hidden=*/true);
      if (next.empty()) continue;
      if (!e.is_dir) {
        if (matcher_.Accepts(next))
          out_.push_back({ChildPath(dir, name), e.size, e.modification_time_ms});
        continue;
      }
      if (!matcher_.CanContinue(next)) continue;
      const std::string child = ChildPath(dir, name);
      if (IsExcluded(opts_, child)) continue;
      if (depth + 1 >= opts_.max_depth) {
        return Status::Io(
            "{}: more than {} directory levels below the pattern's base "
            "(a symlink loop?)",
            child, opts_.max_depth);
      }
      DL_RETURN_IF_ERROR(Walk(child, next, depth + 1));
    }
    return Status::OK();
  }

 private:
  static bool HoldsDeltaLog(const std::vector<FileEntry>& entries) {
    return std::any_of(entries.begin(), entries.end(), [](const FileEntry& e) {
      return e.is_dir && BaseName(e.path) == kDeltaLogDirName;
    });
  }

  FileSystem& fs_;
  const GlobMatcher& matcher_;
  const DiscoverOptions& opts_;
  DiscoverStats& stats_;
  std::vector<DiscoveredFile>& out_;
};

// Walk base_dir with `rest` (a glob relative to it), appending matches to out.
Status WalkBase(FileSystem& fs, const std::string& base_dir, const std::string& rest,
                const DiscoverOptions& opts, DiscoverStats& stats,
                std::vector<DiscoveredFile>& out) {
  DL_ASSIGN_OR_RETURN(GlobMatcher matcher, GlobMatcher::Compile(rest));
  Walker walker(fs, matcher, opts, stats, out);
  return walker.Walk(base_dir, matcher.Start(), 0);
}

// The canonical spelling of a base directory, "" for the working directory (so relative
// patterns give "x.csv", never "./x.csv").
std::string CanonicalBase(const std::string& base) {
  std::string canonical = CanonicalPath(base.empty() ? "." : base);
  return canonical == "." ? "" : canonical;
}

// Record the pattern's own spelling of each file found below `canonical` (older versions
// used it as the file's identity) where it differs.
void AddSpellings(std::vector<DiscoveredFile>& files, size_t first, const std::string& canonical,
                  const std::string& spelled) {
  if (canonical == spelled) return;
  const size_t skip = canonical.empty() ? 0 : canonical.size() + (canonical.back() != '/');
  for (size_t i = first; i < files.size(); ++i) {
    files[i].spelled_path = ChildPath(spelled, std::string_view(files[i].path).substr(skip));
  }
}

// "s3://bucket" of "s3://bucket/raw/*.csv".
std::string UriRoot(const std::string& uri) {
  return uri.substr(0, UriScheme(uri).size() + 3 + UriAuthority(uri).size());
}

// Match one listed key below `base` against the glob, segment by segment, with the walker's
// rules: hidden names need a literal match, excluded directories are never entered.
bool MatchesBelow(const GlobMatcher& matcher, const std::string& base, std::string_view rel,
                  const DiscoverOptions& opts) {
  GlobMatcher::States states = matcher.Start();
  size_t start = 0;
  while (true) {
    size_t slash = rel.find('/', start);
    std::string_view name =
        rel.substr(start, slash == std::string_view::npos ? rel.npos : slash - start);
    states = matcher.Step(states, name, /*skip_hidden=*/true);
    if (states.empty()) return false;
    if (slash == std::string_view::npos) return matcher.Accepts(states);
    if (!matcher.CanContinue(states)) return false;
    if (IsExcluded(opts, base + "/" + std::string(rel.substr(0, slash)))) return false;
    start = slash + 1;
  }
}

// Object stores have no directories to walk: one recursive listing below the pattern's
// literal prefix (Delta tables below it pruned), each key matched against the rest. A
// prefix with no objects is a missing base.
// Where a pattern starts: the directory listed below (or, for a literal pattern, the file or
// directory it names); the rest of the glob, relative to it.
struct PatternStart {
  std::string base;
  std::string rest;
  bool literal = false;
};

PatternStart StartOf(const std::string& pattern) {
  PatternStart s;
  s.literal = !HasWildcards(pattern) && pattern.find("**") == std::string::npos;
  if (!IsUri(pattern)) {
    GlobSplit split = SplitLiteralPrefix(pattern);
    s.base = s.literal ? TrimTrailingSlashes(UnescapeGlob(pattern)) : split.base_dir;
    s.rest = std::move(split.rest);
    return s;
  }
  const std::string root = UriRoot(pattern);
  std::string path = pattern.substr(root.size());
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  GlobSplit split = SplitLiteralPrefix(path);
  std::string below = s.literal ? TrimTrailingSlashes(UnescapeGlob(path)) : split.base_dir;
  s.base = LexicallyNormal(below.empty() ? root : root + "/" + below);
  s.rest = std::move(split.rest);
  return s;
}

Status CollectUri(FileSystem& fs, const GlobMatcher& full, const DiscoverOptions& opts,
                  DiscoverStats& stats, std::vector<DiscoveredFile>& out) {
  const PatternStart start = StartOf(full.pattern());
  const bool literal = start.literal;
  const std::string& base = start.base;
  if (literal) {  // a literal pattern may name one object
    auto entry = fs.Stat(base);
    if (entry.ok() && !entry->is_dir) {
      out.push_back({base, entry->size, entry->modification_time_ms, "", entry->etag});
      return Status::OK();
    }
  }
  DL_ASSIGN_OR_RETURN(GlobMatcher matcher, GlobMatcher::Compile(literal ? "**" : start.rest));
  auto listed = fs.ListRecursive(base, kDeltaLogDirName);
  if (!listed.ok() && listed.status().code() != StatusCode::kNotFound) return listed.status();
  ++stats.directories_listed;
  if (!listed.ok() || listed->empty()) {
    stats.base_missing = true;
    return Status::OK();
  }
  for (const FileEntry& e : *listed) {
    if (e.is_dir || !IsSameOrInside(e.path, base) || e.path.size() <= base.size() + 1) continue;
    std::string_view rel = std::string_view(e.path).substr(base.size() + 1);
    if (MatchesBelow(matcher, base, rel, opts)) {
      out.push_back({e.path, e.size, e.modification_time_ms, "", e.etag});
    }
  }
  return Status::OK();
}

// Find the files for the pattern, before the age filter and sorting.
Status Collect(FileSystem& fs, const GlobMatcher& full, const DiscoverOptions& opts,
               DiscoverStats& stats, std::vector<DiscoveredFile>& out) {
  const std::string& pattern = full.pattern();
  if (IsUri(pattern)) return CollectUri(fs, full, opts, stats, out);
  const PatternStart start = StartOf(pattern);
  const bool literal = start.literal;
  const std::string& base = start.base;
  const std::string stat_path = base.empty() ? "." : base;
  DL_ASSIGN_OR_RETURN(bool exists, fs.Exists(stat_path));
  if (!exists) {
    stats.base_missing = true;
    return Status::OK();
  }
  DL_ASSIGN_OR_RETURN(FileEntry entry, fs.Stat(stat_path));
  const std::string canonical = CanonicalBase(base);
  if (!entry.is_dir) {
    // The base itself is a file: it is the answer if the pattern matches it (a literal
    // path, or "dir/file/**" since `**` also matches zero directories).
    if (literal || full.Match(base)) {
      out.push_back(
          {canonical, entry.size, entry.modification_time_ms, canonical == base ? "" : base});
    }
    return Status::OK();
  }
  const size_t first = out.size();
  DL_RETURN_IF_ERROR(WalkBase(fs, canonical, literal ? "**" : start.rest, opts, stats, out));
  AddSpellings(out, first, canonical, base);
  return Status::OK();
}

// Leave out the files too young to load (still being written, or stamped in the future by a
// skewed clock) and list them as waiting.
void SetAsideYoungFiles(const DiscoverOptions& opts, std::vector<DiscoveredFile>& files,
                        DiscoverStats& st) {
  if (opts.min_file_age_seconds <= 0) return;
  const int64_t now = opts.now_ms ? *opts.now_ms : NowMs();
  const int64_t newest_allowed = now - opts.min_file_age_seconds * 1000;
  auto it = std::stable_partition(files.begin(), files.end(), [&](const DiscoveredFile& f) {
    return f.modification_time_ms <= newest_allowed;
  });
  for (auto young = it; young != files.end(); ++young) {
    const bool future = young->modification_time_ms > now;
    ++(future ? st.skipped_future : st.skipped_too_young);
    st.waiting.push_back(
        {young->path, future ? fmt::format("modified in the future ({} s ahead of this "
                                           "machine's clock; clock skew?)",
                                           (young->modification_time_ms - now + 999) / 1000)
                             : "younger than min_file_age_seconds"});
  }
  files.erase(it, files.end());
}

}  // namespace

Result<std::vector<DiscoveredFile>> Discover(FileSystem& fs, const std::string& pattern,
                                             const DiscoverOptions& opts, DiscoverStats* stats) {
  DiscoverStats local_stats;
  DiscoverStats& st = stats ? *stats : local_stats;
  st = DiscoverStats{};
  DL_ASSIGN_OR_RETURN(GlobMatcher matcher, GlobMatcher::Compile(pattern));
  DiscoverOptions keyed = opts;  // excluded directories compared by identity key
  for (auto& dir : keyed.excluded_dirs) dir = keyed.identity.Key(dir);
  std::vector<DiscoveredFile> files;
  DL_RETURN_IF_ERROR(
      Collect(fs, matcher, keyed, st, files).WithContext(fmt::format("discovering '{}'", pattern)));
  st.files_matched = static_cast<int64_t>(files.size());
  SetAsideYoungFiles(opts, files, st);
  std::sort(files.begin(), files.end(), [](const DiscoveredFile& a, const DiscoveredFile& b) {
    if (a.modification_time_ms != b.modification_time_ms)
      return a.modification_time_ms < b.modification_time_ms;
    return a.path < b.path;
  });
  return files;
}

Result<bool> PatternBaseExists(FileSystem& fs, const std::string& pattern) {
  const PatternStart start = StartOf(pattern);
  if (!IsUri(pattern)) return fs.Exists(start.base.empty() ? "." : start.base);
  // A prefix exists when it holds an object: the first page of its listing, one entry read.
  bool found = false;
  DL_RETURN_IF_ERROR(fs.ListEach(start.base, "", [&found](const FileEntry&) {
    found = true;
    return false;
  }));
  if (found || !start.literal) return found;
  auto entry = fs.Stat(start.base);  // a literal pattern may name one object
  if (entry.ok()) return true;
  if (entry.status().code() == StatusCode::kNotFound) return false;
  return entry.status();
}

}  // namespace dl::discovery
