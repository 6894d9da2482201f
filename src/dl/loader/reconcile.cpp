#include "dl/loader/reconcile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "dl/delta/commit_range.hpp"
#include "dl/delta/loader_commit_info.hpp"

namespace dl::loader {

bool SameVersion(const table::SourceFile& a, const table::SourceFile& b) {
  return a.path == b.path && a.size == b.size && a.modification_time_ms == b.modification_time_ms &&
         (a.etag.empty() || b.etag.empty() || a.etag == b.etag);
}

bool SameVersion(const table::SourceFile& a, const table::SourceFile& b,
                 const LocationIdentity& identity) {
  if (a.path == b.path) return SameVersion(a, b);
  // Spellings of one file differ only in scheme and authority: another name or size is
  // another file, known without building keys (this runs for every pair of a batch's files
  // and a concurrent commit's, 10^6 pairs for two batches of 1,000 files).
  auto name = [](const std::string& p) { return std::string_view(p).substr(p.rfind('/') + 1); };
  if (a.size != b.size || name(a.path) != name(b.path)) return false;
  table::SourceFile other = b;
  other.path = a.path;
  return identity.Same(a.path, b.path) && SameVersion(a, other);
}

table::SourceFile TrackedVersion(const std::string& path, const tracker::FileRecord& record) {
  return {path, record.file_size, record.file_modified_time_ms, record.file_etag};
}

Result<std::vector<table::SourceFile>> RecordedSourceFiles(
    const std::vector<delta::Action>& actions) {
  DL_ASSIGN_OR_RETURN(auto info, delta::LoaderCommitInfo::Of(actions));
  if (!info) return std::vector<table::SourceFile>();
  return std::move(info->source_files);
}

namespace {

// The version a RESTORE commit went back to (its operationParameters.version). A restore by
// timestamp that does not record the version is not followed: guessing could make
// --reload-missing load files the table still holds.
std::optional<int64_t> RestoredVersion(const std::vector<delta::Action>& actions) {
  for (const auto& a : actions) {
    const auto* ci = std::get_if<delta::CommitInfo>(&a);
    if (ci == nullptr || ci->operation() != "RESTORE") continue;
    auto params = ci->json.find("operationParameters");
    if (params == ci->json.end() || !params->is_object()) return std::nullopt;
    auto v = params->find("version");
    if (v == params->end()) return std::nullopt;
    if (v->is_number_integer()) return v->get<int64_t>();
    if (!v->is_string()) return std::nullopt;
    try {
      return std::stoll(v->get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

nlohmann::json FileJson(const table::SourceFile& f) {
  nlohmann::json j = {
      {"path", f.path}, {"size", f.size}, {"modificationTime", f.modification_time_ms}};
  if (!f.etag.empty()) j["etag"] = f.etag;
  return j;
}

}  // namespace

std::string ReconcileMarkPath(const std::string& tracker_path, const std::string& table_name) {
  // Table names are "db.table" (letters, digits, _ . -); anything else is escaped.
  std::string name;
  for (unsigned char c : table_name) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      name += static_cast<char>(c);
    } else {
      name += fmt::format("%{:02X}", c);
    }
  }
  return JoinPath(JoinPath(JoinPath(tracker_path, "_dl_"), "reconciled"), name + ".json");
}

std::optional<ReconcileMark> ReadReconcileMark(FileSystem& fs, const std::string& path) {
  auto text = fs.Read(path);
  if (!text.ok()) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("table_id") || !j.contains("version")) return std::nullopt;
  ReconcileMark mark;
  mark.tracker_id = j.value("tracker_id", "");
  mark.table_id = j.value("table_id", "");
  mark.version = j.value("version", int64_t{-1});
  for (const auto& f : j.value("missing", nlohmann::json::array())) {
    mark.missing.push_back({f.value("path", ""), f.value("size", int64_t{0}),
                            f.value("modificationTime", int64_t{0}), f.value("etag", "")});
  }
  return mark;
}

Status WriteReconcileMark(FileSystem& fs, const std::string& path, const ReconcileMark& mark) {
  nlohmann::json j = {
      {"tracker_id", mark.tracker_id}, {"table_id", mark.table_id}, {"version", mark.version}};
  j["missing"] = nlohmann::json::array();
  for (const auto& f : mark.missing) j["missing"].push_back(FileJson(f));
  DL_RETURN_IF_ERROR(fs.CreateDirs(path.substr(0, path.rfind('/'))));
  return fs.WriteAtomic(path, j.dump());
}

Result<CommitScan> ScanLoaderCommits(FileSystem& fs, const std::string& table_root,
                                     int64_t after_version) {
  CommitScan scan;
  // Only commitInfo matters here, and we and Spark write it first: adds are not parsed.
  delta::CommitRangeOptions options;
  options.commit_info_only = true;
  auto record = [&scan](delta::Commit&& c) -> Status {
    auto files = RecordedSourceFiles(c.actions);
    if (!files.ok()) return files.status().WithContext(c.path);
    for (auto& f : *files) scan.loads.push_back(RecordedLoad{std::move(f), c.version});
    if (auto restored = RestoredVersion(c.actions)) {
      scan.restores.emplace_back(c.version, *restored);
    }
    return Status::OK();
  };
  auto range = delta::ForEachCommit(fs, table_root, after_version, std::nullopt, options, record);
  if (!range.ok()) {
    if (range.status().code() == StatusCode::kNotFound) return scan;  // no table yet
    return range.status();
  }
  scan.latest_version = range->until;
  scan.gap = range->expired.has_value();
  return scan;
}

std::function<Status(int64_t, const std::vector<delta::Action>&)> RefuseFilesLoadedBy(
    std::vector<table::SourceFile> files, std::string table_name, LocationIdentity identity) {
  return [files = std::move(files), table_name = std::move(table_name),
          identity = std::move(identity)](int64_t version,
                                          const std::vector<delta::Action>& winning) -> Status {
    auto recorded = RecordedSourceFiles(winning);
    if (!recorded.ok()) {
      return recorded.status().WithContext(fmt::format("version {} of {}", version, table_name));
    }
    for (const auto& theirs : *recorded) {
      for (const auto& mine : files) {
        if (SameVersion(mine, theirs, identity)) {
          return Status::CommitConflict(
              "{} was loaded into {} by version {}, committed by another writer while this "
              "batch ran; the batch is planned again without it",
              mine.path, table_name, version);
        }
      }
    }
    return Status::OK();
  };
}

}  // namespace dl::loader
