// Shared helpers for the engine tests: a temp directory and a fresh DuckDB engine.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/engine/engine.hpp"

namespace dl::engine::testing {

using dl::testing::TempDir;

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
