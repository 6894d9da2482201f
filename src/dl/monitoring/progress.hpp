// A live progress line on a terminal, redrawn in place from a background thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace dl::monitoring {

/// Live progress on a terminal: "[orders] 1234/10000 files, 1.2M rows, 850 files/s" redrawn in
/// place (\r, at most ~10 times/s, from a background thread), cleared on Stop. Disabled (no
/// output at all) when `enabled` is false; the caller passes StderrIsTerminal(). Counters are
/// atomics: any thread may report. Files done counts loaded and failed files.
class Progress {
 public:
  explicit Progress(bool enabled, FILE* out = stderr);
  ~Progress();  // stops
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void AddPlanned(int64_t files, int64_t bytes);
  void FileDone(int64_t files, int64_t rows, int64_t bytes);
  void FileFailed(int64_t files);
  void SetCurrent(std::string label);  // e.g. table being loaded
  void Stop();

  bool enabled() const { return enabled_; }
  /// The line as it would be drawn now (without \r or terminal codes); for tests.
  std::string Render() const;

 private:
  void Loop();
  void Draw(const std::string& line);

  const bool enabled_;
  FILE* const out_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<int64_t> planned_files_{0}, planned_bytes_{0};
  std::atomic<int64_t> done_files_{0}, done_rows_{0}, done_bytes_{0}, failed_files_{0};
  mutable std::mutex mu_;  // guards label_, stopped_ and the wake-up of the thread
  std::condition_variable cv_;
  std::string label_;
  bool stopped_ = false;
  std::thread thread_;
};

/// True when stderr is a terminal that can redraw a line (not TERM=dumb).
bool StderrIsTerminal();

}  // namespace dl::monitoring
