#include "dl/monitoring/run_metrics.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dl/common/clock.hpp"

namespace dl::monitoring {
namespace {

namespace fs = std::filesystem;

RunMetrics Sample() {
  RunMetrics m;
  m.run_id = "0b5e3c1a-run";
  m.start_ms = *ParseTimestampMs("2026-11-25T10:00:00Z");
  m.end_ms = m.start_ms + 12'500;
  TableMetrics a;
  a.table = "sales.orders";
  a.strategy = "append";
  a.files_discovered = 14;
  a.files_loaded = 10;
  a.files_failed = 2;
  a.files_skipped = 2;
  a.batches = 3;
  a.batches_failed = 1;
  a.retries = 1;
  a.rows_loaded = 1'234'567;
  a.bytes_loaded = 12 * 1024 * 1024 + 300 * 1024;
  a.seconds = 4.5;
  a.target_version = 7;
  a.errors = {{"/data/orders/bad1.csv", "SchemaMismatch: column \"qty\" is not a number"},
              {"/data/orders/bad2.csv", "Io: cannot read\nsecond line password=hunter2"}};
  TableMetrics b;
  b.table = "weird \"name\"\\with\nnewline";
  b.strategy = "overwrite";
  b.files_discovered = 1;
  b.files_loaded = 1;
  b.rows_loaded = 10;
  b.bytes_loaded = 100;
  b.seconds = 0.25;
  m.tables = {a, b};
  return m;
}

TEST(RunMetricsTest, Totals) {
  RunMetrics m = Sample();
  EXPECT_EQ(m.files_loaded(), 11);
  EXPECT_EQ(m.files_failed(), 2);
  EXPECT_EQ(m.files_skipped(), 2);
  EXPECT_EQ(m.files_discovered(), 15);
  EXPECT_EQ(m.rows_loaded(), 1'234'577);
  EXPECT_EQ(m.bytes_loaded(), 12 * 1024 * 1024 + 300 * 1024 + 100);
  EXPECT_DOUBLE_EQ(m.seconds(), 4.75);
  EXPECT_DOUBLE_EQ(m.duration_seconds(), 12.5);
  RunMetrics unfinished;
  unfinished.tables = {TableMetrics{.seconds = 2}};
  EXPECT_DOUBLE_EQ(unfinished.duration_seconds(), 2);
}

TEST(RunMetricsTest, Json) {
  auto j = nlohmann::json::parse(ToJson(Sample()));
  EXPECT_EQ(j["run_id"], "0b5e3c1a-run");
  EXPECT_EQ(j["command"], "run");
  EXPECT_EQ(j["dry_run"], false);
  EXPECT_EQ(j["start_time"], "2026-11-25T10:00:00.000Z");
  EXPECT_EQ(j["end_time"], "2026-11-25T10:00:12.500Z");
  EXPECT_EQ(j["duration_seconds"], 12.5);
  EXPECT_EQ(j["totals"]["tables"], 2);
  EXPECT_EQ(j["totals"]["files_loaded"], 11);
  EXPECT_EQ(j["totals"]["files_failed"], 2);
  EXPECT_EQ(j["totals"]["rows_loaded"], 1'234'577);
  EXPECT_EQ(j["totals"]["batches"], 3);
  ASSERT_EQ(j["tables"].size(), 2u);
  EXPECT_EQ(j["tables"][0]["table"], "sales.orders");
  EXPECT_EQ(j["tables"][0]["target_version"], 7);
  EXPECT_TRUE(j["tables"][1]["target_version"].is_null());
  EXPECT_EQ(j["tables"][1]["table"], "weird \"name\"\\with\nnewline");
  ASSERT_EQ(j["tables"][0]["errors"].size(), 2u);
  EXPECT_EQ(j["tables"][0]["errors"][0]["file"], "/data/orders/bad1.csv");
  std::string err = j["tables"][0]["errors"][1]["error"];
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;  // secrets never leave the process
}

// Unescapes a Prometheus label block `{k="v",...}`; false if malformed.
bool ParseLabels(const std::string& s, std::map<std::string, std::string>* out) {
  size_t i = 0;
  if (s.empty()) return true;
  if (s[i++] != '{') return false;
  while (i < s.size() && s[i] != '}') {
    size_t eq = s.find('=', i);
    if (eq == std::string::npos) return false;
    std::string key = s.substr(i, eq - i);
    if (!std::regex_match(key, std::regex("[a-zA-Z_][a-zA-Z0-9_]*"))) return false;
    i = eq + 1;
    if (i >= s.size() || s[i++] != '"') return false;
    std::string value;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        if (i + 1 >= s.size()) return false;
        char c = s[i + 1];
        if (c == 'n')
          value += '\n';
        else if (c == '\\' || c == '"')
          value += c;
        else
          return false;
        i += 2;
      } else if (s[i] == '\n') {
        return false;
      } else {
        value += s[i++];
      }
    }
    if (i >= s.size()) return false;
    ++i;  // closing quote
    if (out->count(key)) return false;
    (*out)[key] = value;
    if (i < s.size() && s[i] == ',') ++i;
  }
  return i + 1 == s.size();
}

struct Sample_ {
  std::string name;
  std::map<std::string, std::string> labels;
  double value;
};

// Checks the exposition format line by line and returns the samples.
std::vector<Sample_> ParseExposition(const std::string& text) {
  std::vector<Sample_> samples;
  EXPECT_TRUE(!text.empty() && text.back() == '\n');
  std::set<std::string> helped, typed, finished;
  std::set<std::string> series;
  std::string current;  // family whose samples are being read
  std::istringstream in(text);
  std::string line;
  const std::regex help_re(R"(# HELP (data_loader_[a-z_]+) (.+))");
  const std::regex type_re(R"(# TYPE (data_loader_[a-z_]+) (gauge|counter))");
  const std::regex sample_re(R"((data_loader_[a-z_]+)(\{.*\})? ([-+0-9.eE]+|NaN|[+-]Inf))");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, help_re)) {
      EXPECT_TRUE(helped.insert(m[1]).second) << "HELP twice: " << line;
      EXPECT_FALSE(typed.count(m[1])) << "HELP after TYPE: " << line;
      if (!current.empty()) finished.insert(current);
      current = m[1];
    } else if (std::regex_match(line, m, type_re)) {
      EXPECT_TRUE(typed.insert(m[1]).second) << "TYPE twice: " << line;
      EXPECT_EQ(m[1].str(), current) << line;
    } else if (std::regex_match(line, m, sample_re)) {
      std::string name = m[1];
      EXPECT_TRUE(helped.count(name) && typed.count(name)) << "no HELP/TYPE: " << line;
      EXPECT_EQ(name, current) << "family samples not contiguous: " << line;
      Sample_ s{name, {}, 0};
      EXPECT_TRUE(ParseLabels(m[2], &s.labels)) << "bad labels: " << line;
      EXPECT_TRUE(series.insert(name + m[2].str()).second) << "duplicate series: " << line;
      s.value = std::stod(m[3]);
      samples.push_back(std::move(s));
    } else {
      ADD_FAILURE() << "not exposition format: [" << line << "]";
    }
  }
  EXPECT_EQ(helped, typed);
  return samples;
}

const Sample_* Find(const std::vector<Sample_>& samples, const std::string& name,
                    const std::string& table = "") {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    if (table.empty() ? s.labels.empty() || !s.labels.count("table")
                      : s.labels.count("table") && s.labels.at("table") == table) {
      return &s;
    }
  }
  return nullptr;
}

TEST(RunMetricsTest, PrometheusIsValidExposition) {
  std::string text = ToPrometheus(Sample());
  auto samples = ParseExposition(text);
  ASSERT_FALSE(samples.empty());
  const std::string weird = "weird \"name\"\\with\nnewline";
  // The raw text carries the escaped form; parsing gives back the original name.
  EXPECT_NE(text.find(R"({table="weird \"name\"\\with\nnewline"})"), std::string::npos) << text;
  ASSERT_NE(Find(samples, "data_loader_table_rows_loaded", weird), nullptr);
  EXPECT_EQ(Find(samples, "data_loader_table_rows_loaded", weird)->value, 10);
  EXPECT_EQ(Find(samples, "data_loader_table_files_failed", "sales.orders")->value, 2);
  EXPECT_EQ(Find(samples, "data_loader_table_bytes_loaded", "sales.orders")->value,
            12 * 1024 * 1024 + 300 * 1024);
  EXPECT_EQ(Find(samples, "data_loader_table_duration_seconds", "sales.orders")->value, 4.5);
  EXPECT_EQ(Find(samples, "data_loader_table_version", "sales.orders")->value, 7);
  EXPECT_EQ(Find(samples, "data_loader_table_version", weird), nullptr);  // no version known
  EXPECT_EQ(Find(samples, "data_loader_run_files_loaded")->value, 11);
  EXPECT_EQ(Find(samples, "data_loader_run_rows_loaded")->value, 1'234'577);
  EXPECT_EQ(Find(samples, "data_loader_run_duration_seconds")->value, 12.5);
  EXPECT_EQ(Find(samples, "data_loader_run_success")->value, 0);
  EXPECT_DOUBLE_EQ(Find(samples, "data_loader_last_run_timestamp_seconds")->value,
                   (*ParseTimestampMs("2026-11-25T10:00:12.500Z")) / 1000.0);
  const Sample_* info = Find(samples, "data_loader_run_info");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->labels.at("run_id"), "0b5e3c1a-run");
  EXPECT_EQ(info->labels.at("dry_run"), "false");
}

TEST(RunMetricsTest, PrometheusForEmptyRunIsValid) {
  RunMetrics m;
  m.run_id = "r";
  m.dry_run = true;
  auto samples = ParseExposition(ToPrometheus(m));
  EXPECT_EQ(Find(samples, "data_loader_run_tables")->value, 0);
  EXPECT_EQ(Find(samples, "data_loader_run_success")->value, 1);
  EXPECT_EQ(Find(samples, "data_loader_table_rows_loaded", "x"), nullptr);
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class MetricsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dl_metrics_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(MetricsFilesTest, WritesJsonPromAndLatest) {
  fs::path dir = root_ / "checkpoint" / "metrics";  // created on demand
  RunMetrics m = Sample();
  auto path = WriteMetricsFiles(*MakeLocalFileSystem(), dir.string(), m);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, (dir / "run-20261125T100000Z-0b5e3c1a-run.json").string());
  EXPECT_EQ(ReadFile(*path), ToJson(m));
  EXPECT_EQ(ReadFile(dir / "run-20261125T100000Z-0b5e3c1a-run.prom"), ToPrometheus(m));
  EXPECT_EQ(ReadFile(dir / "latest.prom"), ToPrometheus(m));

  // A second run adds its own files and replaces latest.prom.
  RunMetrics m2 = m;
  m2.run_id = "second/../run";  // never escapes the directory
  m2.start_ms += 3'600'000;
  m2.end_ms += 3'600'000;
  m2.tables.resize(1);
  auto path2 = WriteMetricsFiles(*MakeLocalFileSystem(), dir.string(), m2);
  ASSERT_TRUE(path2.ok()) << path2.status().ToString();
  EXPECT_EQ(fs::path(*path2).parent_path(), dir);
  EXPECT_EQ(fs::path(*path2).filename(), "run-20261125T110000Z-second_.._run.json");
  EXPECT_EQ(ReadFile(dir / "latest.prom"), ToPrometheus(m2));

  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"latest.prom", "run-20261125T100000Z-0b5e3c1a-run.json",
                                          "run-20261125T100000Z-0b5e3c1a-run.prom",
                                          "run-20261125T110000Z-second_.._run.json",
                                          "run-20261125T110000Z-second_.._run.prom"}));
}

TEST_F(MetricsFilesTest, ReportsUnwritableDirectory) {
  fs::path file = root_ / "a_file";
  std::ofstream(file) << "x";
  auto path = WriteMetricsFiles(*MakeLocalFileSystem(), (file / "metrics").string(), Sample());
  ASSERT_FALSE(path.ok());
  EXPECT_NE(path.status().message().find("metrics"), std::string::npos) << path.status().ToString();
}

TEST(SummaryTest, TablesTotalsAndErrors) {
  RunMetrics m = Sample();
  std::string s = FormatSummary(m);
  EXPECT_NE(s.find("run 0b5e3c1a-run: 2 tables, 11 files loaded, 2 failed, 2 skipped, "
                   "1,234,577 rows, 12.3 MiB in 12.5 s"),
            std::string::npos)
      << s;
  std::regex orders(
      R"(\nsales\.orders +append +10 +2 +2 +1,234,567 +12\.3 MiB +4\.5 +274\.3K +7\n)");
  EXPECT_TRUE(std::regex_search(s, orders)) << s;
  EXPECT_TRUE(std::regex_search(
      s, std::regex(R"(\nTOTAL +11 +2 +2 +1,234,577 +12\.3 MiB +12\.5 +98\.8K\n)")))
      << s;
  EXPECT_NE(s.find("Failed files (2):\n  [sales.orders] /data/orders/bad1.csv: SchemaMismatch"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("Io: cannot read second line password=***"), std::string::npos) << s;
  EXPECT_EQ(s.find("hunter2"), std::string::npos);
  EXPECT_EQ(s.find("more"), std::string::npos);
}

TEST(SummaryTest, AtMostTwentyErrors) {
  RunMetrics m;
  m.dry_run = true;
  TableMetrics t;
  t.table = "t";
  t.strategy = "append";
  for (int i = 0; i < 25; ++i) t.errors.push_back({"f" + std::to_string(i), "boom"});
  t.files_failed = 25;
  m.tables = {t};
  std::string s = FormatSummary(m);
  EXPECT_NE(s.find("run (dry run): 1 tables"), std::string::npos) << s;
  EXPECT_NE(s.find("  [t] f19: boom\n  ... and 5 more\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("f20"), std::string::npos) << s;
}

TEST(HumanTest, BytesAndCounts) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(1024 * 1024 - 1), "1.0 MiB");
  EXPECT_EQ(HumanBytes(int64_t{5} << 40), "5.0 TiB");
  EXPECT_EQ(HumanCount(0), "0");
  EXPECT_EQ(HumanCount(2.5), "2.5");
  EXPECT_EQ(HumanCount(850.4), "850");
  EXPECT_EQ(HumanCount(1234), "1.2K");
  EXPECT_EQ(HumanCount(1'200'000), "1.2M");
  EXPECT_EQ(HumanCount(999'999), "1.0M");
  EXPECT_EQ(HumanCount(3.4e9), "3.4B");
}

}  // namespace
}  // namespace dl::monitoring

namespace dl::monitoring {
namespace {

TEST(ResourceMetricsTest, JsonPrometheusAndSummaryCarryThem) {
  RunMetrics m;
  m.run_id = "r1";
  m.command = "run-cluster";
  m.start_ms = 1'000'000;
  m.end_ms = 1'002'000;
  EXPECT_EQ(ToJson(m).find("\"resources\""), std::string::npos);  // plain runs: none
  ResourceMetrics r;
  r.environment = "container";
  r.parallelism = 2;
  r.samples = 10;
  r.cpu_seconds = 1.5;
  r.cpu_percent_avg = 75;
  r.cpu_percent_max = 140;
  r.rss_peak_bytes = 200 << 20;
  r.memory_budget_bytes = int64_t{1} << 30;
  r.backpressure_pauses = 3;
  r.backpressure_seconds = 0.25;
  m.resources = r;
  auto j = nlohmann::json::parse(ToJson(m));
  EXPECT_EQ(j["resources"]["environment"], "container");
  EXPECT_EQ(j["resources"]["rss_peak_bytes"], 200 << 20);
  EXPECT_EQ(j["resources"]["backpressure_pauses"], 3);
  std::string prom = ToPrometheus(m);
  EXPECT_NE(prom.find("data_loader_process_rss_peak_bytes 209715200\n"), std::string::npos);
  EXPECT_NE(prom.find("data_loader_process_backpressure_pauses 3\n"), std::string::npos);
  EXPECT_NE(prom.find("# TYPE data_loader_process_cpu_seconds gauge\n"), std::string::npos);
  EXPECT_NE(FormatSummary(m).find("resources: cpu 75% avg (140% max), RSS peak 200.0 MiB of a "
                                  "1.0 GiB budget, 3 backpressure pause(s), parallelism 2\n"),
            std::string::npos);
}

TEST(RequestMetricsTest, JsonPrometheusAndSummaryCarryThem) {
  RunMetrics m;
  m.run_id = "r1";
  m.start_ms = 1'000'000;
  m.end_ms = 1'002'000;
  TableMetrics t;
  t.table = "db.t";
  t.files_loaded = 4;
  m.tables.push_back(t);
  // A local run: zero everywhere, and no summary line.
  auto local = nlohmann::json::parse(ToJson(m));
  EXPECT_EQ(local["storage_requests"]["total"], 0);
  EXPECT_EQ(local["storage_requests"]["per_file_loaded"], 0.0);
  EXPECT_EQ(FormatSummary(m).find("storage requests"), std::string::npos);
  m.requests = {.list = 2, .get = 3, .head = 1, .put = 3, .del = 1};
  auto j = nlohmann::json::parse(ToJson(m));
  EXPECT_EQ(j["storage_requests"]["list"], 2);
  EXPECT_EQ(j["storage_requests"]["get"], 3);
  EXPECT_EQ(j["storage_requests"]["head"], 1);
  EXPECT_EQ(j["storage_requests"]["put"], 3);
  EXPECT_EQ(j["storage_requests"]["delete"], 1);
  EXPECT_EQ(j["storage_requests"]["total"], 10);
  EXPECT_DOUBLE_EQ(j["storage_requests"]["per_file_loaded"].get<double>(), 2.5);
  std::string prom = ToPrometheus(m);
  EXPECT_NE(prom.find("data_loader_run_storage_requests{kind=\"put\"} 3\n"), std::string::npos);
  EXPECT_NE(prom.find("data_loader_run_storage_requests{kind=\"delete\"} 1\n"), std::string::npos);
  EXPECT_NE(FormatSummary(m).find("storage requests: 10 (LIST 2, GET 3, HEAD 1, PUT 3, DELETE "
                                  "1), 2.50 per file loaded"),
            std::string::npos);
}

TEST(RequestCountsTest, SinceSubtractsAnEarlierCount) {
  RequestCounts before{.list = 1, .get = 2, .head = 0, .put = 1, .del = 0};
  RequestCounts now{.list = 4, .get = 7, .head = 1, .put = 3, .del = 2};
  RequestCounts d = now.Since(before);
  EXPECT_EQ(d.list, 3);
  EXPECT_EQ(d.get, 5);
  EXPECT_EQ(d.head, 1);
  EXPECT_EQ(d.put, 2);
  EXPECT_EQ(d.del, 2);
  EXPECT_EQ(d.total(), 13);
}

}  // namespace
}  // namespace dl::monitoring
