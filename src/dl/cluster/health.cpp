#include "dl/cluster/health.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "dl/monitoring/run_metrics.hpp"

namespace dl::cluster {
namespace {

using monitoring::HumanBytes;

class Checks {
 public:
  explicit Checks(HealthReport& r) : r_(r) {}
  void Add(HealthLevel level, std::string check, std::string message) {
    r_.reasons.push_back({level, std::move(check), std::move(message)});
    r_.level = std::max(r_.level, level);
  }
  void Recommend(std::string text) { r_.recommendations.push_back(std::move(text)); }

 private:
  HealthReport& r_;
};

double Percent(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0;
}

// Memory in use now: the cgroup's usage against its limit, else the host's.
void CheckMemoryNow(const Environment& e, Checks& c) {
  int64_t used = 0, limit = 0;
  std::string what;
  if (e.cgroup.memory_limit && e.cgroup.memory_usage) {
    used = *e.cgroup.memory_usage;
    limit = *e.cgroup.memory_limit;
    what = "the container";
  } else if (e.host_memory > 0) {
    used = e.host_memory - e.host_memory_available;
    limit = e.host_memory;
    what = "the host";
  }
  double pct = Percent(used, limit);
  if (limit == 0 || pct < 85) return;
  c.Add(pct >= 95 ? HealthLevel::kCritical : HealthLevel::kWarning, "memory",
        fmt::format("memory pressure: {} uses {} of {} ({:.0f}%)", what, HumanBytes(used),
                    HumanBytes(limit), pct));
}

void CheckLastRun(const monitoring::ResourceMetrics& m, const ResourcePlan& plan,
                  int64_t memory_per_job, Checks& c) {
  if (m.hard_limit_bytes > 0 && m.rss_peak_bytes >= m.hard_limit_bytes) {
    c.Add(HealthLevel::kCritical, "memory",
          fmt::format("the last run's peak RSS {} reached the hard limit {}",
                      HumanBytes(m.rss_peak_bytes), HumanBytes(m.hard_limit_bytes)));
  } else if (m.backpressure_at_bytes > 0 && m.rss_peak_bytes >= m.backpressure_at_bytes) {
    c.Add(HealthLevel::kWarning, "memory",
          fmt::format("the last run's peak RSS {} passed the backpressure threshold {}",
                      HumanBytes(m.rss_peak_bytes), HumanBytes(m.backpressure_at_bytes)));
  }
  if (m.backpressure_pauses > 0) {
    c.Recommend(fmt::format(
        "the last run held back new batches {} time(s) for {:.1f} s because memory neared the "
        "budget ({} peak of {}): give the loader more memory, or lower cluster.memory_per_job "
        "or max_parallel_jobs",
        m.backpressure_pauses, m.backpressure_seconds, HumanBytes(m.rss_peak_bytes),
        HumanBytes(m.memory_budget_bytes)));
  } else if (m.samples > 0 && m.rss_peak_bytes * 4 < m.memory_budget_bytes &&
             plan.memory_parallelism < plan.cpu_parallelism) {
    // Measured use far below the budget that caps parallelism: the per-job estimate is high.
    c.Recommend(fmt::format(
        "the last run peaked at {} of a {} budget while memory caps parallelism at {}: a "
        "smaller cluster.memory_per_job ({} now) would let more batches run",
        HumanBytes(m.rss_peak_bytes), HumanBytes(m.memory_budget_bytes), plan.memory_parallelism,
        HumanBytes(memory_per_job)));
  }
}

void CheckDisks(const HealthInput& in, Checks& c) {
  const int warn = in.config->cluster.min_free_disk_percent;
  for (const auto& d : in.disks) {
    double free = Percent(d.disk.free_bytes, d.disk.total_bytes);
    if (d.disk.total_bytes == 0 || free >= warn) continue;
    c.Add(free < warn / 2.0 ? HealthLevel::kCritical : HealthLevel::kWarning, "disk",
          fmt::format("low disk space under {} ({}): {} free of {} ({:.1f}%)", d.label,
                      d.disk.path, HumanBytes(d.disk.free_bytes), HumanBytes(d.disk.total_bytes),
                      free));
    c.Recommend(fmt::format("free space under {}: `data_loader table vacuum` the tables, or grow "
                            "the volume",
                            d.disk.path));
  }
}

void CheckFiles(const HealthInput& in, Checks& c) {
  const auto& s = in.config->cluster;
  int64_t done = 0, failed = 0;
  for (const auto& t : in.tables) {
    if (!t.error.empty()) {
      c.Add(HealthLevel::kWarning, "tables", fmt::format("{}: {}", t.name, t.error));
    }
    done += t.files_completed;
    failed += t.files_failed;
    if (t.files_failed > 0) {
      c.Recommend(fmt::format("{}: {} file(s) failed; `data_loader status --tables {}` lists "
                              "them with their errors",
                              t.name, t.files_failed, t.name));
    }
    if (t.small_files >= s.small_files_min) {
      c.Recommend(fmt::format("{}: {} of its {} data files are under {} (average {}): compact "
                              "them with `data_loader table optimize {}` or run with --optimize",
                              t.name, t.small_files, t.data_files, HumanBytes(s.small_file_bytes),
                              HumanBytes(t.data_files ? t.data_bytes / t.data_files : 0), t.path));
    }
    // Readers skip rows deletion vectors hide, but still read them: purge when it adds up.
    if (t.deleted_rows > 0 && t.deleted_rows * 10 >= t.rows) {
      c.Recommend(fmt::format("{}: {:.0f}% of the rows in its files are deleted by deletion "
                              "vectors; `data_loader table optimize {}` rewrites those files "
                              "without them",
                              t.name, Percent(t.deleted_rows, t.rows), t.path));
    }
  }
  double pct = Percent(failed, done + failed);
  if (failed == 0 || pct < s.failed_files_warning_percent) return;
  c.Add(pct >= s.failed_files_critical_percent ? HealthLevel::kCritical : HealthLevel::kWarning,
        "failed_files",
        fmt::format("{} of {} tracked files failed ({:.1f}%)", failed, done + failed, pct));
}

void CheckDependencies(const HealthInput& in, Checks& c) {
  for (const auto& d : in.dependencies) {
    if (d.state == "timeout" || d.state == "failed") {
      c.Add(HealthLevel::kCritical, "dependencies",
            fmt::format("dependency {} {}: {}", d.dependency, d.state, d.detail));
    } else if (d.state == "waiting") {
      c.Add(HealthLevel::kWarning, "dependencies",
            fmt::format("dependency {} not ready: {}", d.dependency, d.detail));
    }
  }
}

void RecommendPlan(const HealthInput& in, Checks& c) {
  const Environment& e = *in.environment;
  const ResourcePlan& p = *in.plan;
  if (!p.parallelism_from_config && p.memory_parallelism < p.cpu_parallelism) {
    c.Recommend(fmt::format("parallelism is capped by memory at {} (the {} CPU(s) allow {}): "
                            "raise the memory limit or lower cluster.memory_per_job",
                            p.parallelism, e.cpu_cores, p.cpu_parallelism));
  }
  if (p.parallelism_from_config && p.parallelism > p.cpu_parallelism) {
    c.Recommend(fmt::format("max_parallel_jobs {} is above the {} CPU(s) available: batches "
                            "will compete for them; remove it to let run-cluster choose",
                            p.parallelism, e.cpu_cores));
  }
  if (p.parallelism_from_config && p.parallelism > p.memory_parallelism) {
    const int64_t per_job = in.config->cluster.memory_per_job;
    c.Recommend(fmt::format("max_parallel_jobs {} needs about {} at {} per job, above the {} "
                            "budget: expect backpressure",
                            p.parallelism, HumanBytes(p.parallelism * per_job),
                            HumanBytes(per_job), HumanBytes(p.memory_budget)));
  }
  if (e.cgroup.cpu_quota && e.cpu_cores < e.host_cores) {
    c.Recommend(fmt::format("the container's CPU quota ({:.2f}) allows {} of the host's {} cores",
                            *e.cgroup.cpu_quota, e.cpu_cores, e.host_cores));
  }
}

}  // namespace

std::string_view ToString(HealthLevel level) {
  switch (level) {
    case HealthLevel::kOk:
      return "ok";
    case HealthLevel::kWarning:
      return "warning";
    case HealthLevel::kCritical:
      return "critical";
  }
  return "ok";
}

HealthReport EvaluateHealth(const HealthInput& in) {
  HealthReport r;
  Checks c(r);
  CheckMemoryNow(*in.environment, c);
  if (in.last_run) CheckLastRun(*in.last_run, *in.plan, in.config->cluster.memory_per_job, c);
  CheckDisks(in, c);
  CheckFiles(in, c);
  CheckDependencies(in, c);
  RecommendPlan(in, c);
  return r;
}

}  // namespace dl::cluster
