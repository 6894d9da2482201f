// ResourceMonitor: a thread that samples this process's CPU time and resident memory from
// /proc/self every interval, and the backpressure gate the loader's scheduler asks before it
// starts a batch ("may start a batch now?"): no while RSS is above the plan's threshold.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "dl/cluster/resources.hpp"
#include "dl/monitoring/run_metrics.hpp"

namespace dl::cluster {

struct ProcessSample {
  int64_t rss_bytes = 0;   ///< VmRSS of /proc/self/status
  double cpu_seconds = 0;  ///< utime + stime of /proc/self/stat
};

/// One reading of <root>/proc/self/{status,stat}.
Result<ProcessSample> ReadProcessSample(const std::string& root = "/");

class ResourceMonitor {
 public:
  /// Samples below `root` every `interval_ms`; the gate closes at plan.backpressure_at bytes
  /// (and at plan.hard_limit when set).
  ResourceMonitor(const ResourcePlan& plan, int interval_ms, std::string root = "/");
  ~ResourceMonitor();
  ResourceMonitor(const ResourceMonitor&) = delete;
  ResourceMonitor& operator=(const ResourceMonitor&) = delete;

  /// Take a first sample and start the sampling thread.
  void Start();
  /// Take a last sample and stop the thread (idempotent).
  void Stop();
  /// Take one sample now (the thread calls this; tests may too).
  void SampleNow();

  /// The backpressure gate: false while the last sampled RSS is at or above the threshold.
  /// `batches_running` = 0 always gets true: memory a finished run holds will not fall by
  /// waiting, and the engine's memory limit bounds what one batch adds.
  bool MayStartBatch(int batches_running);

  /// What was measured, with the plan's figures.
  monitoring::ResourceMetrics Metrics() const;
  int64_t LastRss() const { return last_rss_.load(); }

 private:
  void Loop();

  const ResourcePlan plan_;
  const int interval_ms_;
  const std::string root_;
  std::atomic<int64_t> last_rss_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  // Guarded by mu_.
  std::chrono::steady_clock::time_point start_, last_at_;
  std::optional<ProcessSample> first_, last_;
  int64_t samples_ = 0, rss_sum_ = 0, rss_peak_ = 0;
  double cpu_percent_max_ = 0;
  bool gate_closed_ = false;
  std::chrono::steady_clock::time_point closed_at_;
  int64_t pauses_ = 0;
  double paused_seconds_ = 0;
};

}  // namespace dl::cluster
