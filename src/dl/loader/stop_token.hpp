// Stopping a run: the first SIGINT/SIGTERM lets running batches finish and starts no new
// ones; the second abandons them (their queries are interrupted, nothing is committed).
#pragma once

#include <atomic>

namespace dl::loader {

class StopToken {
 public:
  enum Level { kRun = 0, kFinishBatches = 1, kAbandon = 2 };
  int level() const { return level_.load(); }
  bool stopping() const { return level() >= kFinishBatches; }
  void Escalate() { level_.fetch_add(1); }
  void Reset() { level_.store(kRun); }

 private:
  std::atomic<int> level_{kRun};
};

/// Route SIGINT and SIGTERM to `token` for the life of the process (async-signal-safe: the
/// handler only increments an atomic).
void InstallSignalHandlers(StopToken& token);

}  // namespace dl::loader
