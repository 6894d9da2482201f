"""SCD2 and merge (upsert) of a 100,000-row change batch into a 1,000,000-row, 20-column
dimension: `data_loader run` (loading_strategy scd2 / merge) against Spark + delta-spark
`MERGE INTO` (local[2]) and delta-rs `DeltaTable.merge`, measured in the same run. Ours and
Spark run twice: copy-on-write (files holding changed rows are rewritten) and with deletion
vectors (table property delta.enableDeletionVectors: changed rows are marked deleted in place);
delta-rs cannot write deletion vectors.

    .venv/bin/python bench/merge_bench.py [--rows 1000000] [--batch 100000] [--reps 3]
        [--quick] [--bin PATH] [--only ours,ours_dv,spark,spark_dv,deltars] [--no-doc] [--keep]

The batch: 50% changed existing keys (newer sequence), 10% new keys, 5% deletes (op = 'D'),
1% out-of-order changes (sequence older than the key's current version), the rest unchanged
re-deliveries; every key at most once. Each system first builds its table from the dimension
files (not timed), then every rep applies the batch to a fresh copy of that table (copied
before the clock starts). Ours is timed as the whole `data_loader run` process; the peers time
only the operation (reading the batch, the merge, the commit): Spark's JVM start is reported
apart. Peak RSS: each timed operation runs in its own process tree, sampled from /proc.
--quick: small sizes, one rep, a smoke run.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

import duckdb

import merge_data
from common import ROOT, update_doc
from merge_measure import log_changes, run_measured, table_version

PY = sys.executable
PEERS = pathlib.Path(__file__).resolve().parent / "merge_peers.py"
OPS = ("scd2", "upsert")
SYSTEMS = ("ours", "ours_dv", "spark", "spark_dv", "deltars")
LABEL = {"ours": "data_loader", "ours_dv": "data_loader (DV)", "spark": "Spark + delta-spark",
         "spark_dv": "Spark + delta-spark (DV)", "deltars": "delta-rs"}


def default_bin():
    env = os.environ.get("DATA_LOADER_BIN")
    if env:
        return pathlib.Path(env)
    for d in ("build-bench", "build"):
        if (ROOT / d / "data_loader").exists():
            return ROOT / d / "data_loader"
    return ROOT / "build" / "data_loader"


# --------------------------------------------------------------------------------------------
# Ours
# --------------------------------------------------------------------------------------------


def ours_config(work, name, op, audit):
    from merge_peers import TRACKED

    strategy = "scd2" if op == "scd2" else "merge"
    lines = [f"raw_data_path: {work}/raw", f"processed_data_path: {work}/{name}_{op}/out",
             f"checkpoint_path: {work}/{name}_{op}/state", "enable_metrics: false",
             "log_level: WARNING", "max_parallel_jobs: 2", "tables:", "  - table_name: dim",
             "    database_name: bench", f"    source_path_pattern: \"{work}/raw/ours/*.parquet\"",
             "    file_format: parquet", f"    loading_strategy: {strategy}",
             "    primary_keys: [id]", "    sequence_column: updated_at",
             "    delete_condition: \"op = 'D'\"", "    max_files_per_batch: 5000",
             "    max_bytes_per_batch: 8GiB", f"    audit_columns: {str(audit).lower()}"]
    if op == "scd2":
        lines.append(f"    tracking_columns: [{', '.join(TRACKED)}]")
    if name == "ours_dv":
        lines.append("    table_properties: {delta.enableDeletionVectors: true}")
    cfg = work / f"{name}_{op}.yaml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def ours_table(work, name, op, base=False):
    return work / f"{name}_{op}{'_base' if base else ''}" / "out" / "bench" / "dim"


def ours_setup(work, dl, audit, names):
    """Load the dimension with each strategy (not timed); keep a copy to restore per rep."""
    raw = work / "raw" / "ours"
    raw.mkdir(parents=True)
    for f in sorted((work / "dim").glob("*.parquet")):
        os.link(f, raw / f.name)
    for name in names:
        for op in OPS:
            cfg = ours_config(work, name, op, audit)
            res = run_measured([str(dl), "run", "--config", str(cfg)])
            if res.rc != 0:
                raise SystemExit(f"{name} {op} setup failed (exit {res.rc}):\n"
                                 f"{res.stderr[-3000:]}")
            shutil.copytree(work / f"{name}_{op}", work / f"{name}_{op}_base", symlinks=True)
    for f in sorted((work / "batch").glob("*.parquet")):
        os.link(f, raw / f.name)


def ours_op(work, dl, name, op):
    live = work / f"{name}_{op}"
    shutil.rmtree(live)
    shutil.copytree(work / f"{name}_{op}_base", live, symlinks=True)
    table = ours_table(work, name, op)
    before = table_version(table)
    res = run_measured([str(dl), "run", "--config", str(work / f"{name}_{op}.yaml")])
    if res.rc != 0:
        return {"error": f"exit {res.rc}: {res.stderr.strip()[-2000:]}"}
    out = {"seconds": res.wall, "rss": res.peak_rss, "files": log_changes(table, before)}
    store = table / "_dl_scd2_changes"
    if store.exists():
        out["store_files"] = log_changes(store, table_version(ours_table(work, name, op, True) /
                                                             "_dl_scd2_changes"))
    return out


# --------------------------------------------------------------------------------------------
# Peers
# --------------------------------------------------------------------------------------------


def peer_cmd(work, system, tasks):
    return [PY, str(PEERS), system, "--dim", str(work / "dim"), "--batch", str(work / "batch")] + [
        f"{t}={p}" for t, p in tasks]


def parse_lines(stdout):
    return {d["task"]: d for d in (json.loads(l) for l in stdout.splitlines() if l.startswith("{"))}


def peer_setup(work, system):
    tasks = [(f"setup_{op}", work / f"{system}_{op}_base") for op in OPS]
    res = run_measured(peer_cmd(work, system, tasks))
    if res.rc != 0:
        raise SystemExit(f"{system} setup failed (exit {res.rc}):\n{res.stderr[-3000:]}")


def peer_op(work, system, op):
    base, live = work / f"{system}_{op}_base", work / f"{system}_{op}"
    shutil.rmtree(live, ignore_errors=True)
    shutil.copytree(base, live)
    before = table_version(live)
    res = run_measured(peer_cmd(work, system, [(op, live)]))
    if res.rc != 0:
        return {"error": f"exit {res.rc}: {res.stderr.strip()[-2000:]}"}
    lines = parse_lines(res.stdout)
    out = {"seconds": lines[op]["seconds"], "rss": res.peak_rss, "process": res.wall,
           "files": log_changes(live, before)}
    if "jvm_start" in lines:
        out["jvm_start"] = lines["jvm_start"]["seconds"]
    return out


# --------------------------------------------------------------------------------------------
# Correctness: cheap aggregates over each result, read by one reader (data_loader scan + DuckDB)
# --------------------------------------------------------------------------------------------


def table_stats(path, op, dl):
    # Read by our scan (delta-rs 1.6 refuses tables with deletion vectors; Spark is slow to
    # start); the peers' tables are checked the same way.
    out = pathlib.Path(tempfile.mkdtemp(prefix="dl_stats_")) / "t.parquet"
    subprocess.run([str(dl), "table", "scan", str(path), "--output", str(out)], check=True,
                   capture_output=True)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{out}')")
    if op == "scd2":
        q = ("SELECT count(*), count(*) FILTER (is_current), count(DISTINCT id) FILTER "
             "(is_current), count(*) FILTER (NOT is_current), count(DISTINCT id) FROM t")
        names = ("rows", "current", "current_keys", "closed", "keys")
    else:
        q = ("SELECT count(*), count(DISTINCT id), sum(hash(id, epoch_us(updated_at), op, "
             "address, city, score, balance::DOUBLE, last_login::VARCHAR) % 1000000007) FROM t")
        names = ("rows", "keys", "checksum")
    row = con.execute(q).fetchone()
    shutil.rmtree(out.parent, ignore_errors=True)
    return dict(zip(names, row))


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def med(runs, key="seconds"):
    vals = [r[key] for r in runs if key in r]
    return statistics.median(vals) if vals else None


def fmt_files(f):
    if not f:
        return "-"
    return f"{f['removed']} rewritten/removed, {f['added']} added (of {f['before']})"


def report(args, results, stats, counts, commit, dl):
    systems = [s for s in SYSTEMS if s in args.only]
    ours = [s for s in ("ours", "ours_dv") if s in systems]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    md = [f"Measured on commit `{commit}` ({when} UTC), {platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM; "
          f"median of {args.reps} rep(s); peers in the same run.", "",
          f"Dimension: {args.rows:,} rows x 20 columns in {args.dim_files} parquet files. Batch: "
          f"{args.batch:,} rows: {counts['changed']:,} changed, {counts['new']:,} new keys, "
          f"{counts['deleted']:,} deletes, {counts['out_of_order']:,} out of order, "
          f"{counts['unchanged']:,} unchanged re-deliveries. \"DV\": the table has deletion "
          f"vectors enabled (changed rows are marked deleted instead of files rewritten).", ""]
    for op in OPS:
        ratio_heads = "".join(f" time / {LABEL[o]} |" for o in ours)
        md += [f"### {'SCD Type 2' if op == 'scd2' else 'Merge (upsert)'}", "",
               f"| system | batch (s) |{ratio_heads} peak RSS (MiB) | table files before | "
               "files removed (rewritten or given a DV) | files added (incl. re-added with a DV) | "
               "rows / current rows |",
               "|---|---|" + "---|" * len(ours) + "---|---|---|---|---|"]
        ours_t = {o: med(results[o][op]) for o in ours}
        for s in systems:
            runs = results[s][op]
            errs = [r["error"] for r in runs if "error" in r]
            if errs:
                md.append(f"| {LABEL[s]} | failed: {errs[0].splitlines()[-1][:150]} |" +
                          " |" * (len(ours) + 5))
                continue
            t, last = med(runs), runs[-1]
            ratios = "".join(f" {t / ours_t[o]:.2f}x |" if ours_t[o] else " - |" for o in ours)
            rss = max(r["rss"] for r in runs) / 2**20
            f = last["files"]
            st = stats.get((s, op), {})
            rows = f"{st.get('rows', '?'):,} / {st.get('current', st.get('keys', '?')):,}"
            extra = ""
            if "jvm_start" in last:
                extra = f" (+ JVM start {med(runs, 'jvm_start'):.1f})"
            if "store_files" in last:
                sf = last["store_files"]
                extra += f"; change store +{sf['added']} files"
            md.append(f"| {LABEL[s]} | {t:.2f}{extra} |{ratios} {rss:,.0f} | {f['before']} | "
                      f"{f['removed']} | {f['added']} | {rows} |")
        md.append("")
    text = "\n".join(md)
    print(text)
    print(json.dumps({"results": results, "stats": {f"{k[0]}/{k[1]}": v for k, v in
                                                     stats.items()}}, indent=1, default=str))
    return text


def git_commit():
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no",
                            "src"], capture_output=True, text=True).stdout.strip()
    return head + (" + uncommitted src changes" if dirty else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--dim-files", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="20,000 rows, batch 2,000, one rep")
    ap.add_argument("--bin", type=pathlib.Path, default=default_bin())
    ap.add_argument("--only", default=",".join(SYSTEMS))
    ap.add_argument("--audit-columns", action="store_true",
                    help="ours with its default audit columns (the peers write none)")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.batch, args.dim_files, args.reps = 20_000, 2_000, 2, 1
    args.only = args.only.split(",")
    commit = git_commit()
    work = pathlib.Path(tempfile.mkdtemp(prefix="dl_bench_merge_"))
    print(f"work dir {work}, ours = {args.bin} ({commit})", flush=True)
    try:
        counts = merge_data.generate(work, args.rows, args.batch, args.dim_files)
        results = {s: {op: [] for op in OPS} for s in args.only}
        names = [s for s in ("ours", "ours_dv") if s in args.only]
        if names:
            ours_setup(work, args.bin, args.audit_columns, names)
        for s in ("spark", "spark_dv", "deltars"):
            if s in args.only:
                peer_setup(work, s)
        for rep in range(args.reps):
            for op in OPS:
                for s in args.only:
                    r = (ours_op(work, args.bin, s, op) if s.startswith("ours")
                         else peer_op(work, s, op))
                    results[s][op].append(r)
                    print(f"rep {rep} {op} {s}: {r}", flush=True)
        stats = {}
        for s in args.only:
            for op in OPS:
                if "error" not in results[s][op][-1]:
                    path = (ours_table(work, s, op) if s.startswith("ours")
                            else work / f"{s}_{op}")
                    stats[(s, op)] = table_stats(path, op, args.bin)
        text = report(args, results, stats, counts, commit, args.bin)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not args.no_doc and not args.quick:
        update_doc("merge", "## SCD2 and merge: a change batch into a dimension\n\n"
                   "Reproduce: `.venv/bin/python bench/merge_bench.py`\n\n" + text)


if __name__ == "__main__":
    main()
