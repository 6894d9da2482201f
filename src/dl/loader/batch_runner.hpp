// Running one batch to the end: transient failures retried with backoff, the batch
// interrupted at its timeout, and bad files isolated so every good file still loads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/engine/engine.hpp"
#include "dl/loader/planner.hpp"
#include "dl/loader/stop_token.hpp"
#include "dl/strategy/load_strategy.hpp"

namespace dl::loader {

/// Interrupts an engine session whose batch ran past its deadline, or every running session
/// when the stop token says abandon.
class Watchdog {
 public:
  explicit Watchdog(StopToken& stop);
  ~Watchdog();
  void Arm(int slot, engine::Engine* session, std::chrono::steady_clock::time_point deadline);
  /// Disarm; true when the deadline fired while armed.
  bool Disarm(int slot);

 private:
  struct Entry {
    engine::Engine* session = nullptr;
    std::chrono::steady_clock::time_point deadline;
    bool fired = false;
  };
  void Loop();
  StopToken& stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Entry> armed_;
  bool done_ = false;
  bool abandoned_ = false;
  std::thread thread_;
};

/// What happened to one file of a batch. kDeferred: its batch lost commit races to other
/// loaders until its retries were used up; not a failure of the file, the next run loads it.
struct FileOutcome {
  enum class Kind { kLoaded, kFailed, kLoadedElsewhere, kDeferred, kNotAttempted };
  PlannedFile file;
  Kind kind = Kind::kNotAttempted;
  std::string error;
  /// kFailed: whether the failure uses up one of the file's attempts (a config error is not
  /// the file's fault: fixed, the file loads).
  bool counts_attempt = true;
  std::optional<int64_t> rows;
  int64_t version = -1;
  std::string batch_id;
  int64_t start_ms = 0, end_ms = 0;
};

struct BatchReport {
  std::vector<FileOutcome> files;
  int64_t commits = 0, failed_attempts = 0, retries = 0;
  int64_t rows = 0;
  std::optional<int64_t> version;  ///< newest version committed
};

struct BatchContext {
  const config::LoaderConfig& config;
  const config::TableConfig& table;
  std::string root;
  std::string display_name;
  FileSystem& fs;
  engine::Engine& session;
  Watchdog& watchdog;
  StopToken& stop;
  int slot = 0;
  /// The table version the files were planned against (-1: no table then).
  int64_t planned_version = -1;
  /// file_format delta: the source's new files (the batch is loaded whole or not at all).
  std::shared_ptr<const strategy::DeltaSource> delta_source;
  /// engine: spark: the worker's session of the engine that writes and commits the batch.
  engine::RemoteLoadEngine* remote = nullptr;
};

/// Load `files` (isolating bad ones; each sub-batch is its own commit) and report every
/// file's outcome. Never fails as a whole: errors are per file. A file the target's log holds
/// by the time its batch gives up is reported loaded elsewhere, never failed or deferred.
BatchReport RunBatch(const BatchContext& ctx, std::vector<PlannedFile> files);

/// Transient failures are worth retrying in the same run: lost commit races, I/O hiccups,
/// memory pressure. Everything else (bad data, schema conflicts) is permanent.
bool IsTransient(const Status& status);

}  // namespace dl::loader
