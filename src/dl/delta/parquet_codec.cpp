#include "dl/delta/parquet_codec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

namespace dl::delta {

Result<std::string> ParquetCodecOf(const StringMap& configuration, std::string_view table) {
  auto it = configuration.find(kCompressionCodecKey);
  if (it == configuration.end()) return std::string("snappy");
  std::string codec = it->second;
  std::transform(codec.begin(), codec.end(), codec.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (codec == "none") codec = "uncompressed";
  if (std::find(std::begin(kParquetCodecs), std::end(kParquetCodecs), codec) ==
      std::end(kParquetCodecs)) {
    return Status::Config("table {}: table property {} is '{}'; data_loader writes {}", table,
                          kCompressionCodecKey, it->second, fmt::join(kParquetCodecs, ", "));
  }
  return codec;
}

std::string ParquetFileSuffix(std::string_view codec) {
  if (codec == "uncompressed") return "parquet";
  if (codec == "gzip") return "gz.parquet";
  return fmt::format("{}.parquet", codec);
}

}  // namespace dl::delta
