#include "dl/loader/planner.hpp"

#include "dl/common/clock.hpp"
#include "dl/strategy/load_strategy.hpp"

namespace dl::loader {

const char* SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kAlreadyLoaded:
      return "already loaded";
    case SkipReason::kModifiedAfterLoad:
      return "modified after it was loaded";
    case SkipReason::kRetriesExhausted:
      return "retries exhausted";
  }
  return "?";
}

namespace {

// What tells the loaded version and the new one apart, for the skip message.
std::string Change(const table::SourceFile& loaded, const table::SourceFile& now) {
  if (loaded.size != now.size) return fmt::format("size {} -> {}", loaded.size, now.size);
  if (loaded.modification_time_ms != now.modification_time_ms) {
    return fmt::format("modification time {} -> {} ms", loaded.modification_time_ms,
                       now.modification_time_ms);
  }
  return fmt::format("same size and modification time, ETag {} -> {}", loaded.etag, now.etag);
}

}  // namespace

std::map<std::string, tracker::FileRecord> RecordsByKey(
    std::map<std::string, tracker::FileRecord> by_path, const LocationIdentity& identity) {
  std::map<std::string, tracker::FileRecord> out;
  for (auto& [path, record] : by_path) {
    auto [it, fresh] = out.try_emplace(identity.Key(path), record);
    if (fresh) continue;
    const tracker::FileRecord& kept = it->second;
    const bool same_version = SameVersion(TrackedVersion(path, kept), TrackedVersion(path, record));
    const bool kept_done = kept.status == tracker::FileStatus::kCompleted;
    const bool done = record.status == tracker::FileStatus::kCompleted;
    // As the tracker picks among one spelling's rows: a version once loaded stays loaded.
    const bool better =
        same_version && kept_done != done ? done : record.updated_at_ms > kept.updated_at_ms;
    if (better) it->second = std::move(record);
  }
  return out;
}

int64_t TablePlan::files_planned() const {
  int64_t n = 0;
  for (const auto& b : batches) n += static_cast<int64_t>(b.size());
  return n;
}

TablePlan PlanTable(const config::TableConfig& table, int retry_attempts,
                    const std::vector<discovery::DiscoveredFile>& discovered,
                    const LoadState& state) {
  TablePlan plan;
  plan.files_discovered = static_cast<int64_t>(discovered.size());
  std::vector<PlannedFile> todo;
  const int64_t now = NowMs();
  // A file is known by its identity key (any spelling of its store's scheme), or under the
  // local spelling older versions recorded.
  auto find = [&state](const auto& map, const discovery::DiscoveredFile& d) {
    auto it = map.find(state.Key(d.path));
    if (it == map.end() && !d.spelled_path.empty()) it = map.find(state.Key(d.spelled_path));
    return it;
  };
  auto loaded_somehow = [&state](const discovery::DiscoveredFile& d) {
    return state.loaded_paths.count(state.Key(d.path)) != 0 ||
           (!d.spelled_path.empty() && state.loaded_paths.count(state.Key(d.spelled_path)) != 0);
  };
  for (const auto& d : discovered) {
    table::SourceFile file{d.path, d.size, d.modification_time_ms, d.etag};
    PlannedFile p{file, 0, now, false};
    auto committed = find(state.committed, d);
    auto rec = find(state.records, d);
    if (rec != state.records.end()) p.created_at_ms = rec->second.created_at_ms;

    // The version the table holds, if any: the log's record beats the tracker's.
    std::optional<table::SourceFile> loaded;
    if (committed != state.committed.end()) {
      loaded = committed->second.file;
    } else if (rec != state.records.end() &&
               rec->second.status == tracker::FileStatus::kCompleted) {
      loaded = TrackedVersion(d.path, rec->second);
    }
    if (loaded) loaded->path = d.path;  // found under either spelling: compare the versions
    if ((loaded && SameVersion(*loaded, file)) || (!loaded && loaded_somehow(d))) {
      ++plan.already_loaded;
      continue;
    }
    if (loaded) {
      if (!table.allow_overwrites) {
        plan.skipped.push_back(SkippedFile{
            file, SkipReason::kModifiedAfterLoad,
            fmt::format("{} changed after it was loaded ({}); set allow_overwrites: true to "
                        "load the new version",
                        d.path, Change(*loaded, file))});
        continue;
      }
      p.reload = true;
    } else if (rec != state.records.end() && rec->second.status == tracker::FileStatus::kFailed &&
               SameVersion(TrackedVersion(d.path, rec->second), file)) {
      // A failed file is tried again on later runs until its attempts are used up; a new
      // version of it starts afresh.
      p.retry_count = rec->second.retry_count;
      if (p.retry_count > retry_attempts) {
        plan.skipped.push_back(SkippedFile{
            file, SkipReason::kRetriesExhausted,
            fmt::format("failed {} times, last error: {}", p.retry_count,
                        rec->second.error_message.value_or("(none)"))});
        continue;
      }
    }
    todo.push_back(std::move(p));
  }

  // An overwrite replaces the table with everything that arrived: one commit.
  const bool one_batch = strategy::LoadsWholeRunAsOneBatch(table);
  std::vector<PlannedFile> batch;
  int64_t bytes = 0;
  for (auto& p : todo) {
    bool full = !batch.empty() && !one_batch &&
                (static_cast<int64_t>(batch.size()) >= table.max_files_per_batch ||
                 bytes + p.file.size > table.max_bytes_per_batch);
    if (full) {
      plan.batches.push_back(std::move(batch));
      batch.clear();
      bytes = 0;
    }
    bytes += p.file.size;
    plan.bytes_planned += p.file.size;
    batch.push_back(std::move(p));
  }
  if (!batch.empty()) plan.batches.push_back(std::move(batch));
  return plan;
}

}  // namespace dl::loader
