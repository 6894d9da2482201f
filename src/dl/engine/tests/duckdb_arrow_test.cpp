// Engine::QueryArrow: the Arrow C stream of a query, batch by batch.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "dl/engine/arrow_c.hpp"
#include "engine_test_util.hpp"

namespace dl::engine {
namespace {

using testing::NewEngine;

// Releases whatever the test took from the stream.
struct Taken {
  ArrowArrayStream stream{};
  ArrowSchema schema{};
  ~Taken() {
    if (schema.release) schema.release(&schema);
    if (stream.release) stream.release(&stream);
  }
};

TEST(DuckDbArrow, StreamsTheRowsInBatchesWithTheirTypes) {
  auto engine = NewEngine();
  Taken t;
  ASSERT_TRUE(engine
                  ->QueryArrow("SELECT range AS id, 'r' || range AS name, 1.25::DECIMAL(10,2) "
                               "AS price, NULL::DATE AS day FROM range(5000)",
                               &t.stream)
                  .ok());
  ASSERT_EQ(t.stream.get_schema(&t.stream, &t.schema), 0);
  ASSERT_EQ(t.schema.n_children, 4);
  EXPECT_STREQ(t.schema.children[0]->name, "id");
  EXPECT_STREQ(t.schema.children[0]->format, "l");           // int64
  EXPECT_STREQ(t.schema.children[1]->format, "u");           // utf8
  EXPECT_STREQ(t.schema.children[2]->format, "d:10,2,128");  // decimal128(10, 2)
  EXPECT_STREQ(t.schema.children[3]->format, "tdD");         // date32
  int64_t rows = 0, batches = 0;
  for (;;) {
    ArrowArray batch{};
    ASSERT_EQ(t.stream.get_next(&t.stream, &batch), 0);
    if (batch.release == nullptr) break;  // the end
    EXPECT_EQ(batch.n_children, 4);
    EXPECT_EQ(batch.children[3]->null_count, batch.length);
    rows += batch.length;
    ++batches;
    batch.release(&batch);
  }
  EXPECT_EQ(rows, 5000);
  EXPECT_GT(batches, 1);  // chunk by chunk, not one materialized array
}

TEST(DuckDbArrow, AnErrorWhileReadingReachesGetLastError) {
  auto engine = NewEngine();
  Taken t;
  // The error happens as rows are computed, far past the first batches, i.e. in get_next.
  ASSERT_TRUE(engine
                  ->QueryArrow("SELECT CASE WHEN range < 1000000 THEN range ELSE "
                               "error('row ' || range || ' is bad') END AS v FROM range(2000000)",
                               &t.stream)
                  .ok());
  int rc = 0;
  for (int i = 0; i < 2000 && rc == 0; ++i) {
    ArrowArray batch{};
    rc = t.stream.get_next(&t.stream, &batch);
    if (rc == 0 && batch.release == nullptr) break;
    if (rc == 0) batch.release(&batch);
  }
  ASSERT_NE(rc, 0);
  const char* error = t.stream.get_last_error(&t.stream);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("is bad"), std::string::npos) << error;
}

TEST(DuckDbArrow, ABadQueryIsAnErrorAndAStreamDroppedUnreadIsReleased) {
  auto engine = NewEngine();
  Taken bad;
  EXPECT_FALSE(engine->QueryArrow("SELECT nope FROM range(1)", &bad.stream).ok());
  EXPECT_EQ(bad.stream.release, nullptr);
  EXPECT_FALSE(engine->QueryArrow("CREATE TABLE x (a INT)", &bad.stream).ok());
  {
    Taken unread;
    ASSERT_TRUE(engine->QueryArrow("SELECT * FROM range(100000)", &unread.stream).ok());
  }
  // The session is free again once the stream is released.
  EXPECT_EQ(testing::Scalar(*engine, "SELECT 41 + 1"), "42");
}

}  // namespace
}  // namespace dl::engine
