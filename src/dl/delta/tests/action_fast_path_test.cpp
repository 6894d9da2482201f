// Differential tests: the DOM-free add/remove parser must agree with the general parser on
// everything it accepts, and leave everything else to it.
#include "dl/delta/action_fast_path.hpp"

#include <gtest/gtest.h>

#include <random>

namespace dl::delta {
namespace {

using internal::ParseActionWithDom;
using internal::TryParseFileAction;

const std::vector<std::string> kAccepted = {
    R"({"add":{"path":"letter=a/part-00000-1.c000.snappy.parquet","partitionValues":{"letter":"a"},"size":490,"modificationTime":1668830184954,"dataChange":true,"stats":"{\"numRecords\":1,\"minValues\":{\"number\":1},\"maxValues\":{\"number\":1},\"nullCount\":{\"number\":0}}"}})",
    R"({"remove":{"path":"letter=b/part-1.parquet","deletionTimestamp":1668830188330,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{"letter":"b"},"size":490}})",
    R"({"remove":{"path":"x","dataChange":false}})",
    R"({"add":{"path":"p","partitionValues":{"a":null,"b":"","c":"x"},"size":0,"modificationTime":-1,"dataChange":false}})",
    R"( { "add" : { "path" : "sp ace" , "partitionValues" : { } , "size" : 9223372036854775807 , "modificationTime" : -9223372036854775808 , "dataChange" : true } } )",
    R"({"add":{"path":"esc\"\\\/\b\f\n\r\t\u00e9\u20ac\ud83d\ude00","partitionValues":{"k\u00fc":"v\u0000"},"size":1,"modificationTime":2,"dataChange":true}})",
    "{\"add\":{\"path\":\"utf8 \xC3\xA9 \xE2\x82\xAC "
    "\xF0\x9F\x98\x80\",\"partitionValues\":{},\"size\":1,"
    "\"modificationTime\":2,\"dataChange\":true}}",
    R"({"add":{"path":"p","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true,"stats":null,"tags":null,"deletionVector":null,"baseRowId":null,"defaultRowCommitVersion":null,"clusteringProvider":null}})",
    R"({"add":{"path":"p","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true,"tags":{"INSERTION_TIME":"1","x":null},"baseRowId":4,"defaultRowCommitVersion":5,"clusteringProvider":"liquid"}})",
    R"({"add":{"future":{"a":[1,-2.5e+3,true,false,null,{"b":"c"}],"d":[]},"path":"p","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true,"more":0.5}})",
    R"({"remove":{"path":"p","dataChange":true,"partitionValues":{},"size":null,"stats":"{}","tags":{}}})",
    R"({"add":{"path":"dup","path":"dup2","partitionValues":{"a":"1","a":"2"},"size":1,"modificationTime":2,"dataChange":true}})",
};

// The general parser handles these; the fast path leaves them to it.
const std::vector<std::string> kDeferred = {
    R"({"commitInfo":{"timestamp":1}})",
    R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})",
    R"({"txn":{"appId":"a","version":1}})",
    R"({"add":{"path":"p","partitionValues":{"n":1,"b":true},"size":1,"modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"p","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true,"deletionVector":{"storageType":"u","pathOrInlineDv":"ab","offset":1,"sizeInBytes":3,"cardinality":4}}})",
    R"({"add":null,"remove":{"path":"x","dataChange":true}})",
    R"({"add":{"path":"p","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true},"extra":1})",
    R"({"unknownAction":{"x":1}})",
};

// Both must reject these.
const std::vector<std::string> kRejected = {
    R"({"add":{"path":"p","partitionValues":{},"modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"p","partitionValues":{},"size":null,"modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"p","partitionValues":{},"size":1.0,"modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"p","partitionValues":{},"size":01,"modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"p","partitionValues":{},"size":9223372036854775808,"modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"p","partitionValues":{},"size":"1","modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"p\x","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true}})",
    R"({"add":{"path":"\ud83d","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true}})",
    "{\"add\":{\"path\":\"bad \xC3\x28\",\"partitionValues\":{},\"size\":1,\"modificationTime\":2,"
    "\"dataChange\":true}}",
    "{\"add\":{\"path\":\"ctl \x01\",\"partitionValues\":{},\"size\":1,\"modificationTime\":2,"
    "\"dataChange\":true}}",
    R"({"add":{"path":"p","partitionValues":{},"size":1,"modificationTime":2,"dataChange":true}} x)",
    R"({"remove":{"path":"p","dataChange":tru}})",
    R"({"remove":{"path":"p","dataChange":true,}})",
    R"({"remove":{"path":"p","dataChange":true,"tags":{"a":1}}})",
};

TEST(ActionFastPathTest, AgreesWithTheGeneralParser) {
  for (const std::string& line : kAccepted) {
    auto fast = TryParseFileAction(line);
    ASSERT_TRUE(fast) << line;
    auto dom = ParseActionWithDom(line);
    ASSERT_TRUE(dom.ok() && dom->has_value()) << line << ": " << dom.status().ToString();
    EXPECT_EQ(SerializeAction(*fast), SerializeAction(**dom)) << line;
  }
  auto a = std::get<AddFile>(*TryParseFileAction(kAccepted[5]));
  EXPECT_EQ(a.path, "esc\"\\/\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(a.partition_values.at("k\xC3\xBC"), std::string("v\0", 2));
}

TEST(ActionFastPathTest, DefersUnusualLines) {
  for (const std::string& line : kDeferred) {
    EXPECT_FALSE(TryParseFileAction(line)) << line;
    EXPECT_TRUE(ParseAction(line).ok()) << line;
  }
}

TEST(ActionFastPathTest, RejectsWhatTheGeneralParserRejects) {
  for (const std::string& line : kRejected) {
    EXPECT_FALSE(TryParseFileAction(line)) << line;
    auto r = ParseAction(line);
    EXPECT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruptLog) << line;
  }
}

// Truncations and random byte mutations: whenever the fast path accepts, the general parser
// must produce the same action.
TEST(ActionFastPathTest, MutationsNeverDisagree) {
  std::mt19937 rng(20261125);
  const std::string alphabet = "{}[]\":,\\/ .-+eE0123456789abcnrtuflsx\x01\x7F\xC3\xA9\xFF";
  int accepted = 0;
  for (const std::string& line : kAccepted) {
    std::vector<std::string> variants;
    for (size_t n = 0; n < line.size(); ++n) variants.push_back(line.substr(0, n));
    for (int i = 0; i < 400; ++i) {
      std::string m = line;
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
        m[rng() % m.size()] = alphabet[rng() % alphabet.size()];
      }
      variants.push_back(std::move(m));
    }
    for (const std::string& v : variants) {
      auto fast = TryParseFileAction(v);
      if (!fast) continue;
      ++accepted;
      auto dom = ParseActionWithDom(v);
      ASSERT_TRUE(dom.ok() && dom->has_value()) << v << ": " << dom.status().ToString();
      ASSERT_EQ(SerializeAction(*fast), SerializeAction(**dom)) << v;
    }
  }
  EXPECT_GT(accepted, 100);  // the mutations exercise the accepting path too
}

}  // namespace
}  // namespace dl::delta
