// A temporary directory tree standing in for "/" (proc, sys/fs/cgroup, databricks).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "dl/cluster/environment.hpp"

namespace dl::cluster::testing {

class FakeRoot {
 public:
  FakeRoot() {
    char tmpl[] = "/tmp/dl_cluster_root_XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~FakeRoot() { std::filesystem::remove_all(root_); }
  const std::string& path() const { return root_; }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::path p = root_ + rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void MakeDir(const std::string& rel) { std::filesystem::create_directories(root_ + rel); }
  /// A host with `cores` CPUs and `mem_kb` of memory (MemAvailable = half).
  void Host(int cores, int64_t mem_kb) {
    std::string online = cores == 1 ? "0" : "0-" + std::to_string(cores - 1);
    Write("/sys/devices/system/cpu/online", online + "\n");
    Write("/proc/meminfo", "MemTotal:       " + std::to_string(mem_kb) +
                               " kB\nMemFree:  1 kB\nMemAvailable:   " +
                               std::to_string(mem_kb / 2) + " kB\n");
  }
  DetectOptions Options(std::map<std::string, std::string> env = {}) const {
    DetectOptions o;
    o.root = root_;
    o.env = [env](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    return o;
  }

 private:
  std::string root_;
};

}  // namespace dl::cluster::testing
