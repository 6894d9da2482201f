#include "dl/loader/reconcile.hpp"

#include <algorithm>

#include "dl/delta/log_segment.hpp"

namespace dl::loader {

bool SameVersion(const table::SourceFile& a, const table::SourceFile& b) {
  return a.path == b.path && a.size == b.size &&
         a.modification_time_ms == b.modification_time_ms;
}

std::vector<table::SourceFile> RecordedSourceFiles(const std::vector<delta::Action>& actions) {
  std::vector<table::SourceFile> out;
  for (const auto& a : actions) {
    const auto* ci = std::get_if<delta::CommitInfo>(&a);
    if (ci == nullptr) continue;
    auto dl = ci->json.find("dataLoader");
    if (dl == ci->json.end() || !dl->is_object()) continue;
    auto files = dl->find("sourceFiles");
    if (files == dl->end() || !files->is_array()) continue;
    for (const auto& f : *files) {
      if (!f.is_object() || !f.contains("path") || !f["path"].is_string()) continue;
      table::SourceFile sf;
      sf.path = f["path"].get<std::string>();
      sf.size = f.value("size", int64_t{0});
      sf.modification_time_ms = f.value("modificationTime", int64_t{0});
      out.push_back(std::move(sf));
    }
  }
  return out;
}

Result<CommitScan> ScanLoaderCommits(FileSystem& fs, const std::string& table_root,
                                     int64_t after_version) {
  CommitScan scan;
  auto entries = fs.List(delta::LogDir(table_root));
  if (!entries.ok()) {
    if (entries.status().code() == StatusCode::kNotFound) return scan;
    return entries.status();
  }
  std::vector<delta::LogPath> commits;
  for (const auto& e : *entries) {
    auto lp = delta::LogPath::Parse(e.path.substr(e.path.rfind('/') + 1));
    if (!lp || lp->kind != delta::LogPath::Kind::kCommit) continue;
    scan.latest_version = std::max(scan.latest_version, lp->version);
    if (lp->version <= after_version) continue;
    lp->path = e.path;
    commits.push_back(*lp);
  }
  std::sort(commits.begin(), commits.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  int64_t expected = after_version + 1;
  for (const auto& c : commits) {
    if (c.version != expected) scan.gap = true;
    expected = c.version + 1;
    DL_ASSIGN_OR_RETURN(std::string content, fs.Read(c.path));
    // Only commitInfo matters here, and we write it first: skip parsing adds when possible.
    std::string_view first(content);
    first = first.substr(0, first.find('\n'));
    std::vector<delta::Action> actions;
    if (first.find("\"commitInfo\"") != std::string_view::npos) {
      DL_ASSIGN_OR_RETURN(actions, delta::ParseActions(first, c.path));
    } else {
      DL_ASSIGN_OR_RETURN(actions, delta::ParseActions(content, c.path));
    }
    for (auto& f : RecordedSourceFiles(actions)) {
      scan.loads.push_back(RecordedLoad{std::move(f), c.version});
    }
  }
  return scan;
}

std::function<Status(int64_t, const std::vector<delta::Action>&)> RefuseFilesLoadedBy(
    std::vector<table::SourceFile> files, std::string table_name) {
  return [files = std::move(files), table_name = std::move(table_name)](
             int64_t version, const std::vector<delta::Action>& winning) -> Status {
    for (const auto& theirs : RecordedSourceFiles(winning)) {
      for (const auto& mine : files) {
        if (SameVersion(mine, theirs)) {
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
