// Environment detection through fake roots and environment variables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/cluster/environment.hpp"
#include "dl/cluster/system_files.hpp"
#include "dl/cluster/tests/fake_root.hpp"

namespace dl::cluster {
namespace {

using testing::FakeRoot;
using ::testing::Contains;
using ::testing::Pair;

constexpr int64_t kGiB = int64_t{1} << 30;

TEST(SystemFilesTest, Parsers) {
  EXPECT_EQ(internal::CountCpuList("0-3,8,10-11\n"), 7);
  EXPECT_EQ(internal::CountCpuList("0\n"), 1);
  EXPECT_FALSE(internal::CountCpuList("3-1"));
  EXPECT_EQ(internal::ParseCpuMax("150000 100000\n"), 1.5);
  EXPECT_FALSE(internal::ParseCpuMax("max 100000\n"));
  EXPECT_EQ(internal::ParseMemoryLimit("1073741824\n"), kGiB);
  EXPECT_FALSE(internal::ParseMemoryLimit("max\n"));
  EXPECT_FALSE(internal::ParseMemoryLimit("9223372036854771712\n"));  // v1 "unlimited"
  EXPECT_EQ(internal::MeminfoBytes("MemTotal:  2048 kB\nMemAvailable: 1024 kB\n", "MemAvailable"),
            1024 * 1024);
  auto conf = internal::ParseDeployConf(
      "all-projects {\n  spark.databricks.clusterUsageTags.clusterId = \"0101-abc\"\n"
      "  databricks.instance.metadata.cloudProvider = \"AWS\"\n  other.key = \"x\"\n}\n");
  EXPECT_EQ(conf.size(), 2u);
  EXPECT_EQ(conf["spark.databricks.clusterUsageTags.clusterId"], "0101-abc");
  EXPECT_EQ(internal::ClusterTypeFromSecurityMode("USER_ISOLATION"), "shared");
  EXPECT_EQ(internal::ClusterTypeFromSecurityMode("SINGLE_USER"), "single_user");
  EXPECT_EQ(internal::ClusterTypeFromSecurityMode("NONE"), "no_isolation_shared");
}

TEST(EnvironmentTest, PlainHost) {
  FakeRoot root;
  root.Host(8, 16 * 1024 * 1024);
  Environment e = DetectEnvironment(root.Options(), {});
  EXPECT_EQ(e.kind, EnvironmentKind::kHost);
  EXPECT_EQ(e.host_cores, 8);
  EXPECT_EQ(e.cpu_cores, 8);
  EXPECT_EQ(e.host_memory, 16 * kGiB);
  EXPECT_EQ(e.host_memory_available, 8 * kGiB);
  EXPECT_EQ(e.memory_limit, 16 * kGiB);
  EXPECT_EQ(e.cgroup.version, 0);
  EXPECT_THAT(e.sources, Contains(Pair("memory_limit", "host MemTotal")));
}

TEST(EnvironmentTest, CgroupV2LimitsWinOverHost) {
  FakeRoot root;
  root.Host(16, 64 * 1024 * 1024);
  root.Write("/proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  root.Write("/sys/fs/cgroup/cgroup.controllers", "cpu memory cpuset\n");
  root.Write("/sys/fs/cgroup/cpu.max", "max 100000\n");
  root.Write("/sys/fs/cgroup/memory.max", "max\n");
  // The pod limits memory; the container below it limits CPU (and a looser memory).
  root.Write("/sys/fs/cgroup/kubepods/pod1/memory.max", "2147483648\n");
  root.Write("/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "250000 100000\n");
  root.Write("/sys/fs/cgroup/kubepods/pod1/ctr/memory.max", "4294967296\n");
  root.Write("/sys/fs/cgroup/kubepods/pod1/ctr/memory.current", "1073741824\n");
  Environment e = DetectEnvironment(root.Options(), {});
  EXPECT_EQ(e.kind, EnvironmentKind::kContainer);
  EXPECT_EQ(e.cgroup.version, 2);
  EXPECT_EQ(e.cgroup.cpu_quota, 2.5);
  EXPECT_EQ(e.cpu_cores, 2);  // 2.5 CPUs: two busy threads run unthrottled
  EXPECT_EQ(e.cgroup.memory_limit, 2 * kGiB);
  EXPECT_EQ(e.memory_limit, 2 * kGiB);  // not the host's 64 GiB
  EXPECT_EQ(e.cgroup.memory_usage, kGiB);
  EXPECT_THAT(e.sources, Contains(Pair("memory_limit", "cgroup v2 memory limit")));
}

TEST(EnvironmentTest, CgroupV2NamespacedSeesItsRoot) {
  FakeRoot root;
  root.Host(4, 8 * 1024 * 1024);
  root.Write("/proc/self/cgroup", "0::/\n");
  root.Write("/sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  root.Write("/sys/fs/cgroup/cpu.max", "50000 100000\n");
  root.Write("/sys/fs/cgroup/memory.max", "536870912\n");
  root.Write("/sys/fs/cgroup/cpuset.cpus.effective", "0-1\n");
  root.Write("/.dockerenv", "");
  Environment e = DetectEnvironment(root.Options(), {});
  EXPECT_EQ(e.kind, EnvironmentKind::kContainer);
  EXPECT_TRUE(e.container_marker);
  EXPECT_EQ(e.cgroup.cpuset_cpus, 2);
  EXPECT_EQ(e.cpu_cores, 1);  // half a CPU still gets one worker
  EXPECT_EQ(e.memory_limit, 512 << 20);
}

TEST(EnvironmentTest, CgroupV1QuotaAndMemory) {
  FakeRoot root;
  root.Host(8, 32 * 1024 * 1024);
  root.Write("/proc/self/cgroup",
             "4:memory:/docker/abc\n3:cpuset:/\n2:cpu,cpuacct:/docker/abc\n0::/\n");
  root.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  root.Write("/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "3221225472\n");
  root.Write("/sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes", "1000\n");
  root.Write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  root.Write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  root.Write("/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
  root.Write("/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  root.Write("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-7\n");
  Environment e = DetectEnvironment(root.Options(), {});
  EXPECT_EQ(e.kind, EnvironmentKind::kContainer);
  EXPECT_EQ(e.cgroup.version, 1);
  EXPECT_EQ(e.cgroup.cpu_quota, 3.0);
  EXPECT_EQ(e.cpu_cores, 3);
  EXPECT_EQ(e.memory_limit, 3 * kGiB);
  EXPECT_EQ(e.cgroup.memory_usage, 1000);
}

TEST(EnvironmentTest, CgroupV1UnlimitedIsAHost) {
  FakeRoot root;
  root.Host(2, 4 * 1024 * 1024);
  root.Write("/proc/self/cgroup", "4:memory:/\n1:cpu:/\n");
  root.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  root.Write("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
  root.Write("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  Environment e = DetectEnvironment(root.Options(), {});
  EXPECT_EQ(e.kind, EnvironmentKind::kHost);
  EXPECT_EQ(e.cgroup.version, 1);
  EXPECT_FALSE(e.cgroup.memory_limit);
  EXPECT_EQ(e.memory_limit, 4 * kGiB);
  EXPECT_EQ(e.cpu_cores, 2);
}

TEST(EnvironmentTest, DatabricksFromVariablesAndDeployConf) {
  FakeRoot root;
  root.Host(16, 128 * 1024 * 1024);
  root.Write("/databricks/common/conf/deploy.conf",
             "all-projects {\n"
             "  spark.databricks.clusterUsageTags.clusterId = \"0923-164208-abcd1234\"\n"
             "  spark.databricks.clusterUsageTags.clusterName = \"nightly etl\"\n"
             "  spark.databricks.clusterUsageTags.clusterWorkers = \"4\"\n"
             "  spark.databricks.clusterUsageTags.sparkVersion = \"13.3.x-scala2.12\"\n"
             "  spark.databricks.clusterUsageTags.dataSecurityMode = \"USER_ISOLATION\"\n"
             "}\n");
  Environment e = DetectEnvironment(
      root.Options({{"DATABRICKS_RUNTIME_VERSION", "13.3"}, {"DB_IS_DRIVER", "TRUE"}}), {});
  EXPECT_EQ(e.kind, EnvironmentKind::kDatabricks);
  EXPECT_EQ(e.databricks.runtime_version, "13.3");
  EXPECT_EQ(e.databricks.cluster_id, "0923-164208-abcd1234");
  EXPECT_EQ(e.databricks.cluster_name, "nightly etl");
  EXPECT_EQ(e.databricks.workers, 4);
  EXPECT_EQ(e.databricks.cluster_type, "shared");
  EXPECT_EQ(e.databricks.is_driver, true);
  EXPECT_THAT(e.sources, Contains(Pair("runtime_version", "$DATABRICKS_RUNTIME_VERSION")));
}

TEST(EnvironmentTest, DatabricksFromFilesOnly) {
  FakeRoot root;
  root.Host(4, 8 * 1024 * 1024);
  root.Write("/databricks/DBR_VERSION", "14.3\n");
  Environment e = DetectEnvironment(root.Options({{"DB_CLUSTER_ID", "c-1"}}), {});
  EXPECT_EQ(e.kind, EnvironmentKind::kDatabricks);
  EXPECT_EQ(e.databricks.runtime_version, "14.3");
  EXPECT_EQ(e.databricks.cluster_id, "c-1");
  EXPECT_FALSE(e.databricks.cluster_type);  // not known without deploy.conf
}

TEST(EnvironmentTest, OverridesWin) {
  FakeRoot root;
  root.Host(8, 16 * 1024 * 1024);
  config::ClusterSettings c;
  c.environment = "databricks";
  c.cpu_cores = 3;
  c.memory_limit = 5 * kGiB;
  c.cluster_name = "override";
  c.cluster_type = "single_user";
  c.node_type = "i3.xlarge";
  c.workers = 4;
  Environment e = DetectEnvironment(root.Options(), c);
  EXPECT_EQ(e.databricks.node_type, "i3.xlarge");
  EXPECT_EQ(e.databricks.workers, 4);
  EXPECT_THAT(e.sources, Contains(Pair("workers", "config cluster.workers")));
  EXPECT_EQ(e.kind, EnvironmentKind::kDatabricks);
  EXPECT_EQ(e.cpu_cores, 3);
  EXPECT_EQ(e.memory_limit, 5 * kGiB);
  EXPECT_EQ(e.databricks.cluster_name, "override");
  EXPECT_THAT(e.sources, Contains(Pair("cpu_cores", "config cluster.cpu_cores")));
}

TEST(EnvironmentTest, RealHostHasSaneFigures) {
  Environment e = DetectEnvironment({}, {});
  EXPECT_GE(e.cpu_cores, 1);
  EXPECT_GT(e.memory_limit, 0);
  EXPECT_LE(e.memory_limit, e.host_memory);
}

TEST(DiskTest, MeasuresNearestExistingAncestor) {
  FakeRoot root;
  auto d = MeasureDisk(root.path() + "/not/yet/created");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->path, root.path());
  EXPECT_GT(d->total_bytes, 0);
  EXPECT_LE(d->free_bytes, d->total_bytes);
}

}  // namespace
}  // namespace dl::cluster
