// The one test double of the engine boundary for Delta tests: a "checkpoint .parquet" here is
// a text file of JSON action lines. The real Parquet path is covered by the engine's tests
// (dl_engine_test).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dl/delta/parquet_handler.hpp"

namespace dl::delta::testing {

class JsonLinesParquet final : public ParquetHandler {
 public:
  Result<std::vector<std::string>> ReadCheckpointActions(
      const std::vector<std::string>& files) override {
    ++reads;
    std::vector<std::string> lines;
    for (const std::string& f : files) {
      std::ifstream in(f);
      if (!in) return Status::CorruptLog("cannot read checkpoint {}", f);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) lines.push_back(line);
      }
    }
    return lines;
  }
  // Temp name + rename, as the interface requires of engines.
  Status WriteCheckpoint(const std::string& path, const std::vector<std::string>& lines) override {
    ++writes;
    if (fail_writes) return Status::Engine("checkpoint writer failed (test)");
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary);
      for (const auto& l : lines) out << l << "\n";
    }
    std::filesystem::rename(tmp, path);
    return Status::OK();
  }

  int reads = 0;
  int writes = 0;
  bool fail_writes = false;  ///< make WriteCheckpoint fail (checkpointing is best effort)
};

}  // namespace dl::delta::testing
