// The compression of a table's Parquet data files, as Databricks records it: the table
// property delta.compression.codec (Databricks Runtime honours it for every writer of the
// table; Apache Spark's Delta refuses the key when it is set but reads and writes tables that
// hold it, with its own session codec).
#pragma once

#include <string>
#include <string_view>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"

namespace dl::delta {

inline constexpr char kCompressionCodecKey[] = "delta.compression.codec";

/// The codecs data_loader writes, lower case; snappy is what a table without the property gets.
inline constexpr std::string_view kParquetCodecs[] = {"snappy", "zstd", "gzip", "uncompressed"};

/// The codec of the data files written into a table with `configuration`: the property's value
/// in lower case ("none" is uncompressed), snappy without it. A value not in kParquetCodecs is
/// a Config error naming `table`, the property and the codecs.
Result<std::string> ParquetCodecOf(const StringMap& configuration, std::string_view table);

/// The data file name's suffix for `codec`, as Spark names its files: snappy.parquet,
/// zstd.parquet, gz.parquet, parquet (uncompressed).
std::string ParquetFileSuffix(std::string_view codec);

}  // namespace dl::delta
