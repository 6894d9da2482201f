// Deletion vectors (PROTOCOL.md "Deletion Vectors"): the rows of a data file that are
// deleted, as a 64-bit roaring bitmap stored inline in the log ('i'), in a file beside the
// data named by a UUID ('u'), or at an absolute path ('p'). Readers drop those rows; writers
// mark rows deleted without rewriting the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dl/common/status.hpp"
#include "dl/delta/actions.hpp"
#include "dl/storage/file_system.hpp"

namespace dl::delta {

/// Row indexes: 0-based positions of rows in a data file, sorted and unique.
using RowIndexes = std::vector<uint64_t>;

/// The DV's bitmap bytes: magic 1681511377 (little-endian) + RoaringBitmapArray (portable
/// 32-bit roaring bitmaps, one per distinct high 32-bit word).
std::string SerializeRowIndexes(const RowIndexes& rows);
/// CorruptLog when the bytes are not such a bitmap.
Result<RowIndexes> DeserializeRowIndexes(std::string_view bytes);

/// Z85 (ZeroMQ Base-85) as the protocol uses it: input length a multiple of 4 (encode) or
/// of 5 (decode).
std::string Z85Encode(std::string_view bytes);
Result<std::string> Z85Decode(std::string_view text);

/// The absolute path of the file holding a 'u' or 'p' deletion vector; InvalidArgument for
/// inline ones.
Result<std::string> DeletionVectorPath(const std::string& table_root, const DeletionVector& dv);

/// The deleted rows of `dv`: decoded inline, or read from its file at offset (size and
/// CRC-32 checked). CorruptLog naming the file on any mismatch.
Result<RowIndexes> ReadDeletionVector(FileSystem& fs, const std::string& table_root,
                                      const DeletionVector& dv);

/// Write `rows` (non-empty) as a new DV file under table_root and return its descriptor
/// (storageType 'u', offset 1, sizeInBytes, cardinality, maxRowIndex).
Result<DeletionVector> WriteDeletionVector(FileSystem& fs, const std::string& table_root,
                                           const RowIndexes& rows);

/// Sorted union of two row index sets.
RowIndexes UnionRows(const RowIndexes& a, const RowIndexes& b);

}  // namespace dl::delta
