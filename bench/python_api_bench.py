"""The Python API's overhead on the large append: the same load through the installed
package in this process (`DataProcessor(config).process_all_tables()`) and through the
`data_loader` executable, alternating run by run in ABBA order (machine noise and ordering
hit both alike), each into a fresh table. The goal is a ratio within 1.03.

Run it with a Python that has the wheel installed (not the project .venv) and duckdb (to
write the input files):

    /tmp/venv/bin/python bench/python_api_bench.py [--files 10] [--rows 1000000] [--reps 10]
        [--exe build/data_loader]

Wall time and CPU time (user + system: of this process for the in-process run, of the child
for the executable) are both recorded; on a shared machine CPU time is the steadier figure.
"""
import argparse
import os
import pathlib
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

from common import BUILD, update_doc, write_large_parquet

import data_loader


def python_path():
    """How the Python side runs a config file: DataProcessor when the package has it."""
    try:
        from data_loader.config import load_config_from_file
        from data_loader.core.processor import DataProcessor

        return "DataProcessor(config).process_all_tables()", (
            lambda cfg: DataProcessor(load_config_from_file(str(cfg))).process_all_tables())
    except ImportError:  # the package before data_loader.core: the CLI, still in-process
        from data_loader import _native

        return "_native.cli_main(['data_loader', 'run', ...])", (
            lambda cfg: _native.cli_main(["data_loader", "run", "--config", str(cfg)]))


def config(work, raw, name):
    return (f"raw_data_path: {raw}\nprocessed_data_path: {work}/out_{name}\n"
            f"checkpoint_path: {work}/state_{name}\nlog_level: WARNING\n"
            f"max_parallel_jobs: 2\ntables:\n  - table_name: t\n    database_name: bench\n"
            f"    source_path_pattern: \"{raw}/*.parquet\"\n    file_format: parquet\n"
            f"    max_files_per_batch: 5000\n    max_bytes_per_batch: 8GiB\n")


def fresh(work, name):
    for d in (work / f"out_{name}", work / f"state_{name}"):
        shutil.rmtree(d, ignore_errors=True)
    return work / f"{name}.yaml"


def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run_exe(work, exe):
    cfg = fresh(work, "exe")
    c0, t = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run([str(exe), "run", "--config", str(cfg)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t, cpu(resource.RUSAGE_CHILDREN) - c0


def run_python(work, fn):
    cfg = fresh(work, "py")
    c0, t = cpu(resource.RUSAGE_SELF), time.perf_counter()
    result = fn(cfg)
    wall, used = time.perf_counter() - t, cpu(resource.RUSAGE_SELF) - c0
    if isinstance(result, int) and result != 0:
        raise SystemExit(f"the in-process run exited {result}")
    return wall, used


def report(args, label, exe_runs, py_runs, loads):
    def fig(samples):
        walls = [w for w, _ in samples]
        return statistics.median(walls), min(walls), statistics.median(c for _, c in samples), walls

    e, emin, ecpu, ew = fig(exe_runs)
    p, pmin, pcpu, pw = fig(py_runs)
    runs = lambda ws: ", ".join(f"{x:.2f}" for x in ws)  # noqa: E731
    return "\n".join([
        f"Large append ({args.files} parquet x {args.rows:,} rows, audit columns on): the "
        f"`data_loader` executable and the Python package in-process (`{label}`), alternating, "
        f"median of {args.reps} each on {os.cpu_count()} cores ({platform.machine()}), package "
        f"{data_loader.__version__} from {pathlib.Path(data_loader.__file__).parent}. 1-minute "
        f"load average {loads[0]:.1f} before, {loads[1]:.1f} after (the machine is shared).", "",
        "| case | wall s, median | wall s, fastest | CPU s, median | wall s, every run |",
        "|---|---|---|---|---|",
        f"| executable `data_loader run` | {e:.2f} | {emin:.2f} | {ecpu:.2f} | {runs(ew)} |",
        f"| Python, in-process | {p:.2f} | {pmin:.2f} | {pcpu:.2f} | {runs(pw)} |",
        f"| ratio Python / executable (goal <= 1.03) | {p / e:.3f} | {pmin / emin:.3f} | "
        f"{pcpu / ecpu:.3f} | |", "",
        "Both sides run the same native core built from the same sources (the executable beside "
        "the wheel's build); the Python side pays for the import once, not per run. On a "
        "shared machine single runs vary, so the CPU-time ratio and the fastest runs are the "
        "steadier comparison. The script measures `DataProcessor(config).process_all_tables()` "
        "once the package has `data_loader.core.processor`, and the in-process command line "
        "before."])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--exe", default=str(BUILD / "data_loader"))
    ap.add_argument("--no-doc", action="store_true", help="print only; leave the doc alone")
    args = ap.parse_args()
    label, fn = python_path()
    work = pathlib.Path(tempfile.mkdtemp(prefix="dl_bench_pyapi_"))
    try:
        raw = work / "raw"
        write_large_parquet(raw, args.files, args.rows)
        for name in ("exe", "py"):
            (work / f"{name}.yaml").write_text(config(work, raw, name))
        run_exe(work, args.exe)  # warm the page cache and the in-process path once each
        run_python(work, fn)
        loads = [os.getloadavg()[0]]
        exe_runs, py_runs = [], []
        for rep in range(args.reps):
            for which in (("exe", "py") if rep % 2 == 0 else ("py", "exe")):
                if which == "exe":
                    exe_runs.append(run_exe(work, args.exe))
                else:
                    py_runs.append(run_python(work, fn))
        loads.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(args, label, exe_runs, py_runs, loads)
    print(text)
    if not args.no_doc:
        update_doc("python_api", "## Python API: the large append through the package\n\n"
                   f"Reproduce: `<venv with the wheel>/bin/python bench/python_api_bench.py "
                   f"--files {args.files} --rows {args.rows} --reps {args.reps} --exe "
                   f"{os.path.relpath(args.exe, BUILD.parent)}`\n\n" + text)


if __name__ == "__main__":
    main()
