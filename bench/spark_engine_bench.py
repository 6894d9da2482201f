"""Both engines (issue 15): `data_loader run` with `engine: duckdb` and with `engine: spark`
(a local Spark Connect server: Spark 4.1 + Delta 4.1, local[2]), on large append, the small-file
storm, upsert (merge) and SCD2, at 1x and 4x data; and the Spark engine against the same work
typed by hand into the same server through pyspark's Connect client (bench/spark_sql_peer.py).
What our orchestration adds on Spark (goal: at most 1.10x) is measured against the run's own
Spark Connect calls (its DEBUG log): the same statements, without our process around them.

    .venv/bin/python bench/spark_engine_bench.py [--scales 1,4] [--reps 3] [--quick]
        [--cases append,small,small_lines,upsert,scd2] [--no-doc] [--driver-memory 4g] [--before BIN]

Sizes at 1x: append 4 parquet x 500,000 rows (5 columns); small files 250 csv x 100 rows;
upsert and SCD2 a 25,000-row change batch into a 250,000-row, 20-column dimension
(bench/merge_data.py). 4x multiplies each. Every rep starts from a fresh copy of the table
(copied before the clock starts). Ours is timed as the whole `data_loader run` process
(discovery, tracking, planning, the Spark session); the hand-typed peer only for its statements
(its session is opened before the clock). Ours does more than the peer: it records each source
file in the tracker and commit, and orders changes by `sequence_column` (the hand-typed MERGE
applies out-of-order changes too). The sides that share the Spark server run in a rotated
order, a different side first in each rep. The hand-typed client needs pyspark[connect] and its
dependencies: the first run makes third_party/spark-connect/client-venv from
bench/requirements-spark-client.txt (pinned). --quick: 1x only, one rep. --before BIN: also
time another data_loader binary (an earlier build) on the Spark engine in the same run, so a
change's effect is measured under the same load.
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
from common import BUILD, ROOT, update_doc, write_large_parquet
from merge_measure import run_measured
from merge_peers import TRACKED

sys.path.insert(0, str(ROOT / "tests" / "spark_connect"))
from server import SparkConnectServer, free_port  # noqa: E402

DL = pathlib.Path(os.environ.get("DATA_LOADER_BIN") or BUILD / "data_loader")
CLIENT_VENV = ROOT / "third_party" / "spark-connect" / "client-venv"
CLIENT_REQ = ROOT / "bench" / "requirements-spark-client.txt"
PEER = ROOT / "bench" / "spark_sql_peer.py"
CASES = ("append", "small", "small_lines", "upsert", "scd2")
BEFORE = None  # --before: an earlier data_loader binary, timed as a fourth side
LABEL = {"append": "large append: {n} parquet x 500,000 rows, 3 audit columns",
         "small": "small-file storm: {n} csv x 100 rows, 3 audit columns",
         "small_lines": "small-file storm, `csv_options: {{multi_line: false}}`: {n} csv",
         "upsert": "upsert: {b:,}-row batch into {r:,} rows (merge, deletes)",
         "scd2": "SCD2: {b:,}-row batch into {r:,} rows"}


def client_python() -> pathlib.Path:
    py = CLIENT_VENV / "bin" / "python"
    stamp = CLIENT_VENV / ".requirements"
    if not py.exists() or not stamp.exists() or stamp.read_text() != CLIENT_REQ.read_text():
        print(f"making {CLIENT_VENV} (pyspark[connect] client for the hand-typed peer)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CLIENT_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "-r", str(CLIENT_REQ)], check=True)
        stamp.write_text(CLIENT_REQ.read_text())
    return py


class BenchServer(SparkConnectServer):
    """The tests' server with a driver big enough for the 4x dimension."""

    memory = "4g"

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--driver-memory") + 1] = self.memory
        return cmd


# --------------------------------------------------------------------------------------------
# Data and configs
# --------------------------------------------------------------------------------------------


def make_data(work: pathlib.Path, scale: int, cases) -> dict:
    sizes = {"append_files": 4 * scale, "small_files": 250 * scale,
             "dim_rows": 250_000 * scale, "batch_rows": 25_000 * scale}
    if "append" in cases:
        write_large_parquet(work / "append_raw", sizes["append_files"], 500_000)
    if "small" in cases:
        raw = work / "small_raw"
        raw.mkdir(parents=True)
        con = duckdb.connect()
        for i in range(sizes["small_files"]):
            con.execute(f"COPY (SELECT {i} * 100 + r AS id, 'name ' || r AS name, r * 1.5 AS amount "
                        f"FROM range(100) t(r)) TO '{raw}/f{i:05}.csv' (HEADER)")
    if "upsert" in cases or "scd2" in cases:
        merge_data.generate(work, sizes["dim_rows"], sizes["batch_rows"], 4)
    return sizes


def config(work, name, engine, pattern, fmt, extra=()):
    lines = [f"raw_data_path: {work}", f"processed_data_path: {work}/{name}/out", f"checkpoint_path: {work}/{name}/state",
             "enable_metrics: false", "log_level: WARNING", "max_parallel_jobs: 2", "tables:",
             "  - table_name: t", "    database_name: bench", f"    engine: {engine}",
             f"    source_path_pattern: \"{pattern}\"", f"    file_format: {fmt}",
             "    max_files_per_batch: 50000", "    max_bytes_per_batch: 64GiB", *extra]
    path = work / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def merge_extra(op):
    extra = [f"    loading_strategy: {'scd2' if op == 'scd2' else 'merge'}",
             "    primary_keys: [id]", "    sequence_column: updated_at",
             "    delete_condition: \"op = 'D'\"", "    audit_columns: false"]
    if op == "scd2":
        extra.append(f"    tracking_columns: [{', '.join(TRACKED)}]")
    return extra


def dl_run(cfg, env, binary=None, spark=False):
    """The run's wall seconds; on the Spark engine also the seconds it spent inside Spark
    Connect calls (from its DEBUG log), as (wall, in_calls)."""
    cmd = [str(binary or DL), "run", "--config", str(cfg)]
    if spark:
        cmd += ["--log-level", "DEBUG", "--log-format", "json"]
    res = run_measured(cmd)
    if res.rc != 0:
        raise RuntimeError(f"data_loader run {cfg.name} failed (exit {res.rc}):\n"
                           f"{res.stdout[-1500:]}\n{res.stderr[-3000:]}")
    return (res.wall, spark_call_seconds(res.stderr)) if spark else res.wall


def spark_call_seconds(log: str) -> float:
    """Seconds the run spent waiting on Spark Connect calls: the union of the calls' intervals
    (each record is logged at its call's end with the call's milliseconds; calls of parallel
    batches overlap). What is left of the run's time is ours: process start, discovery, the
    tracker, reading Delta logs, planning, commits."""
    spans = []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        if not rec.get("msg", "").startswith("spark ") or "ms" not in rec:
            continue
        end = datetime.datetime.fromisoformat(rec["ts"].replace("Z", "+00:00")).timestamp()
        spans.append((end - rec["ms"] / 1000, end))
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def peer(server, py, task, **kw):
    # pyspark's client insists on TLS when given a token; the loopback server has none, so
    # the token goes as the header it stands for.
    remote = f"{server.endpoint}/;authorization=Bearer {server.token}"
    cmd = [str(py), str(PEER), remote, task] + [f"{k}={v}" for k, v in kw.items()]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT / "bench")
    if p.returncode != 0:
        raise RuntimeError(f"hand-typed {task} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])["seconds"]


def spark_sides():
    """(result key, binary) of each timed Spark-engine side."""
    return [("spark", DL)] + ([("before", BEFORE)] if BEFORE else [])


def rotated(sides, rep):
    """The sides that share the Spark server, in a different order each rep: on a loaded
    machine the side that runs first after another one was measured slower, so no side may
    always run first."""
    k = rep % len(sides)
    return sides[k:] + sides[:k]


def fresh(path: pathlib.Path):
    if path.exists():
        shutil.rmtree(path)


# --------------------------------------------------------------------------------------------
# Cases: each returns {"duckdb": [s...], "spark": [s...], "hand": [s...]}
# --------------------------------------------------------------------------------------------


def bench_append(work, server, py, reps, case):
    raw, fmt, ext = ((work / "append_raw", "parquet", "parquet") if case == "append"
                     else (work / "small_raw", "csv", "csv"))
    extra = ["    csv_options: {multi_line: false}"] if case == "small_lines" else []
    out = {"duckdb": [], "hand": [], **{k: [] for k, _ in spark_sides()}}
    for rep in range(reps):
        for key, binary in [("duckdb", DL)] + rotated(spark_sides() + [("hand", None)], rep):
            if key == "hand":
                fresh(work / f"{case}_hand")
                task = {"append": "append_parquet", "small": "append_csv",
                        "small_lines": "append_csv_lines"}[case]
                out["hand"].append(peer(server, py, task, raw=f"{raw}/*.{ext}",
                                        out=work / f"{case}_hand"))
                continue
            engine = "duckdb" if key == "duckdb" else "spark"
            name = f"{case}_{key}"
            fresh(work / name)
            record(out, key, dl_run(config(work, name, engine, f"{raw}/*.{ext}", fmt, extra),
                                    None, binary, spark=engine == "spark"))
    return out


def record(out, key, timing):
    """A side's time; a Spark-engine side's seconds in Spark calls go to `<key>_calls`."""
    if isinstance(timing, tuple):
        out.setdefault(f"{key}_calls", []).append(timing[1])
        timing = timing[0]
    out[key].append(timing)


def bench_merge(work, server, py, reps, op):
    """The table is built from the dimension files (not timed), then every rep applies the
    batch to a fresh copy of it."""
    raw = work / f"{op}_raw"
    fresh(raw)
    raw.mkdir()
    for f in sorted((work / "dim").glob("*.parquet")):
        os.link(f, raw / f.name)
    for key, binary in [("duckdb", DL)] + spark_sides():
        engine = "duckdb" if key == "duckdb" else "spark"
        name = f"{op}_{key}"
        fresh(work / name)
        dl_run(config(work, name, engine, f"{raw}/*.parquet", "parquet", merge_extra(op)), None,
               binary)
        fresh(work / f"{name}_base")
        shutil.copytree(work / name, work / f"{name}_base")
    fresh(work / f"{op}_hand_base")
    peer(server, py, f"setup_{op}", dim=work / "dim", out=work / f"{op}_hand_base")
    for f in sorted((work / "batch").glob("*.parquet")):
        os.link(f, raw / f.name)
    out = {"duckdb": [], "hand": [], **{k: [] for k, _ in spark_sides()}}
    for rep in range(reps):
        for key, binary in [("duckdb", DL)] + rotated(spark_sides() + [("hand", None)], rep):
            name = f"{op}_{key}"
            fresh(work / name)
            shutil.copytree(work / f"{name}_base", work / name)
            record(out, key, peer(server, py, op, batch=work / "batch", out=work / name)
                   if key == "hand" else dl_run(work / f"{name}.yaml", None, binary,
                                                spark=key != "duckdb"))
    return out


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def med(xs):
    return statistics.median(xs)


def report(results, sizes_by_scale, reps, server):
    before = any("before" in r for r in results.values())
    lines = ["| case | scale | DuckDB engine (s) | Spark engine (s) | of which in Spark calls (s) | "
             "hand-typed Spark (s) | Spark engine / its own Spark calls (goal <= 1.10) | "
             "Spark engine / hand-typed | Spark engine / DuckDB engine |"
             + (" Spark engine before (s) | before / hand-typed |" if before else ""),
             "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if before else "")]
    for (case, scale), r in results.items():
        s = sizes_by_scale[scale]
        label = LABEL[case].format(n=s["append_files"] if case == "append" else s["small_files"],
                                   b=s["batch_rows"], r=s["dim_rows"])
        if "error" in r:
            lines.append(f"| {label} | {scale}x | {r['error']} | | | | | | |")
            continue
        d, sp, h = med(r["duckdb"]), med(r["spark"]), med(r["hand"])
        # Per rep, then the median: a rep's run and its calls go together.
        own = med([w / c for w, c in zip(r["spark"], r["spark_calls"])])
        line = (f"| {label} | {scale}x | {d:.2f} | {sp:.2f} | {med(r['spark_calls']):.2f} | "
                f"{h:.2f} | {own:.2f}x | {sp / h:.2f}x | {sp / d:.1f}x |")
        if r.get("before"):
            line += f" {med(r['before']):.2f} | {med(r['before']) / h:.2f}x |"
        lines.append(line)
    growth = ["", "How time grows from 1x to 4x data (4x time / 1x time):", "",
              "| case | DuckDB engine | Spark engine | hand-typed Spark |", "|---|---|---|---|"]
    for case in CASES:
        if (case, 1) in results and (case, 4) in results and "error" not in results[(case, 1)] \
                and "error" not in results[(case, 4)]:
            a, b = results[(case, 1)], results[(case, 4)]
            growth.append(f"| {case} | " + " | ".join(
                f"{med(b[k]) / med(a[k]):.2f}x" for k in ("duckdb", "spark", "hand")) + " |")
    head = (f"Measured with `bench/spark_engine_bench.py` ({reps} reps, medians) on "
            f"{os.cpu_count()} cores, {platform.machine()}; the Spark Connect server (Spark "
            f"{server.spark_version} + Delta {server.delta_version}, local[2], "
            f"{BenchServer.memory} driver) started in {server.startup_seconds:.1f} s and "
            "is shared by both sides. Our times are whole `data_loader run` processes; \"in "
            "Spark calls\" is the part of them spent waiting on Spark Connect calls (the union "
            "of the calls' intervals in the run's DEBUG log), so the run over it is what our "
            "orchestration adds to the same statements; the hand-typed times are a person's "
            "statements for the same result, alone in an open pyspark Connect session.")
    return "\n".join([head, ""] + lines + (growth if len(growth) > 5 else []))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1,4")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--driver-memory", default="4g")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--before", type=pathlib.Path)
    args = ap.parse_args()
    global BEFORE
    BEFORE = args.before
    scales = [1] if args.quick else [int(s) for s in args.scales.split(",")]
    reps = 1 if args.quick else args.reps
    cases = [c for c in args.cases.split(",") if c]
    py = client_python()
    BenchServer.memory = args.driver_memory
    base = pathlib.Path(tempfile.mkdtemp(prefix="spark_engine_bench_"))
    server = BenchServer(port=free_port(), workdir=base / "server")
    server.start()
    os.environ["SPARK_REMOTE"] = server.remote
    results, sizes = {}, {}
    try:
        for scale in scales:
            work = base / f"x{scale}"
            work.mkdir()
            sizes[scale] = make_data(work, scale, set(cases) | {"small"})
            if scale == scales[0]:  # the JVM's JIT warms up on untimed runs of each side
                bench_append(work, server, py, 1, "small")
            for case in cases:
                print(f"{case} at {scale}x ...", flush=True)
                try:
                    results[(case, scale)] = (bench_append(work, server, py, reps, case)
                                              if case in ("append", "small", "small_lines")
                                              else bench_merge(work, server, py, reps, case))
                except RuntimeError as e:
                    first = str(e).strip().splitlines()
                    results[(case, scale)] = {"error": " ".join(first[:1])[:160]}
                    print(e, file=sys.stderr)
                print(json.dumps(results[(case, scale)]), flush=True)
            if not args.keep:
                shutil.rmtree(work)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    md = report(results, sizes, reps, server)
    print(md)
    # The doc's table is the 4.1 server's (DL_SPARK_SERVER_FLAVOR=3.5 runs are quoted by hand).
    if not args.no_doc and not args.quick and server.flavor != "3.5":
        update_doc("spark_engine", "## Spark engine: both engines, and our overhead on Spark\n\n"
                   + md)


if __name__ == "__main__":
    main()
