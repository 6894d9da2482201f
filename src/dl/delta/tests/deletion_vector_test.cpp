#include "dl/delta/deletion_vector.hpp"

#include <gtest/gtest.h>

#include <zlib.h>

#include "dl/common/testing/temp_dir.hpp"

namespace dl::delta {
namespace {

using dl::testing::TempDir;
using dl::testing::WriteFile;

// delta-kernel-rs kernel/src/actions/deletion_vector.rs (dv_inline): a portable-format inline
// DV holding rows 3, 4, 7, 11, 18, 29.
constexpr char kKernelInline[] = "^Bg9^0rr910000000000iXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L";
// PROTOCOL.md "JSON Example 3 — Inline": same rows, but in Delta's legacy native format.
constexpr char kSpecInline[] = "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L";

DeletionVector Inline(const std::string& z85, int32_t size, int64_t cardinality) {
  DeletionVector dv;
  dv.storage_type = "i";
  dv.path_or_inline_dv = z85;
  dv.size_in_bytes = size;
  dv.cardinality = cardinality;
  return dv;
}

TEST(DeletionVectorTest, ReadsKernelInlineVector) {
  auto fs = MakeLocalFileSystem();
  auto rows = ReadDeletionVector(*fs, "/unused", Inline(kKernelInline, 44, 6));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (RowIndexes{3, 4, 7, 11, 18, 29}));
  // Our serializer produces the same bytes as the reference writer (run_optimize does not
  // change a 6-element array container).
  EXPECT_EQ(Z85Encode(SerializeRowIndexes(*rows)), kKernelInline);
}

TEST(DeletionVectorTest, RefusesLegacyNativeFormatFromSpecExample) {
  auto fs = MakeLocalFileSystem();
  auto rows = ReadDeletionVector(*fs, "/unused", Inline(kSpecInline, 40, 6));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(rows.status().message().find("native"), std::string::npos);
}

TEST(DeletionVectorTest, Z85MatchesKnownUuidEncodings) {
  // delta-kernel-rs test_deletion_vector_path_absolute_path_with_known_uuid*.
  auto a = Z85Decode("rsTVZ&*Sl-RXRWjryu/!");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(Z85Encode(*a), "rsTVZ&*Sl-RXRWjryu/!");
  EXPECT_EQ(static_cast<unsigned char>((*a)[0]), 0x55);  // 550e8400-...
  EXPECT_EQ(static_cast<unsigned char>((*a)[15]), 0x00);
  // ZeroMQ RFC 32 test vector.
  const std::string hello("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8);
  EXPECT_EQ(Z85Encode(hello), "HelloWorld");
  EXPECT_EQ(Z85Decode("HelloWorld").value(), hello);
}

TEST(DeletionVectorTest, Z85RejectsBadText) {
  EXPECT_EQ(Z85Decode("abcd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Z85Decode("abc d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Z85Decode("#####").status().code(), StatusCode::kInvalidArgument);  // > 2^32
  EXPECT_EQ(Z85Encode(std::string("\x01", 1)).size(), 5u);  // zero-padded to a word
}

TEST(DeletionVectorTest, PathsFromSpecExamples) {
  DeletionVector dv;
  dv.storage_type = "u";
  dv.path_or_inline_dv = "ab^-aqEH.-t@S}K{vb[*k^";
  EXPECT_EQ(DeletionVectorPath("/t", dv).value(),
            "/t/ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin");
  dv.path_or_inline_dv = "5<w-%>:JjlQ/G/]6C<1m";  // kernel: 123e4567-..., no prefix
  EXPECT_EQ(DeletionVectorPath("/t", dv).value(),
            "/t/deletion_vector_123e4567-e89b-12d3-a456-426614174000.bin");
  dv.storage_type = "p";
  dv.path_or_inline_dv = "file:///data/t/deletion_vector_x.bin";
  EXPECT_EQ(DeletionVectorPath("/t", dv).value(), "/data/t/deletion_vector_x.bin");
  dv.storage_type = "i";
  EXPECT_EQ(DeletionVectorPath("/t", dv).status().code(), StatusCode::kInvalidArgument);
  dv.storage_type = "u";
  dv.path_or_inline_dv = "short";
  EXPECT_EQ(DeletionVectorPath("/t", dv).status().code(), StatusCode::kCorruptLog);
  dv.storage_type = "x";
  EXPECT_EQ(DeletionVectorPath("/t", dv).status().code(), StatusCode::kCorruptLog);
}

TEST(DeletionVectorTest, BitmapRoundTripsAcrossHighWords) {
  const uint64_t k32 = 1ULL << 32;
  RowIndexes rows = {0, 1, 65535, 65536, 1000000, k32 - 1, k32, k32 + 5, 3 * k32 + 7};
  for (uint64_t i = 0; i < 5000; ++i) rows.push_back(2 * k32 + 100 + i);  // a run
  std::sort(rows.begin(), rows.end());
  std::string bytes = SerializeRowIndexes(rows);
  EXPECT_EQ(bytes.substr(0, 4), std::string("\xD1\xD3\x39\x64", 4));  // magic, little-endian
  EXPECT_EQ(bytes[4], 4);                                              // buckets 0, 1, 2, 3
  auto back = DeserializeRowIndexes(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, rows);
  EXPECT_EQ(DeserializeRowIndexes(SerializeRowIndexes({})).value(), RowIndexes{});
  EXPECT_EQ(DeserializeRowIndexes(SerializeRowIndexes({9, 2, 5})).value(), (RowIndexes{2, 5, 9}));
}

TEST(DeletionVectorTest, BitmapRejectsCorruptBytes) {
  std::string good = SerializeRowIndexes({1, 2, 3, (1ULL << 32) + 1});
  auto code = [](std::string b) { return DeserializeRowIndexes(b).status().code(); };
  EXPECT_EQ(code(good.substr(0, 8)), StatusCode::kCorruptLog);
  EXPECT_EQ(code(good.substr(0, good.size() - 1)), StatusCode::kCorruptLog);
  EXPECT_EQ(code(good + "x"), StatusCode::kCorruptLog);
  std::string bad_magic = good;
  bad_magic[0] ^= 1;
  EXPECT_EQ(code(bad_magic), StatusCode::kCorruptLog);
  std::string many_buckets = good;
  many_buckets[4] = 100;
  EXPECT_EQ(code(many_buckets), StatusCode::kCorruptLog);
  std::string top_bit = SerializeRowIndexes({1});
  top_bit[15] = '\x80';  // first key's most significant byte
  EXPECT_EQ(code(top_bit), StatusCode::kCorruptLog);
}

TEST(DeletionVectorTest, FileRoundTripWithFraming) {
  TempDir dir;
  auto fs = MakeLocalFileSystem();
  RowIndexes rows = {0, 9, 42, (1ULL << 32) + 3};
  auto dv = WriteDeletionVector(*fs, dir.path(), rows);
  ASSERT_TRUE(dv.ok()) << dv.status().ToString();
  EXPECT_EQ(dv->storage_type, "u");
  EXPECT_EQ(dv->path_or_inline_dv.size(), 20u);
  EXPECT_EQ(dv->offset, 1);
  EXPECT_EQ(dv->cardinality, 4);
  EXPECT_EQ(dv->max_row_index, static_cast<int64_t>((1ULL << 32) + 3));
  std::string path = DeletionVectorPath(dir.path(), *dv).value();
  std::string file = fs->Read(path).value();
  // version byte, big-endian size, bitmap, big-endian CRC-32 of the bitmap.
  std::string data = SerializeRowIndexes(rows);
  ASSERT_EQ(file.size(), 1 + 4 + data.size() + 4);
  EXPECT_EQ(file[0], 1);
  EXPECT_EQ(static_cast<int32_t>(data.size()), dv->size_in_bytes);
  EXPECT_EQ(file.substr(1, 4), std::string("\0\0\0", 3) + static_cast<char>(data.size()));
  EXPECT_EQ(file.substr(5, data.size()), data);
  uint32_t crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), data.size());
  EXPECT_EQ(static_cast<unsigned char>(file[5 + data.size()]), crc >> 24);
  EXPECT_EQ(static_cast<unsigned char>(file.back()), crc & 0xff);
  auto back = ReadDeletionVector(*fs, dir.path(), *dv);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, rows);
}

TEST(DeletionVectorTest, ReadsSecondDvAtOffsetInSharedFile) {
  TempDir dir;
  auto fs = MakeLocalFileSystem();
  auto first = WriteDeletionVector(*fs, dir.path(), {1, 2}).value();
  std::string path = DeletionVectorPath(dir.path(), first).value();
  std::string file = fs->Read(path).value();
  // Append a second framed DV, as Delta does when one file holds several.
  std::string data = SerializeRowIndexes({7});
  uint32_t crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), data.size());
  DeletionVector second = first;
  second.offset = static_cast<int32_t>(file.size());
  second.size_in_bytes = static_cast<int32_t>(data.size());
  second.cardinality = 1;
  for (uint32_t v : {static_cast<uint32_t>(data.size())}) {
    for (int s = 24; s >= 0; s -= 8) file.push_back(static_cast<char>(v >> s));
  }
  file += data;
  for (int s = 24; s >= 0; s -= 8) file.push_back(static_cast<char>(crc >> s));
  WriteFile(path, file);
  EXPECT_EQ(ReadDeletionVector(*fs, dir.path(), second).value(), RowIndexes{7});
  EXPECT_EQ(ReadDeletionVector(*fs, dir.path(), first).value(), (RowIndexes{1, 2}));
}

TEST(DeletionVectorTest, CorruptFilesNameTheFile) {
  TempDir dir;
  auto fs = MakeLocalFileSystem();
  auto dv = WriteDeletionVector(*fs, dir.path(), {5, 6, 7}).value();
  std::string path = DeletionVectorPath(dir.path(), dv).value();
  const std::string good = fs->Read(path).value();
  auto expect_corrupt = [&](const std::string& content, const DeletionVector& d,
                            std::string_view what) {
    WriteFile(path, content);
    auto r = ReadDeletionVector(*fs, dir.path(), d);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruptLog) << what;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  };
  std::string flipped = good;
  flipped[8] ^= 0x10;  // inside the bitmap: the CRC catches it
  expect_corrupt(flipped, dv, "CRC-32");
  std::string version = good;
  version[0] = 2;
  expect_corrupt(version, dv, "format version 2");
  expect_corrupt(good.substr(0, good.size() - 2), dv, "past the end");
  DeletionVector wrong_size = dv;
  wrong_size.size_in_bytes += 1;
  expect_corrupt(good, wrong_size, "sizeInBytes");
  DeletionVector wrong_offset = dv;
  wrong_offset.offset = 1000;
  expect_corrupt(good, wrong_offset, "offset 1000");
  DeletionVector wrong_card = dv;
  wrong_card.cardinality = 4;
  expect_corrupt(good, wrong_card, "cardinality 4");
  WriteFile(path, good);
  EXPECT_EQ(fs->Delete(path).code(), StatusCode::kOk);
  EXPECT_EQ(ReadDeletionVector(*fs, dir.path(), dv).status().code(), StatusCode::kNotFound);
}

TEST(DeletionVectorTest, InlineErrors) {
  auto fs = MakeLocalFileSystem();
  EXPECT_EQ(ReadDeletionVector(*fs, "/t", Inline("abc", 2, 1)).status().code(),
            StatusCode::kCorruptLog);
  EXPECT_EQ(ReadDeletionVector(*fs, "/t", Inline(kKernelInline, 48, 6)).status().code(),
            StatusCode::kCorruptLog);  // sizeInBytes beyond the encoded bytes
  EXPECT_EQ(ReadDeletionVector(*fs, "/t", Inline(kKernelInline, 44, 5)).status().code(),
            StatusCode::kCorruptLog);  // cardinality mismatch
}

TEST(DeletionVectorTest, WriteRejectsBadRows) {
  TempDir dir;
  auto fs = MakeLocalFileSystem();
  EXPECT_EQ(WriteDeletionVector(*fs, dir.path(), {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteDeletionVector(*fs, dir.path(), {3, 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteDeletionVector(*fs, dir.path(), {1, 1}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DeletionVectorTest, UnionRows) {
  EXPECT_EQ(UnionRows({1, 3, 5}, {2, 3, 1ULL << 40}), (RowIndexes{1, 2, 3, 5, 1ULL << 40}));
  EXPECT_EQ(UnionRows({}, {4}), RowIndexes{4});
}

}  // namespace
}  // namespace dl::delta
