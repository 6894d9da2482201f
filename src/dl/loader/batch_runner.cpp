#include "dl/loader/batch_runner.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <random>

#include "dl/common/clock.hpp"
#include "dl/common/error_text.hpp"
#include "dl/common/logging.hpp"
#include "dl/loader/reconcile.hpp"

namespace dl::loader {

// ---- Watchdog ----

Watchdog::Watchdog(StopToken& stop) : stop_(stop), thread_([this] { Loop(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Watchdog::Arm(int slot, engine::Engine* session,
                   std::chrono::steady_clock::time_point deadline) {
  std::lock_guard<std::mutex> lock(mu_);
  armed_[slot] = Entry{session, deadline, false};
  if (abandoned_) session->Interrupt();
}

bool Watchdog::Disarm(int slot) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = armed_.find(slot);
  if (it == armed_.end()) return false;
  bool fired = it->second.fired;
  armed_.erase(it);
  return fired;
}

void Watchdog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    bool abandon = stop_.level() >= StopToken::kAbandon;
    if (abandon && !abandoned_) abandoned_ = true;
    for (auto& [slot, e] : armed_) {
      if (abandon) {
        e.session->Interrupt();
      } else if (!e.fired && now >= e.deadline) {
        e.fired = true;
        e.session->Interrupt();
      }
    }
  }
}

// ---- Running a batch ----

bool IsTransient(const Status& status) {
  switch (status.code()) {
    case StatusCode::kCommitConflict:
    case StatusCode::kIo:
      return true;
    default:
      return status.detail().cause == ErrorDetail::Cause::kTransient;
  }
}

namespace {

// Failures that no subset of the files can avoid (the target itself is the problem).
bool IsTableLevel(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kConfig:
    case StatusCode::kUnsupported:
    case StatusCode::kCorruptLog:
    case StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

// A file that failed alone is the one at fault, even when the engine's message does not say
// so (Spark 3.5 reports a corrupt footer without its file): its tracker entry names it first,
// where a cut of a long message keeps it.
std::string NamingTheFile(const std::vector<PlannedFile>& files, const Status& st) {
  std::string message = st.ToString();
  if (files.size() != 1 || IsTableLevel(st)) return message;
  const std::string& path = files.front().file.path;
  if (message.find(path) != std::string::npos) return message;
  return fmt::format("loading {}: {}", path, message);
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

class Runner {
 public:
  Runner(const BatchContext& ctx, BatchReport& report)
      : ctx_(ctx),
        report_(report),
        checked_version_(ctx.planned_version),
        identity_(ctx.config.storage) {}

  // Load `files`; on a permanent error isolate the files at fault and load the rest.
  void Run(std::vector<PlannedFile> files) {
    if (files.empty()) return;
    if (ctx_.stop.stopping()) return NotAttempted(files);
    // A 0-byte file is a failed delivery, not an empty table: say so instead of loading nothing.
    auto empty = std::stable_partition(files.begin(), files.end(),
                                       [](const PlannedFile& f) { return f.file.size > 0; });
    for (auto it = empty; it != files.end(); ++it) {
      Fail({*it}, fmt::format("{} is empty (0 bytes): nothing to load", it->file.path));
    }
    files.erase(empty, files.end());
    if (files.empty()) return;
    Status st = Attempt(files);
    if (st.ok()) return;
    if (st.code() == StatusCode::kCancelled) return NotAttempted(files);
    // Whatever went wrong, files another loader committed meanwhile are loaded, and so are
    // files of a commit that landed before a later step of the batch failed.
    const size_t tried = files.size();
    DropLoadedElsewhere(files);
    if (files.size() < tried) {
      log::Warn(
          "batch failed, but its files are in the table: not loaded again",
          {{"table", ctx_.display_name}, {"files", tried - files.size()}, {"error", st.message()}});
    }
    if (files.empty()) return;
    // Losing commit races is no fault of the files: the next run loads them.
    if (st.code() == StatusCode::kCommitConflict) return Defer(files, st.message());
    // A Delta source's batch is one source version range: it loads whole or not at all.
    if (files.size() == 1 || st.code() == StatusCode::kTimeout || IsTransient(st) ||
        IsTableLevel(st) || ctx_.delta_source) {
      return Fail(files, NamingTheFile(files, st), st.code() != StatusCode::kConfig);
    }
    // The files the error is about (as the plan names them) fail; the others load.
    const std::vector<std::string>& at_fault = st.detail().files;
    std::vector<PlannedFile> named, rest;
    for (const auto& f : files) {
      bool is_named = std::find(at_fault.begin(), at_fault.end(), f.file.path) != at_fault.end();
      (is_named ? named : rest).push_back(f);
    }
    if (!named.empty() && !rest.empty()) {
      Fail(named, st.ToString());
      return Run(std::move(rest));
    }
    // Halves would be two commits, the second replacing the first.
    if (strategy::LoadsWholeRunAsOneBatch(ctx_.table)) return Fail(files, st.ToString());
    size_t half = files.size() / 2;
    std::vector<PlannedFile> first(files.begin(), files.begin() + half);
    std::vector<PlannedFile> second(files.begin() + half, files.end());
    ++report_.failed_attempts;
    log::Info("isolating bad files: splitting the batch",
              {{"table", ctx_.display_name}, {"files", files.size()}, {"error", st.message()}});
    Run(std::move(first));
    Run(std::move(second));
  }

 private:
  // One sub-batch, with transient failures retried (backoff with jitter).
  Status Attempt(std::vector<PlannedFile>& files) {
    const int max_attempts = ctx_.config.retry_attempts + 1;
    Status last;
    for (int attempt = 1; attempt <= max_attempts; ++attempt) {
      if (attempt > 1) {
        ++report_.retries;
        if (!Sleep(Backoff(attempt - 1))) return Status::Cancelled("stopped");
        DropLoadedElsewhere(files);
        if (files.empty()) return Status::OK();
      }
      last = Once(files);
      if (last.ok() || !IsTransient(last)) return last;
      log::Warn("batch failed, will retry",
                {{"table", ctx_.display_name}, {"attempt", attempt}, {"error", last.message()}});
    }
    return last;
  }

  Status Once(const std::vector<PlannedFile>& files) {
    strategy::Batch batch;
    batch.id = NewUuid();
    batch.load_time_ms = NowMs();
    batch.checked_version = checked_version_;
    if (ctx_.delta_source) {
      // Files another loader committed meanwhile are gone from `files`; keep the rest.
      auto source = std::make_shared<strategy::DeltaSource>(*ctx_.delta_source);
      std::set<std::string> keep;
      for (const auto& f : files) keep.insert(f.file.path);
      source->adds.clear();
      for (const auto& a : ctx_.delta_source->adds) {
        if (keep.count(strategy::DeltaSourceFilePath(*source->snapshot, a))) {
          source->adds.push_back(a);
        }
      }
      batch.delta_source = std::move(source);
    }
    for (const auto& f : files) batch.files.push_back(f.file);
    batch.txn_version = &txn_version_;
    strategy::Target target{ctx_.table, ctx_.root, ctx_.display_name, ctx_.remote};
    table::TableContext tctx{ctx_.fs, ctx_.session};
    delta::CommitOptions commit;
    commit.check_winner = RefuseFilesLoadedBy(batch.files, ctx_.display_name, identity_);
    auto timeout = std::chrono::minutes(ctx_.config.timeout_minutes);
    ctx_.watchdog.Arm(ctx_.slot, &ctx_.session, std::chrono::steady_clock::now() + timeout);
    auto result = strategy::LoadBatch(tctx, target, batch, commit);
    bool timed_out = ctx_.watchdog.Disarm(ctx_.slot);
    int64_t end = NowMs();
    if (!result.ok()) {
      if (timed_out) {
        return Status::Timeout("batch of {} files timed out after timeout_minutes={}",
                               files.size(), ctx_.config.timeout_minutes);
      }
      if (ctx_.stop.level() >= StopToken::kAbandon) return Status::Cancelled("abandoned");
      return result.status();
    }
    ++report_.commits;
    int64_t version = result->write.version;
    if (version >= 0) report_.version = std::max(report_.version.value_or(-1), version);
    report_.rows += result->write.rows_written;
    for (const auto& f : files) {
      FileOutcome o;
      o.file = f;
      o.kind = FileOutcome::Kind::kLoaded;
      o.version = version;
      o.batch_id = batch.id;
      o.start_ms = batch.load_time_ms;
      o.end_ms = end;
      auto rows = result->rows_per_file.find(f.file.path);
      if (rows != result->rows_per_file.end()) {
        o.rows = rows->second;
      } else if (ctx_.table.audit_columns.enabled && result->rows_per_file_known) {
        o.rows = 0;  // every row of it was a duplicate, or the file was empty
      }
      report_.files.push_back(std::move(o));
    }
    log::Info("batch committed", {{"table", ctx_.display_name},
                                  {"batch", batch.id},
                                  {"files", files.size()},
                                  {"rows", result->write.rows_written},
                                  {"bytes", result->write.bytes_written},
                                  {"version", version},
                                  {"ms", end - batch.load_time_ms}});
    return Status::OK();
  }

  // Files another writer committed while we were trying: theirs now, not ours to load.
  void DropLoadedElsewhere(std::vector<PlannedFile>& files) {
    auto scan = ScanLoaderCommits(ctx_.fs, ctx_.root, checked_version_);
    if (!scan.ok()) return;
    checked_version_ = std::max(checked_version_, scan->latest_version);
    std::vector<PlannedFile> keep;
    for (auto& f : files) {
      bool elsewhere = std::any_of(
          scan->loads.begin(), scan->loads.end(),
          [&](const RecordedLoad& l) { return SameVersion(l.file, f.file, identity_); });
      if (!elsewhere) {
        keep.push_back(std::move(f));
        continue;
      }
      FileOutcome o;
      o.file = f;
      o.kind = FileOutcome::Kind::kLoadedElsewhere;
      report_.files.push_back(std::move(o));
    }
    files = std::move(keep);
  }

  std::chrono::milliseconds Backoff(int retry) const {
    double base = ctx_.config.retry_backoff_ms * std::pow(2.0, retry - 1);
    base = std::min(base, 60000.0);
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    return std::chrono::milliseconds(static_cast<int64_t>(base * jitter(Rng())));
  }

  // Sleep unless asked to stop; false when stopping.
  bool Sleep(std::chrono::milliseconds d) const {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      if (ctx_.stop.stopping()) return false;
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds(50),
          std::chrono::duration_cast<std::chrono::milliseconds>(until -
                                                                std::chrono::steady_clock::now())));
    }
    return !ctx_.stop.stopping();
  }

  void Fail(const std::vector<PlannedFile>& files, const std::string& full_error,
            bool counts_attempt = true) {
    const std::string error = BoundedErrorText(full_error);
    int64_t now = NowMs();
    for (const auto& f : files) {
      FileOutcome o;
      o.file = f;
      o.kind = FileOutcome::Kind::kFailed;
      o.error = error;
      o.counts_attempt = counts_attempt;
      o.start_ms = o.end_ms = now;
      report_.files.push_back(std::move(o));
      log::Error("file failed",
                 {{"table", ctx_.display_name}, {"file", f.file.path}, {"error", error}});
    }
  }

  void Defer(const std::vector<PlannedFile>& files, const std::string& error) {
    for (const auto& f : files) {
      FileOutcome o;
      o.file = f;
      o.kind = FileOutcome::Kind::kDeferred;
      o.error = error;
      report_.files.push_back(std::move(o));
    }
    log::Warn("batch deferred to the next run: it lost commit races to other loaders",
              {{"table", ctx_.display_name}, {"files", files.size()}, {"error", error}});
  }

  void NotAttempted(const std::vector<PlannedFile>& files) {
    for (const auto& f : files) {
      FileOutcome o;
      o.file = f;
      report_.files.push_back(std::move(o));
    }
  }

  const BatchContext& ctx_;
  BatchReport& report_;
  int64_t checked_version_;
  // Another writer's commit may spell a file as its config did (s3a:// for s3://).
  LocationIdentity identity_;
  // A remote engine's txn version for these files, kept across their retries (0: unset).
  int64_t txn_version_ = 0;
};

}  // namespace

BatchReport RunBatch(const BatchContext& ctx, std::vector<PlannedFile> files) {
  BatchReport report;
  Runner(ctx, report).Run(std::move(files));
  return report;
}

}  // namespace dl::loader
