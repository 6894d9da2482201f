// Cluster-module internals: reading small system files below a root, and the parsers of
// /proc, cgroup and Databricks files (separate so tests can call them on text).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "dl/cluster/environment.hpp"

namespace dl::cluster::internal {

/// `root` + `path` ("/" root: path as is).
std::string UnderRoot(const std::string& root, const std::string& path);
/// The file's text, or nullopt when it cannot be read.
std::optional<std::string> ReadSmallFile(const std::string& path);
bool PathExists(const std::string& path);

/// "0-3,8,10-11" -> 7.
std::optional<int> CountCpuList(const std::string& text);
/// A /proc/meminfo field in bytes ("MemTotal" -> 24683584 kB * 1024).
std::optional<int64_t> MeminfoBytes(const std::string& meminfo, const std::string& field);
/// cgroup v2 cpu.max ("max 100000" -> nullopt, "150000 100000" -> 1.5).
std::optional<double> ParseCpuMax(const std::string& text);
/// memory.max / memory.limit_in_bytes: "max" or a v1 "unlimited" value (>= 2^60) -> nullopt.
std::optional<int64_t> ParseMemoryLimit(const std::string& text);
/// deploy.conf (HOCON: `key = "value"` lines) -> key/value for spark.databricks.* and
/// databricks.* keys.
std::map<std::string, std::string> ParseDeployConf(const std::string& text);

CgroupInfo ReadCgroup(const std::string& root);
DatabricksInfo ReadDatabricks(const std::string& root, const EnvLookup& env,
                              std::vector<std::pair<std::string, std::string>>& sources);
/// dataSecurityMode -> single_user | shared | no_isolation_shared | lower-case mode.
std::string ClusterTypeFromSecurityMode(const std::string& mode);

}  // namespace dl::cluster::internal
