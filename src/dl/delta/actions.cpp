// Parsing and serialization of Delta log actions, with the field names Spark writes.
#include "dl/delta/actions.hpp"

#include <type_traits>

#include "dl/delta/action_fast_path.hpp"
#include "dl/delta/json_util.hpp"

namespace dl::delta {
namespace {

using Json = nlohmann::ordered_json;
using internal::AppendJsonString;
using internal::ObjectWriter;

// ---------------------------------------------------------------- field readers
// Every reader names the action and field in its error. JSON null counts as absent, because
// checkpoint rows (read through Parquet) carry nulls for missing optional fields.

Status TypeError(const char* action, std::string_view field, const char* want, const Json& v) {
  return Status::CorruptLog("{}.{}: expected {}, got {}", action, field, want, v.type_name());
}

// Required fields must be present and non-null.
Status Require(const Json& j, const char* action, std::initializer_list<const char*> fields) {
  for (const char* f : fields) {
    auto it = j.find(f);
    if (it == j.end() || it->is_null()) {
      return Status::CorruptLog("{} action lacks required field '{}'", action, f);
    }
  }
  return Status::OK();
}

Status ReadStr(Json& v, const char* a, std::string_view f, std::string* out) {
  if (!v.is_string()) return TypeError(a, f, "a string", v);
  *out = std::move(v.get_ref<std::string&>());
  return Status::OK();
}

Status ReadStr(Json& v, const char* a, std::string_view f, std::optional<std::string>* out) {
  if (!v.is_string()) return TypeError(a, f, "a string", v);
  *out = std::move(v.get_ref<std::string&>());
  return Status::OK();
}

Status ReadI64(const Json& v, const char* a, std::string_view f, int64_t* out) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) {
      return Status::CorruptLog("{}.{}: {} is out of range", a, f, v.get<uint64_t>());
    }
    *out = v.get<int64_t>();
    return Status::OK();
  }
  return TypeError(a, f, "an integer", v);
}

Status ReadI64(const Json& v, const char* a, std::string_view f, std::optional<int64_t>* out) {
  int64_t x = 0;
  DL_RETURN_IF_ERROR(ReadI64(v, a, f, &x));
  *out = x;
  return Status::OK();
}

template <typename T>  // int32_t or std::optional<int32_t>
Status ReadI32(const Json& v, const char* a, std::string_view f, T* out) {
  int64_t x = 0;
  DL_RETURN_IF_ERROR(ReadI64(v, a, f, &x));
  if (x < INT32_MIN || x > INT32_MAX)
    return Status::CorruptLog("{}.{}: {} is not an int32", a, f, x);
  *out = static_cast<int32_t>(x);
  return Status::OK();
}

template <typename T>  // bool or std::optional<bool>
Status ReadBool(const Json& v, const char* a, std::string_view f, T* out) {
  if (!v.is_boolean()) return TypeError(a, f, "a boolean", v);
  *out = v.get<bool>();
  return Status::OK();
}

// A string->string map; null values are dropped (a StringMap cannot hold them).
Status ReadStringMap(Json& v, const char* a, std::string_view f, StringMap* out) {
  if (!v.is_object()) return TypeError(a, f, "an object", v);
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.value().is_null()) continue;
    if (!it.value().is_string())
      return TypeError(a, fmt::format("{}.{}", f, it.key()), "a string", it.value());
    out->insert_or_assign(it.key(), std::move(it.value().get_ref<std::string&>()));
  }
  return Status::OK();
}

Status ReadStringMap(Json& v, const char* a, std::string_view f, std::optional<StringMap>* out) {
  StringMap m;
  DL_RETURN_IF_ERROR(ReadStringMap(v, a, f, &m));
  *out = std::move(m);
  return Status::OK();
}

// Partition values: null and "" both mean null. Numbers and booleans from lenient writers are
// kept as their JSON text.
Status ReadPartitionValues(Json& v, const char* a, PartitionValues* out) {
  if (!v.is_object()) return TypeError(a, "partitionValues", "an object", v);
  for (auto it = v.begin(); it != v.end(); ++it) {
    Json& x = it.value();
    std::optional<std::string> value;
    if (x.is_string()) {
      if (!x.get_ref<const std::string&>().empty()) value = std::move(x.get_ref<std::string&>());
    } else if (x.is_number() || x.is_boolean()) {
      value = x.dump();
    } else if (!x.is_null()) {
      return TypeError(a, "partitionValues." + it.key(), "a string or null", x);
    }
    out->insert_or_assign(it.key(), std::move(value));
  }
  return Status::OK();
}

Status ReadStringList(Json& v, const char* a, std::string_view f, std::vector<std::string>* out) {
  if (!v.is_array()) return TypeError(a, f, "an array", v);
  out->reserve(v.size());
  for (Json& e : v) {
    if (!e.is_string()) return TypeError(a, f, "an array of strings", e);
    out->push_back(std::move(e.get_ref<std::string&>()));
  }
  return Status::OK();
}

Status ReadStringList(Json& v, const char* a, std::string_view f,
                      std::optional<std::vector<std::string>>* out) {
  std::vector<std::string> list;
  DL_RETURN_IF_ERROR(ReadStringList(v, a, f, &list));
  *out = std::move(list);
  return Status::OK();
}

Result<DeletionVector> ParseDeletionVector(Json& j, const char* a) {
  constexpr const char* kD = "deletionVector";
  if (!j.is_object()) return TypeError(a, kD, "an object", j);
  DeletionVector dv;
  DL_RETURN_IF_ERROR(
      Require(j, kD, {"storageType", "pathOrInlineDv", "sizeInBytes", "cardinality"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "storageType") st = ReadStr(v, kD, k, &dv.storage_type);
    if (k == "pathOrInlineDv") st = ReadStr(v, kD, k, &dv.path_or_inline_dv);
    if (k == "offset") st = ReadI32(v, kD, k, &dv.offset);
    if (k == "sizeInBytes") st = ReadI32(v, kD, k, &dv.size_in_bytes);
    if (k == "cardinality") st = ReadI64(v, kD, k, &dv.cardinality);
    if (k == "maxRowIndex") st = ReadI64(v, kD, k, &dv.max_row_index);
    DL_RETURN_IF_ERROR(st);
  }
  return dv;
}

Status ReadDv(Json& v, const char* a, std::optional<DeletionVector>* out) {
  DL_ASSIGN_OR_RETURN(*out, ParseDeletionVector(v, a));
  return Status::OK();
}

// ---------------------------------------------------------------- action parsers

Result<AddFile> ParseAdd(Json& j) {
  constexpr const char* kA = "add";
  AddFile f;
  DL_RETURN_IF_ERROR(
      Require(j, kA, {"path", "partitionValues", "size", "modificationTime", "dataChange"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "path") st = ReadStr(v, kA, k, &f.path);
    if (k == "partitionValues") st = ReadPartitionValues(v, kA, &f.partition_values);
    if (k == "size") st = ReadI64(v, kA, k, &f.size);
    if (k == "modificationTime") st = ReadI64(v, kA, k, &f.modification_time);
    if (k == "dataChange") st = ReadBool(v, kA, k, &f.data_change);
    if (k == "stats") st = ReadStr(v, kA, k, &f.stats);
    if (k == "tags") st = ReadStringMap(v, kA, k, &f.tags);
    if (k == "deletionVector") st = ReadDv(v, kA, &f.deletion_vector);
    if (k == "baseRowId") st = ReadI64(v, kA, k, &f.base_row_id);
    if (k == "defaultRowCommitVersion") st = ReadI64(v, kA, k, &f.default_row_commit_version);
    if (k == "clusteringProvider") st = ReadStr(v, kA, k, &f.clustering_provider);
    DL_RETURN_IF_ERROR(st);
  }
  return f;
}

Status ReadOptPartitionValues(Json& v, const char* a, std::optional<PartitionValues>* out) {
  PartitionValues pv;
  DL_RETURN_IF_ERROR(ReadPartitionValues(v, a, &pv));
  *out = std::move(pv);
  return Status::OK();
}

Result<RemoveFile> ParseRemove(Json& j) {
  constexpr const char* kA = "remove";
  RemoveFile f;
  DL_RETURN_IF_ERROR(Require(j, kA, {"path", "dataChange"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "path") st = ReadStr(v, kA, k, &f.path);
    if (k == "deletionTimestamp") st = ReadI64(v, kA, k, &f.deletion_timestamp);
    if (k == "dataChange") st = ReadBool(v, kA, k, &f.data_change);
    if (k == "extendedFileMetadata") st = ReadBool(v, kA, k, &f.extended_file_metadata);
    if (k == "partitionValues") st = ReadOptPartitionValues(v, kA, &f.partition_values);
    if (k == "size") st = ReadI64(v, kA, k, &f.size);
    if (k == "stats") st = ReadStr(v, kA, k, &f.stats);
    if (k == "tags") st = ReadStringMap(v, kA, k, &f.tags);
    if (k == "deletionVector") st = ReadDv(v, kA, &f.deletion_vector);
    if (k == "baseRowId") st = ReadI64(v, kA, k, &f.base_row_id);
    if (k == "defaultRowCommitVersion") st = ReadI64(v, kA, k, &f.default_row_commit_version);
    DL_RETURN_IF_ERROR(st);
  }
  return f;
}

Result<AddCdcFile> ParseCdc(Json& j) {
  constexpr const char* kA = "cdc";
  AddCdcFile f;
  DL_RETURN_IF_ERROR(Require(j, kA, {"path", "partitionValues", "size", "dataChange"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "path") st = ReadStr(v, kA, k, &f.path);
    if (k == "partitionValues") st = ReadPartitionValues(v, kA, &f.partition_values);
    if (k == "size") st = ReadI64(v, kA, k, &f.size);
    if (k == "dataChange") st = ReadBool(v, kA, k, &f.data_change);
    if (k == "tags") st = ReadStringMap(v, kA, k, &f.tags);
    DL_RETURN_IF_ERROR(st);
  }
  return f;
}

Status ReadFormat(Json& j, Format* out) {
  constexpr const char* kA = "metaData.format";
  if (!j.is_object()) return TypeError("metaData", "format", "an object", j);
  DL_RETURN_IF_ERROR(Require(j, kA, {"provider"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (it.key() == "provider") st = ReadStr(v, kA, "provider", &out->provider);
    if (it.key() == "options") st = ReadStringMap(v, kA, "options", &out->options);
    DL_RETURN_IF_ERROR(st);
  }
  return Status::OK();
}

Result<Metadata> ParseMetadata(Json& j) {
  constexpr const char* kA = "metaData";
  Metadata m;
  DL_RETURN_IF_ERROR(Require(j, kA, {"id", "format", "schemaString", "partitionColumns"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "id") st = ReadStr(v, kA, k, &m.id);
    if (k == "name") st = ReadStr(v, kA, k, &m.name);
    if (k == "description") st = ReadStr(v, kA, k, &m.description);
    if (k == "format") st = ReadFormat(v, &m.format);
    if (k == "schemaString") st = ReadStr(v, kA, k, &m.schema_string);
    if (k == "partitionColumns") st = ReadStringList(v, kA, k, &m.partition_columns);
    if (k == "configuration") st = ReadStringMap(v, kA, k, &m.configuration);
    if (k == "createdTime") st = ReadI64(v, kA, k, &m.created_time);
    DL_RETURN_IF_ERROR(st);
  }
  return m;
}

Result<Protocol> ParseProtocol(Json& j) {
  constexpr const char* kA = "protocol";
  Protocol p;
  DL_RETURN_IF_ERROR(Require(j, kA, {"minReaderVersion", "minWriterVersion"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "minReaderVersion") st = ReadI32(v, kA, k, &p.min_reader_version);
    if (k == "minWriterVersion") st = ReadI32(v, kA, k, &p.min_writer_version);
    if (k == "readerFeatures") st = ReadStringList(v, kA, k, &p.reader_features);
    if (k == "writerFeatures") st = ReadStringList(v, kA, k, &p.writer_features);
    DL_RETURN_IF_ERROR(st);
  }
  return p;
}

Result<SetTransaction> ParseTxn(Json& j) {
  constexpr const char* kA = "txn";
  SetTransaction t;
  DL_RETURN_IF_ERROR(Require(j, kA, {"appId", "version"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "appId") st = ReadStr(v, kA, k, &t.app_id);
    if (k == "version") st = ReadI64(v, kA, k, &t.version);
    if (k == "lastUpdated") st = ReadI64(v, kA, k, &t.last_updated);
    DL_RETURN_IF_ERROR(st);
  }
  return t;
}

Result<DomainMetadata> ParseDomain(Json& j) {
  constexpr const char* kA = "domainMetadata";
  DomainMetadata d;
  DL_RETURN_IF_ERROR(Require(j, kA, {"domain", "configuration", "removed"}));
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string_view k = it.key();
    Json& v = it.value();
    if (v.is_null()) continue;
    Status st;
    if (k == "domain") st = ReadStr(v, kA, k, &d.domain);
    if (k == "configuration") st = ReadStr(v, kA, k, &d.configuration);
    if (k == "removed") st = ReadBool(v, kA, k, &d.removed);
    DL_RETURN_IF_ERROR(st);
  }
  return d;
}

template <typename T>
Result<std::optional<Action>> Wrap(Result<T> r) {
  if (!r.ok()) return r.status();
  return std::optional<Action>(Action(std::move(r).value()));
}

Result<std::optional<Action>> Dispatch(std::string_view key, Json& v) {
  if (key == "add" || key == "remove" || key == "cdc" || key == "metaData" || key == "protocol" ||
      key == "txn" || key == "domainMetadata" || key == "commitInfo") {
    if (!v.is_object()) return TypeError("action", key, "an object", v);
  }
  if (key == "add") return Wrap(ParseAdd(v));
  if (key == "remove") return Wrap(ParseRemove(v));
  if (key == "metaData") return Wrap(ParseMetadata(v));
  if (key == "protocol") return Wrap(ParseProtocol(v));
  if (key == "txn") return Wrap(ParseTxn(v));
  if (key == "cdc") return Wrap(ParseCdc(v));
  if (key == "domainMetadata") return Wrap(ParseDomain(v));
  if (key == "commitInfo") {
    CommitInfo ci;
    ci.json = std::move(v);
    return std::optional<Action>(Action(std::move(ci)));
  }
  return std::optional<Action>();
}

// ---------------------------------------------------------------- serializers

void WritePartitionValues(std::string* out, const PartitionValues& pv) {
  ObjectWriter w(out);
  for (const auto& [k, v] : pv) {
    if (v)
      w.Str(k, *v);
    else
      w.Null(k);
  }
  w.Finish();
}

void WriteStringMap(std::string* out, const StringMap& m) {
  ObjectWriter w(out);
  for (const auto& [k, v] : m) w.Str(k, v);
  w.Finish();
}

void WriteStringList(std::string* out, const std::vector<std::string>& list) {
  out->push_back('[');
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, list[i]);
  }
  out->push_back(']');
}

void WriteDv(std::string* out, const DeletionVector& dv) {
  ObjectWriter w(out);
  w.Str("storageType", dv.storage_type);
  w.Str("pathOrInlineDv", dv.path_or_inline_dv);
  if (dv.offset) w.Int("offset", *dv.offset);
  w.Int("sizeInBytes", dv.size_in_bytes);
  w.Int("cardinality", dv.cardinality);
  if (dv.max_row_index) w.Int("maxRowIndex", *dv.max_row_index);
  w.Finish();
}

void Write(std::string* out, const AddFile& f) {
  ObjectWriter w(out);
  w.Str("path", f.path);
  WritePartitionValues(w.Key("partitionValues"), f.partition_values);
  w.Int("size", f.size);
  w.Int("modificationTime", f.modification_time);
  w.Bool("dataChange", f.data_change);
  if (f.stats) w.Str("stats", *f.stats);
  if (f.tags) WriteStringMap(w.Key("tags"), *f.tags);
  if (f.deletion_vector) WriteDv(w.Key("deletionVector"), *f.deletion_vector);
  if (f.base_row_id) w.Int("baseRowId", *f.base_row_id);
  if (f.default_row_commit_version) {
    w.Int("defaultRowCommitVersion", *f.default_row_commit_version);
  }
  if (f.clustering_provider) w.Str("clusteringProvider", *f.clustering_provider);
  w.Finish();
}

void Write(std::string* out, const RemoveFile& f) {
  ObjectWriter w(out);
  w.Str("path", f.path);
  if (f.deletion_timestamp) w.Int("deletionTimestamp", *f.deletion_timestamp);
  w.Bool("dataChange", f.data_change);
  if (f.extended_file_metadata) w.Bool("extendedFileMetadata", *f.extended_file_metadata);
  if (f.partition_values) WritePartitionValues(w.Key("partitionValues"), *f.partition_values);
  if (f.size) w.Int("size", *f.size);
  if (f.stats) w.Str("stats", *f.stats);
  if (f.tags) WriteStringMap(w.Key("tags"), *f.tags);
  if (f.deletion_vector) WriteDv(w.Key("deletionVector"), *f.deletion_vector);
  if (f.base_row_id) w.Int("baseRowId", *f.base_row_id);
  if (f.default_row_commit_version) {
    w.Int("defaultRowCommitVersion", *f.default_row_commit_version);
  }
  w.Finish();
}

void Write(std::string* out, const AddCdcFile& f) {
  ObjectWriter w(out);
  w.Str("path", f.path);
  WritePartitionValues(w.Key("partitionValues"), f.partition_values);
  w.Int("size", f.size);
  w.Bool("dataChange", f.data_change);
  if (f.tags) WriteStringMap(w.Key("tags"), *f.tags);
  w.Finish();
}

void Write(std::string* out, const Metadata& m) {
  ObjectWriter w(out);
  w.Str("id", m.id);
  if (m.name) w.Str("name", *m.name);
  if (m.description) w.Str("description", *m.description);
  {
    ObjectWriter f(w.Key("format"));
    f.Str("provider", m.format.provider);
    WriteStringMap(f.Key("options"), m.format.options);
    f.Finish();
  }
  w.Str("schemaString", m.schema_string);
  WriteStringList(w.Key("partitionColumns"), m.partition_columns);
  WriteStringMap(w.Key("configuration"), m.configuration);
  if (m.created_time) w.Int("createdTime", *m.created_time);
  w.Finish();
}

void Write(std::string* out, const Protocol& p) {
  ObjectWriter w(out);
  w.Int("minReaderVersion", p.min_reader_version);
  w.Int("minWriterVersion", p.min_writer_version);
  if (p.reader_features) WriteStringList(w.Key("readerFeatures"), *p.reader_features);
  if (p.writer_features) WriteStringList(w.Key("writerFeatures"), *p.writer_features);
  w.Finish();
}

void Write(std::string* out, const SetTransaction& t) {
  ObjectWriter w(out);
  w.Str("appId", t.app_id);
  w.Int("version", t.version);
  if (t.last_updated) w.Int("lastUpdated", *t.last_updated);
  w.Finish();
}

void Write(std::string* out, const DomainMetadata& d) {
  ObjectWriter w(out);
  w.Str("domain", d.domain);
  w.Str("configuration", d.configuration);
  w.Bool("removed", d.removed);
  w.Finish();
}

void Write(std::string* out, const CommitInfo& c) {
  // Replace invalid UTF-8 instead of throwing: commitInfo may carry user-provided text.
  out->append(c.json.is_object() ? c.json.dump(-1, ' ', false, Json::error_handler_t::replace)
                                 : "{}");
}

const char* ActionKey(const Action& a) {
  static constexpr const char* kKeys[] = {"commitInfo", "protocol", "metaData", "add",
                                          "remove",     "cdc",      "txn",      "domainMetadata"};
  static_assert(std::variant_size_v<Action> == std::size(kKeys));
  return kKeys[a.index()];
}

std::optional<int64_t> IntField(const Json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

}  // namespace

std::string DeletionVector::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) id += "@" + std::to_string(*offset);
  return id;
}

std::optional<int64_t> CommitInfo::timestamp() const { return IntField(json, "timestamp"); }

std::optional<int64_t> CommitInfo::in_commit_timestamp() const {
  return IntField(json, "inCommitTimestamp");
}

std::string CommitInfo::operation() const {
  if (!json.is_object()) return {};
  auto it = json.find("operation");
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::optional<Action>> ParseAction(std::string_view line) {
  if (auto fast = internal::TryParseFileAction(line)) return fast;
  return internal::ParseActionWithDom(line);
}

Result<std::optional<Action>> internal::ParseActionWithDom(std::string_view line) {
  try {
    Json doc = Json::parse(line);
    if (!doc.is_object()) {
      return Status::CorruptLog("expected a JSON object per line, got {}", doc.type_name());
    }
    // Spark writes one action per line; the first known non-null key decides.
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it.value().is_null()) continue;
      DL_ASSIGN_OR_RETURN(std::optional<Action> action, Dispatch(it.key(), it.value()));
      if (action) return action;
    }
    return std::optional<Action>();
  } catch (const nlohmann::json::exception& e) {
    return Status::CorruptLog("invalid JSON: {}", e.what());
  }
}

Status ForEachAction(std::string_view content, std::string_view source,
                     const std::function<void(Action&&)>& fn) {
  size_t pos = 0;
  int64_t line_no = 0;
  int64_t known = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto parsed = ParseAction(line);
    if (!parsed.ok()) {
      return parsed.status().WithContext(fmt::format("{} line {}", source, line_no));
    }
    if (*parsed) {
      ++known;
      fn(std::move(**parsed));
    }
  }
  // Every writer commits at least a commitInfo; an empty commit is a truncated file (a crash
  // or a bad copy) and replaying it as "nothing happened" would drop its rows silently.
  if (known == 0) {
    bool blank = content.find_first_not_of(" \t\r\n") == std::string_view::npos;
    return Status::CorruptLog("commit file {} {}", source,
                              blank ? "is empty" : "holds no action data_loader knows");
  }
  return Status::OK();
}

Result<std::vector<Action>> ParseActions(std::string_view content, std::string_view source) {
  std::vector<Action> actions;
  DL_RETURN_IF_ERROR(
      ForEachAction(content, source, [&](Action&& a) { actions.push_back(std::move(a)); }));
  return actions;
}

std::string SerializeAction(const Action& action) {
  std::string out;
  out.reserve(256);
  out.append("{\"");
  out.append(ActionKey(action));
  out.append("\":");
  std::visit([&out](const auto& a) { Write(&out, a); }, action);
  out.push_back('}');
  return out;
}

std::string SerializeActions(const std::vector<Action>& actions) {
  std::string out;
  for (const Action& a : actions) {
    out += SerializeAction(a);
    out.push_back('\n');
  }
  return out;
}

}  // namespace dl::delta
