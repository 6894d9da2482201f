// Databricks detection: the variables and files the runtime provides on a cluster node.
//
// Sources (see docs/cluster.md): DATABRICKS_RUNTIME_VERSION (set in every Databricks
// runtime), DB_CLUSTER_ID / DB_CLUSTER_NAME / DB_IS_DRIVER / DB_IS_JOB_CLUSTER /
// DB_INSTANCE_TYPE (documented for init scripts), /databricks/DBR_VERSION, and
// /databricks/common/conf/deploy.conf, whose `spark.databricks.clusterUsageTags.*` keys are
// the values Spark exposes as spark.conf (clusterId, clusterName, clusterWorkers, ...).
#include <algorithm>
#include <cctype>
#include <sstream>

#include "dl/cluster/system_files.hpp"

namespace dl::cluster::internal {
namespace {

constexpr const char* kTags = "spark.databricks.clusterUsageTags.";

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

std::optional<bool> ParseBool(const std::string& v) {
  std::string l = v;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  if (l == "true" || l == "1") return true;
  if (l == "false" || l == "0") return false;
  return std::nullopt;
}

// Set `field` from the first source that has a value, recording where it came from.
void Take(std::optional<std::string>& field, const std::optional<std::string>& value,
          const std::string& fact, const std::string& source,
          std::vector<std::pair<std::string, std::string>>& sources) {
  if (field || !value || value->empty()) return;
  field = *value;
  sources.emplace_back(fact, source);
}

std::optional<std::string> Lookup(const std::map<std::string, std::string>& m,
                                  const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::map<std::string, std::string> ParseDeployConf(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Trim(line.substr(0, eq));
    if (key.rfind("spark.databricks.", 0) != 0 && key.rfind("databricks.", 0) != 0) continue;
    std::string value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out[key] = value;
  }
  return out;
}

std::string ClusterTypeFromSecurityMode(const std::string& mode) {
  std::string u = mode;
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
  if (u == "SINGLE_USER" || u == "LEGACY_SINGLE_USER") return "single_user";
  if (u == "USER_ISOLATION" || u == "LEGACY_TABLE_ACL") return "shared";
  if (u == "NONE" || u == "LEGACY_PASSTHROUGH") return "no_isolation_shared";
  std::string l = mode;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  return l;
}

DatabricksInfo ReadDatabricks(const std::string& root, const EnvLookup& env,
                              std::vector<std::pair<std::string, std::string>>& sources) {
  DatabricksInfo d;
  Take(d.runtime_version, env("DATABRICKS_RUNTIME_VERSION"), "runtime_version",
       "$DATABRICKS_RUNTIME_VERSION", sources);
  const std::string dbr_file = UnderRoot(root, "/databricks/DBR_VERSION");
  if (auto v = ReadSmallFile(dbr_file)) {
    Take(d.runtime_version, Trim(*v), "runtime_version", "/databricks/DBR_VERSION", sources);
  }
  Take(d.cluster_id, env("DB_CLUSTER_ID"), "cluster_id", "$DB_CLUSTER_ID", sources);
  Take(d.cluster_name, env("DB_CLUSTER_NAME"), "cluster_name", "$DB_CLUSTER_NAME", sources);
  Take(d.node_type, env("DB_INSTANCE_TYPE"), "node_type", "$DB_INSTANCE_TYPE", sources);
  if (auto v = env("DB_IS_DRIVER")) d.is_driver = ParseBool(*v);
  if (auto v = env("DB_IS_JOB_CLUSTER")) d.is_job_cluster = ParseBool(*v);

  const std::string deploy = "/databricks/common/conf/deploy.conf";
  auto text = ReadSmallFile(UnderRoot(root, deploy));
  if (!text) return d;
  auto conf = ParseDeployConf(*text);
  auto tag = [&](const char* name) { return Lookup(conf, std::string(kTags) + name); };
  auto src = [&](const char* name) { return deploy + " " + kTags + name; };
  Take(d.cluster_id, tag("clusterId"), "cluster_id", src("clusterId"), sources);
  Take(d.cluster_name, tag("clusterName"), "cluster_name", src("clusterName"), sources);
  Take(d.node_type, tag("clusterNodeType"), "node_type", src("clusterNodeType"), sources);
  Take(d.spark_version, tag("sparkVersion"), "spark_version", src("sparkVersion"), sources);
  Take(d.scaling, tag("clusterScalingType"), "scaling", src("clusterScalingType"), sources);
  for (const char* key : {"dataSecurityMode", "clusterDataSecurityMode"}) {
    if (auto mode = tag(key); mode && !d.cluster_type) {
      d.cluster_type = ClusterTypeFromSecurityMode(*mode);
      sources.emplace_back("cluster_type", src(key));
    }
  }
  if (auto w = tag("clusterWorkers")) {
    try {
      d.workers = std::stoi(*w);
      sources.emplace_back("workers", src("clusterWorkers"));
    } catch (...) {
    }
  }
  if (!d.runtime_version && d.spark_version) {  // "13.3.x-scala2.12" -> "13.3"
    std::string v = *d.spark_version;
    size_t x = v.find(".x");
    d.runtime_version = x == std::string::npos ? v : v.substr(0, x);
    sources.emplace_back("runtime_version", src("sparkVersion"));
  }
  return d;
}

}  // namespace dl::cluster::internal
