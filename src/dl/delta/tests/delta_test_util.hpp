// Helpers for Delta log tests: temp tables on the local filesystem and action builders.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta::testing {

/// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dl_delta_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

inline void SetMtimeMs(const std::string& path, int64_t ms) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = ms / 1000;
  ts[0].tv_nsec = ts[1].tv_nsec = (ms % 1000) * 1000000;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, 0), 0) << path;
}

/// Test double of the engine boundary: a "checkpoint .parquet" here is a text file of JSON
/// action lines. The real Parquet path is covered by the engine's tests (dl_engine_test).
class JsonLinesParquet : public ParquetHandler {
 public:
  Result<std::vector<std::string>> ReadCheckpointActions(
      const std::vector<std::string>& files) override {
    ++reads;
    std::vector<std::string> lines;
    for (const std::string& f : files) {
      std::ifstream in(f);
      if (!in) return Status::CorruptLog("cannot read checkpoint {}", f);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) lines.push_back(line);
      }
    }
    return lines;
  }
  Status WriteCheckpoint(const std::string& path, const std::vector<std::string>& lines) override {
    std::string content;
    for (const auto& l : lines) content += l + "\n";
    WriteFile(path, content);
    return Status::OK();
  }
  int reads = 0;
};

// ---------------------------------------------------------------- action builders

inline constexpr const char* kSimpleSchema =
    R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
    R"({"name":"part","type":"string","nullable":true,"metadata":{}}]})";

inline Protocol MakeProtocol(int32_t r = 1, int32_t w = 2) { return Protocol{r, w, {}, {}}; }

inline Metadata MakeMetadata(std::vector<std::string> partition_columns = {}, StringMap config = {},
                             std::string schema = kSimpleSchema) {
  Metadata m;
  m.id = "a2b5c6d8-0000-4000-8000-000000000001";
  m.schema_string = std::move(schema);
  m.partition_columns = std::move(partition_columns);
  m.configuration = std::move(config);
  m.created_time = 1700000000000;
  return m;
}

inline AddFile MakeAdd(std::string path, int64_t size = 100) {
  AddFile a;
  a.path = std::move(path);
  a.size = size;
  a.modification_time = 1700000000000;
  a.stats = R"({"numRecords":1})";
  return a;
}

inline RemoveFile MakeRemove(std::string path, int64_t ts = 1700000001000) {
  RemoveFile r;
  r.path = std::move(path);
  r.deletion_timestamp = ts;
  return r;
}

inline CommitInfo MakeCommitInfo(int64_t ts, std::optional<int64_t> ict = {}) {
  CommitInfo c;
  if (ict) c.json["inCommitTimestamp"] = *ict;
  c.json["timestamp"] = ts;
  c.json["operation"] = "WRITE";
  return c;
}

/// Write commit `version` of the table at root.
inline void WriteCommit(const std::string& root, int64_t version,
                        const std::vector<Action>& actions) {
  WriteFile(CommitPath(root, version), SerializeActions(actions));
}

/// Write a (test-double) classic checkpoint: the given actions as JSON lines.
inline void WriteCheckpointFile(const std::string& path, const std::vector<Action>& actions) {
  WriteFile(path, SerializeActions(actions));
}

inline std::string LogFile(const std::string& root, const std::string& name) {
  return JoinPath(LogDir(root), name);
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace dl::delta::testing
