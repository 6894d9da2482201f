// Reading add/remove rows directly from the vectors: a big checkpoint is nearly all adds, and
// printing each as JSON only to parse it again cost more than the Parquet scan itself.
#include "dl/engine/duckdb/checkpoint_reader.hpp"

#include <fmt/format.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "dl/engine/duckdb/vector_json.hpp"

namespace dl::engine::duck {
namespace {

// The add/remove members read directly. Others (unknown, *_parsed) are ignored, as the JSON
// parser ignores unknown fields.
enum Member {
  kPath,
  kPartitionValues,
  kSize,
  kModificationTime,
  kDataChange,
  kStats,
  kTags,
  kDeletionVector,
  kBaseRowId,
  kDefaultRowCommitVersion,
  kClusteringProvider,
  kDeletionTimestamp,
  kExtendedFileMetadata,
  kNumMembers
};
constexpr std::array<const char*, kNumMembers> kMemberNames = {"path",
                                                               "partitionValues",
                                                               "size",
                                                               "modificationTime",
                                                               "dataChange",
                                                               "stats",
                                                               "tags",
                                                               "deletionVector",
                                                               "baseRowId",
                                                               "defaultRowCommitVersion",
                                                               "clusteringProvider",
                                                               "deletionTimestamp",
                                                               "extendedFileMetadata"};

bool IsInteger(duckdb_type t) {
  return t == DUCKDB_TYPE_TINYINT || t == DUCKDB_TYPE_SMALLINT || t == DUCKDB_TYPE_INTEGER ||
         t == DUCKDB_TYPE_BIGINT;
}

bool IsStringMap(duckdb_logical_type type) {
  LogicalType key(duckdb_map_type_key_type(type)), value(duckdb_map_type_value_type(type));
  return key.id() == DUCKDB_TYPE_VARCHAR && value.id() == DUCKDB_TYPE_VARCHAR;
}

// Whether member `m` of type `type` can be read directly.
bool Readable(int m, duckdb_logical_type type) {
  duckdb_type id = duckdb_get_type_id(type);
  switch (m) {
    case kPath:
    case kStats:
    case kClusteringProvider:
      return id == DUCKDB_TYPE_VARCHAR;
    case kDataChange:
    case kExtendedFileMetadata:
      return id == DUCKDB_TYPE_BOOLEAN;
    case kPartitionValues:
    case kTags:
      return id == DUCKDB_TYPE_MAP && IsStringMap(type);
    case kDeletionVector:
      return true;  // only tested for null; a present one takes the JSON route
    default:
      return IsInteger(id);
  }
}

// How one action column of the scan is read.
struct ColumnPlan {
  enum class Kind { kAdd, kRemove, kOther };
  Kind kind = Kind::kOther;
  std::string prefix;  // {"<column>":
  JsonPlan json;
  std::array<int, kNumMembers> index;  // member position in the struct, -1 if absent
  std::array<duckdb_type, kNumMembers> type;
  bool direct = false;
};

ColumnPlan MakePlan(const std::string& name, duckdb_logical_type type) {
  ColumnPlan plan;
  plan.kind = name == "add"      ? ColumnPlan::Kind::kAdd
              : name == "remove" ? ColumnPlan::Kind::kRemove
                                 : ColumnPlan::Kind::kOther;
  plan.prefix = "{";
  AppendJsonString(name, plan.prefix);
  plan.prefix += ":";
  plan.json = MakeJsonPlan(type);
  plan.index.fill(-1);
  plan.type.fill(DUCKDB_TYPE_INVALID);
  bool file_action = plan.kind == ColumnPlan::Kind::kAdd || plan.kind == ColumnPlan::Kind::kRemove;
  if (!file_action || duckdb_get_type_id(type) != DUCKDB_TYPE_STRUCT) return plan;
  plan.direct = true;
  idx_t n = duckdb_struct_type_child_count(type);
  for (idx_t i = 0; i < n; ++i) {
    char* raw = duckdb_struct_type_child_name(type, i);
    std::string member = raw;
    duckdb_free(raw);
    for (int m = 0; m < kNumMembers; ++m) {
      if (member != kMemberNames[m]) continue;
      LogicalType child(duckdb_struct_type_child_type(type, i));
      plan.index[m] = static_cast<int>(i);
      plan.type[m] = child.id();
      plan.direct &= Readable(m, child.get());
    }
  }
  return plan;
}

// The member vectors of one chunk's struct vector; null where the member is absent.
class Members {
 public:
  Members(const ColumnPlan& plan, duckdb_vector v) : plan_(plan) {
    for (int m = 0; m < kNumMembers; ++m) {
      vec_[m] = plan.index[m] < 0 ? nullptr : duckdb_struct_vector_get_child(v, plan.index[m]);
    }
  }
  bool Valid(int m, idx_t row) const { return vec_[m] != nullptr && VectorIsValid(vec_[m], row); }

  // Each getter returns false when the value is null or absent.
  bool Str(int m, idx_t row, std::string* out) const {
    if (!Valid(m, row)) return false;
    auto* s = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vec_[m])) + row;
    out->assign(duckdb_string_t_data(s), duckdb_string_t_length(*s));
    return true;
  }
  bool Int(int m, idx_t row, int64_t* out) const {
    if (!Valid(m, row)) return false;
    void* data = duckdb_vector_get_data(vec_[m]);
    switch (plan_.type[m]) {
      case DUCKDB_TYPE_TINYINT:
        *out = static_cast<int8_t*>(data)[row];
        break;
      case DUCKDB_TYPE_SMALLINT:
        *out = static_cast<int16_t*>(data)[row];
        break;
      case DUCKDB_TYPE_INTEGER:
        *out = static_cast<int32_t*>(data)[row];
        break;
      default:
        *out = static_cast<int64_t*>(data)[row];
    }
    return true;
  }
  bool Bool(int m, idx_t row, bool* out) const {
    if (!Valid(m, row)) return false;
    *out = static_cast<bool*>(duckdb_vector_get_data(vec_[m]))[row];
    return true;
  }
  // Map entries: fn(key, value or nullptr).
  template <typename Fn>
  bool Map(int m, idx_t row, Fn&& fn) const {
    if (!Valid(m, row)) return false;
    auto entry = static_cast<duckdb_list_entry*>(duckdb_vector_get_data(vec_[m]))[row];
    duckdb_vector entries = duckdb_list_vector_get_child(vec_[m]);
    duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
    duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
    auto* k = static_cast<duckdb_string_t*>(duckdb_vector_get_data(keys));
    auto* v = static_cast<duckdb_string_t*>(duckdb_vector_get_data(values));
    for (idx_t i = entry.offset; i < entry.offset + entry.length; ++i) {
      std::string_view key(duckdb_string_t_data(k + i), duckdb_string_t_length(k[i]));
      if (VectorIsValid(values, i)) {
        std::string_view value(duckdb_string_t_data(v + i), duckdb_string_t_length(v[i]));
        fn(key, &value);
      } else {
        fn(key, nullptr);
      }
    }
    return true;
  }
  template <typename T>
  void Opt(int m, idx_t row, std::optional<T>* out,
           bool (Members::*get)(int, idx_t, T*) const) const {
    T v{};
    if ((this->*get)(m, row, &v)) *out = std::move(v);
  }

 private:
  const ColumnPlan& plan_;
  std::array<duckdb_vector, kNumMembers> vec_;
};

// As the JSON parser reads them: "" and null both mean a null partition value.
bool ReadPartitionValues(const Members& in, idx_t row, delta::PartitionValues* out) {
  return in.Map(kPartitionValues, row, [out](std::string_view k, const std::string_view* v) {
    std::optional<std::string> value;
    if (v != nullptr && !v->empty()) value.emplace(*v);
    out->insert_or_assign(std::string(k), std::move(value));
  });
}

// Tags drop null values, as the JSON parser does.
void ReadTags(const Members& in, idx_t row, std::optional<delta::StringMap>* out) {
  delta::StringMap tags;
  if (!in.Map(kTags, row, [&tags](std::string_view k, const std::string_view* v) {
        if (v != nullptr) tags.insert_or_assign(std::string(k), std::string(*v));
      })) {
    return;
  }
  *out = std::move(tags);
}

// Fill `f` from row `row`; false sends the row down the JSON route (deletion vector, or a
// required member missing, which the JSON parser reports).
template <typename F>
bool ReadFile(const Members& in, idx_t row, F* f) {
  if (in.Valid(kDeletionVector, row)) return false;
  if (!in.Str(kPath, row, &f->path) || !in.Bool(kDataChange, row, &f->data_change)) return false;
  in.Opt(kStats, row, &f->stats, &Members::Str);
  ReadTags(in, row, &f->tags);
  in.Opt(kBaseRowId, row, &f->base_row_id, &Members::Int);
  in.Opt(kDefaultRowCommitVersion, row, &f->default_row_commit_version, &Members::Int);
  if constexpr (std::is_same_v<F, delta::AddFile>) {
    in.Opt(kClusteringProvider, row, &f->clustering_provider, &Members::Str);
    return ReadPartitionValues(in, row, &f->partition_values) && in.Int(kSize, row, &f->size) &&
           in.Int(kModificationTime, row, &f->modification_time);
  } else {
    delta::PartitionValues pv;
    if (ReadPartitionValues(in, row, &pv)) f->partition_values = std::move(pv);
    in.Opt(kSize, row, &f->size, &Members::Int);
    in.Opt(kDeletionTimestamp, row, &f->deletion_timestamp, &Members::Int);
    in.Opt(kExtendedFileMetadata, row, &f->extended_file_metadata, &Members::Bool);
    return true;
  }
}

// Row `row` of a file-action column read directly into `list`; false if it needs JSON.
template <typename F>
bool TryDirect(const Members& in, idx_t row, std::vector<F>* list) {
  F& f = list->emplace_back();
  if (ReadFile(in, row, &f)) return true;
  list->pop_back();
  return false;
}

// The actions of one chunk into `out`; `action_no` counts actions for error messages.
Status ReadChunk(const std::vector<ColumnPlan>& plans, const DataChunk& chunk,
                 const std::string& source, int64_t* action_no, delta::CheckpointActions* out) {
  std::string line;
  for (size_t c = 0; c < plans.size(); ++c) {
    const ColumnPlan& plan = plans[c];
    duckdb_vector v = chunk.column(c);
    std::optional<Members> members;
    if (plan.direct) members.emplace(plan, v);
    const bool file_action =
        plan.kind == ColumnPlan::Kind::kAdd || plan.kind == ColumnPlan::Kind::kRemove;
    for (idx_t r = 0; r < chunk.size(); ++r) {
      if (!VectorIsValid(v, r)) continue;
      if (file_action && !(members && members->Valid(kPath, r)) && AllMembersNull(v, r)) continue;
      ++*action_no;
      if (members) {
        bool done = plan.kind == ColumnPlan::Kind::kAdd ? TryDirect(*members, r, &out->adds)
                                                        : TryDirect(*members, r, &out->removes);
        if (done) continue;
      }
      line = plan.prefix;
      AppendJson(plan.json, v, r, line);
      line.push_back('}');
      auto parsed = delta::ParseAction(line);
      if (!parsed.ok()) {
        return parsed.status().WithContext(fmt::format("{} action {}", source, *action_no));
      }
      if (*parsed) {
        delta::AddCheckpointAction(std::move(**parsed), out);
        continue;
      }
      auto other = delta::ParseCheckpointOnlyAction(line, out);  // sidecar, checkpointMetadata
      if (!other.ok()) {
        return other.status().WithContext(fmt::format("{} action {}", source, *action_no));
      }
    }
  }
  return Status::OK();
}

// Fetches the chunks of a streaming result on a second thread while the caller turns the
// previous ones into structs: the Parquet scan and the struct building then use two cores
// instead of taking turns on one. Only the fetching thread touches the result until joined.
class ChunkPipe {
 public:
  explicit ChunkPipe(QueryResult& result) : thread_([this, &result] { Fetch(result); }) {}
  ~ChunkPipe() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    space_.notify_all();
    thread_.join();
  }
  ChunkPipe(const ChunkPipe&) = delete;
  ChunkPipe& operator=(const ChunkPipe&) = delete;

  /// The next chunk; an empty one at the end (or when the scan failed).
  DataChunk Next() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [this] { return !queue_.empty(); });
    DataChunk chunk = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return chunk;
  }

 private:
  static constexpr size_t kDepth = 4;  // chunks fetched ahead (2048 rows each)

  void Fetch(QueryResult& result) {
    for (bool end = false; !end;) {
      DataChunk chunk = result.Next();
      end = !chunk;
      std::unique_lock lock(mu_);
      space_.wait(lock, [this] { return queue_.size() < kDepth || stop_; });
      if (stop_) return;
      queue_.push_back(std::move(chunk));
      ready_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<DataChunk> queue_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace

Result<delta::CheckpointActions> ReadCheckpointRows(QueryResult& result, const std::string& source,
                                                    size_t expected_rows) {
  std::vector<ColumnPlan> plans;
  for (idx_t c = 0; c < result.column_count(); ++c) {
    LogicalType type = result.column_logical_type(c);
    plans.push_back(MakePlan(result.column_name(c), type.get()));
  }
  delta::CheckpointActions out;
  // With room for the adds of the commits replayed after it: growing a list of 100k files
  // moves them all (untouched capacity costs no memory).
  out.adds.reserve(expected_rows + expected_rows / 4);
  int64_t action_no = 0;
  {
    ChunkPipe pipe(result);
    while (DataChunk chunk = pipe.Next()) {
      DL_RETURN_IF_ERROR(ReadChunk(plans, chunk, source, &action_no, &out));
    }
  }
  DL_RETURN_IF_ERROR(result.FetchStatus("reading checkpoint " + source));
  return out;
}

bool AllMembersNull(duckdb_vector v, idx_t row) {
  LogicalType type(duckdb_vector_get_column_type(v));
  if (type.id() != DUCKDB_TYPE_STRUCT) return false;
  idx_t n = duckdb_struct_type_child_count(type.get());
  for (idx_t i = 0; i < n; ++i) {
    if (VectorIsValid(duckdb_struct_vector_get_child(v, i), row)) return false;
  }
  return true;
}

}  // namespace dl::engine::duck
