// Shared helpers for the engine tests: a temp directory and a fresh DuckDB engine.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "dl/engine/engine.hpp"

namespace dl::engine::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("dl_engine_test_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<Engine> NewEngine() {
  EngineOptions options;
  options.threads = 2;
  auto engine = MakeDuckDbEngine(options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return std::move(engine).value();
}

/// The single value of a one-row, one-column query, or "<error>" text.
inline std::optional<std::string> Scalar(Engine& engine, const std::string& sql) {
  auto rows = engine.Query(sql);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString() << "\n" << sql;
  if (!rows.ok() || rows->rows.empty()) return std::string("<error>");
  return rows->rows[0][0];
}

/// Directory of test data files next to this header.
inline std::string TestDataDir() {
  return (std::filesystem::path(__FILE__).parent_path() / "data").string();
}

}  // namespace dl::engine::testing
