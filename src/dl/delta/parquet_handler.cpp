#include "dl/delta/parquet_handler.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace dl::delta {

void AddCheckpointAction(Action&& action, CheckpointActions* out) {
  if (auto* add = std::get_if<AddFile>(&action)) {
    out->adds.push_back(std::move(*add));
  } else if (auto* remove = std::get_if<RemoveFile>(&action)) {
    out->removes.push_back(std::move(*remove));
  } else if (!std::holds_alternative<CommitInfo>(action) &&
             !std::holds_alternative<AddCdcFile>(action)) {
    out->others.push_back(std::move(action));
  }
}

Result<bool> ParseCheckpointOnlyAction(std::string_view line, CheckpointActions* out) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.size() != 1) return false;
  const std::string name = j.begin().key();
  const nlohmann::json& body = j.begin().value();
  auto number = [&](const char* key) -> std::optional<int64_t> {
    auto it = body.find(key);
    if (it == body.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  if (name == "checkpointMetadata") {
    auto version = body.is_object() ? number("version") : std::nullopt;
    if (!version) return Status::CorruptLog("checkpointMetadata has no integer version");
    out->checkpoint_metadata_version = *version;
    return true;
  }
  if (name != "sidecar") return false;
  auto path = body.is_object() ? body.find("path") : body.end();
  auto size = body.is_object() ? number("sizeInBytes") : std::nullopt;
  auto mtime = body.is_object() ? number("modificationTime") : std::nullopt;
  if (path == body.end() || !path->is_string() || path->get<std::string>().empty() || !size ||
      !mtime) {
    return Status::CorruptLog("sidecar action needs path, sizeInBytes and modificationTime");
  }
  out->sidecars.push_back({path->get<std::string>(), *size, *mtime});
  return true;
}

Status ParseCheckpointLines(const std::vector<std::string>& lines, const std::string& source,
                            CheckpointActions* out) {
  out->adds.reserve(out->adds.size() + lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    auto parsed = ParseAction(lines[i]);
    if (!parsed.ok()) {
      return parsed.status().WithContext(fmt::format("{} action {}", source, i + 1));
    }
    if (*parsed) {
      AddCheckpointAction(std::move(**parsed), out);
      continue;
    }
    auto other = ParseCheckpointOnlyAction(lines[i], out);
    if (!other.ok()) return other.status().WithContext(fmt::format("{} action {}", source, i + 1));
  }
  return Status::OK();
}

Result<CheckpointActions> ParquetHandler::ReadCheckpoint(const std::vector<std::string>& files,
                                                         bool with_files) {
  DL_ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadCheckpointActions(files));
  CheckpointActions out;
  DL_RETURN_IF_ERROR(ParseCheckpointLines(lines, files.empty() ? "" : files.front(), &out));
  if (!with_files) {
    out.adds = {};
    out.removes = {};
  }
  return out;
}

}  // namespace dl::delta
