// Log replay: checkpoint + commits -> the table state at one version.
#include "dl/delta/snapshot.hpp"

#include <algorithm>
#include <deque>

#include "dl/delta/in_commit_timestamp.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/delta/partition.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/time_util.hpp"

namespace dl::delta {

// Replay state. A logical file is keyed by (path, deletion vector id), paths compared
// after percent-decoding; the newest add or remove of a key wins. File actions
// are collected in replay order and reconciled by one sort at the end (Reconcile), which
// also yields the path order files() promises: cheaper than a hash map plus a sort.
struct Snapshot::State {
  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  std::vector<AddFile> adds;  // every add and remove seen, in replay order
  std::vector<RemoveFile> removes;
  std::vector<int64_t> add_seq, remove_seq;  // their positions in the replay
  int64_t seq = 0;
  std::map<std::string, SetTransaction> txns;
  std::map<std::string, DomainMetadata> domains;  // removed ones kept until the end
  std::optional<CommitInfo> commit_info;          // of the commit being replayed
  bool keep_files = true;                         // false: metadata-only replay

  // Room for n more adds; grows geometrically, so reserving per small commit stays linear.
  void Reserve(size_t n) {
    if (adds.capacity() >= adds.size() + n) return;
    size_t cap = std::max(adds.size() + n, 2 * adds.capacity());
    adds.reserve(cap);
    add_seq.reserve(cap);
  }
  void Apply(Action&& action) {
    std::visit([this](auto&& a) { On(std::move(a)); }, std::move(action));
  }
  void On(AddFile&& a) {
    if (!keep_files) return;
    adds.push_back(std::move(a));
    add_seq.push_back(seq++);
  }
  void On(RemoveFile&& r) {
    if (!keep_files) return;
    removes.push_back(std::move(r));
    remove_seq.push_back(seq++);
  }
  void On(Protocol&& p) { protocol = std::move(p); }
  void On(Metadata&& m) { metadata = std::move(m); }
  void On(SetTransaction&& t) { txns.insert_or_assign(t.app_id, std::move(t)); }
  void On(DomainMetadata&& d) { domains.insert_or_assign(d.domain, std::move(d)); }
  void On(CommitInfo&& c) { commit_info = std::move(c); }
  void On(AddCdcFile&&) {}  // change data is not table state
};

namespace {

using State = Snapshot::State;

std::vector<std::string> SplitLines(const std::string& content) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    size_t len = end - pos;
    if (len > 0 && content[end - 1] == '\r') --len;
    if (len > 0) lines.emplace_back(content, pos, len);
    pos = end + 1;
  }
  return lines;
}

// The checkpoint is replayed first, into an empty state: its file lists become the state's
// (no per-file move), numbered before every commit action.
void AdoptCheckpoint(CheckpointActions&& cp, State* state) {
  for (Action& a : cp.others) state->Apply(std::move(a));
  if (!state->keep_files) return;
  state->adds = std::move(cp.adds);
  state->removes = std::move(cp.removes);
  state->add_seq.resize(state->adds.size());
  for (auto& s : state->add_seq) s = state->seq++;
  state->remove_seq.resize(state->removes.size());
  for (auto& s : state->remove_seq) s = state->seq++;
}

// A v2 spec checkpoint's adds and removes may sit in sidecar files under _delta_log/_sidecars.
Status ReadSidecars(ParquetHandler* parquet, const LogPath& checkpoint, CheckpointActions* out) {
  if (parquet == nullptr) {
    return Status::Internal("reading the sidecars of checkpoint {} needs a ParquetHandler",
                            checkpoint.path);
  }
  const std::string dir =
      JoinPath(checkpoint.path.substr(0, checkpoint.path.rfind('/')), "_sidecars");
  std::vector<std::string> paths;
  for (const SidecarFile& s : out->sidecars) paths.push_back(ResolveDataPath(dir, s.path));
  auto read = parquet->ReadCheckpoint(paths, /*with_files=*/true);
  if (!read.ok()) {
    return read.status().WithContext(fmt::format("sidecars of checkpoint {}", checkpoint.path));
  }
  auto append = [](auto& to, auto& from) {
    if (to.empty()) {
      to = std::move(from);
    } else {
      to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    }
  };
  append(out->adds, read->adds);
  append(out->removes, read->removes);
  return Status::OK();
}

Status ReplayCheckpoint(FileSystem& fs, ParquetHandler* parquet, const LogSegment& seg,
                        State* state) {
  const LogPath& first = seg.checkpoint_parts.front();
  CheckpointActions actions;
  if (first.kind == LogPath::Kind::kUuidCheckpoint && first.path.ends_with(".json")) {
    DL_ASSIGN_OR_RETURN(std::string content, fs.Read(first.path));
    DL_RETURN_IF_ERROR(ParseCheckpointLines(SplitLines(content), first.path, &actions));
  } else {
    if (parquet == nullptr) {
      return Status::Internal("reading checkpoint {} needs a ParquetHandler, but none was given",
                              first.path);
    }
    std::vector<std::string> paths;
    for (const LogPath& p : seg.checkpoint_parts) paths.push_back(p.path);
    DL_ASSIGN_OR_RETURN(actions, parquet->ReadCheckpoint(paths, state->keep_files));
  }
  // UUID-named checkpoints follow the v2 spec, which makes checkpointMetadata mandatory.
  if (first.kind == LogPath::Kind::kUuidCheckpoint && !actions.checkpoint_metadata_version) {
    return Status::CorruptLog("v2 checkpoint {} has no checkpointMetadata action", first.path);
  }
  if (actions.checkpoint_metadata_version && *actions.checkpoint_metadata_version != first.version) {
    return Status::CorruptLog("checkpoint {} says it is of version {} (checkpointMetadata)",
                              first.path, *actions.checkpoint_metadata_version);
  }
  if (!actions.sidecars.empty() && state->keep_files) {
    DL_RETURN_IF_ERROR(ReadSidecars(parquet, first, &actions));
  }
  AdoptCheckpoint(std::move(actions), state);
  state->commit_info.reset();  // checkpoints carry no commitInfo; never carry one forward
  return Status::OK();
}

Status ReplayCommit(FileSystem& fs, const LogPath& commit, State* state) {
  DL_ASSIGN_OR_RETURN(std::string content, fs.Read(commit.path));
  state->commit_info.reset();
  state->Reserve(content.size() / 400);  // roughly one add per 300-400 bytes
  return ForEachAction(content, commit.path, [state](Action&& a) { state->Apply(std::move(a)); });
}

// The commitInfo of one commit file, if it has one. Only lines mentioning commitInfo are
// parsed (it is normally the first line).
Result<std::optional<CommitInfo>> ReadCommitInfo(FileSystem& fs, const LogPath& commit) {
  DL_ASSIGN_OR_RETURN(std::string content, fs.Read(commit.path));
  if (content.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::CorruptLog("commit file {} is empty", commit.path);  // as ForEachAction says
  }
  size_t pos = 0;
  for (int64_t line_no = 1; pos < content.size(); ++line_no) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + pos, end - pos);
    pos = end + 1;
    if (line.find("\"commitInfo\"") == std::string_view::npos) continue;
    auto parsed = ParseAction(line);
    if (!parsed.ok()) {
      return parsed.status().WithContext(fmt::format("{} line {}", commit.path, line_no));
    }
    if (*parsed && std::holds_alternative<CommitInfo>(**parsed)) {
      return std::optional<CommitInfo>(std::get<CommitInfo>(std::move(**parsed)));
    }
  }
  return std::optional<CommitInfo>();
}

// Commit time of one commit file: inCommitTimestamp, else commitInfo.timestamp, else mtime.
Result<int64_t> CommitFileTimestamp(FileSystem& fs, const LogPath& commit) {
  DL_ASSIGN_OR_RETURN(std::optional<CommitInfo> info, ReadCommitInfo(fs, commit));
  if (info) {
    if (auto t = info->in_commit_timestamp()) return *t;
    if (auto t = info->timestamp()) return *t;
  }
  return commit.modification_time_ms;
}

int64_t CheckpointMtime(const LogSegment& seg) {
  int64_t t = 0;
  for (const LogPath& p : seg.checkpoint_parts) t = std::max(t, p.modification_time_ms);
  return t;
}

// The timestamp of the segment's version, from the state after replay.
Result<int64_t> VersionTimestamp(FileSystem& fs, const LogSegment& seg, const State& state) {
  if (!seg.commits.empty()) {
    if (state.commit_info) {
      if (auto t = state.commit_info->in_commit_timestamp()) return *t;
      if (auto t = state.commit_info->timestamp()) return *t;
    }
    return seg.commits.back().modification_time_ms;
  }
  if (seg.checkpoint_commit) return CommitFileTimestamp(fs, *seg.checkpoint_commit);
  return CheckpointMtime(seg);
}

// One add or remove of the replay, for reconciliation.
struct FileRef {
  const std::string* path;
  const std::optional<DeletionVector>* dv;
  int64_t seq;
  size_t index;
  bool is_add;
};

// Order by path, then deletion vector id (no DV first), then replay position.
int CompareKeys(const FileRef& a, const FileRef& b) {
  if (int c = a.path->compare(*b.path); c != 0) return c;
  if (!*a.dv || !*b.dv) return static_cast<int>(a.dv->has_value()) - b.dv->has_value();
  return (*a.dv)->UniqueId().compare((*b.dv)->UniqueId());  // rare: same path, two DVs
}

// The newest action of each logical file wins: adds become files(), removes tombstones(),
// both in path order.
void Reconcile(State* state, std::vector<AddFile>* files, std::vector<RemoveFile>* tombstones) {
  std::vector<FileRef> refs;
  refs.reserve(state->adds.size() + state->removes.size());
  // Writers differ in how much of a path they percent-encode (delta-rs encodes non-ASCII,
  // Spark keeps it), so keys compare decoded paths; most paths have no '%' and are used as is.
  std::deque<std::string> decoded;
  auto key = [&decoded](const std::string& path) -> const std::string* {
    if (path.find('%') == std::string::npos) return &path;
    decoded.push_back(UriDecodePath(path));
    return &decoded.back();
  };
  for (size_t i = 0; i < state->adds.size(); ++i) {
    refs.push_back({key(state->adds[i].path), &state->adds[i].deletion_vector,
                    state->add_seq[i], i, true});
  }
  for (size_t i = 0; i < state->removes.size(); ++i) {
    const RemoveFile& r = state->removes[i];
    refs.push_back({key(r.path), &r.deletion_vector, state->remove_seq[i], i, false});
  }
  auto less = [](const FileRef& a, const FileRef& b) {
    int c = CompareKeys(a, b);
    return c != 0 ? c < 0 : a.seq < b.seq;
  };
  // Often already in order (a path-ordered checkpoint plus appends): one pass instead of a sort.
  if (!std::is_sorted(refs.begin(), refs.end(), less)) std::sort(refs.begin(), refs.end(), less);
  std::vector<const FileRef*> winners;
  winners.reserve(refs.size());
  bool adds_in_order = true;  // every add wins, and adds are already in path order
  size_t add_winners = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    const FileRef& r = refs[i];
    if (i + 1 < refs.size() && CompareKeys(r, refs[i + 1]) == 0) {  // superseded
      adds_in_order &= !r.is_add;
      continue;
    }
    winners.push_back(&r);
    if (r.is_add) adds_in_order &= r.index == add_winners++;
  }
  // Common for big tables (checkpoints are written in path order, appends add new paths):
  // take the adds as they are instead of moving every file into a new vector.
  if (adds_in_order && add_winners == state->adds.size()) {
    *files = std::move(state->adds);
  } else {
    files->reserve(add_winners);
    for (const FileRef* r : winners) {
      if (r->is_add) files->push_back(std::move(state->adds[r->index]));
    }
  }
  tombstones->reserve(winners.size() - add_winners);
  for (const FileRef* r : winners) {
    if (!r->is_add) tombstones->push_back(std::move(state->removes[r->index]));
  }
}

Status Validate(const State& state, const std::string& root, int64_t version) {
  if (!state.protocol) {
    return Status::CorruptLog("table {} has no protocol action at version {}", root, version);
  }
  if (!state.metadata) {
    return Status::CorruptLog("table {} has no metaData action at version {}", root, version);
  }
  DL_RETURN_IF_ERROR(ValidateProtocol(*state.protocol, root));
  return CheckCanRead(*state.protocol, *state.metadata, root);
}

Result<Schema> TableSchema(const Metadata& metadata, const std::string& root) {
  auto schema = ParseSchemaString(metadata.schema_string);
  if (!schema.ok()) return schema.status().WithContext(fmt::format("table {}", root));
  for (const std::string& col : metadata.partition_columns) {
    if (!schema->Find(col)) {
      return Status::CorruptLog("table {}: partition column {} is not in the schema", root, col);
    }
  }
  return schema;
}

}  // namespace

Snapshot::Snapshot(std::string table_root, LogSegment segment, int64_t version,
                   int64_t timestamp_ms, Protocol protocol, Metadata metadata, Schema schema,
                   std::vector<AddFile> files, std::vector<RemoveFile> tombstones,
                   std::map<std::string, SetTransaction> txns,
                   std::map<std::string, DomainMetadata> domains, bool has_files)
    : table_root_(std::move(table_root)),
      segment_(std::move(segment)),
      version_(version),
      timestamp_ms_(timestamp_ms),
      protocol_(std::move(protocol)),
      metadata_(std::move(metadata)),
      schema_(std::move(schema)),
      files_(std::move(files)),
      tombstones_(std::move(tombstones)),
      txns_(std::move(txns)),
      domains_(std::move(domains)),
      has_files_(has_files) {}

Result<std::shared_ptr<const Snapshot>> Snapshot::Load(FileSystem& fs, ParquetHandler* parquet,
                                                       const std::string& table_root,
                                                       std::optional<int64_t> version) {
  DL_ASSIGN_OR_RETURN(LogSegment seg, LogSegment::Build(fs, table_root, version));
  return LoadSegment(fs, parquet, table_root, std::move(seg), true);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::LoadWithoutFiles(FileSystem& fs,
                                                                   ParquetHandler* parquet,
                                                                   const std::string& table_root) {
  DL_ASSIGN_OR_RETURN(LogSegment seg, LogSegment::Build(fs, table_root));
  return LoadSegment(fs, parquet, table_root, std::move(seg), false);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::LoadSegment(FileSystem& fs,
                                                              ParquetHandler* parquet,
                                                              const std::string& table_root,
                                                              LogSegment seg, bool with_files) {
  State state;
  state.keep_files = with_files;
  if (!seg.checkpoint_parts.empty()) {
    DL_RETURN_IF_ERROR(ReplayCheckpoint(fs, parquet, seg, &state));
  }
  std::optional<int64_t> previous_ict;  // of the commit replayed before, if it had one
  for (const LogPath& commit : seg.commits) {
    DL_RETURN_IF_ERROR(ReplayCommit(fs, commit, &state));
    if (state.protocol && state.metadata &&
        InCommitTimestampsEnabled(*state.protocol, *state.metadata)) {
      DL_ASSIGN_OR_RETURN(previous_ict, RequireInCommitTimestamp(state.commit_info, previous_ict,
                                                                 commit.version, table_root));
    } else {
      previous_ict.reset();
    }
  }
  DL_RETURN_IF_ERROR(Validate(state, table_root, seg.version));
  DL_ASSIGN_OR_RETURN(Schema schema, TableSchema(*state.metadata, table_root));
  DL_ASSIGN_OR_RETURN(int64_t timestamp, VersionTimestamp(fs, seg, state));

  std::map<std::string, DomainMetadata> domains;
  for (auto& [name, d] : state.domains) {
    if (!d.removed) domains.emplace(name, std::move(d));
  }
  std::vector<AddFile> files;
  std::vector<RemoveFile> tombstones;
  Reconcile(&state, &files, &tombstones);
  const int64_t v = seg.version;
  return std::make_shared<const Snapshot>(
      table_root, std::move(seg), v, timestamp, std::move(*state.protocol),
      std::move(*state.metadata), std::move(schema), std::move(files), std::move(tombstones),
      std::move(state.txns), std::move(domains), with_files);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::LoadAtTimestamp(FileSystem& fs,
                                                                  ParquetHandler* parquet,
                                                                  const std::string& table_root,
                                                                  int64_t timestamp_ms) {
  DL_ASSIGN_OR_RETURN(auto files, ListLogFiles(fs, table_root));
  DL_ASSIGN_OR_RETURN(LogSegment latest, LogSegment::FromListing(files, fs, table_root));
  std::optional<int64_t> earliest = EarliestRecoverableVersion(files);
  if (!earliest) return Status::CorruptLog("missing version 0 in {}", LogDir(table_root));

  std::map<int64_t, const LogPath*> commits;
  for (const LogPath& f : files) {
    if (f.kind == LogPath::Kind::kCommit) commits[f.version] = &f;
  }
  // With in-commit timestamps, versions from the enablement on are searched by their ICT and
  // only when the timestamp is at or after the enablement's; older versions otherwise.
  int64_t lo = *earliest, hi = latest.version;
  std::optional<IctEnablement> ict;
  {
    DL_ASSIGN_OR_RETURN(auto now, LoadSegment(fs, parquet, table_root, latest, false));
    if (InCommitTimestampsEnabled(now->protocol(), now->metadata())) {
      DL_ASSIGN_OR_RETURN(ict, IctEnablementOf(now->metadata(), table_root));
      if (!ict->timestamp_ms || timestamp_ms >= *ict->timestamp_ms) {
        lo = std::max(lo, ict->version);
      } else {
        hi = ict->version - 1;
      }
    }
  }
  // Timestamp of version v: its commit file, or (cleaned-up commit) its checkpoint's mtime.
  auto timestamp_of = [&](int64_t v) -> Result<int64_t> {
    if (auto it = commits.find(v); it != commits.end()) {
      if (!ict || v < ict->version) return CommitFileTimestamp(fs, *it->second);
      DL_ASSIGN_OR_RETURN(std::optional<CommitInfo> info, ReadCommitInfo(fs, *it->second));
      return RequireInCommitTimestamp(info, std::nullopt, v, table_root);
    }
    DL_ASSIGN_OR_RETURN(LogSegment seg, LogSegment::FromListing(files, fs, table_root, v));
    if (seg.checkpoint_version != v) {
      return Status::CorruptLog("missing version {} in {}", v, LogDir(table_root));
    }
    return CheckpointMtime(seg);
  };
  // Before the enablement with no older version left: lo's ICT is after timestamp_ms.
  hi = std::max(hi, lo);
  DL_ASSIGN_OR_RETURN(int64_t first_ts, timestamp_of(lo));
  if (timestamp_ms < first_ts) {
    return Status::NotFound(
        "{} has no version at or before {} ({}); the earliest available version {} was "
        "committed at {} ({})",
        table_root, internal::FormatIsoMillis(timestamp_ms, true), timestamp_ms, lo,
        internal::FormatIsoMillis(first_ts, true), first_ts);
  }
  // Commit timestamps increase with the version, so binary-search the last one <= timestamp.
  while (lo < hi) {
    int64_t mid = lo + (hi - lo + 1) / 2;
    DL_ASSIGN_OR_RETURN(int64_t ts, timestamp_of(mid));
    if (ts <= timestamp_ms)
      lo = mid;
    else
      hi = mid - 1;
  }
  return Load(fs, parquet, table_root, lo);
}

std::optional<int64_t> Snapshot::TxnVersion(const std::string& app_id) const {
  auto it = txns_.find(app_id);
  if (it == txns_.end()) return std::nullopt;
  return it->second.version;
}

int64_t Snapshot::TotalSize() const {
  int64_t total = 0;
  for (const AddFile& f : files_) total += f.size;
  return total;
}

std::string Snapshot::Property(const std::string& key, const std::string& fallback) const {
  auto it = metadata_.configuration.find(key);
  return it == metadata_.configuration.end() ? fallback : it->second;
}

}  // namespace dl::delta
