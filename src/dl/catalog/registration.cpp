#include "dl/catalog/registration.hpp"

#include <cstdlib>

#include "dl/catalog/uc_client.hpp"
#include "dl/common/logging.hpp"
#include "dl/delta/snapshot.hpp"

namespace dl::catalog {
namespace {

std::string Env(const std::string& name) {
  const char* v = name.empty() ? nullptr : std::getenv(name.c_str());
  return v ? v : "";
}

UcClientOptions ClientOptions(const config::LoaderConfig& cfg) {
  UcClientOptions o;
  o.url = *cfg.unity_catalog_url;
  o.token = UcToken(cfg);
  o.timeout_ms = int64_t{cfg.http_timeout_seconds} * 1000;
  o.retry.retries = cfg.notification_retries;
  o.retry.backoff_ms = cfg.notification_backoff_ms;
  return o;
}

TableRegistration RegisterOne(const config::LoaderConfig& cfg, const config::TableConfig& t,
                              UcClient& client, FileSystem& fs, delta::ParquetHandler* parquet) {
  TableRegistration out;
  out.table = config::DisplayName(cfg, t);
  auto name = ResolveUcName(cfg, t);
  if (!name.ok()) {
    out.detail = name.status().message();
    return out;
  }
  out.full_name = name->FullName();
  const std::string root = config::TablePath(cfg, t);
  auto snapshot = delta::Snapshot::LoadWithoutFiles(fs, parquet, root);
  if (!snapshot.ok()) {
    out.detail = snapshot.status().message();
    return out;
  }
  auto action = RegisterTable(client, *name, StorageLocation(root), (*snapshot)->schema(),
                              (*snapshot)->partition_columns());
  if (!action.ok()) {
    out.detail = action.status().message();
    return out;
  }
  out.ok = true;
  out.detail = std::string(ToString(*action));
  return out;
}

}  // namespace

bool RegistrationEnabled(const config::LoaderConfig& cfg) {
  return cfg.use_unity_catalog && cfg.unity_catalog_url && !cfg.unity_catalog_url->empty();
}

std::string UcToken(const config::LoaderConfig& cfg) {
  std::string token = Env(cfg.unity_catalog_token_env);
  if (token.empty() && cfg.unity_catalog_token_env == "UC_TOKEN") {
    token = Env(cfg.databricks_token_env);
  }
  return token;
}

std::vector<TableRegistration> RegisterTables(const config::LoaderConfig& cfg,
                                              const std::vector<const config::TableConfig*>& tables,
                                              FileSystem& fs, delta::ParquetHandler* parquet) {
  std::vector<TableRegistration> out;
  if (!RegistrationEnabled(cfg)) return out;
  UcClient client(ClientOptions(cfg));
  for (const config::TableConfig* t : tables) {
    auto exists = fs.Exists(delta::LogDir(config::TablePath(cfg, *t)));
    if (exists.ok() && !*exists) continue;  // nothing loaded yet: nothing to register
    TableRegistration r = RegisterOne(cfg, *t, client, fs, parquet);
    if (r.ok) {
      log::Info("Unity Catalog table registered",
                {{"table", r.table}, {"uc_table", r.full_name}, {"result", r.detail}});
    } else {
      log::Error("Unity Catalog registration failed",
                 {{"table", r.table}, {"uc_table", r.full_name}, {"error", r.detail}});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace dl::catalog
