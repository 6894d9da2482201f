"""Exactly-once under crashes, lost trackers, concurrent loaders and watch mode."""
from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

from deltalake import DeltaTable

from e2e_lib import (LoaderEnv, assert_completed, assert_loaded_exactly, csv_rows, stop_process,
                     wait_for, write_csv, write_parquet)


def many_csv(env: LoaderEnv, n: int, rows: int = 20, sub: str = "t") -> dict[Path, int]:
    out = {}
    for i in range(n):
        out[write_csv(env.raw / sub / f"f{i:03d}.csv", csv_rows(i * 1000, rows, f"f{i}"))] = rows
    return out


def commits(env: LoaderEnv, table: str = "t") -> list[Path]:
    log = env.table_path(table) / "_delta_log"
    return sorted(log.glob("*.json")) if log.is_dir() else []


def assert_log_clean(env: LoaderEnv, table: str = "t"):
    log = env.table_path(table) / "_delta_log"
    leftovers = [p.name for p in log.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert not leftovers, f"temporary files left in {log}: {leftovers}"


def test_sigkill_mid_run_then_rerun_loads_each_row_once(env: LoaderEnv):
    files = many_csv(env, 60)
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=1)],
                     max_parallel_jobs=2)
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(commits(env)) >= 2 or p.poll() is not None, 60, 0.002,
                 "the first commits")
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        stop_process(p)
    assert p.returncode == -signal.SIGKILL, (
        f"the loader finished before it could be killed (exit {p.returncode}); make the test "
        f"data bigger")
    done = len(commits(env))
    assert 0 < done < len(files), f"{done} commits: not killed mid-run"
    r = env.load()
    assert_loaded_exactly(env, "t", files)
    assert_completed(env, "t", files)
    assert_log_clean(env)
    # A further run loads nothing.
    version = env.version("t")
    env.load()
    assert env.version("t") == version
    assert "t" and r.rc == 0


def test_temp_of_a_commit_killed_before_the_run_is_removed_once_its_version_exists(
        env: LoaderEnv):
    """A writer killed between writing its commit temp and linking it leaves a temp for a
    version not committed yet: the next run must not touch it at its start (a live writer may
    own it) but removes it once that version is committed."""
    files = many_csv(env, 2)
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=1)])
    env.load()
    version = env.version("t")
    stale = env.table_path("t") / "_delta_log" / f".{version + 1:020d}.json.0123abcd.tmp"
    stale.write_text('{"commitInfo":{}}\n')
    files.update({write_csv(env.raw / "t" / "g.csv", csv_rows(9000, 5, "g")): 5})
    env.load()
    assert env.version("t") == version + 1
    assert_loaded_exactly(env, "t", files)
    assert_log_clean(env)


def test_deleted_tracker_is_reconciled_from_target_log(env: LoaderEnv):
    files = many_csv(env, 6)
    pq = write_parquet(env.raw / "p" / "a.parquet", {"id": [1, 2, 3]})
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=2),
                      env.table_entry("p", "p/*.parquet", "parquet")])
    env.load()
    versions = {t: env.version(t) for t in ("t", "p")}
    assert env.tracker_path.is_dir()
    shutil.rmtree(env.tracker_path)
    r = env.load()
    assert {t: env.version(t) for t in ("t", "p")} == versions, f"files were reloaded\n{r}"
    assert_loaded_exactly(env, "t", files)
    assert_loaded_exactly(env, "p", {pq: 3})
    # The tracker is rebuilt from the tables' logs: every file completed again.
    assert_completed(env, "t", files)
    assert_completed(env, "p", [pq])
    st = env.status()
    assert st["e2e.t"]["files"]["completed"] == 6 and st["e2e.p"]["files"]["completed"] == 1, st


def test_two_loaders_started_together_load_each_file_once(env: LoaderEnv):
    files = many_csv(env, 50, rows=10)
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=5)],
                     max_parallel_jobs=2, retry_attempts=5)
    procs = [subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=180)
            outs.append((p.returncode, out, err))
    finally:
        for p in procs:
            stop_process(p)
    report = "\n\n".join(f"exit {rc}\n{out}\n{err[-3000:]}" for rc, out, err in outs)
    assert_loaded_exactly(env, "t", files)
    assert_log_clean(env)
    try:
        assert_completed(env, "t", files)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{report}") from None
    assert all(rc == 0 for rc, _, _ in outs), report
    # Versions are contiguous and every data file the log references exists.
    dt = DeltaTable(str(env.table_path("t")))
    assert len(commits(env)) == dt.version() + 1
    for uri in dt.file_uris():
        assert Path(uri.removeprefix("file://")).exists(), uri


def test_watch_picks_up_new_file_and_stops_on_sigterm(env: LoaderEnv):
    f1 = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3))
    env.write_config([env.table_entry("t", "t/*.csv", "csv")])
    p = subprocess.Popen(env.cmd("run", "--watch", "--interval", "1"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(commits(env)) >= 1, 30, 0.05, "the first file to load")
        f2 = write_csv(env.raw / "t" / "b.csv", csv_rows(10, 4))
        wait_for(lambda: len(commits(env)) >= 2, 30, 0.05, "the file added while watching")
        assert p.poll() is None, "watch mode exited on its own"
        time.sleep(0.3)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
        elapsed = time.monotonic() - t0
    finally:
        stop_process(p)
    assert p.returncode == 0, f"exit {p.returncode}\n{out}\n{err}"
    assert elapsed < 5, f"took {elapsed:.1f}s to stop after SIGTERM"
    assert_loaded_exactly(env, "t", {f1: 3, f2: 4})
    assert_log_clean(env)
    assert_completed(env, "t", [f1, f2])
    # Nothing half-committed: the next run has nothing to do.
    version = env.version("t")
    env.load()
    assert env.version("t") == version


def test_sigterm_during_batches_exits_cleanly(env: LoaderEnv):
    """SIGTERM in a normal run: the current batch finishes or is abandoned, the process exits,
    and the next run continues: every row exactly once."""
    files = many_csv(env, 40)
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=1)],
                     max_parallel_jobs=2)
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(commits(env)) >= 2 or p.poll() is not None, 60, 0.002, "commits")
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
    finally:
        stop_process(p)
    # Files were left for the next run: 128 + SIGTERM, so a scheduler sees the stop (0 only
    # if every file was already loaded when the signal came).
    loaded_before = len(env.rows_by_file("t")) if env.is_delta("t") else 0
    expected = 0 if loaded_before == len(files) else 128 + signal.SIGTERM
    assert p.returncode == expected, f"exit {p.returncode}\n{out}\n{err}"
    env.load()
    assert_loaded_exactly(env, "t", files)
    assert_completed(env, "t", files)
    assert_log_clean(env)
