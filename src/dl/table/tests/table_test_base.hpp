// A fixture for table/ tests: a real DuckDB engine, the local file system and a table root in
// a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/table/table.hpp"

namespace dl::table {

class TableTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::EngineOptions options;
    options.threads = 2;
    auto engine = engine::MakeDuckDbEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    fs_ = MakeLocalFileSystem();
    ctx_ = std::make_unique<TableContext>(TableContext{*fs_, *engine_});
    root_ = dir_ / "t";
  }

  dl::testing::TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<TableContext> ctx_;
  std::string root_;
};

}  // namespace dl::table
