#include "dl/engine/spark/arrow_decode.hpp"

#include <fmt/format.h>

#include <cstring>

#include "nanoarrow/nanoarrow.hpp"
#include "nanoarrow/nanoarrow_ipc.hpp"

namespace dl::engine::spark {

namespace {

// Days since 1970-01-01 -> "YYYY-MM-DD" (proleptic Gregorian, H. Hinnant's civil_from_days).
std::string FormatDate(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string FormatTimestamp(int64_t value, ArrowTimeUnit unit) {
  int64_t per_second = 1;
  switch (unit) {
    case NANOARROW_TIME_UNIT_SECOND:
      per_second = 1;
      break;
    case NANOARROW_TIME_UNIT_MILLI:
      per_second = 1000;
      break;
    case NANOARROW_TIME_UNIT_MICRO:
      per_second = 1000000;
      break;
    case NANOARROW_TIME_UNIT_NANO:
      per_second = 1000000000;
      break;
  }
  const int64_t seconds = FloorDiv(value, per_second);
  const int64_t fraction = value - seconds * per_second;
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t sod = seconds - days * 86400;
  std::string out =
      fmt::format("{} {:02}:{:02}:{:02}", FormatDate(days), sod / 3600, sod / 60 % 60, sod % 60);
  if (fraction != 0) {
    const int digits = unit == NANOARROW_TIME_UNIT_MILLI   ? 3
                       : unit == NANOARROW_TIME_UNIT_MICRO ? 6
                                                           : 9;
    std::string f = fmt::format("{:0{}}", fraction, digits);
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

std::string Hex(ArrowBufferView bytes) {
  std::string out;
  out.reserve(bytes.size_bytes * 2);
  for (int64_t i = 0; i < bytes.size_bytes; ++i)
    fmt::format_to(std::back_inserter(out), "{:02x}", bytes.data.as_uint8[i]);
  return out;
}

// One value of a column whose type `Supported` accepted.
std::string FormatValue(const ArrowArrayView* view, const ArrowSchemaView& type, int64_t i) {
  switch (type.type) {
    case NANOARROW_TYPE_BOOL:
      return ArrowArrayViewGetIntUnsafe(view, i) ? "true" : "false";
    case NANOARROW_TYPE_INT8:
    case NANOARROW_TYPE_INT16:
    case NANOARROW_TYPE_INT32:
    case NANOARROW_TYPE_INT64:
      return std::to_string(ArrowArrayViewGetIntUnsafe(view, i));
    case NANOARROW_TYPE_UINT8:
    case NANOARROW_TYPE_UINT16:
    case NANOARROW_TYPE_UINT32:
    case NANOARROW_TYPE_UINT64:
      return std::to_string(ArrowArrayViewGetUIntUnsafe(view, i));
    case NANOARROW_TYPE_FLOAT:
      return fmt::format("{}", static_cast<float>(ArrowArrayViewGetDoubleUnsafe(view, i)));
    case NANOARROW_TYPE_DOUBLE:
      return fmt::format("{}", ArrowArrayViewGetDoubleUnsafe(view, i));
    case NANOARROW_TYPE_STRING:
    case NANOARROW_TYPE_LARGE_STRING:
    case NANOARROW_TYPE_STRING_VIEW: {
      ArrowStringView s = ArrowArrayViewGetStringUnsafe(view, i);
      return std::string(s.data, static_cast<size_t>(s.size_bytes));
    }
    case NANOARROW_TYPE_BINARY:
    case NANOARROW_TYPE_LARGE_BINARY:
    case NANOARROW_TYPE_BINARY_VIEW:
      return Hex(ArrowArrayViewGetBytesUnsafe(view, i));
    case NANOARROW_TYPE_DATE32:
      return FormatDate(ArrowArrayViewGetIntUnsafe(view, i));
    case NANOARROW_TYPE_TIMESTAMP:
      return FormatTimestamp(ArrowArrayViewGetIntUnsafe(view, i), type.time_unit);
    case NANOARROW_TYPE_DECIMAL128:
    case NANOARROW_TYPE_DECIMAL256: {
      ArrowDecimal decimal;
      ArrowDecimalInit(&decimal, type.decimal_bitwidth, type.decimal_precision, type.decimal_scale);
      ArrowArrayViewGetDecimalUnsafe(view, i, &decimal);
      nanoarrow::UniqueBuffer buffer;
      if (ArrowDecimalAppendStringToBuffer(&decimal, buffer.get()) != NANOARROW_OK) return "";
      return std::string(reinterpret_cast<const char*>(buffer->data),
                         static_cast<size_t>(buffer->size_bytes));
    }
    default:
      return "";
  }
}

bool Supported(ArrowType type) {
  switch (type) {
    case NANOARROW_TYPE_NA:
    case NANOARROW_TYPE_BOOL:
    case NANOARROW_TYPE_INT8:
    case NANOARROW_TYPE_INT16:
    case NANOARROW_TYPE_INT32:
    case NANOARROW_TYPE_INT64:
    case NANOARROW_TYPE_UINT8:
    case NANOARROW_TYPE_UINT16:
    case NANOARROW_TYPE_UINT32:
    case NANOARROW_TYPE_UINT64:
    case NANOARROW_TYPE_FLOAT:
    case NANOARROW_TYPE_DOUBLE:
    case NANOARROW_TYPE_STRING:
    case NANOARROW_TYPE_LARGE_STRING:
    case NANOARROW_TYPE_STRING_VIEW:
    case NANOARROW_TYPE_BINARY:
    case NANOARROW_TYPE_LARGE_BINARY:
    case NANOARROW_TYPE_BINARY_VIEW:
    case NANOARROW_TYPE_DATE32:
    case NANOARROW_TYPE_TIMESTAMP:
    case NANOARROW_TYPE_DECIMAL128:
    case NANOARROW_TYPE_DECIMAL256:
      return true;
    default:
      return false;
  }
}

// The top-level columns' names and types; Unsupported naming a column we cannot render.
Status ReadSchema(const ArrowSchema* schema, std::vector<ArrowSchemaView>* types,
                  std::vector<std::string>* names) {
  ArrowError error;
  for (int64_t c = 0; c < schema->n_children; ++c) {
    const ArrowSchema* child = schema->children[c];
    ArrowSchemaView view;
    if (ArrowSchemaViewInit(&view, child, &error) != NANOARROW_OK) {
      return Status::InvalidArgument("Spark result column {}: {}", c, error.message);
    }
    std::string name = child->name ? child->name : "";
    if (!Supported(view.type)) {
      return Status::Unsupported("Spark result column '{}' has type {}, which is not decoded", name,
                                 ArrowTypeString(view.type));
    }
    types->push_back(view);
    names->push_back(std::move(name));
  }
  return Status::OK();
}

Status AppendBatch(const ArrowSchema* schema, const ArrowArray* array,
                   const std::vector<ArrowSchemaView>& types, QueryRows* rows) {
  ArrowError error;
  nanoarrow::UniqueArrayView view;
  if (ArrowArrayViewInitFromSchema(view.get(), schema, &error) != NANOARROW_OK ||
      ArrowArrayViewSetArray(view.get(), array, &error) != NANOARROW_OK) {
    return Status::InvalidArgument("Spark result batch: {}", error.message);
  }
  for (int64_t r = 0; r < array->length; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(types.size());
    for (size_t c = 0; c < types.size(); ++c) {
      const ArrowArrayView* col = view->children[c];
      if (types[c].type == NANOARROW_TYPE_NA || ArrowArrayViewIsNull(col, r)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(FormatValue(col, types[c], r));
      }
    }
    rows->rows.push_back(std::move(row));
  }
  return Status::OK();
}

}  // namespace

Status AppendArrowIpc(std::string_view ipc, QueryRows* rows) {
  nanoarrow::UniqueBuffer buffer;
  if (ArrowBufferAppend(buffer.get(), ipc.data(), static_cast<int64_t>(ipc.size())) !=
      NANOARROW_OK) {
    return Status::Internal("out of memory copying a Spark result batch");
  }
  nanoarrow::ipc::UniqueInputStream input;
  nanoarrow::UniqueArrayStream stream;
  if (ArrowIpcInputStreamInitBuffer(input.get(), buffer.get()) != NANOARROW_OK ||
      ArrowIpcArrayStreamReaderInit(stream.get(), input.get(), nullptr) != NANOARROW_OK) {
    return Status::InvalidArgument("Spark result batch is not an Arrow IPC stream");
  }
  auto stream_error = [&](const char* what) {
    const char* msg = stream->get_last_error(stream.get());
    return Status::InvalidArgument("Spark result batch: {}: {}", what, msg ? msg : "unknown");
  };
  nanoarrow::UniqueSchema schema;
  if (stream->get_schema(stream.get(), schema.get()) != 0) return stream_error("schema");
  std::vector<ArrowSchemaView> types;
  std::vector<std::string> names;
  DL_RETURN_IF_ERROR(ReadSchema(schema.get(), &types, &names));
  if (rows->columns.empty()) rows->columns = std::move(names);
  while (true) {
    nanoarrow::UniqueArray array;
    if (stream->get_next(stream.get(), array.get()) != 0) return stream_error("record batch");
    if (array->release == nullptr) break;  // end of stream
    DL_RETURN_IF_ERROR(AppendBatch(schema.get(), array.get(), types, rows));
  }
  return Status::OK();
}

}  // namespace dl::engine::spark
