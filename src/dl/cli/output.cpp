#include "dl/cli/output.hpp"

#include <iostream>

namespace dl::cli {

int ExitCode(const Status& status) {
  if (status.ok()) return 0;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kConfig:
      return 2;
    default:
      return 1;
  }
}

int ReportError(const Status& status) {
  std::cerr << "error: " << status.message() << " [" << StatusCodeName(status.code()) << "]\n";
  return ExitCode(status);
}

int ReportError(const Status& status, const config::LoaderConfig& cfg) {
  if (status.ok()) return 0;
  return ReportError(Status(status.code(), config::RedactEnvValues(cfg, status.message())));
}

void PrintJson(const nlohmann::ordered_json& value) { std::cout << value.dump(2) << "\n"; }

}  // namespace dl::cli
