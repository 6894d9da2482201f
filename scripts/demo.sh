#!/usr/bin/env bash
# Install what is needed, build, generate demo data and load it into Delta tables.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh" >/dev/null
dl="$root/build/data_loader"
demo="$root/examples/quickstart/data"
rm -rf "$demo"
"$root/build/dl_demo_gen" "$demo" 3
table="$demo/processed/analytics/transactions"
echo "== create the table from the first batch, partitioned by transaction_date"
"$dl" table write "$table" --source "$demo/raw/transactions/transactions_000.parquet" \
  --partition-by transaction_date
echo "== append the other batches"
"$dl" table write "$table" --source "$demo/raw/transactions/transactions_00[12].parquet"
echo "== describe"
"$dl" table describe "$table"
echo "== history"
"$dl" table history "$table"
echo "== first rows"
"$dl" table scan "$table" --order-by transaction_id --limit 5
