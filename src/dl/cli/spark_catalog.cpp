#include "dl/cli/spark_catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "dl/catalog/uc_names.hpp"
#include "dl/cli/engine_choice.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/log_segment.hpp"
#include "dl/engine/spark/spark_load.hpp"
#include "dl/engine/spark/spark_plan.hpp"

namespace dl::cli {
namespace {

using engine::spark::SparkIdent;
using engine::spark::SparkLiteral;
using engine::spark::SparkSession;

std::string Quoted(const catalog::UcTableName& n) {
  return SparkIdent(n.catalog) + "." + SparkIdent(n.schema) + "." + SparkIdent(n.table);
}

bool NotFound(const Status& st) {
  const std::string& error_class = st.detail().error_class;
  return error_class == "TABLE_OR_VIEW_NOT_FOUND" || error_class == "SCHEMA_NOT_FOUND";
}

struct CatalogEntry {
  std::string format, location;
};

// The catalog's entry for the name (DESCRIBE TABLE EXTENDED: all text, unlike DESCRIBE
// DETAIL's lists); nullopt when the catalog does not know it.
Result<std::optional<CatalogEntry>> Lookup(SparkSession& session, const catalog::UcTableName& n) {
  auto described = session.Sql("DESCRIBE TABLE EXTENDED " + Quoted(n));
  if (!described.ok()) {
    if (NotFound(described.status())) return std::optional<CatalogEntry>();
    return described.status().WithContext(
        fmt::format("looking up {} in the Spark catalog", n.FullName()));
  }
  CatalogEntry entry;
  for (const auto& row : described->rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    if (*row[0] == "Provider") entry.format = *row[1];
    if (*row[0] == "Location") entry.location = *row[1];
  }
  return std::optional<CatalogEntry>(std::move(entry));
}

bool OnSpark(const config::TableConfig& t) { return t.engine == config::EngineKind::kSpark; }

}  // namespace

Status ResolveSparkCatalogLocations(config::LoaderConfig& cfg, SparkSession& session) {
  for (auto& t : cfg.tables) {
    if (!OnSpark(t)) continue;
    DL_ASSIGN_OR_RETURN(auto name, catalog::ResolveUcName(cfg, t));
    DL_ASSIGN_OR_RETURN(auto entry, Lookup(session, name));
    if (!entry) continue;  // ours to create at TablePath, registered after the first commit
    if (entry->format != "delta") {
      return Status::InvalidArgument(
          "{} is a {} table in the Spark catalog; the loader writes only Delta tables",
          name.FullName(), entry->format.empty() ? "non-Delta" : entry->format);
    }
    if (entry->location.empty()) {
      return Status::InvalidArgument("the Spark catalog names no location for {}",
                                     name.FullName());
    }
    t.location = engine::spark::PathOfSparkUri(entry->location);
    log::Info("table located through the Spark catalog",
              {{"table", name.FullName()}, {"location", t.location}});
  }
  return Status::OK();
}

std::vector<catalog::TableRegistration> RegisterInSparkCatalog(
    const config::LoaderConfig& cfg, const std::vector<const config::TableConfig*>& tables,
    FileSystem& fs, SparkSession& session) {
  std::vector<catalog::TableRegistration> out;
  for (const config::TableConfig* t : tables) {
    if (!OnSpark(*t) || !t->location.empty()) continue;  // known to the catalog already
    const std::string root = config::TablePath(cfg, *t);
    auto exists = fs.Exists(delta::LogDir(root));
    if (exists.ok() && !*exists) continue;  // nothing loaded yet: nothing to register
    catalog::TableRegistration r;
    r.table = config::DisplayName(cfg, *t);
    auto name = catalog::ResolveUcName(cfg, *t);
    Status st = name.ok() ? engine::spark::PinStringLiterals(session) : name.status();
    if (st.ok()) {
      r.full_name = name->FullName();
      st = session
               .Sql(fmt::format("CREATE SCHEMA IF NOT EXISTS {}.{}", SparkIdent(name->catalog),
                                SparkIdent(name->schema)))
               .status();
    }
    if (st.ok()) {
      st = session
               .Sql(fmt::format("CREATE TABLE IF NOT EXISTS {} USING delta LOCATION {}",
                                Quoted(*name), SparkLiteral(catalog::StorageLocation(root))))
               .status();
    }
    if (st.ok()) {  // IF NOT EXISTS also passes when another table holds the name
      auto entry = Lookup(session, *name);
      st = entry.status();
      if (st.ok() && (!*entry || engine::spark::PathOfSparkUri((*entry)->location) != root)) {
        st = Status::InvalidArgument("{} in the Spark catalog is another table ({}), not {}",
                                   name->FullName(), *entry ? (*entry)->location : "gone", root);
      }
    }
    r.ok = st.ok();
    r.detail = st.ok() ? "registered" : st.message();
    if (r.ok) {
      log::Info("table registered in the Spark catalog",
                {{"table", r.table}, {"uc_table", r.full_name}, {"location", root}});
    } else {
      log::Error("Spark catalog registration failed",
                 {{"table", r.table}, {"uc_table", r.full_name}, {"error", r.detail}});
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status ResolveSparkCatalogLocations(config::LoaderConfig& cfg) {
  if (!cfg.use_unity_catalog || !UsesSpark(cfg)) return Status::OK();
  DL_ASSIGN_OR_RETURN(auto remote, SparkRemoteOf(cfg));
  DL_ASSIGN_OR_RETURN(auto session, SparkSession::Connect(remote));
  return ResolveSparkCatalogLocations(cfg, *session);
}

}  // namespace dl::cli
