#include "dl/storage/staging_dir.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "dl/common/clock.hpp"
#include "dl/common/testing/temp_dir.hpp"

namespace dl {
namespace {

using testing::SetMtimeMs;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Paths(const Result<std::vector<StagingEntry>>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (r.ok()) {
    for (const auto& e : *r) out.push_back(e.path);
  }
  return out;
}

// A writer process that creates a staging directory, writes a data file into it and is
// killed by SIGKILL: what a loader killed mid-write leaves. Returns the directory.
std::string KilledWriter(const std::string& root) {
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    auto dir = StagingDir::Create(root);
    if (!dir.ok()) ::_exit(3);
    WriteFile(dir->path() + "/data/part-0.parquet", std::string(1000, 'x'));
    std::string path = dir->path();
    (void)!::write(pipefd[1], path.data(), path.size());
    ::close(pipefd[1]);
    ::raise(SIGKILL);
  }
  ::close(pipefd[1]);
  std::string path;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof(buf))) > 0;) path.append(buf, n);
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  return path;
}

TEST(StagingDirTest, OwnedWhileAliveRemovedWhenDone) {
  TempDir root;
  std::string path;
  {
    auto dir = StagingDir::Create(root.path());
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    path = dir->path();
    EXPECT_EQ(std::filesystem::path(path).parent_path(), root.path());
    EXPECT_TRUE(std::filesystem::path(path).filename().string().starts_with("_dl_staging_"));
    WriteFile(path + "/data/part-0.parquet", "x");
    EXPECT_TRUE(Paths(AbandonedStagingDirs(root.path())).empty());
    // Not even VACUUM with no retention deletes a live writer's files.
    EXPECT_TRUE(Paths(StaleStagingDirs(root.path(), NowMs() + 3600000)).empty());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(StagingDirTest, KilledWritersDirectoryIsAbandoned) {
  TempDir root;
  std::string dead = KilledWriter(root.path());
  ASSERT_TRUE(std::filesystem::exists(dead + "/data/part-0.parquet"));
  auto live = StagingDir::Create(root.path());
  ASSERT_TRUE(live.ok());
  auto abandoned = AbandonedStagingDirs(root.path());
  EXPECT_EQ(Paths(abandoned), std::vector<std::string>{dead});
  EXPECT_GE(abandoned->at(0).bytes, 1000);
  // VACUUM: only once it is as old as the retention.
  EXPECT_TRUE(Paths(StaleStagingDirs(root.path(), NowMs() - 3600000)).empty());
  EXPECT_EQ(Paths(StaleStagingDirs(root.path(), NowMs() + 1000)), std::vector<std::string>{dead});
  ASSERT_TRUE(RemoveStagingDir(dead).ok());
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live->path()));
}

TEST(StagingDirTest, OtherHostsAndUnrecordedDirectories) {
  TempDir root;
  // Owned from another host: its lock proves nothing here; only VACUUM, after the retention.
  std::string foreign = root / "_dl_staging_foreign";
  WriteFile(foreign + "/_owner", "4242 some-other-host 1\n");
  WriteFile(foreign + "/data/f.parquet", "x");
  // No owner record (a writer before owners were recorded): abandoned once a minute old.
  std::string old_unrecorded = root / "_dl_staging_old";
  WriteFile(old_unrecorded + "/data/f.parquet", "x");
  std::string young_unrecorded = root / "_dl_staging_young";
  WriteFile(young_unrecorded + "/data/f.parquet", "x");
  int64_t old = NowMs() - 2 * 3600000;
  for (const char* p : {"", "/data", "/data/f.parquet"}) {
    ASSERT_TRUE(SetMtimeMs(old_unrecorded + p, old));
    ASSERT_TRUE(SetMtimeMs(foreign + p, old));
  }
  ASSERT_TRUE(SetMtimeMs(foreign + "/_owner", old));
  WriteFile(root / "_dl_staging_file", "not a directory");
  WriteFile(root / "_other/x", "not staging");

  EXPECT_EQ(Paths(AbandonedStagingDirs(root.path())), std::vector<std::string>{old_unrecorded});
  EXPECT_EQ(Paths(StaleStagingDirs(root.path(), NowMs() - 3600000)),
            (std::vector<std::string>{foreign, old_unrecorded}));
  EXPECT_TRUE(Paths(AbandonedStagingDirs(root / "missing")).empty());
}

}  // namespace
}  // namespace dl
