// Arrow IPC streams (as Spark sends them in ArrowBatch) decoded into QueryRows. The bytes are
// written here with nanoarrow's own IPC writer.
#include "dl/engine/spark/arrow_decode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nanoarrow/nanoarrow.hpp"
#include "nanoarrow/nanoarrow_ipc.hpp"

namespace dl::engine::spark {
namespace {

using ::testing::HasSubstr;
using Row = std::vector<std::optional<std::string>>;

#define NA_OK(expr) ASSERT_EQ((expr), NANOARROW_OK) << #expr

// The IPC stream of one record batch.
void WriteIpc(ArrowSchema* schema, ArrowArray* array, std::string* out) {
  ArrowError error;
  nanoarrow::UniqueBuffer buffer;
  nanoarrow::ipc::UniqueOutputStream stream;
  nanoarrow::ipc::UniqueWriter writer;
  NA_OK(ArrowIpcOutputStreamInitBuffer(stream.get(), buffer.get()));
  NA_OK(ArrowIpcWriterInit(writer.get(), stream.get()));
  NA_OK(ArrowIpcWriterWriteSchema(writer.get(), schema, &error));
  nanoarrow::UniqueArrayView view;
  NA_OK(ArrowArrayViewInitFromSchema(view.get(), schema, &error));
  NA_OK(ArrowArrayViewSetArray(view.get(), array, &error));
  NA_OK(ArrowIpcWriterWriteArrayView(writer.get(), view.get(), &error));
  NA_OK(ArrowIpcWriterWriteArrayView(writer.get(), nullptr, &error));  // end of stream
  out->assign(reinterpret_cast<const char*>(buffer->data), static_cast<size_t>(buffer->size_bytes));
}

// Columns of every type Spark returns for small results, two rows: values, then NULLs.
void TypedStream(std::string* out) {
  nanoarrow::UniqueSchema schema;
  ArrowSchemaInit(schema.get());
  NA_OK(ArrowSchemaSetTypeStruct(schema.get(), 9));
  auto child = [&](int i, const char* name) {
    ArrowSchemaSetName(schema->children[i], name);
    return schema->children[i];
  };
  NA_OK(ArrowSchemaSetType(child(0, "i"), NANOARROW_TYPE_INT64));
  NA_OK(ArrowSchemaSetType(child(1, "s"), NANOARROW_TYPE_STRING));
  NA_OK(ArrowSchemaSetType(child(2, "b"), NANOARROW_TYPE_BOOL));
  NA_OK(ArrowSchemaSetType(child(3, "d"), NANOARROW_TYPE_DOUBLE));
  NA_OK(ArrowSchemaSetTypeDateTime(child(4, "ts"), NANOARROW_TYPE_TIMESTAMP,
                                   NANOARROW_TIME_UNIT_MICRO, "UTC"));
  NA_OK(ArrowSchemaSetTypeDecimal(child(5, "dec"), NANOARROW_TYPE_DECIMAL128, 10, 2));
  NA_OK(ArrowSchemaSetType(child(6, "day"), NANOARROW_TYPE_DATE32));
  NA_OK(ArrowSchemaSetType(child(7, "small"), NANOARROW_TYPE_INT32));
  NA_OK(ArrowSchemaSetType(child(8, "n"), NANOARROW_TYPE_NA));

  ArrowError error;
  nanoarrow::UniqueArray array;
  NA_OK(ArrowArrayInitFromSchema(array.get(), schema.get(), &error));
  NA_OK(ArrowArrayStartAppending(array.get()));
  ArrowArray** c = array->children;
  NA_OK(ArrowArrayAppendInt(c[0], -9007199254740993LL));
  NA_OK(ArrowArrayAppendString(c[1], ArrowCharView("héllo, world")));
  NA_OK(ArrowArrayAppendInt(c[2], 1));
  NA_OK(ArrowArrayAppendDouble(c[3], 0.1));
  NA_OK(ArrowArrayAppendInt(c[4], -1000001));  // 1969-12-31 23:59:58.999999
  ArrowDecimal dec;
  ArrowDecimalInit(&dec, 128, 10, 2);
  ArrowDecimalSetInt(&dec, -12345);
  NA_OK(ArrowArrayAppendDecimal(c[5], &dec));
  NA_OK(ArrowArrayAppendInt(c[6], 19723));  // 2024-01-01
  NA_OK(ArrowArrayAppendInt(c[7], 42));
  NA_OK(ArrowArrayAppendNull(c[8], 1));
  NA_OK(ArrowArrayFinishElement(array.get()));
  for (int i = 0; i < 9; ++i) NA_OK(ArrowArrayAppendNull(c[i], 1));
  NA_OK(ArrowArrayFinishElement(array.get()));
  NA_OK(ArrowArrayFinishBuildingDefault(array.get(), &error));
  WriteIpc(schema.get(), array.get(), out);
}

TEST(ArrowDecodeTest, TypedValuesAndNulls) {
  std::string ipc;
  ASSERT_NO_FATAL_FAILURE(TypedStream(&ipc));
  QueryRows rows;
  Status st = AppendArrowIpc(ipc, &rows);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(rows.columns,
            (std::vector<std::string>{"i", "s", "b", "d", "ts", "dec", "day", "small", "n"}));
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[0],
            (Row{"-9007199254740993", "héllo, world", "true", "0.1", "1969-12-31 23:59:58.999999",
                 "-123.45", "2024-01-01", "42", std::nullopt}));
  EXPECT_EQ(rows.rows[1], Row(9, std::nullopt));
}

TEST(ArrowDecodeTest, StreamsAppend) {
  std::string ipc;
  ASSERT_NO_FATAL_FAILURE(TypedStream(&ipc));
  QueryRows rows;
  ASSERT_TRUE(AppendArrowIpc(ipc, &rows).ok());
  ASSERT_TRUE(AppendArrowIpc(ipc, &rows).ok());
  EXPECT_EQ(rows.columns.size(), 9u);
  EXPECT_EQ(rows.rows.size(), 4u);
}

TEST(ArrowDecodeTest, NotArrowIsAnError) {
  QueryRows rows;
  Status st = AppendArrowIpc("definitely not arrow", &rows);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(rows.rows.empty());
}

TEST(ArrowDecodeTest, NestedColumnIsUnsupportedNamingIt) {
  nanoarrow::UniqueSchema schema;
  ArrowSchemaInit(schema.get());
  NA_OK(ArrowSchemaSetTypeStruct(schema.get(), 1));
  NA_OK(ArrowSchemaSetType(schema->children[0], NANOARROW_TYPE_LIST));
  NA_OK(ArrowSchemaSetName(schema->children[0], "tags"));
  NA_OK(ArrowSchemaSetType(schema->children[0]->children[0], NANOARROW_TYPE_INT32));
  ArrowError error;
  nanoarrow::UniqueArray array;
  NA_OK(ArrowArrayInitFromSchema(array.get(), schema.get(), &error));
  NA_OK(ArrowArrayStartAppending(array.get()));
  NA_OK(ArrowArrayFinishBuildingDefault(array.get(), &error));
  std::string ipc;
  ASSERT_NO_FATAL_FAILURE(WriteIpc(schema.get(), array.get(), &ipc));
  QueryRows rows;
  Status st = AppendArrowIpc(ipc, &rows);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_THAT(st.message(), HasSubstr("'tags'"));
}

}  // namespace
}  // namespace dl::engine::spark
