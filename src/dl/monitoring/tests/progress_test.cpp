#include "dl/monitoring/progress.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace dl::monitoring {
namespace {

std::string ReadAll(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(ProgressTest, DisabledWritesNothing) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p(false, f);
    EXPECT_FALSE(p.enabled());
    p.AddPlanned(10, 1000);
    p.SetCurrent("orders");
    p.FileDone(3, 100, 300);
    p.FileFailed(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    p.Stop();
  }
  EXPECT_EQ(ReadAll(f), "");
  std::fclose(f);
}

TEST(ProgressTest, EnabledOutputHasCountsAndIsClearedOnStop) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress p(true, f);
  p.AddPlanned(10, 1000);
  p.SetCurrent("orders");
  p.FileDone(3, 1'200'000, 300);
  p.FileFailed(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  p.Stop();
  p.Stop();  // idempotent
  std::string out = ReadAll(f);
  EXPECT_NE(out.find("[orders] 4/10 files, 1.2M rows, 300 B, "), std::string::npos) << out;
  EXPECT_NE(out.find(" files/s, 1 failed"), std::string::npos) << out;
  EXPECT_EQ(out.find('\n'), std::string::npos) << out;  // redrawn in place, never new lines
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\x1b[K");  // cleared at the end
  std::fclose(f);
}

TEST(ProgressTest, ConcurrentReportsAreCounted) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress p(true, f);
  p.AddPlanned(8000, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&p] {
      for (int i = 0; i < 1000; ++i) p.FileDone(1, 10, 0);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(p.Render().rfind("8000/8000 files, 80.0K rows, ", 0), 0u) << p.Render();
  p.Stop();
  EXPECT_NE(ReadAll(f).find("8000/8000 files"), std::string::npos);
  std::fclose(f);
}

TEST(ProgressTest, NoLabelNoPlan) {
  Progress p(false);
  p.FileDone(2, 5, 0);
  EXPECT_EQ(p.Render().rfind("2 files, 5 rows, ", 0), 0u) << p.Render();
}

}  // namespace
}  // namespace dl::monitoring
