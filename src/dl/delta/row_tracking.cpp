// Row tracking: fresh row ids and row commit versions for the files a commit adds.
#include "dl/delta/row_tracking.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "dl/common/clock.hpp"
#include "dl/delta/stats.hpp"

namespace dl::delta {
namespace {

bool HasWriterFeature(const Protocol& protocol, std::string_view feature) {
  if (!protocol.writer_features) return false;
  const auto& f = *protocol.writer_features;
  return std::find(f.begin(), f.end(), feature) != f.end();
}

bool IsTrue(const StringMap& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

Result<int64_t> ParseHighWaterMark(const DomainMetadata& d, const std::string& table) {
  auto bad = [&] {
    return Status::CorruptLog(
        "table {}: the {} domain's configuration {} has no integer rowIdHighWaterMark", table,
        kRowTrackingDomain, d.configuration);
  };
  auto j = nlohmann::json::parse(d.configuration, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad();
  auto it = j.find("rowIdHighWaterMark");
  if (it == j.end() || !it->is_number_integer()) return bad();
  return it->get<int64_t>();
}

}  // namespace

bool EnablesRowTracking(const StringMap& configuration) {
  return IsTrue(configuration, kEnableRowTrackingKey);
}

bool AssignsRowIds(const Protocol& protocol, const Metadata& metadata) {
  return HasWriterFeature(protocol, "rowTracking") &&
         !IsTrue(metadata.configuration, "delta.rowTrackingSuspended");
}

bool RowTrackingEnabled(const Protocol& protocol, const Metadata& metadata) {
  return AssignsRowIds(protocol, metadata) && EnablesRowTracking(metadata.configuration);
}

Result<int64_t> RowIdHighWaterMark(const std::map<std::string, DomainMetadata>& domains,
                                   const std::string& table) {
  auto it = domains.find(kRowTrackingDomain);
  if (it == domains.end() || it->second.removed) return -1;
  return ParseHighWaterMark(it->second, table);
}

Result<int64_t> RowIdHighWaterMark(const std::vector<Action>& actions, const std::string& table) {
  int64_t hwm = -1;
  for (const auto& a : actions) {
    const auto* d = std::get_if<DomainMetadata>(&a);
    if (d == nullptr || d->domain != kRowTrackingDomain || d->removed) continue;
    DL_ASSIGN_OR_RETURN(int64_t v, ParseHighWaterMark(*d, table));
    hwm = std::max(hwm, v);
  }
  return hwm;
}

Status AssignRowIds(std::vector<Action>* actions, int64_t high_water_mark, int64_t version,
                    const std::string& table) {
  int64_t next = high_water_mark + 1;
  for (auto& a : *actions) {
    auto* add = std::get_if<AddFile>(&a);
    if (add == nullptr || add->base_row_id) continue;
    auto records = ParseStats(add->stats).num_records;
    if (!records || *records < 0) {
      return Status::InvalidArgument(
          "commit to {}: add {} has no numRecords in its stats, which row tracking needs to "
          "assign its row ids",
          table, add->path);
    }
    add->base_row_id = next;
    add->default_row_commit_version = version;
    next += *records;
  }
  actions->erase(std::remove_if(actions->begin(), actions->end(),
                                [](const Action& a) {
                                  const auto* d = std::get_if<DomainMetadata>(&a);
                                  return d != nullptr && d->domain == kRowTrackingDomain;
                                }),
                 actions->end());
  if (next - 1 > high_water_mark) {
    nlohmann::json config = {{"rowIdHighWaterMark", next - 1}};
    actions->push_back(DomainMetadata{kRowTrackingDomain, config.dump(), false});
  }
  return Status::OK();
}

void AddRowTrackingColumnNames(StringMap* configuration) {
  configuration->try_emplace(kRowIdColumnKey, "_row-id-col-" + NewUuid());
  configuration->try_emplace(kRowCommitVersionColumnKey, "_row-commit-version-col-" + NewUuid());
}

}  // namespace dl::delta
