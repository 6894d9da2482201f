#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "dl/common/clock.hpp"
#include "dl/delta/loader_commit_info.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/strategy/source.hpp"
#include "dl/strategy/tests/strategy_test_util.hpp"

namespace dl::strategy {
namespace {

using ::testing::HasSubstr;

class AppendTest : public StrategyTest {};

TEST_F(AppendTest, AddsAuditColumnsAndCountsRowsPerFile) {
  auto a = Write("a.csv", "id,name\n1,x\n2,y\n");
  auto b = Write("b.csv", "id,name\n3,z\n");
  auto r = Load({a, b});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->write.rows_written, 3);
  EXPECT_EQ(r->rows_per_file.at(a), 2);
  EXPECT_EQ(r->rows_per_file.at(b), 1);
  auto rows = Query("SELECT id, name, _source_file, _batch_id IS NOT NULL, "
                   "typeof(_load_timestamp) FROM tbl ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][2], a);
  EXPECT_EQ(rows[2][2], b);
  EXPECT_EQ(rows[0][3], "true");
  EXPECT_EQ(rows[0][4], "TIMESTAMP WITH TIME ZONE");
}

// A file batch's idempotency is its recorded source files; a per-slot txn collided between
// processes (issue 11), so none is written.
TEST_F(AppendTest, RecordsSourceFilesAndNoTxnInTheCommit) {
  auto a = Write("a.csv", "id\n1\n");
  ASSERT_TRUE(Load({a}).ok());
  table::TableContext ctx{*fs_, *engine_};
  auto history = table::History(ctx, root());
  ASSERT_TRUE(history.ok());
  auto info = delta::LoaderCommitInfo::Of(delta::CommitInfo{history->at(0).commit_info});
  ASSERT_TRUE(info.ok() && *info);
  const auto& files = (*info)->source_files;
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, a);
  // The batch id, as the _batch_id audit column has it.
  auto ids = Query("SELECT DISTINCT _batch_id FROM tbl");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ((*info)->batch_id, ids[0][0]);
  ASSERT_TRUE(Load({Write("b.csv", "id\n2\n")}).ok());
  for (int64_t v : {0, 1}) {
    auto commit = fs_->Read(delta::CommitPath(root(), v));
    ASSERT_TRUE(commit.ok());
    EXPECT_EQ(commit->find("\"txn\""), std::string::npos) << *commit;
  }
}

TEST_F(AppendTest, DedupWithinTheBatchAndAgainstTheTable) {
  table_.dedup_keys = {"id"};
  auto a = Write("a.csv", "id,v\n1,first\n1,second\n2,x\n");
  ASSERT_TRUE(Load({a}).ok());
  auto b = Write("b.csv", "id,v\n2,again\n3,new\n");
  auto c = Write("c.csv", "id,v\n3,later\n");
  auto r = Load({b, c});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->write.rows_written, 1);
  // Rows per source file count what landed, after dedup: c's only row lost to b's.
  EXPECT_EQ(r->rows_per_file, (std::map<std::string, int64_t>{{b, 1}}));
  auto rows = Query("SELECT id, v FROM tbl ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][1], "first");  // the first delivery wins
  EXPECT_EQ(rows[1][1], "x");
  EXPECT_EQ(rows[2][1], "new");
}

TEST_F(AppendTest, DedupWithSequenceColumnKeepsTheLatest) {
  table_.dedup_keys = {"id"};
  table_.sequence_column = "seq";
  auto a = Write("a.csv", "id,seq,v\n1,1,old\n1,3,newest\n1,2,mid\n");
  ASSERT_TRUE(Load({a}).ok());
  auto rows = Query("SELECT v FROM tbl");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "newest");
}

// Parquet rows are ordered by their row numbers in the file: the first delivery wins there too.
TEST_F(AppendTest, DedupOfParquetKeepsEachFilesFirstRow) {
  table_.file_format = config::FileFormat::kParquet;
  table_.dedup_keys = {"id"};
  std::filesystem::create_directories(dir_.path() + "/raw");
  const std::string a = dir_.path() + "/raw/a.parquet", b = dir_.path() + "/raw/b.parquet";
  for (const auto& [path, values] :
       {std::pair{a, "(2, 'a0'), (1, 'a1'), (1, 'a2'), (3, 'a3')"},
        std::pair{b, "(3, 'b0'), (4, 'b1'), (4, 'b2')"}}) {
    ASSERT_TRUE(engine_
                    ->Execute(fmt::format("COPY (SELECT * FROM (VALUES {}) t(id, v)) TO {} "
                                          "(FORMAT parquet)",
                                          values, engine::QuoteLiteral(path)))
                    .ok());
  }
  auto r = Load({a, b});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = Query("SELECT id, v FROM tbl ORDER BY id");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][1], "a1");
  EXPECT_EQ(rows[1][1], "a0");
  EXPECT_EQ(rows[2][1], "a3");  // a before b
  EXPECT_EQ(rows[3][1], "b1");
}

TEST_F(AppendTest, NewColumnsAreAddedByDefault) {
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  auto r = Load({Write("b.csv", "id,extra\n2,e\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->write.schema_changed);
  auto rows = Query("SELECT id, extra FROM tbl ORDER BY id");
  EXPECT_EQ(rows[0][1], std::nullopt);
  EXPECT_EQ(rows[1][1], "e");
}

TEST_F(AppendTest, FailOnNewColumnsNamesTheColumn) {
  table_.schema_evolution_mode = config::SchemaEvolutionMode::kFailOnNewColumns;
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  auto r = Load({Write("b.csv", "id,extra\n2,e\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(r.status().message(), HasSubstr("'extra'"));
}

TEST_F(AppendTest, RescueKeepsUnknownColumnsAsJson) {
  table_.schema_evolution_mode = config::SchemaEvolutionMode::kRescue;
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  auto r = Load({Write("b.csv", "id,extra,more\n2,e,5\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = Query("SELECT id, _rescued_data FROM tbl ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], std::nullopt);
  EXPECT_EQ(rows[1][1], R"({"extra":"e","more":5})");
  EXPECT_TRUE(Query("SELECT * FROM (DESCRIBE tbl) WHERE column_name = 'extra'").empty());
}

TEST_F(AppendTest, NoneDropsUnknownColumns) {
  table_.schema_evolution_mode = config::SchemaEvolutionMode::kNone;
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  ASSERT_TRUE(Load({Write("b.csv", "id,extra\n2,e\n")}).ok());
  EXPECT_TRUE(Query("SELECT * FROM (DESCRIBE tbl) WHERE column_name = 'extra'").empty());
  EXPECT_EQ(Query("SELECT count(*) FROM tbl")[0][0], "2");
}

TEST_F(AppendTest, ColumnNamesMatchTheTableCaseInsensitively) {
  ASSERT_TRUE(Load({Write("a.csv", "id,Name\n1,x\n")}).ok());
  auto r = Load({Write("b.csv", "ID,name\n2,y\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->write.schema_changed);
  EXPECT_EQ(Query("SELECT count(*) FROM tbl WHERE Name IS NOT NULL")[0][0], "2");
}

TEST_F(AppendTest, CsvOptionsReachTheReader) {
  table_.csv.delimiter = ";";
  table_.csv.null_value = "NA";
  table_.csv.columns = {{"id", "BIGINT"}, {"amount", "DECIMAL(10,2)"}};
  auto r = Load({Write("a.csv", "id;amount\n1;2.50\n2;NA\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = Query("SELECT id, amount, typeof(amount) FROM tbl ORDER BY id");
  EXPECT_EQ(rows[0][1], "2.50");
  EXPECT_EQ(rows[0][2], "DECIMAL(10,2)");
  EXPECT_EQ(rows[1][1], std::nullopt);
}

TEST_F(AppendTest, SourceColumnNamedLikeAnAuditColumnIsRefused) {
  auto r = Load({Write("a.csv", "id,_source_file\n1,x\n")});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("audit_columns.source_file"));
}

TEST_F(AppendTest, AuditColumnsCanBeRenamed) {
  table_.audit_columns.source_file = "src";
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n")}).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM tbl WHERE src IS NOT NULL")[0][0], "1");
}

TEST_F(AppendTest, AuditColumnsCanBeTurnedOff) {
  table_.audit_columns.enabled = false;
  auto r = Load({Write("a.csv", "id\n1\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rows_per_file.empty());
  EXPECT_EQ(Query("SELECT count(*) FROM (DESCRIBE tbl)")[0][0], "1");
}

TEST_F(AppendTest, CsvFilesWithDifferentHeadersCombineByName) {
  auto a = Write("a.csv", "id,name\n1,x\n");
  auto b = Write("b.csv", "name,id,extra\ny,2,e\n");
  auto c = Write("c.csv", "id,name\n3,z\n");
  auto r = Load({a, b, c});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = Query("SELECT id, name, extra, _source_file FROM tbl ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][1], "y");
  EXPECT_EQ(rows[1][2], "e");
  EXPECT_EQ(rows[1][3], b);
  EXPECT_EQ(rows[2][2], std::nullopt);
}

TEST_F(AppendTest, CsvTypesWidenWhenALaterFileNeedsIt) {
  // The first file's integers would make `amount` BIGINT; the second needs a decimal.
  auto a = Write("a.csv", "id,amount\n1,2\n");
  auto b = Write("b.csv", "id,amount\n2,2.75\n");
  auto r = Load({a, b});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query("SELECT amount FROM tbl WHERE id = 2")[0][0], "2.75");
}

TEST_F(AppendTest, AFileChangedSincePlanningDoesNotCommit) {
  auto a = Write("a.csv", "id\n1\n");
  auto b = Write("b.csv", "id\n2\n");
  Batch batch;
  batch.id = NewUuid();
  batch.load_time_ms = NowMs();
  for (const auto& p : {a, b}) {
    auto st = fs_->Stat(p);
    ASSERT_TRUE(st.ok());
    batch.files.push_back({p, st->size, st->modification_time_ms});
  }
  batch.files[1].size += 1;  // what planning saw is not what is there now
  table::TableContext ctx{*fs_, *engine_};
  Target target{table_, root(), "db.t"};
  auto r = LoadBatch(ctx, target, batch, {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(b + " changed while it was being loaded"));
  EXPECT_FALSE(std::filesystem::exists(root() + "/_delta_log/00000000000000000000.json"));

  std::filesystem::remove(a);
  batch.files[1].size -= 1;
  r = LoadBatch(ctx, target, batch, {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("a.csv"));
}

TEST_F(AppendTest, OverwriteReplacesTheTableAndKeepsHistory) {
  table_.loading_strategy = config::LoadingStrategy::kOverwrite;
  ASSERT_TRUE(Load({Write("a.csv", "id\n1\n2\n")}).ok());
  auto r = Load({Write("b.csv", "id\n3\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM tbl")[0][0], "3");
  table::TableContext ctx{*fs_, *engine_};
  auto previous = table::LoadSnapshot(ctx, root(), r->write.version - 1);
  ASSERT_TRUE(previous.ok());
  ASSERT_TRUE(engine_->RegisterSnapshot("old", **previous).ok());
  EXPECT_EQ(engine_->Query("SELECT count(*) FROM old")->rows[0][0], "2");
}

TEST_F(AppendTest, DynamicOverwriteReplacesOnlyTouchedPartitions) {
  table_.loading_strategy = config::LoadingStrategy::kOverwrite;
  table_.overwrite_mode = config::OverwriteMode::kDynamic;
  table_.partition_columns = {"day"};
  ASSERT_TRUE(Load({Write("a.csv", "id,day\n1,2024-01-01\n2,2024-01-02\n")}).ok());
  auto r = Load({Write("b.csv", "id,day\n3,2024-01-02\n")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM tbl")[0][0], "1,3");
}

TEST_F(AppendTest, CorruptParquetErrorNamesTheFile) {
  table_.file_format = config::FileFormat::kParquet;
  auto bad = Write("bad.parquet", "PAR1 this is not parquet");
  auto r = Load({bad});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("bad.parquet"));
}

TEST_F(AppendTest, JsonLinesAndArrays) {
  table_.file_format = config::FileFormat::kJson;
  auto a = Write("a.json", "{\"id\": 1, \"tags\": [\"x\"]}\n{\"id\": 2, \"tags\": []}\n");
  auto b = Write("b.json", "[{\"id\": 3, \"tags\": [\"y\", \"z\"]}]");
  auto r = Load({a, b});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query("SELECT sum(len(tags)) FROM tbl")[0][0], "3");
}

}  // namespace
}  // namespace dl::strategy
