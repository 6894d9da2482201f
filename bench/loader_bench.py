"""The loader end to end (`data_loader run`), against peers measured in the same run:

- small-file storm: N csv files of 100 rows into one table (goal: >= 1,000 files/s,
  tracking included); peer: one DuckDB `COPY (SELECT * FROM read_csv([...]))` of the same
  files to a Parquet file (no tracking, no Delta);
- no-op rerun over the N tracked files (goal: well under a second);
- large append: 20 parquet files of 1M rows (goal: within 1.3x of DuckDB's bare COPY of the
  same files, faster than delta-rs `write_deltalake`).

    .venv/bin/python bench/loader_bench.py [--small-files 10000] [--large-files 20]
        [--large-rows 1000000] [--reps 3]
"""
import argparse
import os
import pathlib
import platform
import shutil
import subprocess
import tempfile

import datetime
import uuid

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import write_deltalake

from common import BUILD, timed, update_doc, write_large_parquet

DL = BUILD / "data_loader"


def config(work, pattern, fmt, name, extra=""):
    return (f"raw_data_path: {work}/raw\nprocessed_data_path: {work}/out_{name}\n"
            f"checkpoint_path: {work}/state_{name}\nenable_metrics: false\nlog_level: WARNING\n"
            f"max_parallel_jobs: 2\ntables:\n  - table_name: t\n    database_name: bench\n"
            f"    source_path_pattern: \"{pattern}\"\n    file_format: {fmt}\n"
            f"    max_files_per_batch: 5000\n    max_bytes_per_batch: 8GiB\n{extra}")


def run_loader(cfg_path):
    subprocess.run([str(DL), "run", "--config", str(cfg_path)], check=True,
                   stdout=subprocess.DEVNULL)


def fresh(work, name):
    for d in (work / f"out_{name}", work / f"state_{name}"):
        shutil.rmtree(d, ignore_errors=True)


def small_files(work, n, reps):
    raw = work / "raw" / "small"
    raw.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("CREATE TABLE rows AS SELECT i AS id, 'name ' || i AS name, i * 1.5 AS amount, "
                "DATE '2024-01-01' + (i % 30)::INT AS day FROM range(100) t(i)")
    for i in range(n):
        con.execute(f"COPY (SELECT id + {i * 100} AS id, name, amount, day FROM rows) "
                    f"TO '{raw}/f{i:06}.csv' (FORMAT csv, HEADER)")
    cfg = work / "small.yaml"
    cfg.write_text(config(work, f"{raw}/*.csv", "csv", "small"))
    files = sorted(str(p) for p in raw.glob("*.csv"))

    def ours():
        fresh(work, "small")
        run_loader(cfg)
    t_ours = timed(ours, reps)
    t_rerun = timed(lambda: run_loader(cfg), reps)

    def duck():
        out = work / "duck_small.parquet"
        duckdb.connect().execute(f"COPY (SELECT * FROM read_csv({files!r})) TO '{out}' "
                                 "(FORMAT parquet)")
    t_duck = timed(duck, reps)
    return t_ours, t_rerun, t_duck


def large_files(work, n, rows, reps):
    raw = work / "raw" / "large"
    write_large_parquet(raw, n, rows)
    files = sorted(str(p) for p in raw.glob("*.parquet"))
    cfg = work / "large.yaml"
    cfg.write_text(config(work, f"{raw}/*.parquet", "parquet", "large"))

    def ours():
        fresh(work, "large")
        run_loader(cfg)
    t_ours = timed(ours, reps)
    # The peers write the source columns only; so does this variant (no audit columns).
    bare = work / "large_bare.yaml"
    bare.write_text(config(work, f"{raw}/*.parquet", "parquet", "bare",
                           "    audit_columns: false\n"))

    def ours_bare():
        fresh(work, "bare")
        run_loader(bare)
    t_bare = timed(ours_bare, reps)

    def duck():
        out = work / "duck_large.parquet"
        duckdb.connect().execute(f"COPY (SELECT * FROM read_parquet({files!r})) TO '{out}' "
                                 "(FORMAT parquet)")
    t_duck = timed(duck, reps)

    def rs():
        out = work / "rs_large"
        shutil.rmtree(out, ignore_errors=True)
        write_deltalake(str(out), ds.dataset(files, format="parquet").scanner().to_reader(), mode="append")
    t_rs = timed(rs, reps)

    def rs_audit():
        # The same three audit columns our default run writes, added per file.
        out = work / "rs_audit"
        shutil.rmtree(out, ignore_errors=True)
        dataset = ds.dataset(files, format="parquet")
        now = pa.scalar(datetime.datetime.now(datetime.timezone.utc), pa.timestamp("us", "UTC"))
        batch_id = str(uuid.uuid4())
        schema = (dataset.schema.append(pa.field("_load_timestamp", pa.timestamp("us", "UTC")))
                  .append(pa.field("_source_file", pa.string()))
                  .append(pa.field("_batch_id", pa.string())))

        def batches():
            for fragment in dataset.get_fragments():
                for b in fragment.to_batches():
                    n = b.num_rows
                    yield pa.RecordBatch.from_arrays(
                        b.columns + [pa.repeat(now, n), pa.repeat(pa.scalar(fragment.path), n),
                                     pa.repeat(pa.scalar(batch_id), n)],
                        schema=schema)
        write_deltalake(str(out), pa.RecordBatchReader.from_batches(schema, batches()),
                        mode="append")
    t_rs_audit = timed(rs_audit, reps)
    return t_ours, t_bare, t_duck, t_rs, t_rs_audit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small-files", type=int, default=10_000)
    ap.add_argument("--large-files", type=int, default=20)
    ap.add_argument("--large-rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="dl_bench_loader_"))
    try:
        s_ours, s_rerun, s_duck = small_files(work, args.small_files, args.reps)
        l_ours, l_bare, l_duck, l_rs, l_rs_audit = large_files(work, args.large_files, args.large_rows, args.reps)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = args.small_files
    md = [f"`data_loader run` end to end (process start, discovery, tracker, Delta commits), "
          f"median of {args.reps} runs on {os.cpu_count()} cores ({platform.machine()}); "
          "peers measured in the same run.", "",
          "| case | data_loader (s) | peer (s) | ratio | goal |", "|---|---|---|---|---|",
          f"| small-file storm: {n:,} csv x 100 rows | {s_ours[0]:.2f} "
          f"({n / s_ours[0]:,.0f} files/s) | DuckDB COPY of the same files: {s_duck[0]:.2f} | "
          f"{s_ours[0] / s_duck[0]:.2f}x DuckDB | >= 1,000 files/s |",
          f"| no-op rerun, {n:,} tracked files | {s_rerun[0]:.2f} | - | - | well under 1 s |",
          f"| large append: {args.large_files} parquet x {args.large_rows:,} rows, with the "
          f"3 audit columns (default) | {l_ours[0]:.2f} | DuckDB COPY (no audit columns): "
          f"{l_duck[0]:.2f}; delta-rs write_deltalake with the same audit columns: "
          f"{l_rs_audit[0]:.2f} | {l_ours[0] / l_duck[0]:.2f}x DuckDB, "
          f"{l_rs_audit[0] / l_ours[0]:.2f}x faster than delta-rs | <= 1.3x DuckDB, faster than "
          "delta-rs |",
          f"| same, without audit columns (what the peers write) | {l_bare[0]:.2f} | "
          f"DuckDB COPY: {l_duck[0]:.2f}; delta-rs: {l_rs[0]:.2f} | "
          f"{l_bare[0] / l_duck[0]:.2f}x DuckDB, {l_rs[0] / l_bare[0]:.2f}x faster than delta-rs "
          "| same |"]
    text = "\n".join(md)
    print(text)
    update_doc("loader", "## Loader: `data_loader run` end to end\n\n"
               "Reproduce: `.venv/bin/python bench/loader_bench.py`\n\n" + text)


if __name__ == "__main__":
    main()
