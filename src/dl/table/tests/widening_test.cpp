// Type widening on a real local Delta table with the real DuckDB engine: schema evolution
// widens columns of a table with delta.enableTypeWidening=true, WidenColumn does it by hand,
// and every read converts the older, narrower files to the current types.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dl/delta/type_widening.hpp"
#include "dl/table/table.hpp"
#include "dl/table/tests/table_test_base.hpp"

namespace dl::table {
namespace {

using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::optional<std::string>>>;

class WideningTest : public TableTestBase {
 protected:
  Result<WriteResult> Put(const std::string& sql, bool evolve = true,
                          delta::StringMap configuration = {}) {
    WriteRequest request;
    request.source_sql = sql;
    request.schema_evolution = evolve ? SchemaEvolution::kAddNewColumns : SchemaEvolution::kNone;
    request.configuration = std::move(configuration);
    return Write(*ctx_, root_, request);
  }

  std::shared_ptr<const delta::Snapshot> Snap(std::optional<int64_t> version = {}) {
    auto s = LoadSnapshot(*ctx_, root_, version);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  Rows Scan(std::optional<int64_t> version = {}) {
    auto snapshot = Snap(version);
    if (!snapshot) return {};
    Status st = engine_->RegisterSnapshot("t", *snapshot);
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto rows = engine_->Query("SELECT * FROM t ORDER BY ALL");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->rows : Rows{};
  }

  std::string Types() {
    std::string out;
    auto snapshot = Snap();
    for (const auto& f : snapshot->schema().fields) out += f.name + ":" + f.type->ToString() + " ";
    return out;
  }
};

constexpr char kNarrow[] =
    "SELECT 1::INTEGER AS id, 1.25::DECIMAL(6,2) AS p, DATE '2020-01-02' AS d";
constexpr char kWide[] =
    "SELECT 5000000000::BIGINT AS id, 12345.6789::DECIMAL(10,4) AS p, "
    "TIMESTAMP '2021-01-01 10:00:00' AS d";
const delta::StringMap kWidening{{"delta.enableTypeWidening", "true"}};

TEST_F(WideningTest, EvolutionWidensAndOlderFilesReadInTheNewTypes) {
  ASSERT_TRUE(Put(kNarrow, true, kWidening).ok());
  auto widened = Put(kWide);
  ASSERT_TRUE(widened.ok()) << widened.status().ToString();
  EXPECT_TRUE(widened->schema_changed);
  EXPECT_EQ(Types(), "id:long p:decimal(10,4) d:timestamp_ntz ");
  auto widened_snapshot = Snap();
  const auto& fields = widened_snapshot->schema().fields;
  EXPECT_EQ(fields[0].metadata.dump(),
            R"({"delta.typeChanges":[{"fromType":"integer","toType":"long"}]})");
  EXPECT_EQ(fields[2].metadata.dump(),
            R"({"delta.typeChanges":[{"fromType":"date","toType":"timestamp_ntz"}]})");
  EXPECT_THAT(widened_snapshot->protocol().reader_features.value(), ::testing::UnorderedElementsAre("typeWidening", "timestampNtz"));

  const Rows both{{"1", "1.2500", "2020-01-02 00:00:00"},
                  {"5000000000", "12345.6789", "2021-01-01 10:00:00"}};
  EXPECT_EQ(Scan(), both);
  EXPECT_EQ(Scan(0), Rows({{"1", "1.25", "2020-01-02"}}));  // time travel: the old schema
  // Narrower data is cast up without another change; rewrites keep the recorded changes.
  auto narrow = Put(kNarrow);
  ASSERT_TRUE(narrow.ok()) << narrow.status().ToString();
  EXPECT_FALSE(narrow->schema_changed);
  ASSERT_TRUE(DeleteWhere(*ctx_, root_, "id = 5000000000").ok());
  OptimizeOptions optimize;
  ASSERT_TRUE(Optimize(*ctx_, root_, optimize).ok());
  EXPECT_EQ(Snap()->files().size(), 1u);
  EXPECT_EQ(Scan(), Rows({{"1", "1.2500", "2020-01-02 00:00:00"},
                          {"1", "1.2500", "2020-01-02 00:00:00"}}));
  EXPECT_EQ(Snap()->schema().fields[0].metadata, fields[0].metadata);
}

TEST_F(WideningTest, WithoutThePropertyOrEvolutionTheWriteIsRefused) {
  ASSERT_TRUE(Put(kNarrow).ok());
  auto refused = Put(kWide);
  ASSERT_EQ(refused.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("column id has type integer in the table but long in the incoming data; "
                        "widening the column needs the table property "
                        "delta.enableTypeWidening=true"));
  EXPECT_THAT(refused.status().message(), HasSubstr(root_));
  // The property set by the same write allows it.
  auto enabled = Put(kWide, true, kWidening);
  ASSERT_TRUE(enabled.ok()) << enabled.status().ToString();
  EXPECT_EQ(Types(), "id:long p:decimal(10,4) d:timestamp_ntz ");

  dl::testing::TempDir other;
  root_ = other / "t";
  ASSERT_TRUE(Put(kNarrow, false, kWidening).ok());
  EXPECT_EQ(Put(kWide, false).status().code(), StatusCode::kSchemaMismatch);
  EXPECT_EQ(Snap()->version(), 0);
}

TEST_F(WideningTest, WidenColumnByHandIsMetadataOnly) {
  ASSERT_TRUE(Put(kNarrow).ok());
  auto off = WidenColumn(*ctx_, root_, "id", "long");
  ASSERT_EQ(off.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(off.status().message(), HasSubstr("delta.enableTypeWidening=true"));

  ASSERT_TRUE(Put(kNarrow, true, kWidening).ok());
  auto w = WidenColumn(*ctx_, root_, "id", "long");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->version, 2);
  EXPECT_EQ(Snap()->files().size(), 2u);
  EXPECT_EQ(Types(), "id:long p:decimal(6,2) d:date ");
  EXPECT_EQ(Scan(), Rows({{"1", "1.25", "2020-01-02"}, {"1", "1.25", "2020-01-02"}}));

  auto narrowing = WidenColumn(*ctx_, root_, "id", "integer");
  EXPECT_EQ(narrowing.status().code(), StatusCode::kSchemaMismatch);
  EXPECT_THAT(narrowing.status().message(), HasSubstr("cannot change from long to integer"));
  EXPECT_EQ(WidenColumn(*ctx_, root_, "p", "decimal(6,3)").status().code(),
            StatusCode::kSchemaMismatch);
  EXPECT_EQ(WidenColumn(*ctx_, root_, "nope", "long").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(WidenColumn(*ctx_, root_, "id", "int").status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(Snap()->version(), 2);
}

}  // namespace
}  // namespace dl::table
