#include "dl/delta/constraints.hpp"

#include <algorithm>
#include <cctype>
#include <functional>

namespace dl::delta {

std::vector<TableExpression> CheckConstraints(const StringMap& configuration) {
  std::vector<TableExpression> out;
  const std::string prefix(kConstraintPrefix);
  for (auto it = configuration.lower_bound(prefix);
       it != configuration.end() && it->first.starts_with(prefix); ++it) {
    out.push_back({it->first.substr(prefix.size()), it->second});
  }
  return out;
}

Result<std::vector<TableExpression>> ColumnInvariants(const Schema& schema) {
  std::vector<TableExpression> out;
  Status bad;
  std::function<void(const std::vector<StructField>&, const std::string&)> visit =
      [&](const std::vector<StructField>& fields, const std::string& prefix) {
        for (const auto& f : fields) {
          const std::string path = prefix + f.name;
          if (f.metadata.is_object() && f.metadata.contains(kInvariantsKey)) {
            const auto& raw = f.metadata[std::string(kInvariantsKey)];
            auto j = raw.is_string() ? nlohmann::json::parse(raw.get<std::string>(), nullptr, false)
                                     : raw;
            const auto* expr = j.is_object() && j.contains("expression") &&
                                       j["expression"].is_object() &&
                                       j["expression"].contains("expression") &&
                                       j["expression"]["expression"].is_string()
                                   ? &j["expression"]["expression"]
                                   : nullptr;
            if (!expr && bad.ok()) {
              bad = Status::CorruptLog(
                  "column {}: {} is not {{\"expression\": {{\"expression\": \"<sql>\"}}}}", path,
                  kInvariantsKey);
            }
            if (expr) out.push_back({path, expr->get<std::string>()});
          }
          if (f.type && f.type->kind == DataType::Kind::kStruct) visit(f.type->fields, path + ".");
        }
      };
  visit(schema.fields, "");
  if (!bad.ok()) return bad;
  return out;
}

std::vector<TableExpression> GeneratedColumns(const Schema& schema) {
  std::vector<TableExpression> out;
  const std::string key(kGenerationExpressionKey);
  for (const auto& f : schema.fields) {
    if (f.metadata.is_object() && f.metadata.contains(key) && f.metadata[key].is_string()) {
      out.push_back({f.name, f.metadata[key].get<std::string>()});
    }
  }
  return out;
}

Result<std::vector<IdentityColumn>> IdentityColumns(const Schema& schema) {
  std::vector<IdentityColumn> out;
  for (const auto& f : schema.fields) {
    const auto& m = f.metadata;
    if (!m.is_object() || (!m.contains(kIdentityStartKey) && !m.contains(kIdentityStepKey))) {
      continue;
    }
    auto integer = [&](std::string_view key) -> std::optional<int64_t> {
      auto it = m.find(std::string(key));
      if (it == m.end()) return std::nullopt;
      if (it->is_number_integer()) return it->get<int64_t>();
      if (it->is_string()) {  // some writers store numbers as text
        try {
          size_t used = 0;
          int64_t v = std::stoll(it->get<std::string>(), &used);
          if (used == it->get<std::string>().size()) return v;
        } catch (...) {
        }
      }
      return std::nullopt;
    };
    IdentityColumn c;
    c.name = f.name;
    auto start = integer(kIdentityStartKey);
    auto step = integer(kIdentityStepKey);
    if (!start || !step || *step == 0) {
      return Status::CorruptLog(
          "identity column {} needs integer {} and {} (a step other than 0)", f.name,
          kIdentityStartKey, kIdentityStepKey);
    }
    c.start = *start;
    c.step = *step;
    c.high_water_mark = integer(kIdentityHighWaterMarkKey);
    auto allow = m.find(std::string(kIdentityAllowExplicitInsertKey));
    c.allow_explicit_insert = allow != m.end() && allow->is_boolean() && allow->get<bool>();
    out.push_back(std::move(c));
  }
  return out;
}

Schema WithHighWaterMark(const Schema& schema, const std::string& column, int64_t value) {
  Schema out = schema;
  for (auto& f : out.fields) {
    if (f.name == column) f.metadata[std::string(kIdentityHighWaterMarkKey)] = value;
  }
  return out;
}

Result<std::string> ConstraintKey(std::string_view name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_';
      })) {
    return Status::InvalidArgument(
        "constraint name '{}' must be letters, digits and underscores", name);
  }
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::string(kConstraintPrefix) + lower;
}

}  // namespace dl::delta
