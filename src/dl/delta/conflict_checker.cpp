#include "dl/delta/conflict_checker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "dl/delta/partition.hpp"
#include "dl/delta/row_tracking.hpp"

namespace dl::delta {
namespace {

// Paths compare decoded, as in log replay: writers differ in how much they percent-encode.
std::string PathKey(const std::string& path) {
  return path.find('%') == std::string::npos ? path : UriDecodePath(path);
}

// Empty string and null are both the null partition value (PROTOCOL.md).
std::optional<std::string> Normalized(const std::optional<std::string>& v) {
  if (!v || v->empty()) return std::nullopt;
  return v;
}

std::string FormatPartition(const PartitionValues& values) {
  if (values.empty()) return "{}";
  std::string out = "{";
  for (const auto& [column, value] : values) {
    if (out.size() > 1) out += ", ";
    out += column + "=" + (Normalized(value) ? *value : "null");
  }
  return out + "}";
}

bool IsBlindAppendCommit(const std::vector<Action>& actions) {
  for (const auto& a : actions) {
    if (const auto* ci = std::get_if<CommitInfo>(&a)) {
      auto it = ci->json.find("isBlindAppend");
      return it != ci->json.end() && it->is_boolean() && it->get<bool>();
    }
  }
  return false;
}

}  // namespace

const char* IsolationLevelName(IsolationLevel level) {
  return level == IsolationLevel::kWriteSerializable ? "WriteSerializable" : "Serializable";
}

IsolationLevel TableIsolationLevel(const Metadata& metadata) {
  auto it = metadata.configuration.find("delta.isolationLevel");
  if (it == metadata.configuration.end()) return IsolationLevel::kSerializable;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "writeserializable" ? IsolationLevel::kWriteSerializable
                                  : IsolationLevel::kSerializable;
}

std::string Conflict::Reason() const {
  const char* what = "";
  switch (kind) {
    case Kind::kProtocolChanged:
      what = "protocol changed";
      break;
    case Kind::kMetadataChanged:
      what = "metadata (schema or table properties) changed";
      break;
    case Kind::kConcurrentAppend:
      what = "concurrent append";
      break;
    case Kind::kConcurrentDeleteRead:
      what = "concurrent delete of a file we read";
      break;
    case Kind::kConcurrentDeleteDelete:
      what = "concurrent delete of a file we delete";
      break;
    case Kind::kConcurrentTransaction:
      what = "concurrent transaction for the same app id";
      break;
    case Kind::kConcurrentDomainMetadata:
      what = "concurrent change of the same domain";
      break;
    case Kind::kTableCreated:
      what = "table was created concurrently";
      break;
  }
  return detail.empty() ? std::string(what) : fmt::format("{}: {}", what, detail);
}

bool PartitionMatches(const PartitionValues& filter, const PartitionValues& values) {
  for (const auto& [column, want] : filter) {
    auto it = values.find(column);
    std::optional<std::string> have = it == values.end() ? std::nullopt : it->second;
    if (Normalized(want) != Normalized(have)) return false;
  }
  return true;
}

CurrentTransactionInfo MakeTransactionInfo(const Snapshot* read_snapshot, const ReadSet& read_set,
                                           const std::vector<Action>& actions,
                                           IsolationLevel isolation) {
  CurrentTransactionInfo info;
  info.read_set = read_set;
  info.app_ids = read_set.app_ids;
  info.isolation = isolation;
  if (read_snapshot != nullptr) {
    info.partition_columns = read_snapshot->partition_columns();
    // Without the file list the files read are unknown: assume all were, so no conflict is
    // missed (a blind append, the intended use, reads none).
    if (!read_snapshot->has_files() && !read_set.is_blind_append()) {
      info.read_set.whole_table = true;
    }
    for (const auto& f : read_snapshot->files()) {
      bool covered = read_set.whole_table;
      for (size_t i = 0; !covered && i < read_set.partitions.size(); ++i) {
        covered = PartitionMatches(read_set.partitions[i], f.partition_values);
      }
      if (covered) info.read_paths.insert(PathKey(f.path));
    }
  }
  for (const auto& a : actions) {
    // By path alone, whatever the DV: one physical file has one live (path, DV) at a time, so
    // two removes of the path act on the same file (e.g. both replacing its DV).
    if (const auto* r = std::get_if<RemoveFile>(&a)) info.removed_paths.insert(PathKey(r->path));
    // Writing a txn means we checked its version: a concurrent txn for it must conflict.
    if (const auto* t = std::get_if<SetTransaction>(&a)) info.app_ids.insert(t->app_id);
    // The row id high-water mark is not a conflict: a retry assigns ids above the winner's.
    if (const auto* d = std::get_if<DomainMetadata>(&a); d && d->domain != kRowTrackingDomain) {
      info.domains.insert(d->domain);
    }
  }
  return info;
}

bool ConflictChecker::ReadCovers(const PartitionValues& values) const {
  if (info_.read_set.whole_table) return true;
  return std::any_of(info_.read_set.partitions.begin(), info_.read_set.partitions.end(),
                     [&](const PartitionValues& p) { return PartitionMatches(p, values); });
}

std::optional<Conflict> ConflictChecker::CheckAdds(const std::vector<Action>& winning,
                                                   bool winner_blind) const {
  // A transaction that read nothing (blind append) cannot miss concurrently added rows.
  if (info_.read_set.is_blind_append()) return std::nullopt;
  if (winner_blind && info_.isolation == IsolationLevel::kWriteSerializable) return std::nullopt;
  for (const auto& a : winning) {
    const auto* add = std::get_if<AddFile>(&a);
    if (add == nullptr || !add->data_change || !ReadCovers(add->partition_values)) continue;
    std::string where = info_.read_set.whole_table
                            ? std::string("the table")
                            : "partition " + FormatPartition(add->partition_values);
    return Conflict{Conflict::Kind::kConcurrentAppend,
                    fmt::format("file {} added to {}", add->path, where)};
  }
  return std::nullopt;
}

std::optional<Conflict> ConflictChecker::CheckRemoves(const std::vector<Action>& winning) const {
  for (const auto& a : winning) {
    const auto* rm = std::get_if<RemoveFile>(&a);
    if (rm == nullptr) continue;
    const std::string key = PathKey(rm->path);
    if (info_.removed_paths.count(key) != 0) {
      return Conflict{Conflict::Kind::kConcurrentDeleteDelete, rm->path};
    }
    // Any remove (compaction included) invalidates a file we read: it may be gone by the
    // time our commit is replayed.
    bool read = info_.read_set.whole_table || info_.read_paths.count(key) != 0 ||
                (rm->partition_values && !info_.read_set.partitions.empty() &&
                 ReadCovers(*rm->partition_values));
    if (read) return Conflict{Conflict::Kind::kConcurrentDeleteRead, rm->path};
  }
  return std::nullopt;
}

std::optional<Conflict> ConflictChecker::Check(const std::vector<Action>& winning) const {
  for (const auto& a : winning) {
    if (std::holds_alternative<Protocol>(a)) return Conflict{Conflict::Kind::kProtocolChanged, ""};
    if (std::holds_alternative<Metadata>(a)) return Conflict{Conflict::Kind::kMetadataChanged, ""};
  }
  if (auto c = CheckAdds(winning, IsBlindAppendCommit(winning))) return c;
  if (auto c = CheckRemoves(winning)) return c;
  for (const auto& a : winning) {
    if (const auto* t = std::get_if<SetTransaction>(&a)) {
      if (info_.app_ids.count(t->app_id) != 0) {
        return Conflict{Conflict::Kind::kConcurrentTransaction, t->app_id};
      }
    }
    if (const auto* d = std::get_if<DomainMetadata>(&a)) {
      if (info_.domains.count(d->domain) != 0) {
        return Conflict{Conflict::Kind::kConcurrentDomainMetadata, d->domain};
      }
    }
  }
  return std::nullopt;
}

std::string WinningOperation(const std::vector<Action>& winning) {
  for (const auto& a : winning) {
    if (const auto* ci = std::get_if<CommitInfo>(&a)) {
      std::string op = ci->operation();
      if (!op.empty()) return op;
    }
  }
  return "an unknown operation";
}

Status ConflictStatus(const std::string& table, int64_t version, const Conflict& conflict,
                      const std::string& operation) {
  return Status::CommitConflict(
      "commit to {} conflicts with version {} ({}, by {}); re-plan against the new snapshot", table,
      version, conflict.Reason(), operation);
}

}  // namespace dl::delta
