"""Cluster mode's overhead on the large append: `data_loader run` and
`data_loader run-cluster --monitoring` load the same parquet files into fresh tables,
alternating run by run in ABBA order (so machine noise and ordering hit both alike); the goal
is a ratio within 1.03. Wall time and the process's CPU time (user + system, getrusage of the
child) are both recorded: on a shared machine the CPU time and the fastest run are the steadier
figures.

    .venv/bin/python bench/cluster_bench.py [--files 20] [--rows 1000000] [--reps 5]
"""
import argparse
import json
import resource
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import tempfile
import time


from common import BUILD, update_doc, write_large_parquet

DL = BUILD / "data_loader"


def config(work, raw, name):
    return (f"raw_data_path: {raw}\nprocessed_data_path: {work}/out_{name}\n"
            f"checkpoint_path: {work}/state_{name}\nenable_metrics: true\nlog_level: WARNING\n"
            f"max_parallel_jobs: 2\ntables:\n  - table_name: t\n    database_name: bench\n"
            f"    source_path_pattern: \"{raw}/*.parquet\"\n    file_format: parquet\n"
            f"    max_files_per_batch: 5000\n    max_bytes_per_batch: 8GiB\n")


def one_run(work, name, args):
    for d in (work / f"out_{name}", work / f"state_{name}"):
        shutil.rmtree(d, ignore_errors=True)
    cfg = work / f"{name}.yaml"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([str(DL), *args, "--config", str(cfg)], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="dl_bench_cluster_"))
    try:
        raw = work / "raw"
        write_large_parquet(raw, args.files, args.rows)
        for name in ("plain", "cluster"):
            (work / f"{name}.yaml").write_text(config(work, raw, name))
        one_run(work, "plain", ["run"])  # warm the page cache for both
        load_before = os.getloadavg()[0]
        runs = {"plain": (["run"], []), "cluster": (["run-cluster", "--monitoring"], [])}
        for rep in range(args.reps):
            for name in (("plain", "cluster") if rep % 2 == 0 else ("cluster", "plain")):
                runs[name][1].append(one_run(work, name, runs[name][0]))
        plain, cluster = runs["plain"][1], runs["cluster"][1]
        metrics = sorted((work / "state_cluster" / "metrics").glob("run-*.json"))
        res = json.loads(metrics[-1].read_text())["resources"]
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    def fig(samples):
        walls = [w for w, _ in samples]
        return statistics.median(walls), min(walls), statistics.median(c for _, c in samples), walls
    p, pmin, pcpu, pw = fig(plain)
    c, cmin, ccpu, cw = fig(cluster)
    md = [f"Large append ({args.files} parquet x {args.rows:,} rows, audit columns on), `run` and "
          f"`run-cluster --monitoring` alternating, median of {args.reps} each on "
          f"{os.cpu_count()} cores ({platform.machine()}). The machine was shared with other work "
          f"while this ran (1-minute load average {load_before:.1f} before, {load_after:.1f} "
          "after), so single runs vary; alternating runs expose both to the same noise.", "",
          "| case | wall s, median | wall s, fastest | CPU s, median | wall s, every run |",
          "|---|---|---|---|---|",
          f"| `run` | {p:.2f} | {pmin:.2f} | {pcpu:.2f} | {', '.join(f'{x:.2f}' for x in pw)} |",
          f"| `run-cluster --monitoring` | {c:.2f} | {cmin:.2f} | {ccpu:.2f} | "
          f"{', '.join(f'{x:.2f}' for x in cw)} |",
          f"| ratio (goal <= 1.03) | {c / p:.3f} | {cmin / pmin:.3f} | {ccpu / pcpu:.3f} | |", "",
          f"Wall times of one command varied up to {max(pw + cw) / min(pw + cw):.1f}x between "
          "runs here, so the wall ratios carry that noise; the CPU-time ratio is the steadiest "
          "measure of what monitoring adds.", "",
          f"The monitored run took {res['samples']} samples (every 200 ms), CPU "
          f"{res['cpu_percent_avg']:.0f}% average, RSS peak "
          f"{res['rss_peak_bytes'] / 2**20:.0f} MiB of a {res['memory_budget_bytes'] / 2**20:.0f} "
          f"MiB budget, {res['backpressure_pauses']} backpressure pause(s), parallelism "
          f"{res['parallelism']} (max_parallel_jobs in the config), engine threads "
          f"{res['engine_threads']}."]
    text = "\n".join(md)
    print(text)
    update_doc("cluster", "## Cluster mode: monitoring overhead\n\n"
               f"Reproduce: `.venv/bin/python bench/cluster_bench.py --files {args.files} "
               f"--rows {args.rows} --reps {args.reps}`\n\n" + text)


if __name__ == "__main__":
    main()
