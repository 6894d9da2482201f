// Stopping a run: the first SIGINT/SIGTERM lets running batches finish and starts no new
// ones; the second abandons them (their queries are interrupted, nothing is committed).
#pragma once

#include <atomic>
#include <csignal>

namespace dl::loader {

class StopToken {
 public:
  enum Level { kRun = 0, kFinishBatches = 1, kAbandon = 2 };
  int level() const { return level_.load(); }
  bool stopping() const { return level() >= kFinishBatches; }
  void Escalate() { level_.fetch_add(1); }
  /// A signal asks to stop; the first signal's number is kept for the exit code.
  void OnSignal(int signal_number) {
    int none = 0;
    signal_.compare_exchange_strong(none, signal_number);
    Escalate();
  }
  /// The first stop signal received (0: none, or stopped without a signal).
  int signal_number() const { return signal_.load(); }
  void Reset() {
    level_.store(kRun);
    signal_.store(0);
  }

 private:
  std::atomic<int> level_{kRun};
  std::atomic<int> signal_{0};
};

/// Routes SIGINT and SIGTERM to a token while it lives (async-signal-safe: the handler only
/// increments an atomic), then puts the previous handlers back: a host process (Python)
/// keeps its own handling once the run returns.
class ScopedSignalHandlers {
 public:
  explicit ScopedSignalHandlers(StopToken& token);
  ~ScopedSignalHandlers();
  ScopedSignalHandlers(const ScopedSignalHandlers&) = delete;
  ScopedSignalHandlers& operator=(const ScopedSignalHandlers&) = delete;

 private:
  StopToken* previous_token_;
  struct sigaction previous_int_ = {};
  struct sigaction previous_term_ = {};
};

}  // namespace dl::loader
