// Shared fixtures for the transaction, conflict checker and maintenance tests: temp tables on
// the real local filesystem and the JSON-lines stand-in for the engine's checkpoint Parquet.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/delta/tests/json_lines_parquet.hpp"
#include "dl/delta/transaction.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta::test_util {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

using dl::delta::testing::JsonLinesParquet;
using dl::testing::TempDir;

inline const char* kSchema =
    R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},)"
    R"({"name":"k","type":"string","nullable":true,"metadata":{}}]})";

inline Metadata MakeMetadata(std::vector<std::string> partition_columns = {},
                             StringMap configuration = {}) {
  Metadata m;
  m.id = "5fba94ed-9794-4965-ba6e-6ee3c0d22af9";
  m.schema_string = kSchema;
  m.partition_columns = std::move(partition_columns);
  m.configuration = std::move(configuration);
  m.created_time = 1700000000000;
  return m;
}

inline AddFile MakeAdd(std::string path, PartitionValues pv = {}, bool data_change = true) {
  AddFile a;
  a.path = std::move(path);
  a.partition_values = std::move(pv);
  a.size = 100;
  a.modification_time = 1700000000000;
  a.data_change = data_change;
  a.stats = R"({"numRecords":1})";
  return a;
}

inline RemoveFile MakeRemove(const AddFile& add, bool data_change = true) {
  RemoveFile r;
  r.path = add.path;
  r.deletion_timestamp = NowMs();
  r.data_change = data_change;
  r.extended_file_metadata = true;
  r.partition_values = add.partition_values;
  r.size = add.size;
  return r;
}

/// Create a table at `root` (version 0) with the given layout and optional initial files.
inline void CreateTable(FileSystem& fs, const std::string& root,
                        std::vector<std::string> partition_columns = {},
                        StringMap configuration = {}, std::vector<AddFile> files = {}) {
  Transaction txn(fs, nullptr, root, nullptr);
  txn.SetOperation("CREATE TABLE", {{"partitionBy", "[]"}});
  txn.Add(Protocol{});
  txn.Add(MakeMetadata(std::move(partition_columns), std::move(configuration)));
  for (auto& f : files) txn.Add(std::move(f));
  auto r = txn.Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->version, 0);
}

inline std::shared_ptr<const Snapshot> LoadLatest(FileSystem& fs, const std::string& root,
                                                  ParquetHandler* parquet = nullptr) {
  auto s = Snapshot::Load(fs, parquet, root);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : nullptr;
}

/// Commit `actions` as-is (the "winner" of a race), going through a Transaction.
inline int64_t CommitActions(FileSystem& fs, const std::string& root, std::vector<Action> actions,
                             const std::string& operation = "WRITE") {
  Transaction txn(fs, nullptr, root, LoadLatest(fs, root));
  txn.SetOperation(operation, {});
  txn.AddAll(std::move(actions));
  auto r = txn.Commit();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->version : -1;
}

/// The JSON lines of a commit file.
inline std::vector<nlohmann::json> ReadCommitJson(FileSystem& fs, const std::string& root,
                                                  int64_t version) {
  std::vector<nlohmann::json> out;
  auto content = fs.Read(CommitPath(root, version));
  EXPECT_TRUE(content.ok()) << content.status().ToString();
  if (!content.ok()) return out;
  std::istringstream in(*content);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

/// Set a file's modification time (ms since the epoch).
inline void SetMtime(const std::string& path, int64_t ms) {
  ASSERT_TRUE(dl::testing::SetMtimeMs(path, ms)) << path;
}

/// Write a file (placeholder content unless given).
inline void WriteFile(const std::string& path, const std::string& content = "x") {
  dl::testing::WriteFile(path, content);
}

}  // namespace dl::delta::test_util
