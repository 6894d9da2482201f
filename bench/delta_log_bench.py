"""Log replay and one-file append on a table with 100,000 live files (a checkpoint plus 50
JSON commits): data_loader (in process, bench/delta_log_bench.cpp) against delta-rs
(`DeltaTable(path)` and `write_deltalake(..., mode="append")`), measured in the same run.

    .venv/bin/python bench/delta_log_bench.py [--files 100000] [--reps 5] [--bin PATH]

--bin (or $DL_BENCH_DELTA_LOG) picks our timing program, default build/bench/dl_bench_delta_log.
Both sides time only the operation: each append runs on a fresh copy of the log, copied
before the clock starts.
"""
import argparse
import json
import os
import pathlib
import platform
import shutil
import subprocess
import tempfile
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake

from common import BUILD, timed, update_doc

SCHEMA = {"type": "struct", "fields": [
    {"name": "id", "type": "long", "nullable": True, "metadata": {}},
    {"name": "name", "type": "string", "nullable": True, "metadata": {}},
    {"name": "amount", "type": "double", "nullable": True, "metadata": {}}]}


def add_action(i, now):
    stats = {"numRecords": 100, "minValues": {"id": i * 100, "name": f"n{i:07}", "amount": 0.5},
             "maxValues": {"id": i * 100 + 99, "name": f"n{i:07}z", "amount": 99.5},
             "nullCount": {"id": 0, "name": 0, "amount": 0}}
    return {"add": {"path": f"part-{i:05}-{uuid.uuid4()}-c000.snappy.parquet",
                    "partitionValues": {}, "size": 4096 + i % 1000, "modificationTime": now,
                    "dataChange": True, "stats": json.dumps(stats)}}


def build_fixture(root, n_files, n_commits):
    log = root / "_delta_log"
    log.mkdir(parents=True)
    now = 1_700_000_000_000
    first = n_files - n_commits
    with open(log / f"{0:020}.json", "w") as f:
        f.write(json.dumps({"commitInfo": {"timestamp": now, "operation": "WRITE"}}) + "\n")
        f.write(json.dumps({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}) + "\n")
        f.write(json.dumps({"metaData": {
            "id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}},
            "schemaString": json.dumps(SCHEMA), "partitionColumns": [],
            "configuration": {}, "createdTime": now}}) + "\n")
        for i in range(first):
            f.write(json.dumps(add_action(i, now)) + "\n")
    DeltaTable(str(root)).create_checkpoint()  # a neutral (delta-rs written) checkpoint
    for v in range(1, n_commits + 1):
        with open(log / f"{v:020}.json", "w") as f:
            f.write(json.dumps({"commitInfo": {"timestamp": now + v, "operation": "WRITE"}}) + "\n")
            f.write(json.dumps(add_action(first + v - 1, now + v)) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--commits", type=int, default=50)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bin", default=os.environ.get(
        "DL_BENCH_DELTA_LOG", str(BUILD / "bench" / "dl_bench_delta_log")))
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="dl_bench_log_"))
    try:
        table = work / "table"
        build_fixture(table, args.files, args.commits)
        one = work / "one.parquet"
        pq.write_table(pa.table({"id": pa.array([1], pa.int64()), "name": ["x"],
                                 "amount": [1.0]}), one)

        rs_load = timed(lambda: DeltaTable(str(table)), args.reps)
        one_table = pq.read_table(one)
        copies = []
        for i in range(args.reps):  # copied up front, as our side copies outside its clock
            copies.append(work / f"rs_{i}")
            shutil.copytree(table / "_delta_log", copies[-1] / "_delta_log")
        pending = iter(copies)
        rs_app = timed(lambda: write_deltalake(str(next(pending)), one_table, mode="append"),
                       args.reps)

        out = subprocess.run([args.bin, str(table), str(work), str(one), str(args.reps)],
                             check=True, capture_output=True, text=True).stdout
        ours = json.loads(out)
        assert ours["live_files"] == args.files, ours
        dl_load = (ours["load"]["median_s"], ours["load"]["min_s"])
        dl_app = (ours["append_one_file"]["median_s"], ours["append_one_file"]["min_s"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [("Load snapshot (log replay)", dl_load, rs_load),
            ("Append one file (load + write + commit)", dl_app, rs_app)]
    md = [f"Table with {args.files:,} live files (delta-rs-written checkpoint + {args.commits} "
          f"JSON commits); median of {args.reps} runs on {os.cpu_count()} cores "
          f"({platform.machine()}), both measured in the same run. Each append runs on a fresh "
          f"copy of the log, made before the clock starts (both sides).", "",
          "| operation | data_loader (s) | delta-rs (s) | delta-rs / data_loader |",
          "|---|---|---|---|"]
    for name, ours_t, theirs in rows:
        md.append(f"| {name} | {ours_t[0]:.3f} | {theirs[0]:.3f} | {theirs[0] / ours_t[0]:.2f}x |")
    text = "\n".join(md)
    print(text)
    update_doc("delta-log", "## Delta log: replay and commit cost\n\n" + text)


if __name__ == "__main__":
    main()
