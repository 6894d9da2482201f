// Times log replay (Snapshot::Load) of a big table and a one-file append to it, in process.
//   dl_bench_delta_log <table_dir> <scratch_dir> <one_file.parquet> <reps>
// Each append runs on a fresh copy of the table's log in scratch_dir, so every rep commits
// the same version. Prints one JSON object with the median and minimum seconds of each.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "dl/table/table.hpp"

namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::json Summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {{"median_s", v[v.size() / 2]}, {"min_s", v.front()}, {"reps", v.size()}};
}

int Fail(const dl::Status& st) {
  std::cerr << "error: " << st.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: dl_bench_delta_log <table_dir> <scratch_dir> <one_file.parquet> <reps>\n";
    return 2;
  }
  std::string table = argv[1], scratch = argv[2], one_file = argv[3];
  int reps = std::atoi(argv[4]);
  auto fs = dl::MakeLocalFileSystem();
  auto engine = dl::engine::MakeDuckDbEngine();
  if (!engine.ok()) return Fail(engine.status());
  dl::table::TableContext ctx{*fs, **engine};

  std::vector<double> load, append;
  size_t files = 0;
  for (int i = 0; i < reps; ++i) {
    auto t = std::chrono::steady_clock::now();
    auto snap = dl::table::LoadSnapshot(ctx, table);
    load.push_back(Seconds(t));
    if (!snap.ok()) return Fail(snap.status());
    files = (*snap)->files().size();
  }
  if (auto st = (*engine)->RegisterFiles("__bench_src", {one_file}, {}); !st.ok()) return Fail(st);
  for (int i = 0; i < reps; ++i) {
    std::string copy = scratch + "/append_" + std::to_string(i);
    std::filesystem::remove_all(copy);
    std::filesystem::create_directories(copy);
    std::filesystem::copy(table + "/_delta_log", copy + "/_delta_log",
                          std::filesystem::copy_options::recursive);
    dl::table::WriteRequest req;
    req.source_sql = "SELECT * FROM __bench_src";
    auto t = std::chrono::steady_clock::now();
    auto r = dl::table::Write(ctx, copy, req);
    append.push_back(Seconds(t));
    if (!r.ok()) return Fail(r.status());
    std::filesystem::remove_all(copy);
  }
  std::cout << nlohmann::json{{"live_files", files},
                              {"load", Summary(load)},
                              {"append_one_file", Summary(append)}}
                   .dump()
            << "\n";
  return 0;
}
