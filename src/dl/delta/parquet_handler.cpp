#include "dl/delta/parquet_handler.hpp"

#include <fmt/format.h>

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
    } else if (lines[i].starts_with("{\"sidecar\"")) {
      ++out->sidecars;
    }
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
