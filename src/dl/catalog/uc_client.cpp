#include "dl/catalog/uc_client.hpp"

#include "dl/catalog/uc_columns.hpp"
#include "dl/common/logging.hpp"

namespace dl::catalog {
namespace {

constexpr std::string_view kApiPath = "/api/2.1/unity-catalog";

std::string ApiBase(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() >= kApiPath.size() &&
      url.compare(url.size() - kApiPath.size(), kApiPath.size(), kApiPath) == 0) {
    return url;
  }
  return url + std::string(kApiPath);
}

// The server's own words: {"error_code": "...", "message": "..."} or the raw body.
std::string ServerMessage(const http::Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    std::string code = j.value("error_code", "");
    return log::RedactSecrets((code.empty() ? "" : code + ": ") + j["message"].get<std::string>());
  }
  return http::BodyExcerpt(r.body);
}

}  // namespace

UcClient::UcClient(UcClientOptions options)
    : options_(std::move(options)), base_(ApiBase(options_.url)) {}

Result<http::Response> UcClient::Call(const std::string& method, const std::string& path,
                                      const std::string& body) {
  http::Request req;
  req.method = method;
  req.url = base_ + path;
  req.body = body;
  req.bearer_token = options_.token;
  req.timeout_ms = options_.timeout_ms;
  // GET and DELETE are safe to repeat; a POST retried after a lost answer may find the entry
  // made, which the callers treat as success (409 / ALREADY_EXISTS).
  return http::SendWithRetries(req, options_.retry).last;
}

Status UcClient::Expect(const Result<http::Response>& r, const std::string& what) {
  if (!r.ok()) return Status::Io("Unity Catalog: {}: {}", what, r.status().message());
  if (r->ok()) return Status::OK();
  return Status::Io("Unity Catalog: {}: HTTP {}: {}", what, r->status, ServerMessage(*r));
}

Status UcClient::EnsureCatalog(const std::string& name) {
  auto got = Call("GET", "/catalogs/" + http::UrlEncode(name));
  if (got.ok() && got->ok()) return Status::OK();
  if (!got.ok() || got->status != 404) return Expect(got, "get catalog " + name);
  nlohmann::json body = {{"name", name}, {"comment", "created by data_loader"}};
  auto made = Call("POST", "/catalogs", body.dump());
  if (made.ok() && made->status == 409) return Status::OK();  // created meanwhile
  DL_RETURN_IF_ERROR(Expect(made, "create catalog " + name));
  log::Info("created Unity Catalog catalog", {{"catalog", name}});
  return Status::OK();
}

Status UcClient::EnsureSchema(const std::string& catalog, const std::string& schema) {
  const std::string full = catalog + "." + schema;
  auto got = Call("GET", "/schemas/" + http::UrlEncode(full));
  if (got.ok() && got->ok()) return Status::OK();
  if (!got.ok() || got->status != 404) return Expect(got, "get schema " + full);
  nlohmann::json body = {
      {"name", schema}, {"catalog_name", catalog}, {"comment", "created by data_loader"}};
  auto made = Call("POST", "/schemas", body.dump());
  if (made.ok() && made->status == 409) return Status::OK();
  DL_RETURN_IF_ERROR(Expect(made, "create schema " + full));
  log::Info("created Unity Catalog schema", {{"schema", full}});
  return Status::OK();
}

Result<std::optional<nlohmann::json>> UcClient::GetTable(const std::string& full_name) {
  auto got = Call("GET", "/tables/" + http::UrlEncode(full_name));
  if (got.ok() && got->status == 404) return std::optional<nlohmann::json>();
  DL_RETURN_IF_ERROR(Expect(got, "get table " + full_name));
  auto j = nlohmann::json::parse(got->body, nullptr, false);
  if (!j.is_object()) {
    return Status::Io("Unity Catalog: get table {}: the answer is not a JSON object: {}",
                      full_name, http::BodyExcerpt(got->body));
  }
  return std::optional<nlohmann::json>(std::move(j));
}

Status UcClient::CreateTable(const nlohmann::json& body) {
  std::string full = body.value("catalog_name", "") + "." + body.value("schema_name", "") + "." +
                     body.value("name", "");
  auto made = Call("POST", "/tables", body.dump());
  if (made.ok() && made->status == 409) {
    return Status::AlreadyExists("Unity Catalog: create table {}: {}", full, ServerMessage(*made));
  }
  return Expect(made, "create table " + full);
}

Status UcClient::DeleteTable(const std::string& full_name) {
  return Expect(Call("DELETE", "/tables/" + http::UrlEncode(full_name)),
                "delete table " + full_name);
}

std::string_view ToString(RegisterAction a) {
  switch (a) {
    case RegisterAction::kCreated:
      return "created";
    case RegisterAction::kColumnsUpdated:
      return "columns updated";
    case RegisterAction::kUnchanged:
      return "unchanged";
  }
  return "?";
}

namespace {

// Storage locations compare without a trailing '/' (servers may add one).
bool SameLocation(std::string a, std::string b) {
  while (!a.empty() && a.back() == '/') a.pop_back();
  while (!b.empty() && b.back() == '/') b.pop_back();
  return a == b;
}

}  // namespace

namespace {

// What an existing entry means for us: ours and current (unchanged), ours with other columns
// (nullopt: replace it), or somebody else's (an error).
Result<std::optional<RegisterAction>> Compare(const nlohmann::json& existing,
                                              const UcTableName& name,
                                              const std::string& storage_location,
                                              const nlohmann::json& columns) {
  std::string type = existing.value("table_type", "");
  std::string location = existing.value("storage_location", "");
  if (type != "EXTERNAL" || !SameLocation(location, storage_location)) {
    return Status::AlreadyExists(
        "Unity Catalog already has {} as a {} table at '{}', not as our EXTERNAL table at "
        "'{}': left alone (drop it or pick another name)",
        name.FullName(), type.empty() ? "?" : type, location, storage_location);
  }
  if (SameColumns(existing.value("columns", nlohmann::json::array()), columns)) {
    return std::optional<RegisterAction>(RegisterAction::kUnchanged);
  }
  return std::optional<RegisterAction>();
}

}  // namespace

Result<RegisterAction> RegisterTable(UcClient& client, const UcTableName& name,
                                     const std::string& storage_location,
                                     const delta::Schema& schema,
                                     const std::vector<std::string>& partition_columns) {
  DL_RETURN_IF_ERROR(client.EnsureCatalog(name.catalog));
  DL_RETURN_IF_ERROR(client.EnsureSchema(name.catalog, name.schema));
  nlohmann::json columns = ColumnsJson(schema, partition_columns);
  DL_ASSIGN_OR_RETURN(auto existing, client.GetTable(name.FullName()));
  RegisterAction action = RegisterAction::kCreated;
  if (existing) {
    DL_ASSIGN_OR_RETURN(auto same, Compare(*existing, name, storage_location, columns));
    if (same) return *same;
    // The OSS update call cannot change columns: replace the entry (external: data stays).
    DL_RETURN_IF_ERROR(client.DeleteTable(name.FullName()));
    action = RegisterAction::kColumnsUpdated;
  }
  nlohmann::json body = {{"name", name.table},
                         {"catalog_name", name.catalog},
                         {"schema_name", name.schema},
                         {"table_type", "EXTERNAL"},
                         {"data_source_format", "DELTA"},
                         {"columns", columns},
                         {"storage_location", storage_location},
                         {"comment", "loaded by data_loader"}};
  Status made = client.CreateTable(body);
  if (made.code() == StatusCode::kAlreadyExists) {
    // Another loader registered it between our GET and POST: fine if it is the same table.
    DL_ASSIGN_OR_RETURN(auto now, client.GetTable(name.FullName()));
    if (!now) return made;
    DL_ASSIGN_OR_RETURN(auto same, Compare(*now, name, storage_location, columns));
    if (same) return *same;
    return Status::AlreadyExists("{}, with other columns (another loader registered it meanwhile; "
                                 "the next run updates it)",
                                 made.message());
  }
  DL_RETURN_IF_ERROR(made);
  return action;
}

}  // namespace dl::catalog
