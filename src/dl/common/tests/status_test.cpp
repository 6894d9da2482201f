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

TEST(StatusTest, DetailSurvivesContextAndCopies) {
  Status plain = Status::Engine("reading 'x': no magic bytes");
  EXPECT_EQ(plain.detail().cause, ErrorDetail::Cause::kUnknown);
  EXPECT_TRUE(plain.detail().files.empty());
  Status st =
      plain.WithDetail({ErrorDetail::Cause::kData, {"abfss://c@a.dfs.core.windows.net/x"}, {}});
  EXPECT_EQ(plain.detail().cause, ErrorDetail::Cause::kUnknown);  // the original is unchanged
  Result<int> wrapped = st.WithContext("loading t");
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.status().message(), "loading t: reading 'x': no magic bytes");
  EXPECT_EQ(wrapped.status().code(), StatusCode::kEngine);
  EXPECT_EQ(wrapped.status().detail().cause, ErrorDetail::Cause::kData);
  EXPECT_EQ(wrapped.status().detail().files,
            std::vector<std::string>{"abfss://c@a.dfs.core.windows.net/x"});
  // OK has no detail to carry.
  EXPECT_TRUE(Status::OK().WithDetail({ErrorDetail::Cause::kData, {"x"}, {}}).detail().files.empty());
}

}  // namespace
}  // namespace dl
