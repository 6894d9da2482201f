#include "dl/delta/in_commit_timestamp.hpp"

#include <algorithm>
#include <charconv>

namespace dl::delta {
namespace {

std::optional<int64_t> WholeNumber(const std::string& s) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

}  // namespace

bool InCommitTimestampsEnabled(const Protocol& protocol, const Metadata& metadata) {
  const auto& writer = protocol.writer_features;
  if (!writer || std::find(writer->begin(), writer->end(), "inCommitTimestamp") == writer->end()) {
    return false;
  }
  auto it = metadata.configuration.find(kEnableInCommitTimestamps);
  if (it == metadata.configuration.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

Result<IctEnablement> IctEnablementOf(const Metadata& metadata, const std::string& table) {
  const StringMap& config = metadata.configuration;
  auto version = config.find(kIctEnablementVersion);
  auto timestamp = config.find(kIctEnablementTimestamp);
  const bool has_version = version != config.end(), has_timestamp = timestamp != config.end();
  if (!has_version && !has_timestamp) return IctEnablement{};
  if (has_version != has_timestamp) {
    return Status::CorruptLog("table {} sets {} but not {}", table,
                              has_version ? kIctEnablementVersion : kIctEnablementTimestamp,
                              has_version ? kIctEnablementTimestamp : kIctEnablementVersion);
  }
  auto v = WholeNumber(version->second);
  auto t = WholeNumber(timestamp->second);
  if (!v || *v < 0 || !t) {
    return Status::CorruptLog("table {}: {}='{}' and {}='{}' must be whole numbers", table,
                              kIctEnablementVersion, version->second, kIctEnablementTimestamp,
                              timestamp->second);
  }
  return IctEnablement{*v, *t};
}

void SetIctEnablement(Metadata* metadata, int64_t version, int64_t ict) {
  metadata->configuration[kIctEnablementVersion] = std::to_string(version);
  metadata->configuration[kIctEnablementTimestamp] = std::to_string(ict);
}

Result<int64_t> RequireInCommitTimestamp(const std::optional<CommitInfo>& info,
                                         std::optional<int64_t> previous, int64_t version,
                                         const std::string& table) {
  std::optional<int64_t> ict = info ? info->in_commit_timestamp() : std::nullopt;
  if (!ict) {
    return Status::CorruptLog(
        "table {}: version {} has no commitInfo.inCommitTimestamp, but in-commit timestamps "
        "are enabled ({}=true)",
        table, version, kEnableInCommitTimestamps);
  }
  if (previous && *ict <= *previous) {
    return Status::CorruptLog(
        "table {}: the in-commit timestamp of version {} ({}) is not after that of version {} "
        "({}); in-commit timestamps must increase",
        table, version, *ict, version - 1, *previous);
  }
  return *ict;
}

}  // namespace dl::delta
