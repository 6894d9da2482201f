#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "dl/delta/actions.hpp"
#include "dl/delta/parquet_handler.hpp"
#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

namespace fs = std::filesystem;
using testing::NewEngine;
using testing::Scalar;
using testing::TempDir;

std::vector<delta::Action> SampleActions(int num_adds) {
  std::vector<delta::Action> actions;
  delta::Protocol protocol;
  protocol.min_reader_version = 3;
  protocol.min_writer_version = 7;
  protocol.reader_features = std::vector<std::string>{"timestampNtz"};
  protocol.writer_features = std::vector<std::string>{"timestampNtz", "domainMetadata"};
  actions.push_back(protocol);
  delta::Metadata md;
  md.id = "5f1a2b3c-0000-4000-8000-000000000001";
  md.name = "events";
  md.schema_string = R"({"type":"struct","fields":[{"name":"p","type":"string","nullable":true,)"
                     R"("metadata":{}},{"name":"v","type":"long","nullable":true,"metadata":{}}]})";
  md.partition_columns = {"p"};
  md.configuration = {{"delta.checkpointInterval", "10"}};
  md.created_time = 1700000000000;
  actions.push_back(md);
  actions.push_back(delta::SetTransaction{"app-1", 42, 1700000000001});
  actions.push_back(delta::DomainMetadata{"delta.clustering", R"({"c":["v"]})", false});
  for (int i = 0; i < num_adds; ++i) {
    delta::AddFile add;
    add.path = fmt::format("p=v%253D{}/part-{:05d}.snappy.parquet", i % 7, i);
    add.partition_values = {
        {"p", i % 5 == 0 ? std::nullopt : std::optional<std::string>(fmt::format("v={}", i % 7))}};
    add.size = 1000 + i;
    add.modification_time = 1700000000000 + i;
    add.data_change = true;
    add.stats = fmt::format(R"({{"numRecords":{},"minValues":{{"v":0}},"maxValues":{{"v":{}}},)"
                            R"("nullCount":{{"v":0}}}})",
                            i + 1, i);
    if (i % 100 == 0) add.tags = delta::StringMap{{"INSERTION_TIME", "1700000000000000"}};
    actions.push_back(add);
  }
  delta::RemoveFile remove;
  remove.path = "p=old/part-old.snappy.parquet";
  remove.deletion_timestamp = 1700000000500;
  remove.data_change = true;
  remove.extended_file_metadata = true;
  remove.partition_values = delta::PartitionValues{{"p", "old"}};
  remove.size = 77;
  remove.deletion_vector = delta::DeletionVector{"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 2, 5};
  actions.push_back(remove);
  return actions;
}

std::vector<std::string> Serialize(const std::vector<delta::Action>& actions) {
  std::vector<std::string> lines;
  for (const auto& a : actions) lines.push_back(delta::SerializeAction(a));
  return lines;
}

// Lines as a multiset of parsed JSON values (key order does not matter).
std::multiset<std::string> Canonical(const std::vector<std::string>& lines) {
  std::multiset<std::string> out;
  for (const auto& l : lines) out.insert(nlohmann::json::parse(l).dump());
  return out;
}

TEST(DuckDbCheckpoint, RoundTripThousandAdds) {
  TempDir dir;
  auto engine = NewEngine();
  auto lines = Serialize(SampleActions(1000));
  // commitInfo never goes into a checkpoint; it must simply be skipped.
  lines.push_back(R"({"commitInfo":{"timestamp":1,"operation":"WRITE"}})");
  std::string path = dir / "00000000000000000010.checkpoint.parquet";
  Status st = engine->WriteCheckpoint(path, lines);
  ASSERT_TRUE(st.ok()) << st.ToString();
  lines.pop_back();
  EXPECT_EQ(fs::directory_iterator(dir.path())->path().string(), path);  // no temp file left
  auto read = engine->ReadCheckpointActions({path});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), lines.size());
  EXPECT_EQ(Canonical(*read), Canonical(lines));
  for (const auto& line : *read) {
    auto parsed = delta::ParseAction(line);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << line;
    EXPECT_TRUE(parsed->has_value()) << line;
  }
}

TEST(DuckDbCheckpoint, FileHasSparkCheckpointSchema) {
  TempDir dir;
  auto engine = NewEngine();
  std::string path = dir / "00000000000000000001.checkpoint.parquet";
  ASSERT_TRUE(engine->WriteCheckpoint(path, Serialize(SampleActions(3))).ok());
  std::string file = QuoteLiteral(path);
  // Top-level columns in Spark's order, each a struct; one action per row.
  auto cols = engine->Query(
      "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
      "read_parquet(" +
      file + "))");
  ASSERT_TRUE(cols.ok());
  std::vector<std::string> names;
  for (const auto& r : cols->rows) names.push_back(*r[0]);
  EXPECT_EQ(names, (std::vector<std::string>{"txn", "add", "remove", "metaData", "protocol",
                                             "domainMetadata"}));
  EXPECT_EQ(*cols->rows[1][1],
            "STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, "
            "modificationTime BIGINT, dataChange BOOLEAN, tags MAP(VARCHAR, VARCHAR), "
            "deletionVector STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" "
            "INTEGER, sizeInBytes INTEGER, cardinality BIGINT, maxRowIndex BIGINT), baseRowId "
            "BIGINT, defaultRowCommitVersion BIGINT, stats VARCHAR, clusteringProvider VARCHAR)");
  EXPECT_EQ(*cols->rows[4][1],
            "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], "
            "writerFeatures VARCHAR[])");
  EXPECT_EQ(Scalar(*engine, "SELECT count(*) FROM read_parquet(" + file +
                                ") WHERE "
                                "(txn IS NOT NULL)::INT + (add IS NOT NULL)::INT + (remove IS NOT "
                                "NULL)::INT + (metaData IS NOT NULL)::INT + (protocol IS NOT "
                                "NULL)::INT + (domainMetadata IS NOT NULL)::INT <> 1"),
            "0");
  // Maps are key_value groups with a required key; lists are list/element.
  auto leaves = engine->Query("SELECT name, repetition_type FROM parquet_schema(" + file +
                              ") WHERE name IN ('key_value', 'key', 'list', 'element')");
  ASSERT_TRUE(leaves.ok());
  std::set<std::string> seen;
  for (const auto& r : leaves->rows) {
    seen.insert(*r[0]);
    if (*r[0] == "key") EXPECT_EQ(r[1], "REQUIRED");
  }
  EXPECT_EQ(seen, (std::set<std::string>{"key_value", "key", "list", "element"}));
}

TEST(DuckDbCheckpoint, FeatureListsStayNullForLegacyProtocol) {
  TempDir dir;
  auto engine = NewEngine();
  std::string path = dir / "c.parquet";
  ASSERT_TRUE(engine
                  ->WriteCheckpoint(path, {R"({"protocol":{"minReaderVersion":1,)"
                                           R"("minWriterVersion":2}})"})
                  .ok());
  EXPECT_EQ(Scalar(*engine, "SELECT protocol.readerFeatures IS NULL FROM read_parquet(" +
                                QuoteLiteral(path) + ")"),
            "true");
  auto read = engine->ReadCheckpointActions({path});
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ(read->at(0), R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})");
}

TEST(DuckDbCheckpoint, ReadDropsParsedColumnsAndKeepsNullPartitionValues) {
  TempDir dir;
  auto engine = NewEngine();
  // A checkpoint shaped like Spark's, with partitionValues_parsed and stats_parsed.
  std::string path = dir / "spark.parquet";
  ASSERT_TRUE(engine
                  ->Execute("COPY (SELECT {'path': 'a.parquet', 'partitionValues': MAP {'p': "
                            "NULL::VARCHAR}, 'size': 10::BIGINT, 'modificationTime': 5::BIGINT, "
                            "'dataChange': false, 'stats': NULL::VARCHAR, "
                            "'partitionValues_parsed': {'p': NULL::INT}, 'stats_parsed': "
                            "{'numRecords': 3::BIGINT}} AS add, NULL::STRUCT(appId VARCHAR) AS "
                            "txn) TO " +
                            QuoteLiteral(path) + " (FORMAT parquet)")
                  .ok());
  auto read = engine->ReadCheckpointActions({path});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(read->at(0)),
            nlohmann::json::parse(R"({"add":{"partitionValues":{"p":null},"path":"a.parquet",)"
                                  R"("size":10,"modificationTime":5,"dataChange":false}})"));
}

TEST(DuckDbCheckpoint, CorruptCheckpointIsCorruptLogNamingFile) {
  TempDir dir;
  std::string path = dir / "00000000000000000010.checkpoint.parquet";
  std::ofstream(path) << "garbage";
  auto engine = NewEngine();
  auto read = engine->ReadCheckpointActions({path});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(read.status().message().find("00000000000000000010.checkpoint.parquet"),
            std::string::npos)
      << read.status().message();
}

TEST(DuckDbCheckpoint, MultiPartRead) {
  TempDir dir;
  auto engine = NewEngine();
  auto actions = SampleActions(10);
  auto lines = Serialize(actions);
  std::vector<std::string> first(lines.begin(), lines.begin() + 6);
  std::vector<std::string> second(lines.begin() + 6, lines.end());
  ASSERT_TRUE(engine->WriteCheckpoint(dir / "part1.parquet", first).ok());
  ASSERT_TRUE(engine->WriteCheckpoint(dir / "part2.parquet", second).ok());
  auto read = engine->ReadCheckpointActions({dir / "part1.parquet", dir / "part2.parquet"});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(Canonical(*read), Canonical(lines));
}

// Structs built from the columns must equal the parsed JSON lines of the same checkpoint.
std::multiset<std::string> ActionsAsLines(const delta::CheckpointActions& read) {
  std::multiset<std::string> out;
  for (const auto& a : read.adds) out.insert(delta::SerializeAction(a));
  for (const auto& r : read.removes) out.insert(delta::SerializeAction(r));
  for (const auto& o : read.others) out.insert(delta::SerializeAction(o));
  return out;
}

TEST(DuckDbCheckpoint, ReadCheckpointMatchesParsedLines) {
  TempDir dir;
  auto engine = NewEngine();
  auto actions = SampleActions(300);
  delta::RemoveFile plain;  // a remove the direct path reads (no deletion vector)
  plain.path = "p=x/gone.parquet";
  plain.deletion_timestamp = 1700000000600;
  plain.partition_values = delta::PartitionValues{{"p", std::nullopt}};  // no tags: Spark's
  plain.size = 12;  // checkpoint schema has no remove.tags
  actions.push_back(plain);
  std::string path = dir / "c.parquet";
  ASSERT_TRUE(engine->WriteCheckpoint(path, Serialize(actions)).ok());

  auto direct = engine->ReadCheckpoint({path}, true);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  auto lines = engine->ReadCheckpointActions({path});
  ASSERT_TRUE(lines.ok());
  delta::CheckpointActions parsed;
  ASSERT_TRUE(delta::ParseCheckpointLines(*lines, path, &parsed).ok());
  EXPECT_EQ(direct->adds.size(), 300u);
  EXPECT_EQ(direct->removes.size(), 2u);
  EXPECT_EQ(direct->others.size(), 4u);
  EXPECT_EQ(ActionsAsLines(*direct), ActionsAsLines(parsed));
  std::multiset<std::string> written;
  for (const auto& a : actions) written.insert(delta::SerializeAction(a));
  EXPECT_EQ(ActionsAsLines(*direct), written);

  auto metadata_only = engine->ReadCheckpoint({path}, false);
  ASSERT_TRUE(metadata_only.ok()) << metadata_only.status().ToString();
  EXPECT_TRUE(metadata_only->adds.empty());
  EXPECT_TRUE(metadata_only->removes.empty());
  EXPECT_EQ(metadata_only->others.size(), 4u);
}

TEST(DuckDbCheckpoint, ReadCheckpointReportsAddWithoutPath) {
  TempDir dir;
  auto engine = NewEngine();
  std::string path = dir / "00000000000000000003.checkpoint.parquet";
  ASSERT_TRUE(engine
                  ->Execute("COPY (SELECT {'path': NULL::VARCHAR, 'partitionValues': MAP {}::"
                            "MAP(VARCHAR, VARCHAR), 'size': 1::BIGINT, 'modificationTime': "
                            "1::BIGINT, 'dataChange': true} AS add) TO " +
                            QuoteLiteral(path) + " (FORMAT parquet)")
                  .ok());
  auto read = engine->ReadCheckpoint({path}, true);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruptLog);
  EXPECT_NE(read.status().message().find("path"), std::string::npos) << read.status().message();
  EXPECT_NE(read.status().message().find("00000000000000000003.checkpoint.parquet"),
            std::string::npos)
      << read.status().message();
}

TEST(DuckDbCheckpoint, ReadCheckpointReadsV2ActionsAndKeepsIntegerWidths) {
  TempDir dir;
  auto engine = NewEngine();
  std::string path = dir / "v2.parquet";
  // INTEGER size/modificationTime (a lenient writer) are read as int64.
  ASSERT_TRUE(
      engine
          ->Execute("COPY (SELECT {'path': 'a.parquet', 'partitionValues': MAP {'p': ''}, "
                    "'size': 7::INTEGER, 'modificationTime': 9::INTEGER, 'dataChange': "
                    "true} AS add, NULL::STRUCT(path VARCHAR, sizeInBytes BIGINT, "
                    "modificationTime BIGINT) AS sidecar, NULL::STRUCT(version BIGINT, tags "
                    "MAP(VARCHAR, VARCHAR)) AS checkpointMetadata UNION ALL SELECT NULL, "
                    "{'path': 's%20x.parquet', 'sizeInBytes': 1, 'modificationTime': 2}, NULL "
                    "UNION ALL SELECT NULL, NULL, {'version': 4, 'tags': MAP {}}) TO " +
                    QuoteLiteral(path) + " (FORMAT parquet)")
          .ok());
  auto read = engine->ReadCheckpoint({path}, true);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->sidecars.size(), 1u);
  EXPECT_EQ(read->sidecars[0].path, "s%20x.parquet");
  EXPECT_EQ(read->sidecars[0].size_in_bytes, 1);
  EXPECT_EQ(read->sidecars[0].modification_time, 2);
  EXPECT_EQ(read->checkpoint_metadata_version, 4);
  ASSERT_EQ(read->adds.size(), 1u);
  EXPECT_EQ(read->adds[0].size, 7);
  EXPECT_EQ(read->adds[0].modification_time, 9);
  EXPECT_EQ(read->adds[0].partition_values.at("p"), std::nullopt);  // "" means null
}

TEST(DuckDbCheckpoint, HundredThousandAddsReadFast) {
  TempDir dir;
  auto engine = NewEngine();
  auto lines = Serialize(SampleActions(100000));
  std::string path = dir / "big.checkpoint.parquet";
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(engine->WriteCheckpoint(path, lines).ok());
  auto t1 = std::chrono::steady_clock::now();
  auto read = engine->ReadCheckpointActions({path});
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), lines.size());
  auto structs = engine->ReadCheckpoint({path}, true);
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(structs.ok()) << structs.status().ToString();
  EXPECT_EQ(structs->adds.size(), 100000u);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("checkpoint with %zu actions: write %lld ms, read lines %lld ms, structs %lld ms\n",
              lines.size(), static_cast<long long>(ms(t1 - t0)),
              static_cast<long long>(ms(t2 - t1)), static_cast<long long>(ms(t3 - t2)));
  EXPECT_LT(ms(t2 - t1), 3000);  // generous for slow CI; typically well under a second
  EXPECT_LT(ms(t3 - t2), 3000);
}

}  // namespace
}  // namespace dl::engine
