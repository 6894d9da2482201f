// The ReadRange contract, checked the same way on every backend (local, S3, Azure).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dl/storage/file_system.hpp"
#include "dl/storage/stat_many.hpp"

namespace dl::testing {

inline std::string Bytes(Result<std::string> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string("<error>");
}

/// `ten` holds "0123456789", `empty` nothing, `missing` does not exist.
inline void ExpectReadRangeContract(FileSystem& fs, const std::string& ten,
                                    const std::string& empty, const std::string& missing) {
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 0, 4)), "0123");
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 3, 4)), "3456");
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 9, 1)), "9");
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 8, 100)), "89");  // past the end: what there is
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 0, std::numeric_limits<int64_t>::max())), "0123456789");
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 10, 5)), "");  // at the end
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 50, 5)), "");  // past the end
  EXPECT_EQ(Bytes(fs.ReadRange(ten, 4, 0)), "");   // zero length
  EXPECT_EQ(Bytes(fs.ReadRange(empty, 0, 10)), "");
  EXPECT_EQ(Bytes(fs.ReadRange(empty, 0, 0)), "");
  EXPECT_EQ(fs.ReadRange(missing, 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs.ReadRange(missing, 0, 0).status().code(), StatusCode::kNotFound);
  auto negative = fs.ReadRange(ten, -1, 4);
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find(ten), std::string::npos);
  EXPECT_EQ(fs.ReadRange(ten, 0, -4).status().code(), StatusCode::kInvalidArgument);
  // Many at once: in the order asked, a missing file failing alone.
  std::vector<std::string> paths;
  for (int i = 0; i < 20; ++i) paths.push_back(i == 5 ? missing : i == 6 ? empty : ten);
  auto many = ReadRangeMany(fs, paths, 2, 3, 4);
  ASSERT_EQ(many.size(), paths.size());
  for (size_t i = 0; i < many.size(); ++i) {
    if (i == 5) {
      EXPECT_EQ(many[i].status().code(), StatusCode::kNotFound);
    } else {
      EXPECT_EQ(Bytes(many[i]), i == 6 ? "" : "234") << i;
    }
  }
}

}  // namespace dl::testing
