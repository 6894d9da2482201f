// Deletion vectors: PROTOCOL.md "Deletion Vectors" and appendix "Deletion Vector Format".
// The bitmap is little-endian (magic, bucket count, keys, CRoaring's portable 32-bit
// bitmaps); the file framing (size, CRC-32) is big-endian, as Delta's Java writer emits it.
#include "dl/delta/deletion_vector.hpp"

#include <fmt/format.h>
#include <roaring/roaring.h>
#include <zlib.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>

#include "dl/common/clock.hpp"
#include "dl/delta/partition.hpp"

namespace dl::delta {
namespace {

constexpr uint32_t kPortableMagic = 1681511377;
// Delta's older "native" RoaringBitmapArray serialization; never written by current writers.
constexpr uint32_t kNativeMagic = 1681511376;
constexpr char kFileFormatVersion = 1;
constexpr size_t kUuidZ85Chars = 20;
constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutBe32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t GetBe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint32_t Crc32(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

struct BitmapFree {
  void operator()(roaring_bitmap_t* b) const { roaring_bitmap_free(b); }
};
using Bitmap = std::unique_ptr<roaring_bitmap_t, BitmapFree>;

// One bucket: the 32-bit portable bitmap of the low words sharing high word `key`.
void AppendBucket(std::string* out, uint32_t key, const std::vector<uint32_t>& low) {
  Bitmap bm(roaring_bitmap_of_ptr(low.size(), low.data()));
  roaring_bitmap_run_optimize(bm.get());
  PutLe(out, key, 4);
  size_t at = out->size();
  out->resize(at + roaring_bitmap_portable_size_in_bytes(bm.get()));
  size_t written = roaring_bitmap_portable_serialize(bm.get(), out->data() + at);
  out->resize(at + written);
}

Status BadBitmap(std::string_view why) {
  return Status::CorruptLog("deletion vector bitmap is not a RoaringBitmapArray: {}", why);
}

// Appends the rows of one serialized bucket; returns its size in bytes.
Result<size_t> ReadBucket(std::string_view bytes, uint32_t key, RowIndexes* out) {
  size_t size = roaring_bitmap_portable_deserialize_size(bytes.data(), bytes.size());
  if (size == 0) return BadBitmap(fmt::format("bucket {} is truncated or malformed", key));
  Bitmap bm(roaring_bitmap_portable_deserialize_safe(bytes.data(), size));
  if (!bm) return BadBitmap(fmt::format("bucket {} is malformed", key));
  std::vector<uint32_t> low(roaring_bitmap_get_cardinality(bm.get()));
  roaring_bitmap_to_uint32_array(bm.get(), low.data());
  const uint64_t high = static_cast<uint64_t>(key) << 32;
  for (uint32_t v : low) out->push_back(high | v);
  return size;
}

std::string FormatUuid(std::string_view b) {
  std::string hex;
  for (unsigned char c : b) hex += fmt::format("{:02x}", c);
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

std::string UuidBytes(const std::string& uuid) {
  std::string bytes;
  std::string hex;
  std::copy_if(uuid.begin(), uuid.end(), std::back_inserter(hex), [](char c) { return c != '-'; });
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

std::string DvFileName(const std::string& uuid) { return "deletion_vector_" + uuid + ".bin"; }

// The bitmap bytes of an on-disk DV: framing (version, size, CRC-32) checked.
Result<std::string> ReadFramedBitmap(FileSystem& fs, const std::string& path,
                                     const DeletionVector& dv) {
  auto bad = [&](std::string_view why) {
    return Status::CorruptLog("deletion vector file {}: {}", path, why);
  };
  auto content = fs.Read(path);
  if (!content.ok()) return content.status().WithContext("reading deletion vector");
  std::string_view file = *content;
  if (file.empty() || file[0] != kFileFormatVersion) {
    return bad(file.empty() ? "empty file" : fmt::format("format version {} (expected 1)",
                                                         static_cast<int>(file[0])));
  }
  // offset is where the DV's 4-byte size starts (1 for the first DV after the version byte).
  const int64_t offset = dv.offset.value_or(1);
  if (offset < 1 || static_cast<uint64_t>(offset) + 4 > file.size()) {
    return bad(fmt::format("offset {} is outside the file ({} bytes)", offset, file.size()));
  }
  const uint32_t size = GetBe32(file.data() + offset);
  if (static_cast<int64_t>(size) != dv.size_in_bytes) {
    return bad(fmt::format("size at offset {} is {}, the log says sizeInBytes {}", offset, size,
                           dv.size_in_bytes));
  }
  const uint64_t data_at = static_cast<uint64_t>(offset) + 4;
  if (data_at + size + 4 > file.size()) {
    return bad(fmt::format("{} bytes at offset {} (+ CRC) run past the end ({} bytes)", size,
                           offset, file.size()));
  }
  std::string_view data = file.substr(data_at, size);
  const uint32_t stored = GetBe32(file.data() + data_at + size);
  if (uint32_t actual = Crc32(data); actual != stored) {
    return bad(fmt::format("CRC-32 mismatch at offset {} (stored {:08x}, computed {:08x})", offset,
                           stored, actual));
  }
  return std::string(data);
}

}  // namespace

std::string SerializeRowIndexes(const RowIndexes& input) {
  RowIndexes sorted;
  const RowIndexes* rows = &input;
  if (!std::is_sorted(input.begin(), input.end())) {  // the contract, but cheap to honour
    sorted = input;
    std::sort(sorted.begin(), sorted.end());
    rows = &sorted;
  }
  std::string out;
  PutLe(&out, kPortableMagic, 4);
  const size_t count_at = out.size();
  PutLe(&out, 0, 8);
  uint64_t buckets = 0;
  std::vector<uint32_t> low;
  for (size_t i = 0; i < rows->size();) {
    const uint32_t key = static_cast<uint32_t>((*rows)[i] >> 32);
    low.clear();
    for (; i < rows->size() && ((*rows)[i] >> 32) == key; ++i) {
      low.push_back(static_cast<uint32_t>((*rows)[i]));
    }
    AppendBucket(&out, key, low);
    ++buckets;
  }
  for (int b = 0; b < 8; ++b) out[count_at + b] = static_cast<char>(buckets >> (8 * b));
  return out;
}

Result<RowIndexes> DeserializeRowIndexes(std::string_view bytes) {
  if (bytes.size() < 12) return BadBitmap(fmt::format("only {} bytes", bytes.size()));
  const uint32_t magic = static_cast<uint32_t>(GetLe(bytes.data(), 4));
  if (GetBe32(bytes.data()) == kNativeMagic) {
    return Status::Unsupported(
        "deletion vector uses Delta's legacy native RoaringBitmapArray format (magic {}); only "
        "the portable format (magic {}) is supported",
        kNativeMagic, kPortableMagic);
  }
  if (magic != kPortableMagic) {
    return BadBitmap(fmt::format("magic {} (expected {})", magic, kPortableMagic));
  }
  const uint64_t buckets = GetLe(bytes.data() + 4, 8);
  size_t pos = 12;
  // Each bucket takes at least a 4-byte key and an 8-byte bitmap header.
  if (buckets > (bytes.size() - pos) / 12) {
    return BadBitmap(fmt::format("{} buckets do not fit in {} bytes", buckets, bytes.size()));
  }
  RowIndexes rows;
  for (uint64_t b = 0; b < buckets; ++b) {
    if (bytes.size() - pos < 4) return BadBitmap("truncated bucket key");
    const uint32_t key = static_cast<uint32_t>(GetLe(bytes.data() + pos, 4));
    pos += 4;
    // Delta requires the key's top bit clear (Java reads keys signed) and keys ascending.
    if (key >> 31) return BadBitmap(fmt::format("bucket key {} has its top bit set", key));
    if (!rows.empty() && key <= (rows.back() >> 32)) {
      return BadBitmap(fmt::format("bucket keys not ascending at key {}", key));
    }
    DL_ASSIGN_OR_RETURN(size_t size, ReadBucket(bytes.substr(pos), key, &rows));
    pos += size;
  }
  if (pos != bytes.size()) {
    return BadBitmap(
        fmt::format("{} trailing bytes after {} buckets", bytes.size() - pos, buckets));
  }
  return rows;
}

std::string Z85Encode(std::string_view bytes) {
  // Zero-pad to whole 4-byte words as Delta's Base85Codec does; sizeInBytes keeps the length.
  std::string padded(bytes);
  padded.resize((bytes.size() + 3) / 4 * 4, '\0');
  std::string out;
  out.reserve(padded.size() / 4 * 5);
  for (size_t i = 0; i < padded.size(); i += 4) {
    uint32_t v = GetBe32(padded.data() + i);
    char chunk[5];
    for (int j = 4; j >= 0; --j) {
      chunk[j] = kZ85Alphabet[v % 85];
      v /= 85;
    }
    out.append(chunk, 5);
  }
  return out;
}

Result<std::string> Z85Decode(std::string_view text) {
  if (text.size() % 5 != 0) {
    return Status::InvalidArgument("Z85 text has {} characters, not a multiple of 5",
                                   text.size());
  }
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t v = 0;
    for (size_t j = i; j < i + 5; ++j) {
      size_t digit = kZ85Alphabet.find(text[j]);
      if (digit == std::string_view::npos) {
        return Status::InvalidArgument("Z85 text has an invalid character '{}' at {}", text[j], j);
      }
      v = v * 85 + digit;
    }
    if (v > std::numeric_limits<uint32_t>::max()) {
      return Status::InvalidArgument("Z85 group at {} exceeds 32 bits", i);
    }
    PutBe32(&out, static_cast<uint32_t>(v));
  }
  return out;
}

Result<std::string> DeletionVectorPath(const std::string& table_root, const DeletionVector& dv) {
  const std::string& s = dv.path_or_inline_dv;
  if (dv.storage_type == "p") return ResolveDataPath(table_root, s);
  if (dv.storage_type == "i") {
    return Status::InvalidArgument("an inline deletion vector has no file");
  }
  if (dv.storage_type != "u") {
    return Status::CorruptLog("deletion vector storageType '{}' is not one of u, i, p",
                              dv.storage_type);
  }
  if (s.size() < kUuidZ85Chars) {
    return Status::CorruptLog("deletion vector pathOrInlineDv '{}' is shorter than a Z85 UUID", s);
  }
  const size_t prefix_len = s.size() - kUuidZ85Chars;
  auto uuid = Z85Decode(std::string_view(s).substr(prefix_len));
  if (!uuid.ok()) {
    return Status::CorruptLog("deletion vector pathOrInlineDv '{}': {}", s,
                              uuid.status().message());
  }
  std::string name = DvFileName(FormatUuid(*uuid));
  return JoinPath(table_root, prefix_len == 0 ? name : JoinPath(s.substr(0, prefix_len), name));
}

Result<RowIndexes> ReadDeletionVector(FileSystem& fs, const std::string& table_root,
                                      const DeletionVector& dv) {
  std::string data;
  std::string where;
  if (dv.storage_type == "i") {
    where = "inline deletion vector";
    auto decoded = Z85Decode(dv.path_or_inline_dv);
    if (!decoded.ok()) return Status::CorruptLog("{}: {}", where, decoded.status().message());
    if (dv.size_in_bytes < 0 || static_cast<size_t>(dv.size_in_bytes) > decoded->size()) {
      return Status::CorruptLog("{}: sizeInBytes {} but {} bytes encoded", where,
                                dv.size_in_bytes, decoded->size());
    }
    data = decoded->substr(0, dv.size_in_bytes);  // drop the encoder's word padding
  } else {
    DL_ASSIGN_OR_RETURN(where, DeletionVectorPath(table_root, dv));
    DL_ASSIGN_OR_RETURN(data, ReadFramedBitmap(fs, where, dv));
  }
  auto rows = DeserializeRowIndexes(data);
  if (!rows.ok()) return rows.status().WithContext(where);
  if (static_cast<int64_t>(rows->size()) != dv.cardinality) {
    return Status::CorruptLog("{}: {} rows, the log says cardinality {}", where, rows->size(),
                              dv.cardinality);
  }
  return rows;
}

Result<DeletionVector> WriteDeletionVector(FileSystem& fs, const std::string& table_root,
                                           const RowIndexes& rows) {
  if (rows.empty()) return Status::InvalidArgument("a deletion vector needs at least one row");
  if (std::adjacent_find(rows.begin(), rows.end(), std::greater_equal<uint64_t>()) != rows.end()) {
    return Status::InvalidArgument("deletion vector row indexes must be sorted and unique");
  }
  if (rows.back() >> 63) {  // bucket keys need their top bit clear
    return Status::InvalidArgument("deletion vector row index {} is out of range", rows.back());
  }
  std::string data = SerializeRowIndexes(rows);
  if (data.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("deletion vector of {} bytes exceeds sizeInBytes' int range",
                                   data.size());
  }
  const std::string uuid = NewUuid();
  std::string content(1, kFileFormatVersion);
  PutBe32(&content, static_cast<uint32_t>(data.size()));
  content += data;
  PutBe32(&content, Crc32(data));
  DL_RETURN_IF_ERROR(fs.PutIfAbsent(JoinPath(table_root, DvFileName(uuid)), content));

  DeletionVector dv;
  dv.storage_type = "u";
  dv.path_or_inline_dv = Z85Encode(UuidBytes(uuid));
  dv.offset = 1;
  dv.size_in_bytes = static_cast<int32_t>(data.size());
  dv.cardinality = static_cast<int64_t>(rows.size());
  dv.max_row_index = static_cast<int64_t>(rows.back());
  return dv;
}

RowIndexes UnionRows(const RowIndexes& a, const RowIndexes& b) {
  RowIndexes out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace dl::delta
