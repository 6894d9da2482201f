// CHECK constraints and generated columns on table::Write, AddConstraint and DropConstraint,
// against real Delta tables in a temp directory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/delta/constraints.hpp"
#include "dl/table/table.hpp"

namespace dl::table {
namespace {

using ::testing::HasSubstr;

class TableRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = MakeLocalFileSystem();
    auto e = engine::MakeDuckDbEngine();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
    ctx_ = std::make_unique<TableContext>(TableContext{*fs_, *engine_});
  }

  std::string root() const { return dir_.path() + "/t"; }

  Result<WriteResult> Append(const std::string& values, const std::string& columns,
                             delta::StringMap configuration = {}) {
    WriteRequest req;
    req.source_sql = fmt::format("SELECT * FROM (VALUES {}) AS v({})", values, columns);
    req.configuration = std::move(configuration);
    return Write(*ctx_, root(), req);
  }

  int64_t Version() {
    auto snap = LoadSnapshot(*ctx_, root());
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    return snap.ok() ? (*snap)->version() : -1;
  }

  std::vector<std::vector<std::optional<std::string>>> Rows(const std::string& select) {
    auto snap = LoadSnapshot(*ctx_, root());
    EXPECT_TRUE(snap.ok());
    EXPECT_TRUE(engine_->RegisterSnapshot("tbl", **snap).ok());
    auto rows = engine_->Query(select);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->rows : decltype(rows->rows){};
  }

  dl::testing::TempDir dir_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<TableContext> ctx_;
};

TEST_F(TableRulesTest, ConstraintOfANewTableIsEnforcedOnEveryWrite) {
  ASSERT_TRUE(Append("(1::BIGINT, 'a')", "id, s", {{"delta.constraints.pos", "id > 0"}}).ok());
  auto snap = LoadSnapshot(*ctx_, root());
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->protocol().min_writer_version, 3);  // checkConstraints, legacy
  auto bad = Append("(2::BIGINT, 'b'), (-1, 'c'), (NULL, 'd')", "id, s");
  ASSERT_EQ(bad.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("2 rows violate CHECK constraint pos (id > 0); nothing was written"));
  EXPECT_EQ(Version(), 0);
  // A violating first write creates nothing.
  WriteRequest req;
  req.source_sql = "SELECT -5::BIGINT AS id";
  req.configuration = {{"delta.constraints.pos", "id > 0"}};
  req.loader_info.source_files.push_back({"/src/one.csv", 1, 1});
  auto created = Write(*ctx_, dir_.path() + "/u", req);
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.status().message(), HasSubstr("1 row of /src/one.csv violates"));
  EXPECT_EQ(created.status().detail().files, std::vector<std::string>{"/src/one.csv"});
  EXPECT_FALSE(fs_->Exists(dir_.path() + "/u/_delta_log/00000000000000000000.json").value());
}

TEST_F(TableRulesTest, ViolationsAreCountedPerSourceFileColumn) {
  ASSERT_TRUE(Append("(1::BIGINT, 'f0')", "id, _source_file",
                     {{"delta.constraints.pos", "`id` > 0"}})
                  .ok());
  WriteRequest req;
  req.source_sql =
      "SELECT * FROM (VALUES (1::BIGINT, 'f1'), (-1, 'f2'), (-2, 'f2'), (0, 'f3')) v(id, "
      "_source_file)";
  req.source_file_column = "_source_file";
  auto bad = Write(*ctx_, root(), req);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("2 rows of f2 violate CHECK constraint pos"));
  EXPECT_THAT(bad.status().message(), HasSubstr("1 row of f3 violates"));
  EXPECT_EQ(bad.status().detail().files, (std::vector<std::string>{"f2", "f3"}));
  EXPECT_EQ(bad.status().detail().cause, ErrorDetail::Cause::kData);
}

TEST_F(TableRulesTest, AddAndDropConstraint) {
  ASSERT_TRUE(Append("(1::BIGINT, 'a'), (5, 'b')", "id, s").ok());
  auto refused = AddConstraint(*ctx_, root(), "Small", "id < 3");
  ASSERT_EQ(refused.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("1 existing row violates CHECK constraint small (id < 3)"));
  EXPECT_EQ(Version(), 0);
  auto unsupported = AddConstraint(*ctx_, root(), "c", "concat(s, 'x') <> 'y'");
  EXPECT_EQ(unsupported.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(unsupported.status().message(), HasSubstr("function concat"));

  auto added = AddConstraint(*ctx_, root(), "Pos", "id > 0 AND s <> \"z\"");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  auto snap = LoadSnapshot(*ctx_, root());
  EXPECT_EQ((*snap)->metadata().configuration.at("delta.constraints.pos"), "id > 0 AND s <> \"z\"");
  EXPECT_EQ((*snap)->protocol().min_writer_version, 3);
  EXPECT_EQ(AddConstraint(*ctx_, root(), "pos", "id > 1").status().code(),
            StatusCode::kInvalidArgument);
  auto z = Append("(7::BIGINT, 'z')", "id, s");
  EXPECT_THAT(z.status().message(), HasSubstr("violates CHECK constraint pos"));

  ASSERT_TRUE(DropConstraint(*ctx_, root(), "POS").ok());
  EXPECT_EQ(DropConstraint(*ctx_, root(), "pos").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Append("(7::BIGINT, 'z')", "id, s").ok());
  EXPECT_EQ(Rows("SELECT count(*) FROM tbl")[0][0], "3");
}

TEST_F(TableRulesTest, ConstraintAsAPropertyOfAnExistingTableIsRefused) {
  ASSERT_TRUE(Append("(-1::BIGINT)", "id").ok());
  auto st = Append("(1::BIGINT)", "id", {{"delta.constraints.pos", "id > 0"}});
  EXPECT_EQ(st.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(st.status().message(), HasSubstr("add-constraint"));
}

TEST_F(TableRulesTest, GeneratedColumnsAreComputedAndChecked) {
  ASSERT_TRUE(Append("(1::BIGINT, 2::BIGINT)", "id, g").ok());
  // Make g a generated column as Spark's CREATE TABLE ... GENERATED ALWAYS AS (id * 2) does.
  auto snap = LoadSnapshot(*ctx_, root());
  ASSERT_TRUE(snap.ok());
  delta::Metadata md = (*snap)->metadata();
  delta::Schema schema = (*snap)->schema();
  schema.fields[1].metadata[std::string(delta::kGenerationExpressionKey)] = "id * 2";
  md.schema_string = delta::SerializeSchema(schema);
  delta::Transaction tx(*fs_, engine_.get(), root(), *snap);
  tx.Add(delta::Protocol{1, 4, std::nullopt, std::nullopt});
  tx.Add(std::move(md));
  ASSERT_TRUE(tx.Commit().ok());

  ASSERT_TRUE(Append("(3::BIGINT)", "id").ok());           // computed: 6
  ASSERT_TRUE(Append("(4::BIGINT, 8::BIGINT)", "id, g").ok());  // given and equal
  ASSERT_TRUE(Append("(5::BIGINT, NULL::BIGINT)", "id, g").ok());  // NULL: computed
  auto wrong = Append("(6::BIGINT, 11::BIGINT)", "id, g");
  ASSERT_EQ(wrong.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("1 row holds a value of column g that disagrees with its generation "
                        "expression (id * 2)"));
  auto rows = Rows("SELECT id, g FROM tbl ORDER BY id");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1][1], "6");
  EXPECT_EQ(rows[3][1], "10");
}

TEST_F(TableRulesTest, GeneratedPartitionColumnIsComputed) {
  WriteRequest req;
  req.source_sql = "SELECT 1::BIGINT AS id, DATE '2024-01-02' AS d";
  req.partition_by = {"d"};
  ASSERT_TRUE(Write(*ctx_, root(), req).ok());
  auto snap = LoadSnapshot(*ctx_, root());
  ASSERT_TRUE(snap.ok());
  delta::Metadata md = (*snap)->metadata();
  delta::Schema schema = (*snap)->schema();
  schema.fields[1].metadata[std::string(delta::kGenerationExpressionKey)] =
      "CAST(DATE '2024-01-01' + CAST(id AS INT) AS DATE)";
  md.schema_string = delta::SerializeSchema(schema);
  delta::Transaction tx(*fs_, engine_.get(), root(), *snap);
  tx.Add(delta::Protocol{1, 4, std::nullopt, std::nullopt});
  tx.Add(std::move(md));
  ASSERT_TRUE(tx.Commit().ok());
  auto written = Append("(4::BIGINT)", "id");
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  auto after = LoadSnapshot(*ctx_, root());
  bool found = false;
  for (const auto& f : (*after)->files()) {
    found |= f.partition_values.at("d") == std::optional<std::string>("2024-01-05");
  }
  EXPECT_TRUE(found) << "the computed partition value is the file's";
}

TEST_F(TableRulesTest, IdentityValuesAreAllocatedAboveTheHighWaterMark) {
  ASSERT_TRUE(Append("(NULL::BIGINT, 'a')", "k, s").ok());
  // k becomes GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 5), as Spark makes it.
  auto snap = LoadSnapshot(*ctx_, root());
  ASSERT_TRUE(snap.ok());
  delta::Metadata md = (*snap)->metadata();
  delta::Schema schema = (*snap)->schema();
  schema.fields[0].metadata = {{"delta.identity.start", 10},
                               {"delta.identity.step", 5},
                               {"delta.identity.allowExplicitInsert", false}};
  md.schema_string = delta::SerializeSchema(schema);
  delta::Transaction tx(*fs_, engine_.get(), root(), *snap);
  tx.Add(delta::Protocol{1, 6, std::nullopt, std::nullopt});
  tx.Add(std::move(md));
  ASSERT_TRUE(tx.Commit().ok());

  ASSERT_TRUE(Append("('b'), ('c')", "s").ok());
  ASSERT_TRUE(Append("('d')", "s").ok());
  auto rows = Rows("SELECT k, s FROM tbl WHERE s <> 'a' ORDER BY k");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "10");
  EXPECT_EQ(rows[1][0], "15");
  EXPECT_EQ(rows[2][0], "20");
  EXPECT_EQ(rows[2][1], "d");
  auto after = LoadSnapshot(*ctx_, root());
  auto ids = delta::IdentityColumns((*after)->schema());
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->at(0).high_water_mark, 20);

  auto by_hand = Append("(99::BIGINT, 'e')", "k, s");
  ASSERT_EQ(by_hand.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(by_hand.status().message(), HasSubstr("1 row violates identity column k"));
  EXPECT_THAT(by_hand.status().message(), HasSubstr("allowExplicitInsert is false"));
  EXPECT_EQ(Version(), 3);
}

}  // namespace
}  // namespace dl::table
