#include "dl/delta/transaction.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "dl/delta/column_mapping.hpp"
#include "dl/delta/conflict_checker.hpp"
#include "dl/delta/in_commit_timestamp.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/delta/maintenance.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/delta/protocol_features.hpp"
#include "dl/delta/row_tracking.hpp"

namespace dl::delta {
namespace {

constexpr char kEngineInfo[] = "data_loader/0.1.0";
constexpr int64_t kDefaultCheckpointInterval = 10;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string NewUuid() {
  uint64_t hi = Rng()(), lo = Rng()();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

bool IsTrue(const StringMap& config, const std::string& key) {
  auto it = config.find(key);
  if (it == config.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

// Protocol-level shape rules for one commit (PROTOCOL.md "Delta Log Entries").
Status ValidateShape(const std::vector<Action>& actions, const std::string& table) {
  int protocols = 0, metadatas = 0;
  std::set<std::string> app_ids;
  std::set<std::pair<std::string, std::string>> files;
  auto file_key = [](const std::string& path, const std::optional<DeletionVector>& dv) {
    return std::make_pair(path, dv ? dv->UniqueId() : std::string());
  };
  for (const auto& a : actions) {
    if (std::holds_alternative<Protocol>(a)) ++protocols;
    if (std::holds_alternative<Metadata>(a)) ++metadatas;
    if (const auto* t = std::get_if<SetTransaction>(&a); t && !app_ids.insert(t->app_id).second) {
      return Status::InvalidArgument("commit to {} has two txn actions for app id {}", table,
                                     t->app_id);
    }
    const std::string* path = nullptr;
    bool fresh = true;
    if (const auto* add = std::get_if<AddFile>(&a)) {
      path = &add->path;
      fresh = files.insert(file_key(add->path, add->deletion_vector)).second;
    } else if (const auto* rm = std::get_if<RemoveFile>(&a)) {
      path = &rm->path;
      fresh = files.insert(file_key(rm->path, rm->deletion_vector)).second;
    }
    if (!fresh) {
      return Status::InvalidArgument("commit to {} has two actions for file {}", table, *path);
    }
  }
  if (protocols > 1 || metadatas > 1) {
    return Status::InvalidArgument(
        "commit to {} has {} protocol and {} metaData actions (at most "
        "one each)",
        table, protocols, metadatas);
  }
  return Status::OK();
}

// Every add must carry a value (possibly null) for exactly the table's partition columns (by
// physical name under column mapping).
Status ValidatePartitionValues(const std::vector<Action>& actions, const Metadata& metadata,
                               const std::string& table) {
  std::set<std::string> want(metadata.partition_columns.begin(), metadata.partition_columns.end());
  if (UsesColumnMapping(metadata.configuration) && !want.empty()) {
    DL_ASSIGN_OR_RETURN(Schema schema, ParseSchemaString(metadata.schema_string));
    want.clear();
    for (const auto& c : metadata.partition_columns) want.insert(PhysicalColumnName(schema, c));
  }
  for (const auto& a : actions) {
    const auto* add = std::get_if<AddFile>(&a);
    if (add == nullptr) continue;
    std::set<std::string> have;
    for (const auto& [column, value] : add->partition_values) have.insert(column);
    if (have != want) {
      return Status::InvalidArgument(
          "commit to {}: add {} has partition values for [{}] but the table is partitioned by "
          "[{}]",
          table, add->path, fmt::join(have, ", "), fmt::join(want, ", "));
    }
  }
  return Status::OK();
}

const Protocol* FindProtocol(const std::vector<Action>& actions) {
  for (const auto& a : actions) {
    if (const auto* p = std::get_if<Protocol>(&a)) return p;
  }
  return nullptr;
}

const Metadata* FindMetadata(const std::vector<Action>& actions) {
  for (const auto& a : actions) {
    if (const auto* m = std::get_if<Metadata>(&a)) return m;
  }
  return nullptr;
}

// Checks for a table that is being created: it needs its own protocol and metaData.
Status ValidateNewTable(const Protocol* protocol, const Metadata* metadata,
                        const std::string& table) {
  if (protocol == nullptr || metadata == nullptr) {
    return Status::InvalidArgument("creating table {} needs a protocol and a metaData action",
                                   table);
  }
  if (metadata->id.empty()) {
    return Status::InvalidArgument("creating table {}: metaData.id is empty", table);
  }
  return Status::OK();
}

Status ValidateNewProtocol(const Protocol& protocol, const std::string& table) {
  Status st = ValidateProtocol(protocol, table);
  if (st.ok()) return st;
  return Status::InvalidArgument("commit to {} has an invalid protocol action: {}", table,
                                 st.message());
}

Status CheckAppendOnly(const Snapshot* snapshot, const Metadata& metadata,
                       const std::vector<Action>& actions, const std::string& table) {
  // Either side of a property change counts: turning appendOnly off and deleting in the same
  // commit is not allowed.
  bool append_only = IsTrue(metadata.configuration, "delta.appendOnly") ||
                     (snapshot && IsTrue(snapshot->metadata().configuration, "delta.appendOnly"));
  if (!append_only) return Status::OK();
  for (const auto& a : actions) {
    const auto* rm = std::get_if<RemoveFile>(&a);
    if (rm != nullptr && rm->data_change) {
      return Status::Unsupported(
          "table {} is append-only (delta.appendOnly=true): cannot remove {} with dataChange",
          table, rm->path);
    }
  }
  return Status::OK();
}

// domainMetadata actions need the writer feature (PROTOCOL.md "Domain Metadata").
Status CheckDomains(const Protocol& protocol, const std::vector<Action>& actions,
                    const std::string& table) {
  const auto& features = protocol.writer_features;
  if (features && std::count(features->begin(), features->end(), "domainMetadata") > 0) {
    return Status::OK();
  }
  for (const auto& a : actions) {
    if (const auto* d = std::get_if<DomainMetadata>(&a)) {
      return Status::InvalidArgument(
          "commit to {} writes domain {} but the table's protocol lacks the domainMetadata "
          "writer feature",
          table, d->domain);
    }
  }
  return Status::OK();
}

// All pre-commit checks. Returns the metadata the table will have after the commit.
Result<const Metadata*> ValidateCommit(const Snapshot* snapshot, const std::vector<Action>& actions,
                                       const std::string& table) {
  DL_RETURN_IF_ERROR(ValidateShape(actions, table));
  const Protocol* new_protocol = FindProtocol(actions);
  const Metadata* new_metadata = FindMetadata(actions);
  if (snapshot == nullptr) DL_RETURN_IF_ERROR(ValidateNewTable(new_protocol, new_metadata, table));
  if (new_protocol != nullptr) DL_RETURN_IF_ERROR(ValidateNewProtocol(*new_protocol, table));
  const Protocol& protocol = new_protocol ? *new_protocol : snapshot->protocol();
  const Metadata& metadata = new_metadata ? *new_metadata : snapshot->metadata();
  DL_RETURN_IF_ERROR(CheckCanWrite(protocol, metadata, table));
  DL_RETURN_IF_ERROR(CheckDomains(protocol, actions, table));
  DL_RETURN_IF_ERROR(ValidatePartitionValues(actions, metadata, table));
  DL_RETURN_IF_ERROR(CheckAppendOnly(snapshot, metadata, actions, table));
  return &metadata;
}

// Protocol and metaData first, then the rest in the caller's order (commitInfo goes before
// all of them, see CommitBody).
std::vector<Action> OrderForCommit(const std::vector<Action>& actions) {
  std::vector<Action> out;
  out.reserve(actions.size());
  for (const auto& a : actions) {
    if (std::holds_alternative<Protocol>(a)) out.push_back(a);
  }
  for (const auto& a : actions) {
    if (std::holds_alternative<Metadata>(a)) out.push_back(a);
  }
  for (const auto& a : actions) {
    if (!std::holds_alternative<Protocol>(a) && !std::holds_alternative<Metadata>(a)) {
      out.push_back(a);
    }
  }
  return out;
}

// The content of a commit. With in-commit timestamps it depends on the version it lands at:
// the timestamp follows the previous commit's, and a commit that enables them on an existing
// table records its version and timestamp in the metaData it carries.
struct CommitBody {
  nlohmann::ordered_json info;  // commitInfo, without inCommitTimestamp
  std::vector<Action> actions;  // ordered, without commitInfo
  bool ict = false;             // carries commitInfo.inCommitTimestamp
  bool enabling_ict = false;    // ... and enables them on a table with earlier commits
  bool row_ids = false;         // new adds get row ids above the high-water mark
  std::string table;            // for errors
  std::string rest;             // the actions serialized, unless they depend on the version

  bool DependsOnVersion() const { return enabling_ict || row_ids; }

  // commitInfo first: mandatory with in-commit timestamps, which lead it as Spark writes them.
  Result<std::string> Render(int64_t version, int64_t ict_ms, int64_t high_water_mark) const {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    if (ict) j["inCommitTimestamp"] = ict_ms;
    for (const auto& [key, value] : info.items()) j[key] = value;
    std::string out = SerializeAction(CommitInfo{std::move(j)}) + "\n";
    if (!DependsOnVersion()) return out + rest;
    std::vector<Action> copy = actions;
    if (enabling_ict) {
      for (Action& a : copy) {
        if (auto* m = std::get_if<Metadata>(&a)) SetIctEnablement(m, version, ict_ms);
      }
    }
    if (row_ids) DL_RETURN_IF_ERROR(AssignRowIds(&copy, high_water_mark, version, table));
    return out + SerializeActions(copy);
  }
};

// The lowest in-commit timestamp the next commit after `snapshot` may take: one past the
// snapshot's, or past its commit file's mtime when the next commit enables them.
int64_t IctFloor(const Snapshot* snapshot) {
  if (snapshot == nullptr) return 0;
  if (InCommitTimestampsEnabled(snapshot->protocol(), snapshot->metadata())) {
    return snapshot->timestamp_ms() + 1;
  }
  const LogSegment& seg = snapshot->log_segment();
  if (!seg.commits.empty()) return seg.commits.back().modification_time_ms + 1;
  if (seg.checkpoint_commit) return seg.checkpoint_commit->modification_time_ms + 1;
  return 0;
}

bool IsBlindAppend(const ReadSet& read_set, const std::vector<Action>& actions) {
  if (!read_set.is_blind_append()) return false;
  return std::none_of(actions.begin(), actions.end(), [](const Action& a) {
    const auto* add = std::get_if<AddFile>(&a);
    return std::holds_alternative<RemoveFile>(a) || std::holds_alternative<AddCdcFile>(a) ||
           (add != nullptr && !add->data_change);
  });
}

int64_t CheckpointInterval(const Metadata& metadata) {
  auto it = metadata.configuration.find("delta.checkpointInterval");
  if (it == metadata.configuration.end()) return kDefaultCheckpointInterval;
  int64_t n = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n <= 0) {
    return kDefaultCheckpointInterval;
  }
  return n;
}

// Checkpointing is an optimisation: any failure leaves the commit valid, so it only clears
// the flag.
bool MaybeCheckpoint(FileSystem& fs, ParquetHandler* parquet, const std::string& root,
                     int64_t version, const Metadata& metadata) {
  if (parquet == nullptr || version <= 0 || version % CheckpointInterval(metadata) != 0) {
    return false;
  }
  auto snapshot = Snapshot::Load(fs, parquet, root, version);
  if (!snapshot.ok()) return false;
  int64_t now = NowMs();
  if (!WriteCheckpoint(fs, *parquet, **snapshot, now).ok()) return false;
  (void)CleanupExpiredLogs(fs, **snapshot, now);  // retried at the next checkpoint
  return true;
}

void Backoff(const CommitOptions& options, int attempt) {
  int64_t delay = options.base_backoff_ms;
  for (int i = 1; i < attempt && delay < options.max_backoff_ms; ++i) delay *= 2;
  delay = std::min<int64_t>(delay, options.max_backoff_ms);
  if (delay <= 0) return;
  // Full jitter: writers that lost together should not retry together.
  std::uniform_int_distribution<int64_t> dist(0, delay);
  std::this_thread::sleep_for(std::chrono::milliseconds(dist(Rng())));
}

struct Published {
  int64_t version = -1;
  int attempts = 0;
};

// The in-commit timestamp a commit after `winner` (version `version`) must exceed: its own,
// or its file's mtime when it has none (a commit before the enablement).
Result<int64_t> WinnerIct(FileSystem& fs, const std::string& root, int64_t version,
                          const std::vector<Action>& winner) {
  for (const auto& a : winner) {
    const auto* ci = std::get_if<CommitInfo>(&a);
    if (ci == nullptr) continue;
    if (auto ict = ci->in_commit_timestamp()) return *ict;
    break;
  }
  DL_ASSIGN_OR_RETURN(FileEntry entry, fs.Stat(CommitPath(root, version)));
  return entry.modification_time_ms;
}

// Put-if-absent at read_version + 1; on a lost race check each winning commit and move on to
// the first free version, or fail with the conflict. In-commit timestamps follow the winners',
// and so does the row id high-water mark (the next attempt assigns row ids above theirs).
Result<Published> PublishWithRetries(FileSystem& fs, const std::string& root, int64_t read_version,
                                     const CommitBody& body, int64_t ict_floor,
                                     int64_t high_water_mark, const ConflictChecker& checker,
                                     const CommitOptions& options) {
  int64_t version = read_version + 1;
  for (int attempt = 1;; ++attempt) {
    DL_ASSIGN_OR_RETURN(
        std::string content,
        body.Render(version, body.ict ? std::max(NowMs(), ict_floor) : 0, high_water_mark));
    Status st = fs.PutIfAbsent(CommitPath(root, version), content);
    if (st.ok()) return Published{version, attempt};
    if (st.code() != StatusCode::kAlreadyExists) {
      return st.WithContext(fmt::format("committing version {} of {}", version, root));
    }
    for (;; ++version) {
      auto winner = fs.Read(CommitPath(root, version));
      if (!winner.ok() && winner.status().code() == StatusCode::kNotFound) break;
      if (!winner.ok()) return winner.status();
      DL_ASSIGN_OR_RETURN(auto actions, ParseActions(*winner, CommitPath(root, version)));
      std::optional<Conflict> conflict;
      if (read_version < 0) {
        conflict = Conflict{Conflict::Kind::kTableCreated, ""};
      } else {
        conflict = checker.Check(actions);
      }
      if (conflict) return ConflictStatus(root, version, *conflict, WinningOperation(actions));
      if (options.check_winner) DL_RETURN_IF_ERROR(options.check_winner(version, actions));
      if (body.row_ids) {
        DL_ASSIGN_OR_RETURN(int64_t theirs, RowIdHighWaterMark(actions, root));
        high_water_mark = std::max(high_water_mark, theirs);
      }
      if (body.ict) {
        DL_ASSIGN_OR_RETURN(int64_t winner_ict, WinnerIct(fs, root, version, actions));
        ict_floor = std::max(ict_floor, winner_ict + 1);
      }
    }
    if (attempt > options.max_retries) {
      return Status::CommitConflict(
          "commit to {} gave up after {} attempts: concurrent writers kept taking the next "
          "version (now {}) without conflicting; retry the commit",
          root, attempt, version);
    }
    Backoff(options, attempt);
  }
}

}  // namespace

std::string EngineInfo() { return kEngineInfo; }

Transaction::Transaction(FileSystem& fs, ParquetHandler* parquet, std::string table_root,
                         std::shared_ptr<const Snapshot> read_snapshot)
    : fs_(fs),
      parquet_(parquet),
      table_root_(std::move(table_root)),
      read_snapshot_(std::move(read_snapshot)) {}

void Transaction::SetOperation(std::string operation, StringMap parameters) {
  operation_ = std::move(operation);
  operation_parameters_ = std::move(parameters);
}

void Transaction::SetOperationMetrics(StringMap metrics) {
  operation_metrics_ = std::move(metrics);
}

void Transaction::SetCommitInfoField(const std::string& key, nlohmann::ordered_json value) {
  extra_commit_info_[key] = std::move(value);
}

void Transaction::Add(Action action) {
  // We write commitInfo ourselves; a caller's commitInfo contributes extra fields.
  if (auto* ci = std::get_if<CommitInfo>(&action)) {
    for (auto& [key, value] : ci->json.items()) extra_commit_info_[key] = value;
    return;
  }
  actions_.push_back(std::move(action));
}

void Transaction::AddAll(std::vector<Action> actions) {
  for (auto& a : actions) Add(std::move(a));
}

nlohmann::ordered_json Transaction::CommitInfoJson(IsolationLevel isolation) const {
  nlohmann::ordered_json info = nlohmann::ordered_json::object();
  info["timestamp"] = NowMs();
  info["operation"] = operation_;
  info["operationParameters"] = operation_parameters_;
  if (read_snapshot_) info["readVersion"] = read_snapshot_->version();
  info["isolationLevel"] = IsolationLevelName(isolation);
  info["isBlindAppend"] = IsBlindAppend(read_set_, actions_);
  info["operationMetrics"] = operation_metrics_;
  info["engineInfo"] = EngineInfo();
  info["txnId"] = NewUuid();
  for (const auto& [key, value] : extra_commit_info_.items()) info[key] = value;
  return info;
}

Result<CommitResult> Transaction::Commit(const CommitOptions& options) {
  if (committed_) {
    return Status::InvalidArgument("transaction on {} was already committed", table_root_);
  }
  DL_ASSIGN_OR_RETURN(const Metadata* metadata,
                      ValidateCommit(read_snapshot_.get(), actions_, table_root_));
  IsolationLevel isolation = TableIsolationLevel(*metadata);

  CommitBody body;
  const Protocol& protocol = FindProtocol(actions_) ? *FindProtocol(actions_)
                                                    : read_snapshot_->protocol();
  body.ict = InCommitTimestampsEnabled(protocol, *metadata);
  body.enabling_ict =
      body.ict && read_snapshot_ &&
      !InCommitTimestampsEnabled(read_snapshot_->protocol(), read_snapshot_->metadata());
  body.row_ids = AssignsRowIds(protocol, *metadata);
  const bool row_tracking = RowTrackingEnabled(protocol, *metadata);
  // The enablement properties need a metaData action (the feature may come alone); after
  // this push `protocol` may dangle.
  if (body.enabling_ict && !FindMetadata(actions_)) actions_.push_back(Metadata(*metadata));
  int64_t high_water_mark = -1;
  if (body.row_ids && read_snapshot_) {
    DL_ASSIGN_OR_RETURN(high_water_mark,
                        RowIdHighWaterMark(read_snapshot_->domains(), table_root_));
  }
  body.table = table_root_;
  body.info = CommitInfoJson(isolation);
  if (row_tracking) {
    // Rewrites that would move rows are refused before they get here (table/), so every
    // stable row id and commit version survives this commit.
    body.info["tags"] = {{"delta.rowTracking.preserved", "true"}};
  }
  body.actions = OrderForCommit(actions_);
  if (!body.DependsOnVersion()) body.rest = SerializeActions(body.actions);

  if (read_snapshot_ == nullptr) DL_RETURN_IF_ERROR(fs_.CreateDirs(LogDir(table_root_)));
  ConflictChecker checker(
      MakeTransactionInfo(read_snapshot_.get(), read_set_, actions_, isolation));
  DL_ASSIGN_OR_RETURN(Published published,
                      PublishWithRetries(fs_, table_root_, read_version(), body,
                                         IctFloor(read_snapshot_.get()), high_water_mark,
                                         checker, options));
  committed_ = true;

  CommitResult result;
  result.version = published.version;
  result.attempts = published.attempts;
  result.checkpoint_written =
      MaybeCheckpoint(fs_, parquet_, table_root_, published.version, *metadata);
  return result;
}

}  // namespace dl::delta
