#include <gtest/gtest.h>

#include "dl/common/testing/temp_dir.hpp"
#include "dl/storage/file_system.hpp"
#include "dl/storage/tests/read_range_contract.hpp"

namespace dl {
namespace {

// VACUUM lists a table with the "_delta_log" marker: a table nested below it is not its own.
TEST(LocalFileSystem, ListRecursiveDoesNotEnterDirectoriesHoldingTheMarker) {
  testing::TempDir tmp;
  for (const char* f :
       {"t/part-0.parquet", "t/_delta_log/0.json", "t/p=1/part-1.parquet",
        "t/nested/part-2.parquet", "t/nested/_delta_log/0.json", "t/nested/p=2/part-3.parquet"}) {
    testing::WriteFile(tmp / f, "x");
  }
  auto fs = MakeLocalFileSystem();
  auto names = [&](const std::string& marker) {
    auto listed = fs->ListRecursive(tmp / "t", marker);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> out;
    for (const auto& e : *listed) out.push_back(e.path.substr(tmp.path().size() + 1));
    return out;
  };
  EXPECT_EQ(names("_delta_log"),
            (std::vector<std::string>{"t/_delta_log/0.json", "t/p=1/part-1.parquet",
                                      "t/part-0.parquet"}));
  EXPECT_EQ(names("").size(), 6u);
}

TEST(LocalFileSystem, ReadRangeReadsThePartAskedForAndNothingPastTheEnd) {
  testing::TempDir tmp;
  testing::WriteFile(tmp / "ten", "0123456789");
  testing::WriteFile(tmp / "empty", "");
  auto fs = MakeLocalFileSystem();
  testing::ExpectReadRangeContract(*fs, tmp / "ten", tmp / "empty", tmp / "missing");
}

}  // namespace
}  // namespace dl
