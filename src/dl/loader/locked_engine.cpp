#include "dl/loader/locked_engine.hpp"

#include <fmt/format.h>

#include "dl/engine/expression_check.hpp"
#include "dl/storage/paths.hpp"

namespace dl::loader {
namespace {

// The directory a pattern's files lie below: the part before its first wildcard, cut back to
// a '/'. A pattern without wildcards may be a directory (a Delta source) or a single file.
void AddSource(const std::string& pattern, engine::EngineOptions& out) {
  size_t wild = pattern.find_first_of("*?[{");
  if (wild == std::string::npos) {
    out.allowed_directories->push_back(pattern);
    out.allowed_files.push_back(pattern);
    return;
  }
  size_t slash = pattern.rfind('/', wild);
  out.allowed_directories->push_back(slash == std::string::npos ? "."
                                                                : pattern.substr(0, slash + 1));
}

}  // namespace

engine::EngineOptions LockedEngineOptions(const config::LoaderConfig& cfg,
                                          const std::vector<std::string>& extra) {
  engine::EngineOptions options;
  // Object-store locations among these become the engine's allowed URI prefixes, each with a
  // secret from the config's storage options (see MakeDuckDbEngine).
  options.storage = cfg.storage;
  options.allowed_directories.emplace();
  for (const std::string& dir : {cfg.processed_data_path, cfg.checkpoint_path}) {
    if (!dir.empty()) options.allowed_directories->push_back(dir);
  }
  for (const auto& t : cfg.tables) AddSource(t.source_path_pattern, options);
  // A table's own storage options are scoped to its locations (below the ones above): each
  // object-store scope gets its own engine secret, which wins over its parent's.
  for (const auto& scope : cfg.storage.scopes) {
    if (IsUri(scope.prefix)) options.object_store_locations.push_back(scope.prefix);
  }
  for (const auto& e : extra) options.allowed_directories->push_back(e);
  // Files are named by their canonical path (symlinks resolved, see storage/paths.hpp), and
  // the engine compares paths as written: allow the resolved spelling of each location too.
  auto& dirs = *options.allowed_directories;
  for (size_t i = 0, n = dirs.size(); i < n; ++i) {
    std::string resolved = CanonicalPath(dirs[i]);
    if (!resolved.empty() && resolved.back() != '/') resolved += '/';
    if (resolved != dirs[i]) dirs.push_back(std::move(resolved));
  }
  for (size_t i = 0, n = options.allowed_files.size(); i < n; ++i) {
    std::string resolved = CanonicalPath(options.allowed_files[i]);
    if (resolved != options.allowed_files[i]) options.allowed_files.push_back(std::move(resolved));
  }
  return options;
}

Result<std::unique_ptr<engine::Engine>> MakeLockedEngine(const config::LoaderConfig& cfg) {
  return engine::MakeDuckDbEngine(LockedEngineOptions(cfg));
}

Status CheckSqlFragments(const config::LoaderConfig& cfg,
                         std::vector<config::ConfigProblem>* problems) {
  bool any = false;
  for (const auto& t : cfg.tables) {
    any = any || t.merge_condition || t.delete_condition || t.replace_where;
  }
  if (!any) return Status::OK();
  engine::EngineOptions none;
  none.allowed_directories.emplace();  // parsing needs no file
  none.threads = 1;
  DL_ASSIGN_OR_RETURN(auto engine, engine::MakeDuckDbEngine(none));
  using engine::Qualifiers;
  for (size_t i = 0; i < cfg.tables.size(); ++i) {
    const config::TableConfig& t = cfg.tables[i];
    const std::pair<const char*, const std::optional<std::string>*> keys[] = {
        {"merge_condition", &t.merge_condition},
        {"delete_condition", &t.delete_condition},
        {"replace_where", &t.replace_where}};
    for (const auto& [key, value] : keys) {
      if (!*value) continue;
      Qualifiers q = std::string_view(key) == "merge_condition"    ? Qualifiers::kSourceOrTarget
                     : std::string_view(key) == "delete_condition" ? Qualifiers::kNotTarget
                                                                   : Qualifiers::kAny;
      auto checked = engine::CheckExpression(*engine, **value, key, q);
      if (!checked.ok()) {
        if (problems) {
          problems->push_back(
              {t.line, fmt::format("tables[{}].{}", i, key), checked.status().message()});
        }
        std::string where =
            t.line > 0 ? fmt::format("{}:{}", cfg.source_name, t.line) : cfg.source_name;
        return Status::Config("{}: tables[{}] ({}).{}", where, i, config::DisplayName(cfg, t),
                              checked.status().message());
      }
    }
  }
  return Status::OK();
}

}  // namespace dl::loader
