// Our commit metadata and its JSON form in commitInfo.dataLoader / commitInfo.userMetadata.
#include "dl/delta/loader_commit_info.hpp"

#include <fmt/format.h>

#include "dl/delta/commit_range.hpp"

namespace dl::delta {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kChangeStore = "changeStore";
constexpr const char* kQuarantine = "quarantine";

// A field of one of our objects; `where` names the object in errors.
class Reader {
 public:
  Reader(const Json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  const Json* Find(const char* key) const {
    auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  Result<int64_t> Int(const char* key) const {
    const Json* v = Find(key);
    if (v == nullptr) return int64_t{0};
    if (!v->is_number_integer()) return Bad(key, "an integer");
    return v->get<int64_t>();
  }
  Result<std::string> Str(const char* key) const {
    const Json* v = Find(key);
    if (v == nullptr) return std::string();
    if (!v->is_string()) return Bad(key, "a string");
    return v->get<std::string>();
  }
  Status Bad(const char* key, const char* expected) const {
    return Status::CorruptLog("{}.{} is not {}", where_, key, expected);
  }

 private:
  const Json& obj_;
  std::string where_;
};

std::string Where(std::string_view field = {}) {
  std::string w = fmt::format("commitInfo.{}", kLoaderCommitInfoKey);
  if (!field.empty()) w += fmt::format(".{}", field);
  return w;
}

Result<std::vector<SourceFile>> ParseSourceFiles(const Json& list) {
  if (!list.is_array()) return Status::CorruptLog("{} is not an array", Where("sourceFiles"));
  std::vector<SourceFile> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& f = list[i];
    std::string where = fmt::format("{}[{}]", Where("sourceFiles"), i);
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string()) {
      return Status::CorruptLog("{} has no path", where);
    }
    Reader r(f, where);
    SourceFile sf;
    sf.path = f["path"].get<std::string>();
    DL_ASSIGN_OR_RETURN(sf.size, r.Int("size"));
    DL_ASSIGN_OR_RETURN(sf.modification_time_ms, r.Int("modificationTime"));
    DL_ASSIGN_OR_RETURN(sf.etag, r.Str("etag"));
    out.push_back(std::move(sf));
  }
  return out;
}

Result<MergeStats> ParseMerge(const Json& j) {
  if (!j.is_object()) return Status::CorruptLog("{} is not an object", Where("merge"));
  Reader r(j, Where("merge"));
  MergeStats m;
  DL_ASSIGN_OR_RETURN(m.source_rows, r.Int("sourceRows"));
  DL_ASSIGN_OR_RETURN(m.collapsed_duplicates, r.Int("collapsedDuplicates"));
  DL_ASSIGN_OR_RETURN(m.inserted, r.Int("inserted"));
  DL_ASSIGN_OR_RETURN(m.updated, r.Int("updated"));
  DL_ASSIGN_OR_RETURN(m.deleted, r.Int("deleted"));
  DL_ASSIGN_OR_RETURN(m.unchanged, r.Int("unchanged"));
  DL_ASSIGN_OR_RETURN(m.candidate_files, r.Int("candidateFiles"));
  DL_ASSIGN_OR_RETURN(m.rewritten_files, r.Int("rewrittenFiles"));
  DL_ASSIGN_OR_RETURN(m.deletion_vector_files, r.Int("deletionVectorFiles"));
  return m;
}

Result<ReplaceWhereStats> ParseReplaceWhere(const Json& j) {
  if (!j.is_object()) return Status::CorruptLog("{} is not an object", Where("replaceWhere"));
  Reader r(j, Where("replaceWhere"));
  ReplaceWhereStats s;
  DL_ASSIGN_OR_RETURN(s.predicate, r.Str("predicate"));
  DL_ASSIGN_OR_RETURN(s.replaced_rows, r.Int("replacedRows"));
  DL_ASSIGN_OR_RETURN(s.removed_files, r.Int("removedFiles"));
  DL_ASSIGN_OR_RETURN(s.rewritten_files, r.Int("rewrittenFiles"));
  return s;
}

Result<CompanionRecord> ParseCompanion(const Json& j, const char* role) {
  CompanionRecord out;
  if (j.is_object() && j.contains("schemaString") && j["schemaString"].is_string()) {
    out.schema_string = j["schemaString"].get<std::string>();
  }
  if (!j.is_object() || !j.contains("adds") || !j["adds"].is_array() || out.schema_string.empty()) {
    return Status::CorruptLog("{} is malformed", Where(role));
  }
  for (const auto& a : j["adds"]) {
    DL_ASSIGN_OR_RETURN(auto action, ParseAction(a.dump()));
    auto* add = action ? std::get_if<AddFile>(&*action) : nullptr;
    if (!add) return Status::CorruptLog("{} holds a non-add", Where(role));
    out.adds.push_back(std::move(*add));
  }
  return out;
}

Json CompanionJson(const CompanionRecord& c) {
  Json adds = Json::array();
  for (const auto& a : c.adds) adds.push_back(Json::parse(SerializeAction(a)));
  return {{"schemaString", c.schema_string}, {"adds", std::move(adds)}};
}

// Our object inside a userMetadata string, or nullopt when the string is anything else.
std::optional<LoaderCommitInfo> FromUserMetadata(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto ours = j.find(kLoaderCommitInfoKey);
  if (ours == j.end() || !ours->is_object()) return std::nullopt;
  auto parsed = LoaderCommitInfo::FromJson(*ours);
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

}  // namespace

std::optional<CompanionRecord>* LoaderCommitInfo::companion(std::string_view role) {
  if (role == kChangeStore) return &change_store;
  if (role == kQuarantine) return &quarantine;
  return nullptr;
}

const std::optional<CompanionRecord>* LoaderCommitInfo::companion(std::string_view role) const {
  return const_cast<LoaderCommitInfo*>(this)->companion(role);
}

bool LoaderCommitInfo::empty() const {
  return source_files.empty() && !batch_id && !merge && !replace_where && !change_store &&
         !quarantine && !delta_source;
}

nlohmann::ordered_json LoaderCommitInfo::ToJson() const {
  Json j = Json::object();
  if (!source_files.empty()) {
    Json list = Json::array();
    for (const auto& f : source_files) {
      Json file = {
          {"path", f.path}, {"size", f.size}, {"modificationTime", f.modification_time_ms}};
      if (!f.etag.empty()) file["etag"] = f.etag;
      list.push_back(std::move(file));
    }
    j["sourceFiles"] = std::move(list);
  }
  if (batch_id) j["batchId"] = *batch_id;
  if (merge) {
    const MergeStats& m = *merge;
    j["merge"] = {{"sourceRows", m.source_rows},
                  {"collapsedDuplicates", m.collapsed_duplicates},
                  {"inserted", m.inserted},
                  {"updated", m.updated},
                  {"deleted", m.deleted},
                  {"unchanged", m.unchanged},
                  {"candidateFiles", m.candidate_files},
                  {"rewrittenFiles", m.rewritten_files},
                  {"deletionVectorFiles", m.deletion_vector_files}};
  }
  if (replace_where) {
    const ReplaceWhereStats& r = *replace_where;
    j["replaceWhere"] = {{"predicate", r.predicate},
                         {"replacedRows", r.replaced_rows},
                         {"removedFiles", r.removed_files},
                         {"rewrittenFiles", r.rewritten_files}};
  }
  if (change_store) j[kChangeStore] = CompanionJson(*change_store);
  if (quarantine) j[kQuarantine] = CompanionJson(*quarantine);
  if (delta_source) {
    j["deltaSource"] = {{"appId", delta_source->app_id}, {"version", delta_source->version}};
  }
  return j;
}

Result<LoaderCommitInfo> LoaderCommitInfo::FromJson(const nlohmann::ordered_json& json) {
  if (!json.is_object()) return Status::CorruptLog("{} is not an object", Where());
  Reader r(json, Where());
  LoaderCommitInfo info;
  if (const Json* files = r.Find("sourceFiles")) {
    DL_ASSIGN_OR_RETURN(info.source_files, ParseSourceFiles(*files));
  }
  if (const Json* id = r.Find("batchId")) {
    if (!id->is_string()) return r.Bad("batchId", "a string");
    info.batch_id = id->get<std::string>();
  }
  if (const Json* m = r.Find("merge")) {
    DL_ASSIGN_OR_RETURN(info.merge, ParseMerge(*m));
  }
  if (const Json* rw = r.Find("replaceWhere")) {
    DL_ASSIGN_OR_RETURN(info.replace_where, ParseReplaceWhere(*rw));
  }
  for (const char* role : {kChangeStore, kQuarantine}) {
    if (const Json* c = r.Find(role)) {
      DL_ASSIGN_OR_RETURN(*info.companion(role), ParseCompanion(*c, role));
    }
  }
  if (const Json* d = r.Find("deltaSource")) {
    if (!d->is_object()) return Status::CorruptLog("{} is not an object", Where("deltaSource"));
    Reader ds(*d, Where("deltaSource"));
    auto& out = info.delta_source.emplace();
    DL_ASSIGN_OR_RETURN(out.app_id, ds.Str("appId"));
    if (!ds.Find("version") || out.app_id.empty()) {
      return Status::CorruptLog("{} is malformed", Where("deltaSource"));
    }
    DL_ASSIGN_OR_RETURN(out.version, ds.Int("version"));
  }
  return info;
}

std::string LoaderCommitInfo::ToUserMetadata() const {
  Json j = Json::object();
  j[kLoaderCommitInfoKey] = ToJson();
  return j.dump();
}

Result<std::optional<LoaderCommitInfo>> LoaderCommitInfo::Of(const CommitInfo& commit_info) {
  const Json& ci = commit_info.json;
  if (auto ours = ci.find(kLoaderCommitInfoKey); ours != ci.end() && !ours->is_null()) {
    DL_ASSIGN_OR_RETURN(auto info, FromJson(*ours));
    return std::optional<LoaderCommitInfo>(std::move(info));
  }
  if (auto user = ci.find("userMetadata"); user != ci.end() && user->is_string()) {
    return FromUserMetadata(user->get<std::string>());
  }
  return std::optional<LoaderCommitInfo>();
}

Result<std::optional<LoaderCommitInfo>> LoaderCommitInfo::Of(const std::vector<Action>& actions) {
  for (const auto& a : actions) {
    if (const auto* ci = std::get_if<CommitInfo>(&a)) return Of(*ci);
  }
  return std::optional<LoaderCommitInfo>();
}

Result<std::optional<LoaderCommit>> LatestLoaderCommit(FileSystem& fs,
                                                       const std::string& table_root,
                                                       int64_t version, const LogSegment* known) {
  CommitRangeOptions options;
  options.known = known;
  options.commit_info_only = true;
  std::optional<LoaderCommit> found;
  auto ours = [&found](const Commit& c) -> Result<bool> {
    auto info = LoaderCommitInfo::Of(c.actions);
    if (!info.ok()) return info.status().WithContext(c.path);
    if (*info) found = LoaderCommit{c.version, std::move(**info)};
    return found.has_value();
  };
  DL_RETURN_IF_ERROR(ForEachCommitNewestFirst(fs, table_root, version, options, ours).status());
  return found;
}

}  // namespace dl::delta
