#include "dl/common/status.hpp"

#include <gtest/gtest.h>

namespace dl {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("{} is odd", x);
  return x / 2;
}

Result<int> Quarter(int x) {
  DL_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status st = Status::CorruptLog("bad line {} in {}", 3, "00.json");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kCorruptLog);
  EXPECT_EQ(st.ToString(), "CorruptLog: bad line 3 in 00.json");
  EXPECT_EQ(st.WithContext("loading t").message(), "loading t: bad line 3 in 00.json");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "3 is odd");
}

}  // namespace
}  // namespace dl
