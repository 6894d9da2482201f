"""Exactly-once under crashes, lost trackers, concurrent loaders and watch mode."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from e2e_lib import (LoaderEnv, assert_completed, assert_loaded_exactly, csv_rows,
                     run_and_kill_when, run_together, stop_process, to_yaml, wait_for, write_csv, write_parquet)


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
    run_and_kill_when(env, lambda: len(commits(env)) >= 2, 60, "the first commits")
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
    # The log does not say how many rows each file held: status says its count is a lower bound.
    assert st["e2e.t"]["files_rows_unknown"] == 6 and st["e2e.p"]["files_rows_unknown"] == 1, st
    text = env.run("status")
    assert "rows loaded: at least 0 (6 loaded file(s) with rows not counted)" in text.stdout, text


def test_two_loaders_started_together_load_each_file_once(env: LoaderEnv):
    files = many_csv(env, 50, rows=10)
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=5)],
                     max_parallel_jobs=2, retry_attempts=5)
    outs, report = run_together([env.cmd("run"), env.cmd("run")], timeout=180)
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


# ---- Lost commit races (issue 11): deterministic with the DL_TEST_PAUSE_BEFORE_COMMIT hook ----

def tracker_rows(env: LoaderEnv, table: str = "t") -> list[dict]:
    """Every row the tracker holds for the table (not only the current ones)."""
    rows = DeltaTable(str(env.tracker_path)).to_pyarrow_table().to_pylist()
    return [r for r in rows if r["table_name"] == f"{env.DB}.{table}"]


def held_loader(env: LoaderEnv, release: Path) -> subprocess.Popen:
    """A `run` whose every commit waits, data written, until `release` exists."""
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "DL_TEST_PAUSE_BEFORE_COMMIT": str(release)})
    wait_for(lambda: Path(f"{release}.waiting").exists() or p.poll() is not None, 60, 0.02,
             "the held loader to reach its commit")
    assert p.poll() is None, f"the held loader exited early: {p.communicate()}"
    return p


@pytest.mark.parametrize("retry_attempts", [1, 0])
def test_a_lost_commit_race_is_not_a_file_failure(env: LoaderEnv, retry_attempts: int):
    """Two loaders plan the same files; one is held before its commit while the other loads
    them all, then released. Before: its txn app id collided (`data_loader/0`) and it recorded
    the winner's files as failed, so the next run loaded them again (duplicates) or, with
    retry_attempts 0, left them failed forever."""
    first = write_parquet(env.raw / "t" / "a00.parquet", {"id": [0]})
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet", max_files_per_batch=3)],
                     max_parallel_jobs=1, retry_attempts=retry_attempts)
    env.load()
    files = {first: 1}
    for i in range(1, 7):
        files[write_parquet(env.raw / "t" / f"f{i:02d}.parquet",
                            {"id": list(range(i * 10, i * 10 + 5))})] = 5
    release = env.root / "release"
    held = held_loader(env, release)
    try:
        winner = env.load()
        assert "6 files loaded" in winner.stdout, str(winner)
        release.write_text("")
        out, err = held.communicate(timeout=120)
    finally:
        stop_process(held)
    assert held.returncode == 0, f"the loser exited {held.returncode}\n{out}\n{err}"
    assert "0 failed" in out, out
    assert "concurrent transaction for the same app id" not in out + err
    assert_loaded_exactly(env, "t", files)
    assert not [r for r in tracker_rows(env) if r["status"] == "failed"], tracker_rows(env)
    assert_completed(env, "t", files)
    version = env.version("t")
    again = env.load()
    assert "0 files loaded, 0 failed" in again.stdout, str(again)
    assert env.version("t") == version
    assert env.status()[f"{env.DB}.t"]["files"]["completed"] == len(files)


def test_a_batch_that_loses_its_last_race_is_deferred_not_failed(env: LoaderEnv):
    """Two configs load different files into one table with dedup_keys (the batch reads the
    table, so any concurrent commit conflicts). The held loader loses its only attempt
    (retry_attempts 0) to a commit that did not load its file. Before: the file was recorded
    failed with its retries used up and never loaded."""
    def entry(src: str) -> dict:
        return env.table_entry("t", f"{src}/*.parquet", "parquet", dedup_keys=["id"])
    seed = write_parquet(env.raw / "a" / "a0.parquet", {"id": [0]})
    env.write_config([entry("a")], retry_attempts=0)
    other = env.root / "other.yaml"
    other.write_text(to_yaml(env.config_dict([entry("b")], retry_attempts=0)) + "\n")
    env.load()
    mine = write_parquet(env.raw / "a" / "a1.parquet", {"id": [1, 2]})
    theirs = write_parquet(env.raw / "b" / "b1.parquet", {"id": [3]})
    release = env.root / "release"
    held = held_loader(env, release)
    try:
        r = env.run("run", config=other)
        assert r.rc == 0 and "1 files loaded" in r.stdout, str(r)
        release.write_text("")
        out, err = held.communicate(timeout=120)
    finally:
        stop_process(held)
    assert held.returncode == 0, f"exit {held.returncode}\n{out}\n{err}"
    assert "0 failed" in out and "1 file(s) deferred" in out, out
    assert str(mine) not in env.tracker_for("t"), "a deferred file got a tracker row"
    r = env.load()
    assert "1 files loaded, 0 failed" in r.stdout, str(r)
    assert_loaded_exactly(env, "t", {seed: 1, mine: 2, theirs: 1})
    assert not [r for r in tracker_rows(env) if r["status"] == "failed"], tracker_rows(env)


def test_a_deleted_table_is_reported_and_reload_missing_loads_it_again(env: LoaderEnv):
    """Before: the tracker said the files were loaded, so a run after the table was deleted
    loaded nothing and said nothing."""
    files = many_csv(env, 4, rows=3)
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=2)])
    env.load()
    env.load()
    shutil.rmtree(env.table_path("t"))
    r = env.load()
    assert "[e2e.t] 4 file(s) the tracker records as loaded are not in the table" in r.stdout, str(r)
    assert env.status()["e2e.t"]["files_missing_from_table"] == 4
    shown = env.run("status")
    assert "warning: 4 file(s)" in shown.stdout and "--reload-missing" in shown.stdout, str(shown)
    r = env.load("--reload-missing")
    assert "4 files loaded" in r.stdout, str(r)
    assert_loaded_exactly(env, "t", files)
    assert env.status()["e2e.t"]["files_missing_from_table"] == 0
    version = env.version("t")
    r = env.load()
    assert env.version("t") == version and "not in the table" not in r.stdout, str(r)


def test_a_restored_table_is_reported_and_reload_missing_loads_what_the_restore_undid(
        env: LoaderEnv):
    files = many_csv(env, 4, rows=3)
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=2)],
                     max_parallel_jobs=1)
    env.load()
    env.load()  # the reconciliation mark now covers both commits
    r = env.run("table", "restore", env.table_path("t"), "--version", "0", config=False)
    assert r.rc == 0, str(r)
    r = env.load()
    assert "[e2e.t] 2 file(s) the tracker records as loaded are not in the table" in r.stdout, (
        str(r))
    assert env.status()["e2e.t"]["files_missing_from_table"] == 2
    env.load("--reload-missing")
    assert_loaded_exactly(env, "t", files)
    assert env.status()["e2e.t"]["files_missing_from_table"] == 0


def test_a_reader_option_the_engine_refuses_uses_up_no_retries(env: LoaderEnv):
    """csv_options null_value ',' with the delimiter left to the sniffer: only the engine can
    tell (it finds ','). Before: a file failure using up the file's retries, so after the
    config was fixed the file stayed skipped."""
    f = write_csv(env.raw / "t" / "a.csv", "id,name\n1,x\n2,NA\n")
    entry = env.table_entry("t", "t/*.csv", "csv", csv_options={"null_value": ","})
    env.write_config([entry], retry_attempts=0)
    for _ in range(2):
        r = env.load(expect=1)
        assert "csv_options of e2e.t" in r.out and "NULL specification" in r.out, str(r)
        rec = env.tracker_for("t")[str(f)]
        assert rec["status"] == "failed" and rec["retry_count"] == 0, rec
    entry["csv_options"] = {"null_value": "NA"}
    env.write_config([entry], retry_attempts=0)
    env.load()
    assert_loaded_exactly(env, "t", {f: 2})


def test_validate_refuses_a_null_value_that_contains_the_delimiter(env: LoaderEnv):
    write_csv(env.raw / "t" / "a.csv", "id\n1\n")
    env.write_config([env.table_entry("t", "t/*.csv", "csv",
                                      csv_options={"delimiter": ";", "null_value": ";"})])
    r = env.run("validate")
    assert r.rc == 2 and "null_value ';' and delimiter ';' must not contain each other" in r.out, (
        str(r))
