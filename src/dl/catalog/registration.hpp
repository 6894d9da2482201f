// Registering the configured tables in Unity Catalog after a run (cluster mode).
#pragma once

#include <string>
#include <vector>

#include "dl/config/loader_config.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::catalog {

struct TableRegistration {
  std::string table;      ///< the config's name (DisplayName)
  std::string full_name;  ///< catalog.schema.table in Unity Catalog
  bool ok = false;
  std::string detail;  ///< "created", "columns updated", "unchanged", or the error
};

/// True when a run should register tables: use_unity_catalog and unity_catalog_url are set.
bool RegistrationEnabled(const config::LoaderConfig& cfg);

/// The Unity Catalog token: $<unity_catalog_token_env>; with the default name (UC_TOKEN) unset,
/// $<databricks_token_env>. Empty when neither is set.
std::string UcToken(const config::LoaderConfig& cfg);

/// Register each table that exists at its storage path (tables not created yet are skipped)
/// as an EXTERNAL DELTA table with its current columns. One table's error never stops the
/// others. `parquet` reads checkpoints (an engine); may be null for checkpoint-less tables.
std::vector<TableRegistration> RegisterTables(const config::LoaderConfig& cfg,
                                              const std::vector<const config::TableConfig*>& tables,
                                              FileSystem& fs, delta::ParquetHandler* parquet);

}  // namespace dl::catalog
