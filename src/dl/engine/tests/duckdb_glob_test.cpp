// Files whose paths hold DuckDB's glob characters ('*', '?', '[') are read as exactly those
// files. Beside each one lies a file its path would match as a pattern (st*.csv: stZ.csv;
// in[1]/: in1/; q?.csv: qq.csv), which must stay unread.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dl/delta/partition.hpp"
#include "dl/delta/snapshot.hpp"
#include "dl/engine/duckdb/object_store.hpp"
#include "dl/engine/tests/engine_test_util.hpp"

namespace dl::engine {
namespace {

namespace fs = std::filesystem;
using duck::ReadAsWritten;
using duck::ReadPath;
using testing::NewEngine;
using testing::TempDir;

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A file holding the row id=`id` in `format`.
void WriteRow(Engine& engine, const std::string& path, int id, const std::string& format) {
  if (format == "csv") return WriteText(path, "id\n" + std::to_string(id) + "\n");
  if (format == "json") return WriteText(path, "{\"id\": " + std::to_string(id) + "}\n");
  // COPY writes to a plain name (it does not glob, but keep the test about reading).
  fs::create_directories(fs::path(path).parent_path());
  std::string plain = fs::path(path).parent_path() / "tmp.parquet";
  Status st = engine.Execute(fmt::format("COPY (SELECT {}::BIGINT AS id) TO {} (FORMAT parquet)",
                                         id, QuoteLiteral(plain)));
  ASSERT_TRUE(st.ok()) << st.ToString();
  fs::rename(plain, path);
}

// "id file" of every row of `view`, by id.
std::vector<std::string> Rows(Engine& engine, const std::string& view) {
  auto rows = engine.Query(fmt::format("SELECT id || ' ' || fn FROM {} ORDER BY id", view));
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<std::string> out;
  if (rows.ok()) {
    for (const auto& r : rows->rows) out.push_back(r.at(0).value_or("NULL"));
  }
  return out;
}

TEST(DuckDbGlob, ReadPathEscapesWhatTheStoreWouldGlob) {
  EXPECT_EQ(ReadPath("/data/in[1]/st*.csv"), "/data/in[[]1]/st[*].csv");
  EXPECT_EQ(ReadPath("/data/q?/a]b.csv"), "/data/q[?]/a]b.csv");
  EXPECT_EQ(ReadPath("/data/plain.csv"), "/data/plain.csv");
  // DuckDB takes an absolute path's first component as written (and matches the rest).
  EXPECT_EQ(ReadPath("/d[1]/f?.csv"), "/d[1]/f[?].csv");
  EXPECT_EQ(ReadPath("rel[1]/f.csv"), "rel[[]1]/f.csv");
  // httpfs runs in compatibility mode: S3 keys are taken as written.
  EXPECT_EQ(ReadPath("s3://b/k[1]/*?.csv"), "s3://b/k[1]/*?.csv");
  EXPECT_EQ(ReadPath("az://c/k*/?[\\.csv"), "az://c/k[*]/[?][[][\\].csv");
  EXPECT_EQ(ReadPath("abfss://c@acct.dfs.core.windows.net/a[1]/f.csv"), "az://c/a[[]1]/f.csv");
  // An escaped directory is a prefix of its files' escaped paths (allowed directories, scopes).
  EXPECT_EQ(ReadPath("az://c/la nd?/").rfind(ReadPath("az://c/la nd?"), 0), 0u);

  // No escape keeps a local name with a backslash whole (DuckDB's glob splits it there).
  EXPECT_EQ(ReadPath("/data/a\\b[1].csv"), "/data/a\\b[1].csv");
  EXPECT_TRUE(ReadAsWritten("/data/a\\b[1].csv"));
  EXPECT_TRUE(ReadAsWritten("/st*.csv"));         // DuckDB never reads a root file with one
  EXPECT_FALSE(ReadAsWritten("/data/a\\b.csv"));  // no glob character: read as written
  EXPECT_FALSE(ReadAsWritten("/data/in[1]/st*.csv"));
  EXPECT_FALSE(ReadAsWritten("s3://b/a\\b[1]?.csv"));
}

class DuckDbGlobFormats : public ::testing::TestWithParam<std::string> {};

TEST_P(DuckDbGlobFormats, SourceFilesAreReadByTheirOwnNames) {
  const std::string format = GetParam();
  const std::string ext = "." + format;
  TempDir dir;
  const std::string in = dir / "in[1]", decoy_dir = dir / "in1";
  auto engine_for_writing = NewEngine();
  std::vector<std::string> files;
  int id = 1;
  for (const std::string name : {"st*", "x[1]", "q?"}) {
    files.push_back(in + "/" + name + ext);
    WriteRow(*engine_for_writing, files.back(), id, format);
    WriteRow(*engine_for_writing, decoy_dir + "/" + name + ext, 100 + id, format);
    ++id;
  }
  for (const std::string name : {"stZ", "x1", "qq"}) {  // what the names match as patterns
    WriteRow(*engine_for_writing, in + "/" + name + ext, 200 + id++, format);
  }
  // Unlocked, and locked to in[1]/ (DuckDB checks the escaped pattern and the files it
  // matches against the allowed directories).
  EngineOptions locked;
  locked.threads = 2;
  locked.allowed_directories = std::vector<std::string>{in + "/"};
  for (const EngineOptions& options : {EngineOptions{}, locked}) {
    auto engine = MakeDuckDbEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    SourceOptions source;
    source.format = format;
    source.options["filename"] = "fn";
    const std::vector<std::string> want = {"1 " + files[0], "2 " + files[1], "3 " + files[2]};
    Status st = (*engine)->RegisterFiles("src", files, source);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(Rows(**engine, "src"), want);
    // One file alone (csv: sniffed alone rather than grouped by header) and materialized.
    source.materialize = true;
    for (size_t i = 0; i < files.size(); ++i) {
      st = (*engine)->RegisterFiles("one", {files[i]}, source);
      ASSERT_TRUE(st.ok()) << st.ToString();
      EXPECT_EQ(Rows(**engine, "one"), std::vector<std::string>{want[i]});
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, DuckDbGlobFormats, ::testing::Values("csv", "json", "parquet"));

TEST(DuckDbGlob, APathNoEscapeKeepsWholeIsReadOnlyWhereItMatchesNothingElse) {
  TempDir dir;
  const std::string good = dir / "in[1]/good.csv";
  const std::string lone = dir / "in[1]/back\\slash[1].csv";  // DuckDB reads "back/slash[1]"
  const std::string bad = dir / "in[1]/a\\b[1].csv";
  const std::string decoy = dir / "in1/a/b1.csv";  // ... and "a/b[1]" matches this
  WriteText(good, "id\n1\n");
  WriteText(lone, "id\n2\n");
  WriteText(bad, "id\n3\n");
  WriteText(decoy, "id\n4\n");
  auto engine = NewEngine();
  SourceOptions source;
  source.format = "csv";
  source.options["filename"] = "fn";
  Status st = engine->RegisterFiles("src", {good, lone, bad}, source);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.detail().cause, ErrorDetail::Cause::kData);
  EXPECT_EQ(st.detail().files, std::vector<std::string>{bad});
  EXPECT_NE(st.message().find(bad + ": DuckDB takes this path as a pattern"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("it matches '" + decoy + "'; rename the file"), std::string::npos)
      << st.message();
  st = engine->RegisterFiles("src", {good, lone}, source);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Rows(*engine, "src"), (std::vector<std::string>{"1 " + good, "2 " + lone}));
}

TEST(DuckDbGlob, TableDataFilesBelowAGlobDirectoryAreReadByTheirOwnNames) {
  TempDir dir;
  auto engine = NewEngine();
  const std::string root = dir / "t[1]*";
  // The same file names below t1x/, which t[1]* matches as a pattern.
  std::vector<delta::AddFile> adds;
  for (const std::string name : {"part-0 [a].parquet", "p=x?/part-1.parquet"}) {
    for (const std::string& r : {root, std::string(dir / "t1x")}) {
      const std::string path = r + "/" + name;
      fs::create_directories(fs::path(path).parent_path());
      const int id = (r == root ? 1 : 100) + static_cast<int>(adds.size());
      ASSERT_TRUE(engine
                      ->Execute(fmt::format("COPY (SELECT {}::BIGINT AS id) TO {} (FORMAT parquet)",
                                            id, QuoteLiteral(path)))
                      .ok());
      if (r != root) continue;
      delta::AddFile add;
      add.path = delta::UriEncodePath(name);
      add.size = static_cast<int64_t>(fs::file_size(path));
      adds.push_back(add);
    }
  }
  auto schema = delta::ParseSchemaString(
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]})");
  ASSERT_TRUE(schema.ok());
  delta::Metadata md;
  md.id = "t";
  md.schema_string = delta::SerializeSchema(*schema);
  delta::Snapshot snapshot(root, delta::LogSegment{}, 1, 0, delta::Protocol{}, md, *schema, adds,
                           {}, {}, {});
  ASSERT_TRUE(engine->RegisterSnapshotWithFileColumn("snap", snapshot, nullptr).ok());
  auto rows = engine->Query("SELECT id, \"_dl_file\" FROM snap ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0][0], "1");
  EXPECT_EQ(rows->rows[1][0], "2");
  EXPECT_EQ(rows->rows[0][1], adds[0].path);
  EXPECT_EQ(rows->rows[1][1], adds[1].path);
}

}  // namespace
}  // namespace dl::engine
