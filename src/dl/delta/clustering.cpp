// Clustered tables: the delta.clustering domain and the columns it names.
#include "dl/delta/clustering.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "dl/delta/column_mapping.hpp"

namespace dl::delta {

bool IsClustered(const Protocol& protocol) {
  if (!protocol.writer_features) return false;
  const auto& f = *protocol.writer_features;
  return std::find(f.begin(), f.end(), "clustering") != f.end();
}

Result<std::vector<std::string>> ClusteringColumns(
    const std::map<std::string, DomainMetadata>& domains, const Schema& schema,
    const std::string& table) {
  std::vector<std::string> out;
  auto it = domains.find(kClusteringDomain);
  if (it == domains.end() || it->second.removed) return out;
  auto bad = [&](std::string_view why) {
    return Status::CorruptLog("table {}: the {} domain's configuration {} {}", table,
                              kClusteringDomain, it->second.configuration, why);
  };
  auto j = nlohmann::json::parse(it->second.configuration, nullptr, false);
  if (!j.is_object() || !j.contains("clusteringColumns") || !j["clusteringColumns"].is_array()) {
    return bad("has no clusteringColumns list");
  }
  for (const auto& path : j["clusteringColumns"]) {
    if (!path.is_array() || path.empty() ||
        !std::all_of(path.begin(), path.end(), [](const auto& p) { return p.is_string(); })) {
      return bad("has a clustering column that is not a list of names");
    }
    if (path.size() > 1) {
      return Status::Unsupported(
          "table {} is clustered by the nested column {}, which data_loader cannot cluster "
          "by yet",
          table, path.dump());
    }
    const std::string physical = path[0].get<std::string>();
    auto f = std::find_if(schema.fields.begin(), schema.fields.end(),
                          [&](const StructField& c) { return PhysicalName(c) == physical; });
    if (f == schema.fields.end()) return bad("names " + physical + ", not a column of the table");
    out.push_back(f->name);
  }
  return out;
}

DomainMetadata ClusteringDomain(const std::vector<std::string>& columns, const Schema& schema) {
  nlohmann::ordered_json paths = nlohmann::ordered_json::array();
  for (const auto& c : columns) paths.push_back({PhysicalColumnName(schema, c)});
  nlohmann::ordered_json config = {{"clusteringColumns", paths},
                                   {"domainName", kClusteringDomain}};
  return DomainMetadata{kClusteringDomain, config.dump(), false};
}

Status CheckClusteringColumns(const std::vector<std::string>& columns, const Schema& schema,
                              const std::vector<std::string>& partition_columns,
                              const std::string& key, const std::string& table) {
  if (columns.empty()) return Status::OK();
  if (!partition_columns.empty()) {
    return Status::Config(
        "{}: table {} is partitioned; a table is either clustered or partitioned, not both",
        key, table);
  }
  std::set<std::string> seen;
  for (const auto& c : columns) {
    const StructField* f = schema.Find(c);
    if (f == nullptr) {
      return Status::Config("{}: '{}' is not a (top-level) column of table {}", key, c,
                                     table);
    }
    if (!seen.insert(c).second) {
      return Status::Config("{}: '{}' is listed twice", key, c);
    }
    const DataType& t = *f->type;
    bool has_bounds = (t.kind == DataType::Kind::kPrimitive && !t.is_primitive("boolean") &&
                       !t.is_primitive("binary") && !t.is_primitive("variant")) ||
                      t.kind == DataType::Kind::kDecimal;
    if (!has_bounds) {
      return Status::Config(
          "{}: column '{}' of table {} has type {}, which has no min/max statistics to cluster "
          "by",
          key, c, table, t.ToString());
    }
  }
  return Status::OK();
}

}  // namespace dl::delta
