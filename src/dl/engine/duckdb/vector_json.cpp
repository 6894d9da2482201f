#include "dl/engine/duckdb/vector_json.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "dl/engine/duckdb/duckdb_handle.hpp"

namespace dl::engine::duck {

namespace {

template <typename T>
T At(duckdb_vector v, idx_t row) {
  return static_cast<T*>(duckdb_vector_get_data(v))[row];
}

template <typename T>
void AppendNumber(T value, std::string& out) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);  // shortest round-trip for doubles
  out.append(buf, res.ptr);
}

void AppendFloating(double value, std::string& out) {
  if (std::isfinite(value)) {
    AppendNumber(value, out);
  } else {
    out += "null";  // JSON has no NaN or infinity
  }
}

void AppendStruct(const JsonPlan& plan, duckdb_vector v, idx_t row, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < plan.children.size(); ++i) {
    duckdb_vector child = duckdb_struct_vector_get_child(v, i);
    if (!VectorIsValid(child, row)) continue;  // null members are omitted
    if (!first) out.push_back(',');
    first = false;
    out += plan.member_prefixes[i];
    AppendJson(plan.children[i], child, row, out);
  }
  out.push_back('}');
}

void AppendValueOrNull(const JsonPlan& plan, duckdb_vector v, idx_t row, std::string& out) {
  if (VectorIsValid(v, row)) {
    AppendJson(plan, v, row, out);
  } else {
    out += "null";
  }
}

void AppendList(const JsonPlan& plan, duckdb_vector v, idx_t row, std::string& out) {
  idx_t begin, end;
  duckdb_vector child;
  if (plan.id == DUCKDB_TYPE_ARRAY) {
    begin = row * plan.array_size;
    end = begin + plan.array_size;
    child = duckdb_array_vector_get_child(v);
  } else {
    auto entry = At<duckdb_list_entry>(v, row);
    begin = entry.offset;
    end = entry.offset + entry.length;
    child = duckdb_list_vector_get_child(v);
  }
  out.push_back('[');
  for (idx_t i = begin; i < end; ++i) {
    if (i != begin) out.push_back(',');
    AppendValueOrNull(plan.children[0], child, i, out);
  }
  out.push_back(']');
}

void AppendMap(const JsonPlan& plan, duckdb_vector v, idx_t row, std::string& out) {
  auto entry = At<duckdb_list_entry>(v, row);
  duckdb_vector entries = duckdb_list_vector_get_child(v);
  duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
  duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
  out.push_back('{');
  for (idx_t i = entry.offset; i < entry.offset + entry.length; ++i) {
    if (i != entry.offset) out.push_back(',');
    if (plan.children[0].id == DUCKDB_TYPE_VARCHAR) {
      AppendJson(plan.children[0], keys, i, out);
    } else {  // object keys are strings: quote the printed key
      std::string key;
      AppendJson(plan.children[0], keys, i, key);
      AppendJsonString(key, out);
    }
    out.push_back(':');
    AppendValueOrNull(plan.children[1], values, i, out);
  }
  out.push_back('}');
}

}  // namespace

JsonPlan MakeJsonPlan(duckdb_logical_type type) {
  JsonPlan plan;
  plan.id = duckdb_get_type_id(type);
  switch (plan.id) {
    case DUCKDB_TYPE_STRUCT: {
      idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        char* name = duckdb_struct_type_child_name(type, i);
        std::string prefix;
        AppendJsonString(name, prefix);
        duckdb_free(name);
        plan.member_prefixes.push_back(prefix + ":");
        LogicalType child(duckdb_struct_type_child_type(type, i));
        plan.children.push_back(MakeJsonPlan(child.get()));
      }
      break;
    }
    case DUCKDB_TYPE_LIST: {
      LogicalType child(duckdb_list_type_child_type(type));
      plan.children.push_back(MakeJsonPlan(child.get()));
      break;
    }
    case DUCKDB_TYPE_ARRAY: {
      LogicalType child(duckdb_array_type_child_type(type));
      plan.children.push_back(MakeJsonPlan(child.get()));
      plan.array_size = duckdb_array_type_array_size(type);
      break;
    }
    case DUCKDB_TYPE_MAP: {
      LogicalType key(duckdb_map_type_key_type(type)), value(duckdb_map_type_value_type(type));
      plan.children.push_back(MakeJsonPlan(key.get()));
      plan.children.push_back(MakeJsonPlan(value.get()));
      break;
    }
    default:
      break;
  }
  return plan;
}

void AppendJson(const JsonPlan& plan, duckdb_vector v, idx_t row, std::string& out) {
  switch (plan.id) {
    case DUCKDB_TYPE_STRUCT:
      return AppendStruct(plan, v, row, out);
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
      return AppendList(plan, v, row, out);
    case DUCKDB_TYPE_MAP:
      return AppendMap(plan, v, row, out);
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
      auto* s = static_cast<duckdb_string_t*>(duckdb_vector_get_data(v)) + row;
      return AppendJsonString(std::string_view(duckdb_string_t_data(s), duckdb_string_t_length(*s)),
                              out);
    }
    case DUCKDB_TYPE_BOOLEAN:
      out += At<bool>(v, row) ? "true" : "false";
      return;
    case DUCKDB_TYPE_TINYINT:
      return AppendNumber(At<int8_t>(v, row), out);
    case DUCKDB_TYPE_SMALLINT:
      return AppendNumber(At<int16_t>(v, row), out);
    case DUCKDB_TYPE_INTEGER:
      return AppendNumber(At<int32_t>(v, row), out);
    case DUCKDB_TYPE_BIGINT:
      return AppendNumber(At<int64_t>(v, row), out);
    case DUCKDB_TYPE_UTINYINT:
      return AppendNumber(At<uint8_t>(v, row), out);
    case DUCKDB_TYPE_USMALLINT:
      return AppendNumber(At<uint16_t>(v, row), out);
    case DUCKDB_TYPE_UINTEGER:
      return AppendNumber(At<uint32_t>(v, row), out);
    case DUCKDB_TYPE_UBIGINT:
      return AppendNumber(At<uint64_t>(v, row), out);
    case DUCKDB_TYPE_FLOAT:
      return AppendFloating(At<float>(v, row), out);
    case DUCKDB_TYPE_DOUBLE:
      return AppendFloating(At<double>(v, row), out);
    default:
      out += "null";
      return;  // not in action schemas (only in dropped *_parsed)
  }
}

void AppendJsonString(std::string_view text, std::string& out) {
  out.push_back('"');
  size_t run = 0;  // start of the pending run of characters that need no escaping
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

}  // namespace dl::engine::duck
