#include "dl/cluster/resource_monitor.hpp"

#include <unistd.h>

#include <sstream>

#include "dl/cluster/system_files.hpp"

namespace dl::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// utime and stime are fields 14 and 15; field 2 (comm) may hold spaces, so count after ')'.
std::optional<double> CpuSecondsFromStat(const std::string& stat) {
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    try {
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    } catch (...) {
      return std::nullopt;
    }
  }
  long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) ticks = 100;
  return static_cast<double>(utime + stime) / static_cast<double>(ticks);
}

}  // namespace

Result<ProcessSample> ReadProcessSample(const std::string& root) {
  const std::string status_path = internal::UnderRoot(root, "/proc/self/status");
  const std::string stat_path = internal::UnderRoot(root, "/proc/self/stat");
  auto status = internal::ReadSmallFile(status_path);
  auto stat = internal::ReadSmallFile(stat_path);
  if (!status || !stat) return Status::Io("cannot read {} or {}", status_path, stat_path);
  ProcessSample s;
  auto rss = internal::MeminfoBytes(*status, "VmRSS");
  auto cpu = CpuSecondsFromStat(*stat);
  if (!rss || !cpu) {
    return Status::Io("cannot parse VmRSS of {} or CPU times of {}", status_path, stat_path);
  }
  s.rss_bytes = *rss;
  s.cpu_seconds = *cpu;
  return s;
}

ResourceMonitor::ResourceMonitor(const ResourcePlan& plan, int interval_ms, std::string root)
    : plan_(plan), interval_ms_(std::max(1, interval_ms)), root_(std::move(root)) {}

ResourceMonitor::~ResourceMonitor() { Stop(); }

void ResourceMonitor::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    start_ = Clock::now();
  }
  SampleNow();
  thread_ = std::thread([this] { Loop(); });
}

void ResourceMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  SampleNow();
  std::lock_guard<std::mutex> lock(mu_);
  if (gate_closed_) {
    paused_seconds_ += std::chrono::duration<double>(Clock::now() - closed_at_).count();
  }
  gate_closed_ = false;
}

void ResourceMonitor::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [&] { return stopping_; })) {
    lock.unlock();
    SampleNow();
    lock.lock();
  }
}

void ResourceMonitor::SampleNow() {
  auto sample = ReadProcessSample(root_);
  if (!sample.ok()) return;  // a missing reading is skipped, never fatal
  auto now = Clock::now();
  last_rss_.store(sample->rss_bytes);
  std::lock_guard<std::mutex> lock(mu_);
  if (last_) {
    double wall = std::chrono::duration<double>(now - last_at_).count();
    if (wall > 0.001) {
      cpu_percent_max_ =
          std::max(cpu_percent_max_, 100.0 * (sample->cpu_seconds - last_->cpu_seconds) / wall);
    }
  }
  if (!first_) first_ = *sample;
  last_ = *sample;
  last_at_ = now;
  ++samples_;
  rss_sum_ += sample->rss_bytes;
  rss_peak_ = std::max(rss_peak_, sample->rss_bytes);
}

bool ResourceMonitor::MayStartBatch(int batches_running) {
  int64_t rss = last_rss_.load();
  bool over = (plan_.backpressure_at > 0 && rss >= plan_.backpressure_at) ||
              (plan_.hard_limit > 0 && rss >= plan_.hard_limit);
  bool open = !over || batches_running == 0;
  std::lock_guard<std::mutex> lock(mu_);
  if (!open && !gate_closed_) {
    gate_closed_ = true;
    closed_at_ = Clock::now();
    ++pauses_;
  } else if (open && gate_closed_) {
    gate_closed_ = false;
    paused_seconds_ += std::chrono::duration<double>(Clock::now() - closed_at_).count();
  }
  return open;
}

monitoring::ResourceMetrics ResourceMonitor::Metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  monitoring::ResourceMetrics m;
  m.parallelism = plan_.parallelism;
  m.engine_threads = plan_.engine_threads;
  m.engine_memory_bytes = plan_.engine_memory;
  m.memory_budget_bytes = plan_.memory_budget;
  m.backpressure_at_bytes = plan_.backpressure_at;
  m.hard_limit_bytes = plan_.hard_limit;
  m.samples = samples_;
  m.rss_peak_bytes = rss_peak_;
  m.rss_avg_bytes = samples_ > 0 ? rss_sum_ / samples_ : 0;
  m.rss_end_bytes = last_ ? last_->rss_bytes : 0;
  if (first_ && last_) {
    m.cpu_seconds = last_->cpu_seconds - first_->cpu_seconds;
    double wall = std::chrono::duration<double>(last_at_ - start_).count();
    m.cpu_percent_avg = wall > 0.001 ? 100.0 * m.cpu_seconds / wall : 0;
  }
  m.cpu_percent_max = std::max(cpu_percent_max_, m.cpu_percent_avg);
  m.backpressure_pauses = pauses_;
  m.backpressure_seconds = paused_seconds_;
  return m;
}

}  // namespace dl::cluster
