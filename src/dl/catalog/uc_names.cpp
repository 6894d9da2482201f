#include "dl/catalog/uc_names.hpp"

#include <cctype>
#include <map>

namespace dl::catalog {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Status CheckUcIdentifier(std::string_view what, std::string_view name) {
  if (name.empty()) return Status::Config("the {} name is empty", what);
  if (name.size() > kMaxNameLength) {
    return Status::Config("the {} name '{}...' has {} characters; Unity Catalog allows at most {}",
                          what, name.substr(0, 20), name.size(), kMaxNameLength);
  }
  for (unsigned char c : name) {
    if (c == '.' || c == ' ' || c == '/' || c < 0x20 || c == 0x7f) {
      std::string shown = c == ' ' ? "a space" : c < 0x20 || c == 0x7f ? "a control character"
                                                                       : fmt::format("'{}'", static_cast<char>(c));
      return Status::Config("the {} name '{}' contains {}, which Unity Catalog does not allow "
                            "('.', ' ', '/', control characters)",
                            what, name, shown);
    }
  }
  return Status::OK();
}

Result<UcTableName> ResolveUcName(const config::LoaderConfig& cfg, const config::TableConfig& t) {
  UcTableName n;
  const std::string& db = t.database_name;
  size_t dot = db.find('.');
  if (dot != std::string::npos) {
    n.catalog = db.substr(0, dot);
    n.schema = db.substr(dot + 1);
  } else if (cfg.default_catalog) {
    n.catalog = *cfg.default_catalog;
    n.schema = db;
  } else {
    return Status::Config(
        "table {}: database_name '{}' has no catalog; with Unity Catalog write catalog.schema "
        "or set default_catalog",
        t.QualifiedName(), db);
  }
  n.table = t.table_name;
  for (auto [what, name] : {std::pair<const char*, std::string*>{"catalog", &n.catalog},
                            {"schema", &n.schema},
                            {"table", &n.table}}) {
    Status st = CheckUcIdentifier(what, *name);
    if (!st.ok()) {
      return Status::Config("table {} ({}): {}", t.QualifiedName(),
                            std::string_view(what) == "table" ? "table_name" : "database_name",
                            st.message());
    }
    *name = Lower(*name);
  }
  return n;
}

Status ValidateUcNames(const config::LoaderConfig& cfg) {
  std::string problems;
  std::map<std::string, std::string> seen;  // full name -> the config's name
  for (const auto& t : cfg.tables) {
    auto n = ResolveUcName(cfg, t);
    if (!n.ok()) {
      problems += (problems.empty() ? "" : "\n") + n.status().message();
      continue;
    }
    auto [it, fresh] = seen.emplace(n->FullName(), t.QualifiedName());
    if (!fresh) {
      problems += fmt::format("{}tables {} and {} are both {} in Unity Catalog (names are "
                              "case-insensitive)",
                              problems.empty() ? "" : "\n", it->second, t.QualifiedName(),
                              n->FullName());
    }
  }
  if (problems.empty()) return Status::OK();
  return Status::Config("{}", problems);
}

std::string StorageLocation(const std::string& path) {
  if (path.find(':') != std::string::npos && path.find(":/") != std::string::npos) return path;
  if (!path.empty() && path[0] == '/') return "file://" + path;
  return path;
}

}  // namespace dl::catalog
