// The Unity Catalog REST client (OSS and Databricks: /api/2.1/unity-catalog/...): the calls
// registration needs, and RegisterTable on top of them.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "dl/catalog/uc_names.hpp"
#include "dl/common/http_client.hpp"
#include "dl/delta/schema.hpp"

namespace dl::catalog {

struct UcClientOptions {
  std::string url;    ///< unity_catalog_url: the server, with or without /api/2.1/unity-catalog
  std::string token;  ///< bearer token (from the environment); empty: none
  int64_t timeout_ms = 30000;
  http::RetryPolicy retry;  ///< transport errors and 5xx are retried
};

class UcClient {
 public:
  explicit UcClient(UcClientOptions options);

  /// GET the catalog; create it (POST /catalogs) when missing. A concurrent creation is fine.
  Status EnsureCatalog(const std::string& name);
  /// Same for the schema (POST /schemas {name, catalog_name}).
  Status EnsureSchema(const std::string& catalog, const std::string& schema);
  /// GET /tables/{full_name}: the TableInfo, or nullopt when the table does not exist.
  Result<std::optional<nlohmann::json>> GetTable(const std::string& full_name);
  /// POST /tables with a CreateTable body.
  Status CreateTable(const nlohmann::json& body);
  /// DELETE /tables/{full_name}. For an EXTERNAL table this drops only the catalog entry.
  Status DeleteTable(const std::string& full_name);

  const std::string& api_base() const { return base_; }

 private:
  Result<http::Response> Call(const std::string& method, const std::string& path,
                              const std::string& body = {});
  Status Expect(const Result<http::Response>& r, const std::string& what);

  UcClientOptions options_;
  std::string base_;  ///< ".../api/2.1/unity-catalog"
};

enum class RegisterAction { kCreated, kColumnsUpdated, kUnchanged };
std::string_view ToString(RegisterAction a);

/// Make `name` an EXTERNAL DELTA table at `storage_location` with the schema's columns:
/// creates the catalog and schema when missing, creates the table, or (after schema
/// evolution) replaces its entry so the columns match — the OSS server's update call changes
/// only comment and properties. A table registered elsewhere, or not EXTERNAL, is an error
/// and left alone.
Result<RegisterAction> RegisterTable(UcClient& client, const UcTableName& name,
                                     const std::string& storage_location,
                                     const delta::Schema& schema,
                                     const std::vector<std::string>& partition_columns);

}  // namespace dl::catalog
