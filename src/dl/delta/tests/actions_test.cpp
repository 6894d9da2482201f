#include "dl/delta/actions.hpp"

#include <gtest/gtest.h>

namespace dl::delta {
namespace {

// Lines as Spark writes them (delta-lake-notes "Action shapes").
constexpr const char* kSparkLines[] = {
    R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})",
    R"({"metaData":{"id":"6fc0b1a5-8b1e-4ec5-b3a4-4d10a0fa1c8a","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"letter\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":["letter"],"configuration":{},"createdTime":1668830184578}})",
    R"({"add":{"path":"letter=a/part-00000-1.c000.snappy.parquet","partitionValues":{"letter":"a"},"size":490,"modificationTime":1668830184954,"dataChange":true,"stats":"{\"numRecords\":1,\"minValues\":{\"number\":1},\"maxValues\":{\"number\":1},\"nullCount\":{\"number\":0}}"}})",
    R"({"remove":{"path":"letter=b/part-1.parquet","deletionTimestamp":1668830188330,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{"letter":"b"},"size":490}})",
    R"({"txn":{"appId":"3ba13872-2d47-4e17-86a0-21afd60c5f7e","version":364475,"lastUpdated":1668830184000}})",
    R"({"cdc":{"path":"_change_data/cdc-00000.snappy.parquet","partitionValues":{},"size":1213,"dataChange":false}})",
    R"({"commitInfo":{"timestamp":1668830184991,"operation":"WRITE","operationParameters":{"mode":"Append","partitionBy":"[]"},"readVersion":0,"isolationLevel":"Serializable","isBlindAppend":true,"operationMetrics":{"numFiles":"3","numOutputRows":"3"},"engineInfo":"Apache-Spark/3.3.1 Delta-Lake/2.1.1","txnId":"9f30ff3d"}})",
    R"({"domainMetadata":{"domain":"delta.clustering","configuration":"{\"c\":1}","removed":false}})",
    R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["timestampNtz"],"writerFeatures":["timestampNtz","invariants"]}})",
};

Action MustParse(std::string_view line) {
  auto r = ParseAction(line);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r.ok() && r->has_value());
  return r.ok() && r->has_value() ? **r : Action(CommitInfo{});
}

TEST(ActionsTest, SparkLinesRoundTripExactly) {
  for (const char* line : kSparkLines) {
    EXPECT_EQ(SerializeAction(MustParse(line)), line);
  }
}

TEST(ActionsTest, AddFieldsParsed) {
  auto a = std::get<AddFile>(MustParse(kSparkLines[2]));
  EXPECT_EQ(a.path, "letter=a/part-00000-1.c000.snappy.parquet");
  EXPECT_EQ(a.partition_values.at("letter"), "a");
  EXPECT_EQ(a.size, 490);
  EXPECT_EQ(a.modification_time, 1668830184954);
  EXPECT_TRUE(a.data_change);
  ASSERT_TRUE(a.stats);
  EXPECT_EQ(a.stats->substr(0, 15), R"({"numRecords":1)");
}

TEST(ActionsTest, CommitInfoAccessors) {
  auto c = std::get<CommitInfo>(MustParse(kSparkLines[6]));
  EXPECT_EQ(c.timestamp(), 1668830184991);
  EXPECT_EQ(c.in_commit_timestamp(), std::nullopt);
  EXPECT_EQ(c.operation(), "WRITE");
}

TEST(ActionsTest, UnknownActionsAndFieldsIgnored) {
  auto r = ParseAction(R"({"checkpointMetadata":{"version":3}})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  auto a = std::get<AddFile>(
      MustParse(R"({"add":{"path":"p","newField":{"x":[1,2]},"partitionValues":{},"size":1,)"
                R"("modificationTime":2,"dataChange":false,"stats_parsed":{"numRecords":1}}})"));
  EXPECT_EQ(a.path, "p");
  EXPECT_FALSE(a.data_change);
}

TEST(ActionsTest, PartitionValuesNullAndEmptyAreNull) {
  auto a = std::get<AddFile>(
      MustParse(R"({"add":{"path":"p","partitionValues":{"a":null,"b":"","c":"x"},"size":1,)"
                R"("modificationTime":2,"dataChange":true}})"));
  EXPECT_EQ(a.partition_values.at("a"), std::nullopt);
  EXPECT_EQ(a.partition_values.at("b"), std::nullopt);
  EXPECT_EQ(a.partition_values.at("c"), "x");
  EXPECT_NE(SerializeAction(a).find(R"("partitionValues":{"a":null,"b":null,"c":"x"})"),
            std::string::npos);
}

TEST(ActionsTest, MissingRequiredFieldNamesIt) {
  auto r = ParseAction(R"({"add":{"path":"p","partitionValues":{},"modificationTime":2,)"
                       R"("dataChange":true}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(r.status().message().find("size"), std::string::npos);
  r = ParseAction(
      R"({"metaData":{"id":"x","format":{"provider":"parquet"},"partitionColumns":[]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("schemaString"), std::string::npos);
  r = ParseAction(R"({"protocol":{"minReaderVersion":1}})");
  EXPECT_NE(r.status().message().find("minWriterVersion"), std::string::npos);
  r = ParseAction(R"({"txn":{"version":1}})");
  EXPECT_NE(r.status().message().find("appId"), std::string::npos);
}

TEST(ActionsTest, WrongTypeIsCorrupt) {
  auto r = ParseAction(R"({"add":{"path":"p","partitionValues":{},"size":"12",)"
                       R"("modificationTime":2,"dataChange":true}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(r.status().message().find("add.size"), std::string::npos);
  r = ParseAction(R"({"protocol":{"minReaderVersion":99999999999,"minWriterVersion":2}})");
  EXPECT_FALSE(r.ok());
  r = ParseAction(R"({"add":"not an object"})");
  EXPECT_FALSE(r.ok());
}

TEST(ActionsTest, NullOptionalFieldsAsInCheckpoints) {
  auto a = std::get<AddFile>(MustParse(
      R"({"add":{"path":"p","partitionValues":{},"size":1,"modificationTime":2,)"
      R"("dataChange":false,"stats":null,"tags":null,"deletionVector":null,"baseRowId":null}})"));
  EXPECT_FALSE(a.stats);
  EXPECT_FALSE(a.deletion_vector);
  auto p = std::get<Protocol>(
      MustParse(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2,"readerFeatures":null,)"
                R"("writerFeatures":null}})"));
  EXPECT_FALSE(p.reader_features);
  EXPECT_EQ(SerializeAction(p), kSparkLines[0]);
}

TEST(ActionsTest, DeletionVectorRoundTripAndUniqueId) {
  const std::string line =
      R"({"remove":{"path":"a.parquet","deletionTimestamp":5,"dataChange":true,)"
      R"("deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":4,)"
      R"("sizeInBytes":40,"cardinality":6,"maxRowIndex":9}}})";
  auto r = std::get<RemoveFile>(MustParse(line));
  ASSERT_TRUE(r.deletion_vector);
  EXPECT_EQ(r.deletion_vector->UniqueId(), "uab^-aqEH.-t@S}K{vb[*k^@4");
  EXPECT_EQ(SerializeAction(r), line);
  DeletionVector inline_dv{"i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", {}, 40, 6,
                           {}};
  EXPECT_EQ(inline_dv.UniqueId(), "iwi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L");
}

TEST(ActionsTest, RemoveOmitsUnsetOptionalFields) {
  RemoveFile r;
  r.path = "x";
  r.deletion_timestamp = 10;
  EXPECT_EQ(SerializeAction(r),
            R"({"remove":{"path":"x","deletionTimestamp":10,"dataChange":true}})");
}

TEST(ActionsTest, SerializationEscapesStrings) {
  AddFile a;
  a.path = "a b/\"q\"\\\n\x01é";
  a.stats = R"({"minValues":{"s":"x"}})";
  std::string line = SerializeAction(a);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = std::get<AddFile>(MustParse(line));
  EXPECT_EQ(back.path, a.path);
  EXPECT_EQ(back.stats, a.stats);
}

TEST(ActionsTest, ParseActionsNamesFileAndLine) {
  std::string content =
      std::string(kSparkLines[0]) + "\n" + kSparkLines[2] + "\n" + R"({"add":{"path":"trunc)";
  auto r = ParseActions(content, "_delta_log/00000000000000000003.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(r.status().message().find("00000000000000000003.json line 3"), std::string::npos)
      << r.status().message();
}

TEST(ActionsTest, ParseActionsSkipsBlankLinesAndCrLf) {
  std::string content = std::string(kSparkLines[0]) + "\r\n\n" + kSparkLines[4] + "\n";
  auto r = ParseActions(content, "f");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE(std::holds_alternative<Protocol>((*r)[0]));
  EXPECT_TRUE(std::holds_alternative<SetTransaction>((*r)[1]));
}

TEST(ActionsTest, EmptyOrActionlessCommitIsCorruptNamingTheFile) {
  const std::string file = "_delta_log/00000000000000000001.json";
  for (std::string content : {"", "\n", "  \r\n\t\n"}) {
    auto r = ParseActions(content, file);
    ASSERT_FALSE(r.ok()) << "content: '" << content << "'";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruptLog);
    EXPECT_EQ(r.status().message(), "commit file " + file + " is empty");
  }
  for (std::string content : {"{}", "{\"commitInfo\":null}\n", "{\"futureAction\":{}}\n"}) {
    auto r = ParseActions(content, file);
    ASSERT_FALSE(r.ok()) << content;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruptLog);
    EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status().message();
    EXPECT_EQ(ForEachAction(content, file, [](Action&&) {}).code(), StatusCode::kCorruptLog);
  }
  EXPECT_TRUE(ParseActions(std::string(kSparkLines[6]) + "\n", file).ok());
}

TEST(ActionsTest, SerializeActionsOneLineEach) {
  std::vector<Action> actions{MustParse(kSparkLines[0]), MustParse(kSparkLines[1])};
  std::string s = SerializeActions(actions);
  EXPECT_EQ(s, std::string(kSparkLines[0]) + "\n" + kSparkLines[1] + "\n");
}

}  // namespace
}  // namespace dl::delta
