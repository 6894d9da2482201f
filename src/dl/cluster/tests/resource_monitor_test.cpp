// The sampler and the backpressure gate, on fake /proc/self files and on the real process.
#include <gtest/gtest.h>

#include <vector>

#include "dl/cluster/resource_monitor.hpp"
#include "dl/cluster/tests/fake_root.hpp"

namespace dl::cluster {
namespace {

using testing::FakeRoot;

void FakeProcess(FakeRoot& root, int64_t rss_kb, int64_t utime, int64_t stime) {
  root.Write("/proc/self/status", "Name:\tdata_loader\nVmPeak:\t 999999 kB\nVmRSS:\t" +
                                      std::to_string(rss_kb) + " kB\nThreads:\t4\n");
  // Field 2 holds spaces and a ')' to make sure parsing counts from the last ')'.
  std::string stat = "42 (data (loader)) S 1 42 42 0 -1 4194560 100 0 0 0 " +
                     std::to_string(utime) + " " + std::to_string(stime) + " 0 0 20 0 4 0\n";
  root.Write("/proc/self/stat", stat);
}

ResourcePlan Plan(int64_t backpressure_at, int64_t hard_limit = 0) {
  ResourcePlan p;
  p.parallelism = 2;
  p.memory_budget = backpressure_at * 2;
  p.backpressure_at = backpressure_at;
  p.hard_limit = hard_limit;
  return p;
}

TEST(ResourceMonitorTest, ReadsRssAndCpuTime) {
  FakeRoot root;
  FakeProcess(root, 2048, 250, 50);
  auto s = ReadProcessSample(root.path());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rss_bytes, 2048 * 1024);
  EXPECT_NEAR(s->cpu_seconds, 300.0 / sysconf(_SC_CLK_TCK), 1e-9);
}

TEST(ResourceMonitorTest, MissingFilesAreAnError) {
  FakeRoot root;
  EXPECT_FALSE(ReadProcessSample(root.path()).ok());
}

TEST(ResourceMonitorTest, GateClosesAboveThresholdAndOpensWhenMemoryFalls) {
  FakeRoot root;
  FakeProcess(root, 1024, 0, 0);  // 1 MiB
  ResourceMonitor m(Plan(4 << 20), 1000, root.path());
  m.SampleNow();
  EXPECT_TRUE(m.MayStartBatch(3));
  FakeProcess(root, 5 * 1024, 10, 0);  // 5 MiB: above the 4 MiB threshold
  m.SampleNow();
  EXPECT_FALSE(m.MayStartBatch(1));
  EXPECT_FALSE(m.MayStartBatch(2));   // still the same pause
  EXPECT_TRUE(m.MayStartBatch(0));    // nothing running: one batch may always start
  FakeProcess(root, 2 * 1024, 20, 0);
  m.SampleNow();
  EXPECT_TRUE(m.MayStartBatch(1));
  auto metrics = m.Metrics();
  EXPECT_EQ(metrics.samples, 3);
  EXPECT_EQ(metrics.rss_peak_bytes, 5 << 20);
  EXPECT_EQ(metrics.rss_end_bytes, 2 << 20);
  EXPECT_EQ(metrics.rss_avg_bytes, (8 << 20) / 3);
  EXPECT_EQ(metrics.backpressure_pauses, 1);
  EXPECT_NEAR(metrics.cpu_seconds, 20.0 / sysconf(_SC_CLK_TCK), 1e-9);
  EXPECT_EQ(metrics.backpressure_at_bytes, 4 << 20);
}

TEST(ResourceMonitorTest, NoThresholdNeverCloses) {
  FakeRoot root;
  FakeProcess(root, 1 << 20, 0, 0);  // 1 GiB
  ResourceMonitor m(Plan(0), 1000, root.path());
  m.SampleNow();
  EXPECT_TRUE(m.MayStartBatch(5));
}

TEST(ResourceMonitorTest, HardLimitClosesTheGate) {
  FakeRoot root;
  FakeProcess(root, 3 * 1024, 0, 0);
  ResourceMonitor m(Plan(int64_t{100} << 20, 2 << 20), 1000, root.path());
  m.SampleNow();
  EXPECT_FALSE(m.MayStartBatch(1));
}

TEST(ResourceMonitorTest, SamplesTheRealProcessInItsThread) {
  ResourceMonitor m(Plan(int64_t{1} << 50), 5);
  m.Start();
  // Allocate and touch memory so RSS is visibly non-zero; wait for the thread by sample count.
  std::vector<char> block(64 << 20, 1);
  const int64_t after = m.Metrics().samples;
  while (m.Metrics().samples < after + 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  m.Stop();
  auto metrics = m.Metrics();
  EXPECT_GE(metrics.samples, after + 3);  // Stop() takes a last one
  EXPECT_GT(metrics.rss_peak_bytes, 64 << 20);
  EXPECT_GE(metrics.cpu_seconds, 0);
  EXPECT_GT(block[12345], 0);
}

}  // namespace
}  // namespace dl::cluster
