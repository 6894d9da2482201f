#include "dl/monitoring/run_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>

#include "dl/common/clock.hpp"
#include "dl/common/logging.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::monitoring {
namespace {

int64_t Sum(const RunMetrics& m, int64_t TableMetrics::*field) {
  int64_t total = 0;
  for (const auto& t : m.tables) total += t.*field;
  return total;
}

double Rate(double amount, double seconds) { return seconds > 0 ? amount / seconds : 0.0; }

// Error messages come from engines and storage and may quote connection strings or URLs.
std::string CleanError(const std::string& error) { return log::RedactSecrets(error); }

nlohmann::ordered_json TableJson(const TableMetrics& t) {
  nlohmann::ordered_json j;
  j["table"] = t.table;
  j["strategy"] = t.strategy;
  j["files_discovered"] = t.files_discovered;
  j["files_loaded"] = t.files_loaded;
  j["files_failed"] = t.files_failed;
  j["files_skipped"] = t.files_skipped;
  j["files_waiting"] = t.files_waiting;
  j["files_deferred"] = t.files_deferred;
  j["batches"] = t.batches;
  j["batches_failed"] = t.batches_failed;
  j["retries"] = t.retries;
  j["rows_loaded"] = t.rows_loaded;
  j["bytes_loaded"] = t.bytes_loaded;
  j["seconds"] = t.seconds;
  j["rows_per_second"] = Rate(static_cast<double>(t.rows_loaded), t.seconds);
  j["target_version"] = t.target_version ? nlohmann::ordered_json(*t.target_version) : nullptr;
  j["errors"] = nlohmann::ordered_json::array();
  for (const auto& e : t.errors) {
    j["errors"].push_back({{"file", CleanError(e.file)}, {"error", CleanError(e.error)}});
  }
  j["warnings"] = t.warnings;
  return j;
}

// --- Prometheus text exposition format ---------------------------------------------------

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PromValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string FormatLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += fmt::format("{}=\"{}\"", labels[i].first, EscapeLabelValue(labels[i].second));
  }
  return out + "}";
}

// Collects samples per family so HELP/TYPE appear exactly once, followed by all its samples.
class PromWriter {
 public:
  void Add(const std::string& name, const std::string& help, const Labels& labels,
           std::string value) {
    auto it = std::find_if(families_.begin(), families_.end(),
                           [&](const Family& f) { return f.name == name; });
    if (it == families_.end()) {
      families_.push_back({name, help, {}});
      it = families_.end() - 1;
    }
    it->samples.push_back(name + FormatLabels(labels) + " " + value);
  }
  void Add(const std::string& name, const std::string& help, const Labels& labels, int64_t v) {
    Add(name, help, labels, fmt::format("{}", v));
  }
  void Add(const std::string& name, const std::string& help, const Labels& labels, double v) {
    Add(name, help, labels, PromValue(v));
  }
  std::string Text() const {
    std::string out;
    for (const auto& f : families_) {
      out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", f.name, EscapeHelp(f.help), f.name);
      for (const auto& s : f.samples) out += s + "\n";
    }
    return out;
  }

 private:
  struct Family {
    std::string name, help;
    std::vector<std::string> samples;
  };
  std::vector<Family> families_;
};

double PerFile(int64_t n, int64_t files) {
  return files > 0 ? static_cast<double>(n) / static_cast<double>(files) : 0.0;
}

// Our FileSystem's requests only; DuckDB's own data-file requests are not counted (see hpp).
nlohmann::ordered_json RequestsJson(const RequestCounts& r, int64_t files_loaded) {
  nlohmann::ordered_json j;
  j["list"] = r.list;
  j["get"] = r.get;
  j["head"] = r.head;
  j["put"] = r.put;
  j["delete"] = r.del;
  j["total"] = r.total();
  j["per_file_loaded"] = PerFile(r.total(), files_loaded);
  return j;
}

nlohmann::ordered_json ResourcesJson(const ResourceMetrics& r) {
  nlohmann::ordered_json j;
  j["environment"] = r.environment;
  j["parallelism"] = r.parallelism;
  j["engine_threads"] = r.engine_threads;
  j["engine_memory_bytes"] = r.engine_memory_bytes;
  j["memory_budget_bytes"] = r.memory_budget_bytes;
  j["backpressure_at_bytes"] = r.backpressure_at_bytes;
  j["hard_limit_bytes"] = r.hard_limit_bytes;
  j["samples"] = r.samples;
  j["cpu_seconds"] = r.cpu_seconds;
  j["cpu_percent_avg"] = r.cpu_percent_avg;
  j["cpu_percent_max"] = r.cpu_percent_max;
  j["rss_peak_bytes"] = r.rss_peak_bytes;
  j["rss_avg_bytes"] = r.rss_avg_bytes;
  j["rss_end_bytes"] = r.rss_end_bytes;
  j["backpressure_pauses"] = r.backpressure_pauses;
  j["backpressure_seconds"] = r.backpressure_seconds;
  return j;
}

void AddResources(PromWriter& w, const std::string& p, const ResourceMetrics& r) {
  w.Add(p + "process_cpu_seconds", "CPU time (user + system) of the last run.", {},
        r.cpu_seconds);
  w.Add(p + "process_cpu_percent_avg", "Average CPU use of the last run (100 = one core).", {},
        r.cpu_percent_avg);
  w.Add(p + "process_cpu_percent_max", "Highest sampled CPU use of the last run.", {},
        r.cpu_percent_max);
  w.Add(p + "process_rss_peak_bytes", "Highest sampled resident memory of the last run.", {},
        r.rss_peak_bytes);
  w.Add(p + "process_rss_avg_bytes", "Average sampled resident memory of the last run.", {},
        r.rss_avg_bytes);
  w.Add(p + "process_memory_budget_bytes", "Memory budget the last run planned with.", {},
        r.memory_budget_bytes);
  w.Add(p + "process_backpressure_pauses", "Times the last run held back batches for memory.",
        {}, r.backpressure_pauses);
  w.Add(p + "process_backpressure_seconds", "Time the last run held back batches for memory.",
        {}, r.backpressure_seconds);
  w.Add(p + "run_parallelism", "Parallel batches the last run allowed.", {},
        static_cast<int64_t>(r.parallelism));
  w.Add(p + "resource_samples", "CPU and memory samples taken in the last run.", {}, r.samples);
}

std::string CompactUtc(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// run_id becomes part of a file name: keep it to a safe character set.
std::string FileSafe(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return n < 0 ? "-" + out : out;
}

std::string OneLine(std::string s, size_t max_len) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (s.size() > max_len) s = s.substr(0, max_len) + "...";
  return s;
}

}  // namespace

int64_t RunMetrics::files_loaded() const { return Sum(*this, &TableMetrics::files_loaded); }
int64_t RunMetrics::files_failed() const { return Sum(*this, &TableMetrics::files_failed); }
int64_t RunMetrics::files_skipped() const { return Sum(*this, &TableMetrics::files_skipped); }
int64_t RunMetrics::files_deferred() const { return Sum(*this, &TableMetrics::files_deferred); }
int64_t RunMetrics::files_discovered() const { return Sum(*this, &TableMetrics::files_discovered); }
int64_t RunMetrics::rows_loaded() const { return Sum(*this, &TableMetrics::rows_loaded); }
int64_t RunMetrics::bytes_loaded() const { return Sum(*this, &TableMetrics::bytes_loaded); }

double RunMetrics::seconds() const {
  double total = 0;
  for (const auto& t : tables) total += t.seconds;
  return total;
}

double RunMetrics::duration_seconds() const {
  if (end_ms > 0 && end_ms >= start_ms && start_ms > 0) {
    return static_cast<double>(end_ms - start_ms) / 1000.0;
  }
  return seconds();
}

std::string HumanBytes(int64_t bytes) {
  if (bytes < 1024 && bytes > -1024) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  v /= 1024.0;
  while (std::fabs(v) >= 1023.95 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string HumanCount(double n) {
  if (!std::isfinite(n)) return "-";
  if (std::fabs(n) < 999.5) {
    bool whole = std::fabs(n - std::round(n)) < 1e-9;
    return (whole || std::fabs(n) >= 10) ? fmt::format("{:.0f}", n) : fmt::format("{:.1f}", n);
  }
  static constexpr const char* kUnits[] = {"K", "M", "B", "T"};
  size_t u = 0;
  n /= 1000.0;
  while (std::fabs(n) >= 999.95 && u + 1 < std::size(kUnits)) {
    n /= 1000.0;
    ++u;
  }
  return fmt::format("{:.1f}{}", n, kUnits[u]);
}

std::string ToJson(const RunMetrics& m) {
  nlohmann::ordered_json j;
  j["run_id"] = m.run_id;
  j["command"] = m.command;
  j["dry_run"] = m.dry_run;
  j["start_time"] =
      m.start_ms > 0 ? nlohmann::ordered_json(FormatTimestampMs(m.start_ms)) : nullptr;
  j["end_time"] = m.end_ms > 0 ? nlohmann::ordered_json(FormatTimestampMs(m.end_ms)) : nullptr;
  j["start_ms"] = m.start_ms;
  j["end_ms"] = m.end_ms;
  j["duration_seconds"] = m.duration_seconds();
  nlohmann::ordered_json totals;
  totals["tables"] = m.tables.size();
  totals["files_discovered"] = m.files_discovered();
  totals["files_loaded"] = m.files_loaded();
  totals["files_failed"] = m.files_failed();
  totals["files_skipped"] = m.files_skipped();
  totals["files_deferred"] = m.files_deferred();
  totals["batches"] = Sum(m, &TableMetrics::batches);
  totals["batches_failed"] = Sum(m, &TableMetrics::batches_failed);
  totals["retries"] = Sum(m, &TableMetrics::retries);
  totals["rows_loaded"] = m.rows_loaded();
  totals["bytes_loaded"] = m.bytes_loaded();
  totals["seconds"] = m.seconds();
  totals["rows_per_second"] = Rate(static_cast<double>(m.rows_loaded()), m.duration_seconds());
  totals["bytes_per_second"] = Rate(static_cast<double>(m.bytes_loaded()), m.duration_seconds());
  j["totals"] = std::move(totals);
  j["tables"] = nlohmann::ordered_json::array();
  for (const auto& t : m.tables) j["tables"].push_back(TableJson(t));
  j["storage_requests"] = RequestsJson(m.requests, m.files_loaded());
  if (m.resources) j["resources"] = ResourcesJson(*m.resources);
  // File names are not guaranteed UTF-8; replace bad bytes rather than throw.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string ToPrometheus(const RunMetrics& m) {
  PromWriter w;
  const std::string p = "data_loader_";
  for (const auto& t : m.tables) {
    Labels l = {{"table", t.table}};
    w.Add(p + "table_info", "Table loaded by the last run, with its load strategy (value 1).",
          Labels{{"table", t.table}, {"strategy", t.strategy}}, int64_t{1});
    w.Add(p + "table_files_discovered", "Source files discovered for the table in the last run.", l,
          t.files_discovered);
    w.Add(p + "table_files_loaded", "Source files loaded into the table in the last run.", l,
          t.files_loaded);
    w.Add(p + "table_files_failed", "Source files that failed to load in the last run.", l,
          t.files_failed);
    w.Add(p + "table_files_skipped", "Source files skipped (already loaded) in the last run.", l,
          t.files_skipped);
    w.Add(p + "table_files_deferred",
          "Source files left for the next run after losing commit races in the last run.", l,
          t.files_deferred);
    w.Add(p + "table_batches", "Batches committed to the table in the last run.", l, t.batches);
    w.Add(p + "table_batches_failed", "Batches that failed in the last run.", l, t.batches_failed);
    w.Add(p + "table_retries", "Retries (commit conflicts, transient errors) in the last run.", l,
          t.retries);
    w.Add(p + "table_rows_loaded", "Rows loaded into the table in the last run.", l, t.rows_loaded);
    w.Add(p + "table_bytes_loaded", "Source file bytes loaded into the table in the last run.", l,
          t.bytes_loaded);
    w.Add(p + "table_duration_seconds", "Wall time spent on the table in the last run.", l,
          t.seconds);
    if (t.target_version) {
      w.Add(p + "table_version", "Delta table version after the last run.", l, *t.target_version);
    }
  }
  const double duration = m.duration_seconds();
  w.Add(
      p + "run_info", "The last run (value 1): run id, command and whether it was a dry run.",
      Labels{
          {"run_id", m.run_id}, {"command", m.command}, {"dry_run", m.dry_run ? "true" : "false"}},
      int64_t{1});
  w.Add(p + "run_tables", "Tables processed by the last run.", {},
        static_cast<int64_t>(m.tables.size()));
  w.Add(p + "run_files_discovered", "Source files discovered by the last run.", {},
        m.files_discovered());
  w.Add(p + "run_files_loaded", "Source files loaded by the last run.", {}, m.files_loaded());
  w.Add(p + "run_files_failed", "Source files that failed in the last run.", {}, m.files_failed());
  w.Add(p + "run_files_skipped", "Source files skipped by the last run.", {}, m.files_skipped());
  w.Add(p + "run_files_deferred", "Source files the last run left for the next (lost races).", {},
        m.files_deferred());
  w.Add(p + "run_rows_loaded", "Rows loaded by the last run.", {}, m.rows_loaded());
  w.Add(p + "run_bytes_loaded", "Source file bytes loaded by the last run.", {}, m.bytes_loaded());
  w.Add(p + "run_rows_per_second", "Rows per second of wall time in the last run.", {},
        Rate(static_cast<double>(m.rows_loaded()), duration));
  w.Add(p + "run_duration_seconds", "Wall time of the last run.", {}, duration);
  w.Add(p + "run_success", "1 if the last run loaded every file it tried, 0 if any failed.", {},
        int64_t{m.files_failed() == 0 ? 1 : 0});
  if (m.start_ms > 0) {
    w.Add(p + "last_run_start_timestamp_seconds", "Unix time the last run started.", {},
          static_cast<double>(m.start_ms) / 1000.0);
  }
  const std::pair<const char*, int64_t> kinds[] = {{"list", m.requests.list},
                                                   {"get", m.requests.get},
                                                   {"head", m.requests.head},
                                                   {"put", m.requests.put},
                                                   {"delete", m.requests.del}};
  for (const auto& [kind, n] : kinds) {
    w.Add(p + "run_storage_requests",
          "Storage requests the loader's own storage client sent in the last run, by kind "
          "(DuckDB's data-file requests not included).",
          Labels{{"kind", kind}}, n);
  }
  if (m.resources) AddResources(w, p, *m.resources);
  int64_t last = m.end_ms > 0 ? m.end_ms : (m.start_ms > 0 ? m.start_ms : NowMs());
  w.Add(p + "last_run_timestamp_seconds", "Unix time the last run finished.", {},
        static_cast<double>(last) / 1000.0);
  return w.Text();
}

Result<std::string> WriteMetricsFiles(FileSystem& fs, const std::string& dir, const RunMetrics& m) {
  DL_RETURN_IF_ERROR(fs.CreateDirs(dir).WithContext("creating metrics directory"));
  std::string base = "run-" + CompactUtc(m.start_ms > 0 ? m.start_ms : NowMs());
  if (!m.run_id.empty()) base += "-" + FileSafe(m.run_id);
  std::string json_path = JoinPath(dir, base + ".json");
  std::string prom = ToPrometheus(m);
  DL_RETURN_IF_ERROR(fs.WriteAtomic(json_path, ToJson(m)).WithContext("writing run metrics"));
  DL_RETURN_IF_ERROR(
      fs.WriteAtomic(JoinPath(dir, base + ".prom"), prom).WithContext("writing run metrics"));
  DL_RETURN_IF_ERROR(
      fs.WriteAtomic(JoinPath(dir, "latest.prom"), prom).WithContext("writing run metrics"));
  return json_path;
}

std::string FormatSummary(const RunMetrics& m) {
  const std::vector<std::string> header = {"TABLE", "STRATEGY", "LOADED",  "FAILED", "SKIPPED",
                                           "ROWS",  "BYTES",    "SECONDS", "ROWS/S", "VERSION"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : m.tables) {
    rows.push_back({t.table, t.strategy, Grouped(t.files_loaded), Grouped(t.files_failed),
                    Grouped(t.files_skipped), Grouped(t.rows_loaded), HumanBytes(t.bytes_loaded),
                    fmt::format("{:.1f}", t.seconds),
                    HumanCount(Rate(static_cast<double>(t.rows_loaded), t.seconds)),
                    t.target_version ? std::to_string(*t.target_version) : "-"});
  }
  const double duration = m.duration_seconds();
  rows.push_back({"TOTAL", "", Grouped(m.files_loaded()), Grouped(m.files_failed()),
                  Grouped(m.files_skipped()), Grouped(m.rows_loaded()),
                  HumanBytes(m.bytes_loaded()), fmt::format("{:.1f}", duration),
                  HumanCount(Rate(static_cast<double>(m.rows_loaded()), duration)), ""});
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  // Names left-aligned, numbers right-aligned; trailing blanks trimmed.
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t c = 0; c < r.size(); ++c) {
      if (c) out += "  ";
      out += c < 2 ? fmt::format("{:<{}}", r[c], width[c]) : fmt::format("{:>{}}", r[c], width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };

  std::string title = m.command;
  if (!m.run_id.empty()) title += " " + m.run_id;
  if (m.dry_run) title += " (dry run)";
  std::string out = fmt::format(
      "{}: {} tables, {} files loaded, {} failed, {} skipped, "
      "{} rows, {} in {:.1f} s\n",
      title, m.tables.size(), Grouped(m.files_loaded()), Grouped(m.files_failed()),
      Grouped(m.files_skipped()), Grouped(m.rows_loaded()), HumanBytes(m.bytes_loaded()), duration);
  out += line(header);
  for (const auto& r : rows) out += line(r);
  if (m.resources) {
    const ResourceMetrics& r = *m.resources;
    out += fmt::format("resources: cpu {:.0f}% avg ({:.0f}% max), RSS peak {} of a {} budget, "
                       "{} backpressure pause(s), parallelism {}\n",
                       r.cpu_percent_avg, r.cpu_percent_max, HumanBytes(r.rss_peak_bytes),
                       HumanBytes(r.memory_budget_bytes), r.backpressure_pauses, r.parallelism);
  }

  if (const RequestCounts& r = m.requests; r.total() > 0) {
    out += fmt::format(
        "storage requests: {} (LIST {}, GET {}, HEAD {}, PUT {}, DELETE {}), {:.2f} per file "
        "loaded; data files read and written by the engine not included\n",
        Grouped(r.total()), r.list, r.get, r.head, r.put, r.del,
        PerFile(r.total(), m.files_loaded()));
  }
  if (m.files_deferred() > 0) {
    out += fmt::format(
        "{} file(s) deferred: their batches lost commit races to concurrent "
        "loaders; the next run loads them\n",
        Grouped(m.files_deferred()));
  }
  for (const auto& t : m.tables) {
    for (const auto& w : t.warnings) out += fmt::format("warning: [{}] {}\n", t.table, w);
  }

  constexpr size_t kMaxErrors = 20;
  size_t total_errors = 0;
  for (const auto& t : m.tables) total_errors += t.errors.size();
  if (total_errors > 0) {
    out += fmt::format("Failed files ({}):\n", total_errors);
    size_t shown = 0;
    for (const auto& t : m.tables) {
      for (const auto& e : t.errors) {
        if (shown == kMaxErrors) break;
        out += fmt::format("  [{}] {}: {}\n", t.table, CleanError(e.file),
                           OneLine(CleanError(e.error), 500));
        ++shown;
      }
    }
    if (total_errors > shown) out += fmt::format("  ... and {} more\n", total_errors - shown);
  }
  return out;
}

}  // namespace dl::monitoring
