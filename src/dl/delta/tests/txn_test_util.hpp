// Shared fixtures for the transaction, conflict checker and maintenance tests: temp tables on
// the real local filesystem and a JSON-lines stand-in for the engine's checkpoint Parquet.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dl/delta/actions.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/delta/transaction.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta::test_util {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

/// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dl_txn_XXXXXX").string();
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

/// The engine boundary stand-in: "checkpoint Parquet" as JSON lines, written temp + rename.
class JsonLinesParquet final : public ParquetHandler {
 public:
  Result<std::vector<std::string>> ReadCheckpointActions(
      const std::vector<std::string>& files) override {
    std::vector<std::string> out;
    for (const auto& f : files) {
      std::ifstream in(f);
      if (!in) return Status::CorruptLog("cannot read checkpoint {}", f);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) out.push_back(line);
      }
    }
    return out;
  }
  Status WriteCheckpoint(const std::string& path,
                         const std::vector<std::string>& action_lines) override {
    ++writes;
    if (fail) return Status::Engine("checkpoint writer failed (test)");
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp);
      for (const auto& l : action_lines) out << l << "\n";
    }
    std::filesystem::rename(tmp, path);
    return Status::OK();
  }
  bool fail = false;
  int writes = 0;
};

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
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = ms / 1000;
  times[0].tv_nsec = times[1].tv_nsec = (ms % 1000) * 1000000;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

inline void WriteFile(const std::string& path, const std::string& content = "x") {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << content;
}

}  // namespace dl::delta::test_util
