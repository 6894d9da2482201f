// Demo data generator: writes batches of customers (csv) and transactions (parquet and json)
// under <out>/raw, the way files land in storage. Deterministic for a given batch number.
//   dl_demo_gen <out_dir> [batches] [first]   (batches first .. first+batches-1)
#include <cstdlib>
#include <iostream>
#include <string>

#include "dl/engine/engine.hpp"
#include "dl/storage/file_system.hpp"

namespace {

dl::Status WriteBatch(dl::engine::Engine& engine, const std::string& raw, int batch) {
  using dl::engine::QuoteLiteral;
  int first = batch * 50;
  // Customers: 100 rows per batch, half of them updates of earlier customers (SCD2 food).
  std::string customers = fmt::format(
      "SELECT (i % {0}) + 1 AS customer_id, 'Customer ' || ((i % {0}) + 1) AS name, "
      "'c' || ((i % {0}) + 1) || '_v{1}@example.com' AS email, "
      "(i * 7 % 90 + 10) || ' Main St' AS address, DATE '2024-01-01' + {1} AS date_partition "
      "FROM range({2}, {2} + 100) t(i)",
      first + 100, batch, first);
  DL_RETURN_IF_ERROR(engine.Execute(fmt::format(
      "COPY ({}) TO {} (FORMAT csv, HEADER)", customers,
      QuoteLiteral(fmt::format("{}/customers/customers_{:03}.csv", raw, batch)))));
  std::string tx = fmt::format(
      "SELECT {0} * 100000 + i AS transaction_id, (i * 13 % 150) + 1 AS customer_id, "
      "round((i * 37 % 10000) / 100.0, 2)::DECIMAL(10,2) AS amount, "
      "['card','cash','transfer'][1 + i % 3] AS method, "
      "TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i * 17 + {0} * 86400) SECOND AS ts, "
      "DATE '2024-01-01' + {0} AS transaction_date FROM range(1000) t(i)",
      batch);
  DL_RETURN_IF_ERROR(engine.Execute(fmt::format(
      "COPY ({}) TO {} (FORMAT parquet)", tx,
      QuoteLiteral(fmt::format("{}/transactions/transactions_{:03}.parquet", raw, batch)))));
  return engine.Execute(fmt::format(
      "COPY ({} LIMIT 200) TO {} (FORMAT json)", tx,
      QuoteLiteral(fmt::format("{}/events/events_{:03}.json", raw, batch))));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: dl_demo_gen <out_dir> [batches] [first]\n";
    return 2;
  }
  std::string raw = dl::JoinPath(argv[1], "raw");
  int batches = argc > 2 ? std::atoi(argv[2]) : 3;
  int first = argc > 3 ? std::atoi(argv[3]) : 0;
  auto fs = dl::MakeLocalFileSystem();
  for (const char* sub : {"customers", "transactions", "events"}) {
    if (auto st = fs->CreateDirs(dl::JoinPath(raw, sub)); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
  }
  auto engine = dl::engine::MakeDuckDbEngine();
  if (!engine.ok()) {
    std::cerr << "error: " << engine.status().message() << "\n";
    return 1;
  }
  for (int b = first; b < first + batches; ++b) {
    if (auto st = WriteBatch(**engine, raw, b); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
  }
  std::cout << "wrote " << batches << " batches of demo data under " << raw << "\n";
  return 0;
}
