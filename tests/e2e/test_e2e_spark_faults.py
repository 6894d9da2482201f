"""Spark-side failures on the Spark engine (issue 15): the Spark Connect server dies in the
middle of a run (SIGKILL of its JVM while batches are being written and committed), comes back,
and the loader finishes; no file is lost or loaded twice, whatever Spark had committed when it
died. These tests run their own server (the session's stays up for the other tests)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from e2e_lib import LoaderEnv, assert_loaded_exactly, csv_rows, wait_for, write_csv
from spark_connect.server import SparkConnectServer, free_port


@pytest.fixture
def own_server(spark_connect, tmp_path, monkeypatch):
    """A server of this test's own (after the session's: the Delta jars are cached by then)."""
    server = SparkConnectServer(port=free_port(), workdir=tmp_path / "spark")
    server.start()
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLUSTER_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPARK_REMOTE", server.remote)
    try:
        yield server
    finally:
        server.stop()


def kill_server(server: SparkConnectServer) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)


def commits(env: LoaderEnv) -> list[Path]:
    log = env.table_path("t") / "_delta_log"
    return sorted(log.glob("*.json")) if log.is_dir() else []


def run_killing_the_server(env: LoaderEnv, server: SparkConnectServer, after_commits: int,
                           restart: bool) -> tuple[int, str, str]:
    """`run`, the server SIGKILLed once the table has `after_commits` commits (and restarted at
    once when `restart`); the run's exit code, stdout and stderr."""
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        wait_for(lambda: len(commits(env)) >= after_commits or p.poll() is not None, 300, 0.01,
                 f"Spark's commit {after_commits}")
        assert p.poll() is None, "the run ended before the server was killed"
        kill_server(server)
        if restart:
            time.sleep(1)
            server.start()  # same port and token
        out, err = p.communicate(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out, err


def test_server_killed_mid_run_fails_clearly_and_the_rerun_loads_each_file_once(
        env: LoaderEnv, own_server: SparkConnectServer):
    files = {write_csv(env.raw / f"f{i:02d}.csv", csv_rows(i * 100, 4, f"f{i}")): 4
             for i in range(10)}
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark",
                                      max_files_per_batch=1)],
                     max_parallel_jobs=1, retry_attempts=1, retry_backoff_ms=200)
    rc, out, err = run_killing_the_server(env, own_server, 2, restart=False)
    assert rc not in (0, -signal.SIGKILL), (rc, err)
    # The failure names the server, never its token.
    assert f"127.0.0.1:{own_server.port}" in err, err[-3000:]
    assert own_server.token not in err + out
    loaded_before = len(commits(env))
    assert 2 <= loaded_before < len(files)

    own_server.start()  # same port and token
    r = env.load()
    assert_loaded_exactly(env, "t", files)
    tracked = env.tracker_for("t")
    assert set(tracked) == {str(f) for f in files}
    assert all(t["status"] == "completed" for t in tracked.values()), tracked
    assert r.rc == 0
    version = env.version("t")
    env.load()
    assert env.version("t") == version


def test_a_server_that_comes_back_within_the_retries_is_ridden_out(
        env: LoaderEnv, own_server: SparkConnectServer):
    files = {write_csv(env.raw / f"f{i:02d}.csv", csv_rows(i * 100, 3, f"f{i}")): 3
             for i in range(6)}
    # Backoff 2 s doubling over 6 attempts: about two minutes, enough for a warm restart.
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark",
                                      max_files_per_batch=1)],
                     max_parallel_jobs=1, retry_attempts=6, retry_backoff_ms=2000)
    rc, out, err = run_killing_the_server(env, own_server, 1, restart=True)
    assert rc == 0, err[-4000:]
    assert own_server.token not in err + out
    assert_loaded_exactly(env, "t", files)
    tracked = env.tracker_for("t")
    assert all(t["status"] == "completed" for t in tracked.values()), tracked
