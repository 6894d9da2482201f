"""Before / after: the same workloads through two builds of `data_loader`, alternated within
one run (the machines are noisy: only figures from the same run compare). For changes that
must not cost speed, such as the engine lock-down and the SQL fragment checks (issue 12).

    .venv/bin/python bench/ab_bench.py --before OLD/data_loader [--after build/data_loader]
        [--label "issue 12"] [--large-files 20] [--large-rows 1000000] [--rows 1000000]
        [--batch 100000] [--reps 5] [--no-doc]

Workloads: the large append of loader_bench.py (parquet files of 1M rows, audit columns on),
and the upsert and SCD2 of merge_bench.py (a 100,000-row change batch into a 1M-row,
20-column dimension; table copied fresh before each timed run). Each rep runs before, then
after (then after, before in the next rep), each timed as the whole process.
"""
import argparse
import os
import pathlib
import platform
import shutil
import statistics
import tempfile

import merge_data
from common import BUILD, update_doc, write_large_parquet
from merge_bench import OPS, ours_config, ours_table
from merge_measure import run_measured


def append_config(work, name, src):
    cfg = work / f"append_{name}.yaml"
    cfg.write_text(
        f"raw_data_path: {src}\nprocessed_data_path: {work}/append_{name}/out\n"
        f"checkpoint_path: {work}/append_{name}/state\nenable_metrics: false\n"
        "log_level: WARNING\nmax_parallel_jobs: 2\ntables:\n  - table_name: t\n"
        f"    database_name: bench\n    source_path_pattern: \"{src}/*.parquet\"\n"
        "    file_format: parquet\n    max_files_per_batch: 5000\n"
        "    max_bytes_per_batch: 8GiB\n")
    return cfg


def run_append(work, name, dl, src):
    shutil.rmtree(work / f"append_{name}", ignore_errors=True)
    res = run_measured([str(dl), "run", "--config", str(append_config(work, name, src))])
    if res.rc != 0:
        raise SystemExit(f"append with {dl} failed (exit {res.rc}):\n{res.stderr[-3000:]}")
    return res.wall


def merge_setup(work, name, dl):
    """Each build loads the dimension once per operation (not timed): its own base copy."""
    raw = work / "raw" / "ours"
    for op in OPS:
        cfg = ours_config(work, f"{name}", op, audit=False)
        res = run_measured([str(dl), "run", "--config", str(cfg)])
        if res.rc != 0:
            raise SystemExit(f"{name} {op} setup failed (exit {res.rc}):\n{res.stderr[-3000:]}")
        shutil.copytree(work / f"{name}_{op}", work / f"{name}_{op}_base", symlinks=True)
    return raw


def run_merge(work, name, dl, op):
    live = work / f"{name}_{op}"
    shutil.rmtree(live)
    shutil.copytree(work / f"{name}_{op}_base", live, symlinks=True)
    res = run_measured([str(dl), "run", "--config", str(work / f"{name}_{op}.yaml")])
    if res.rc != 0:
        raise SystemExit(f"{name} {op} failed (exit {res.rc}):\n{res.stderr[-3000:]}")
    assert ours_table(work, name, op).exists()
    return res.wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=pathlib.Path, required=True)
    ap.add_argument("--after", type=pathlib.Path, default=BUILD / "data_loader")
    ap.add_argument("--label", default="this change")
    ap.add_argument("--large-files", type=int, default=20)
    ap.add_argument("--large-rows", type=int, default=1_000_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    builds = {"before": args.before.resolve(), "after": args.after.resolve()}
    work = pathlib.Path(tempfile.mkdtemp(prefix="dl_bench_ab_"))
    times = {(case, b): [] for case in ("append", *OPS) for b in builds}
    try:
        src = work / "large"
        write_large_parquet(src, args.large_files, args.large_rows)
        merge_data.generate(work, args.rows, args.batch, 10)
        raw = work / "raw" / "ours"
        raw.mkdir(parents=True)
        for f in sorted((work / "dim").glob("*.parquet")):
            os.link(f, raw / f.name)
        for name, dl in builds.items():
            merge_setup(work, name, dl)
        for f in sorted((work / "batch").glob("*.parquet")):
            os.link(f, raw / f.name)
        for rep in range(args.reps):
            order = list(builds.items()) if rep % 2 == 0 else list(reversed(builds.items()))
            for name, dl in order:
                times[("append", name)].append(run_append(work, name, dl, src))
                for op in OPS:
                    times[(op, name)].append(run_merge(work, name, dl, op))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [f"Before/after for {args.label}: both builds of `data_loader run`, alternated in one "
            f"run, median of {args.reps} on {os.cpu_count()} cores ({platform.machine()}).", "",
            "| case | before (s) | after (s) | after / before |", "|---|---|---|---|",
            f"| large append: {args.large_files} parquet x {args.large_rows:,} rows | "
            f"{med[('append', 'before')]:.2f} | {med[('append', 'after')]:.2f} | "
            f"{med[('append', 'after')] / med[('append', 'before')]:.3f} |"]
    for op in OPS:
        rows.append(f"| {op}: {args.batch:,}-row batch into {args.rows:,} rows | "
                    f"{med[(op, 'before')]:.2f} | {med[(op, 'after')]:.2f} | "
                    f"{med[(op, 'after')] / med[(op, 'before')]:.3f} |")
    text = "\n".join(rows)
    print(text)
    if not args.no_doc:
        update_doc("ab", "## Before / after a change\n\nReproduce: `.venv/bin/python "
                   "bench/ab_bench.py --before OLD/data_loader`\n\n" + text)


if __name__ == "__main__":
    main()
