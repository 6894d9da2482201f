// Unity Catalog names of the configured tables: catalog.schema.table, checked against Unity
// Catalog's naming rules, in the lower-case form Unity Catalog stores.
#pragma once

#include <string>
#include <string_view>

#include "dl/config/loader_config.hpp"

namespace dl::catalog {

inline constexpr size_t kMaxNameLength = 255;

struct UcTableName {
  std::string catalog, schema, table;  ///< lower-case
  std::string SchemaFullName() const { return catalog + "." + schema; }
  std::string FullName() const { return catalog + "." + schema + "." + table; }
};

/// Config error naming `what` ("catalog", "schema", "table") unless `name` follows Unity
/// Catalog's rules: 1 to 255 characters, none of '.', ' ', '/', ASCII control characters, DEL.
Status CheckUcIdentifier(std::string_view what, std::string_view name);

/// The table's three-level name: database_name `catalog.schema`, or `schema` with
/// default_catalog. Config error (naming the table and key) without a catalog or with a name
/// Unity Catalog rejects. Works whether use_unity_catalog came from the config or a flag.
Result<UcTableName> ResolveUcName(const config::LoaderConfig& cfg, const config::TableConfig& t);

/// Every table's Unity Catalog name (ResolveUcName) and no two tables on one name: a Config
/// error listing each problem. The config loader checks the same with line numbers; this is
/// for use_unity_catalog turned on after loading (`run-cluster --unity-catalog`).
Status ValidateUcNames(const config::LoaderConfig& cfg);

/// "file:///abs/path" for a local path; URLs (s3://, abfss://, file:/...) are kept.
std::string StorageLocation(const std::string& path);

}  // namespace dl::catalog
