// The fixture every strategy test starts from: a temp directory, the local file system, a
// DuckDB engine, and one table "db.t" read from csv files written by the test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dl/common/clock.hpp"
#include "dl/common/testing/temp_dir.hpp"
#include "dl/strategy/load_strategy.hpp"

namespace dl::strategy {

using Rows = std::vector<std::vector<std::optional<std::string>>>;

class StrategyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = MakeLocalFileSystem();
    auto e = engine::MakeDuckDbEngine();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    table_.table_name = "t";
    table_.database_name = "db";
    table_.file_format = config::FileFormat::kCsv;
  }

  /// Write a source file under <tmp>/raw; returns its path.
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_.path() + "/raw/" + name;
    dl::testing::WriteFile(path, content);
    return path;
  }

  /// Load `paths` as one batch with the table's strategy (through `load_fs()`).
  Result<BatchOutcome> Load(const std::vector<std::string>& paths) {
    Batch batch;
    batch.id = NewUuid();
    batch.load_time_ms = NowMs();
    for (const auto& p : paths) {
      auto st = fs_->Stat(p);
      if (!st.ok()) return st.status();
      batch.files.push_back({p, st->size, st->modification_time_ms});
    }
    table::TableContext ctx{load_fs(), *engine_};
    Target target{table_, root(), "db.t"};
    return LoadBatch(ctx, target, batch, {});
  }

  std::string root() const { return dir_.path() + "/db/t"; }

  std::shared_ptr<const delta::Snapshot> Snapshot(const std::string& table_root) {
    table::TableContext ctx{*fs_, *engine_};
    auto snap = table::LoadSnapshot(ctx, table_root);
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    return snap.ok() ? *snap : nullptr;
  }
  std::shared_ptr<const delta::Snapshot> Snapshot() { return Snapshot(root()); }

  /// Run `select` over the table at `table_root`, registered as "tbl".
  Rows Query(const std::string& table_root, const std::string& select) {
    auto snap = Snapshot(table_root);
    if (!snap) return {};
    EXPECT_TRUE(engine_->RegisterSnapshot("tbl", *snap).ok());
    auto rows = engine_->Query(select);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->rows : Rows{};
  }
  Rows Query(const std::string& select) { return Query(root(), select); }

  /// Make `column` of the table GENERATED ALWAYS AS IDENTITY (start 1, step 1, values by hand
  /// not allowed) with the high-water mark given, as Spark records such a column.
  void MakeIdentity(const std::string& column, int64_t high_water_mark) {
    auto snap = Snapshot();
    ASSERT_TRUE(snap);
    delta::Metadata md = snap->metadata();
    delta::Schema schema = snap->schema();
    for (auto& f : schema.fields) {
      if (f.name != column) continue;
      f.metadata = {{"delta.identity.start", 1},
                    {"delta.identity.step", 1},
                    {"delta.identity.highWaterMark", high_water_mark},
                    {"delta.identity.allowExplicitInsert", false}};
    }
    md.schema_string = delta::SerializeSchema(schema);
    delta::Transaction tx(*fs_, engine_.get(), root(), snap);
    tx.Add(delta::Protocol{1, 6, std::nullopt, std::nullopt});
    tx.Add(std::move(md));
    auto committed = tx.Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  }

  /// The table (one column `id` BIGINT) as another writer creates it: no loader commit.
  void CreateForeignTable() {
    delta::Metadata md;
    md.id = NewUuid();
    md.schema_string = R"({"type":"struct","fields":[{"name":"id","type":"long",)"
                       R"("nullable":true,"metadata":{}}]})";
    delta::Transaction tx(*fs_, engine_.get(), root(), nullptr);
    tx.Add(delta::Protocol{1, 2, std::nullopt, std::nullopt});
    tx.Add(std::move(md));
    auto committed = tx.Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  }

  /// The file system batches are loaded through (a test may hook it).
  virtual FileSystem& load_fs() { return *fs_; }

  dl::testing::TempDir dir_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<engine::Engine> engine_;
  config::TableConfig table_;
};

}  // namespace dl::strategy
