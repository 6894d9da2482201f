// Parsers of /proc and cgroup files, and the cgroup (v1 and v2) reader.
#include "dl/cluster/system_files.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

namespace dl::cluster::internal {
namespace {

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

std::optional<int64_t> ParseInt(const std::string& text) {
  std::string t = Trim(text);
  if (t.empty()) return std::nullopt;
  try {
    size_t used = 0;
    long long v = std::stoll(t, &used);
    if (used != t.size()) return std::nullopt;
    return static_cast<int64_t>(v);
  } catch (...) {
    return std::nullopt;
  }
}

// v1 writes "no limit" as LONG_MAX rounded down to a page (9223372036854771712).
constexpr int64_t kUnlimited = int64_t{1} << 60;

// One line of /proc/self/cgroup: "hierarchy-id:controller,list:/path".
struct CgroupLine {
  std::vector<std::string> controllers;
  std::string path;
};

std::vector<CgroupLine> ParseProcCgroup(const std::string& text) {
  std::vector<CgroupLine> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    CgroupLine l;
    std::string list = line.substr(a + 1, b - a - 1);
    std::istringstream items(list);
    for (std::string c; std::getline(items, c, ',');) l.controllers.push_back(c);
    if (l.controllers.empty()) l.controllers.push_back("");  // "0::/path": the v2 hierarchy
    l.path = Trim(line.substr(b + 1));
    out.push_back(std::move(l));
  }
  return out;
}

// The directory of this process's cgroup under `mount`; the mount itself when the path from
// /proc/self/cgroup is not visible there (a container sees its own cgroup as the root).
std::string CgroupDir(const std::string& mount, const std::string& path) {
  if (!path.empty() && path != "/" && PathExists(mount + path)) return mount + path;
  return mount;
}

// Each directory from `dir` up to `mount`: a limit set on a parent applies too.
std::vector<std::string> DirsUpTo(const std::string& dir, const std::string& mount) {
  std::vector<std::string> out{dir};
  std::string d = dir;
  while (d.size() > mount.size()) {
    d = d.substr(0, d.rfind('/'));
    if (d.size() < mount.size()) break;
    out.push_back(d);
  }
  return out;
}

template <typename T>
void KeepMin(std::optional<T>& acc, std::optional<T> v) {
  if (v && (!acc || *v < *acc)) acc = v;
}

const CgroupLine* FindController(const std::vector<CgroupLine>& lines, const std::string& name) {
  for (const auto& l : lines) {
    if (std::find(l.controllers.begin(), l.controllers.end(), name) != l.controllers.end()) {
      return &l;
    }
  }
  return nullptr;
}

void ReadCgroupV2(const std::string& mount, const std::string& path, CgroupInfo& out) {
  out.version = 2;
  std::string dir = CgroupDir(mount, path);
  out.path = dir;
  for (const auto& d : DirsUpTo(dir, mount)) {
    if (auto t = ReadSmallFile(d + "/cpu.max")) KeepMin(out.cpu_quota, ParseCpuMax(*t));
    if (auto t = ReadSmallFile(d + "/memory.max")) KeepMin(out.memory_limit, ParseMemoryLimit(*t));
  }
  if (auto t = ReadSmallFile(dir + "/cpuset.cpus.effective")) out.cpuset_cpus = CountCpuList(*t);
  if (auto t = ReadSmallFile(dir + "/memory.current")) out.memory_usage = ParseInt(*t);
}

std::optional<double> V1Quota(const std::string& dir) {
  auto quota = ReadSmallFile(dir + "/cpu.cfs_quota_us");
  auto period = ReadSmallFile(dir + "/cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  auto q = ParseInt(*quota), p = ParseInt(*period);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;  // -1: no quota
  return static_cast<double>(*q) / static_cast<double>(*p);
}

void ReadCgroupV1(const std::string& base, const std::vector<CgroupLine>& lines,
                  CgroupInfo& out) {
  if (const CgroupLine* mem = FindController(lines, "memory")) {
    std::string mount = base + "/memory";
    std::string dir = CgroupDir(mount, mem->path);
    out.path = dir;
    for (const auto& d : DirsUpTo(dir, mount)) {
      if (auto t = ReadSmallFile(d + "/memory.limit_in_bytes")) {
        KeepMin(out.memory_limit, ParseMemoryLimit(*t));
      }
    }
    if (auto t = ReadSmallFile(dir + "/memory.usage_in_bytes")) out.memory_usage = ParseInt(*t);
  }
  if (const CgroupLine* cpu = FindController(lines, "cpu")) {
    for (const char* name : {"/cpu,cpuacct", "/cpu"}) {
      std::string mount = base + name;
      if (!PathExists(mount)) continue;
      for (const auto& d : DirsUpTo(CgroupDir(mount, cpu->path), mount)) {
        KeepMin(out.cpu_quota, V1Quota(d));
      }
      break;
    }
  }
  if (const CgroupLine* set = FindController(lines, "cpuset")) {
    std::string dir = CgroupDir(base + "/cpuset", set->path);
    if (auto t = ReadSmallFile(dir + "/cpuset.cpus")) out.cpuset_cpus = CountCpuList(*t);
  }
  if (out.memory_limit || out.cpu_quota || out.cpuset_cpus || !lines.empty()) out.version = 1;
}

}  // namespace

std::string UnderRoot(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r + path;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return s.str();
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::optional<int> CountCpuList(const std::string& text) {
  std::string t = Trim(text);
  if (t.empty()) return std::nullopt;
  int count = 0;
  std::istringstream in(t);
  for (std::string part; std::getline(in, part, ',');) {
    size_t dash = part.find('-');
    auto lo = ParseInt(part.substr(0, dash));
    auto hi = dash == std::string::npos ? lo : ParseInt(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) return std::nullopt;
    count += static_cast<int>(*hi - *lo + 1);
  }
  return count;
}

std::optional<int64_t> MeminfoBytes(const std::string& meminfo, const std::string& field) {
  std::istringstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream rest(line.substr(field.size() + 1));
    int64_t value = 0;
    std::string unit;
    if (!(rest >> value)) return std::nullopt;
    rest >> unit;
    return unit == "kB" ? value * 1024 : value;
  }
  return std::nullopt;
}

std::optional<double> ParseCpuMax(const std::string& text) {
  std::istringstream in(Trim(text));
  std::string quota;
  int64_t period = 100000;
  in >> quota >> period;
  if (quota.empty() || quota == "max") return std::nullopt;
  auto q = ParseInt(quota);
  if (!q || *q <= 0 || period <= 0) return std::nullopt;
  return static_cast<double>(*q) / static_cast<double>(period);
}

std::optional<int64_t> ParseMemoryLimit(const std::string& text) {
  std::string t = Trim(text);
  if (t == "max") return std::nullopt;
  auto v = ParseInt(t);
  if (!v || *v <= 0 || *v >= kUnlimited) return std::nullopt;
  return v;
}

CgroupInfo ReadCgroup(const std::string& root) {
  CgroupInfo out;
  std::string base = UnderRoot(root, "/sys/fs/cgroup");
  auto proc = ReadSmallFile(UnderRoot(root, "/proc/self/cgroup"));
  std::vector<CgroupLine> lines = proc ? ParseProcCgroup(*proc) : std::vector<CgroupLine>{};
  // Pure v2 (one unified hierarchy): cgroup.controllers at the mount.
  if (PathExists(base + "/cgroup.controllers")) {
    std::string path;
    for (const auto& l : lines) {
      if (l.controllers.size() == 1 && l.controllers[0].empty()) path = l.path;
    }
    ReadCgroupV2(base, path, out);
    return out;
  }
  std::vector<CgroupLine> v1;
  for (const auto& l : lines) {
    if (!(l.controllers.size() == 1 && l.controllers[0].empty())) v1.push_back(l);
  }
  if (!v1.empty()) ReadCgroupV1(base, v1, out);
  return out;
}

}  // namespace dl::cluster::internal
