"""Measuring a process tree (wall time, peak RSS sampled from /proc) and what a Delta commit
changed (add/remove actions and operationMetrics in the log), for bench/merge_bench.py."""
import dataclasses
import json
import os
import pathlib
import subprocess
import tempfile
import threading
import time


@dataclasses.dataclass
class Measured:
    rc: int
    wall: float
    peak_rss: int  # bytes, summed over the process tree
    stdout: str
    stderr: str


def _tree(pid):
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return pids


def _rss(pid):
    """The process's peak RSS so far (VmHWM; reset by exec, unlike getrusage's ru_maxrss,
    which keeps the forking harness's size)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def run_measured(cmd, interval=0.02):
    """Run cmd; sample the RSS of it and its descendants every `interval` seconds."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        peak, done = [0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], sum(_rss(p) for p in _tree(proc.pid)))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(proc.returncode, wall, peak[0], out.read(), err.read())


def _commits(table):
    log = pathlib.Path(table) / "_delta_log"
    return sorted((int(p.stem), p) for p in log.glob("*.json") if p.stem.isdigit())


def table_version(table):
    commits = _commits(table)
    return commits[-1][0] if commits else -1




def log_changes(table, after_version):
    """Add/remove actions of the commits after `after_version`, and the live files before."""
    from deltalake import DeltaTable

    added = removed = 0
    metrics = []
    for v, path in _commits(table):
        if v <= after_version:
            continue
        for line in path.read_text().splitlines():
            action = json.loads(line)
            added += "add" in action
            removed += "remove" in action
            if "commitInfo" in action:
                ci = action["commitInfo"]
                metrics.append({"operation": ci.get("operation"),
                                "metrics": ci.get("operationMetrics")})
    before = (len(DeltaTable(str(table), version=after_version).file_uris())
              if after_version >= 0 else 0)
    return {"before": before, "added": added, "removed": removed, "commits": metrics}
