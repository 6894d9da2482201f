// Helpers for Delta log tests: temp tables on the local filesystem and action builders.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/delta/tests/json_lines_parquet.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta::testing {

using dl::testing::TempDir;
using dl::testing::WriteFile;

inline void SetMtimeMs(const std::string& path, int64_t ms) {
  ASSERT_TRUE(dl::testing::SetMtimeMs(path, ms)) << path;
}

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

/// The first actions of commit `version` of a test log: its commitInfo (timestamp 1000 +
/// version), and in version 0 the protocol and metadata.
inline std::vector<Action> CommitStart(int64_t version) {
  std::vector<Action> actions{MakeCommitInfo(1000 + version)};
  if (version == 0) {
    actions.push_back(MakeProtocol());
    actions.push_back(MakeMetadata());
  }
  return actions;
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

/// Log cleanup as Delta does it: a checkpoint at `version` (a test double holding `actions`),
/// and the commits below it removed.
inline void CleanUpLogBelow(const std::string& root, int64_t version,
                            const std::vector<Action>& actions) {
  WriteCheckpointFile(CheckpointPath(root, version), actions);
  for (int64_t v = 0; v < version; ++v) std::filesystem::remove(CommitPath(root, v));
}

inline std::string LogFile(const std::string& root, const std::string& name) {
  return JoinPath(LogDir(root), name);
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace dl::delta::testing
