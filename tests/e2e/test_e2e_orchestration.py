"""Upstream dependencies and downstream notifications, end to end: the real data_loader against
real HTTP servers on 127.0.0.1 started here (loopback_http.py: webhook receivers that are
healthy, slow, failing or absent, and the Databricks Jobs API calls), recording and asserting
every request."""
from __future__ import annotations

import json
import signal
import subprocess
import threading
import time

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from e2e_lib import write_parquet
from loopback_http import JobsApiServer, RecordingServer, closed_port, run

DB_TOKEN = "dapi-jobs-secret-fedcba9876543210"


def config(env, deps=(), notes=(), **extra):
    write_parquet(env.raw / "orders" / "a.parquet", {"id": [1, 2, 3]})
    entry = env.table_entry("orders", "orders/*.parquet", "parquet")
    return env.write_config([entry], upstream_dependencies=list(deps),
                            downstream_notifications=list(notes), notification_backoff_ms=5,
                            **extra)


# ---- upstream dependencies ---------------------------------------------------------------

def test_missing_flag_file_stops_the_run_with_exit_3(env):
    flag = env.root / "ready.flag"
    config(env, deps=[f"file:{flag}"])
    r = env.run("run")
    assert r.rc == 3, r
    assert "upstream dependencies not met" in r.out and str(flag) in r.out, r
    assert not env.table_path("orders").exists()  # nothing was loaded
    dry = env.run("run", "--dry-run")
    assert dry.rc == 0 and "NOT MET" in dry.stdout and f"file:{flag}" in dry.stdout, dry
    flag.write_text("")
    env.load()
    assert env.read("orders").num_rows == 3


def test_wait_mode_polls_until_the_flag_lands(env):
    flag = env.root / "ready.flag"
    config(env, deps=[f"file:{flag}"], on_unmet_dependencies="wait",
           dependency_poll_interval_seconds=1, dependency_wait_timeout_seconds=60)
    timer = threading.Timer(1.5, flag.write_text, args=("",))
    timer.start()
    try:
        r = env.load()
    finally:
        timer.cancel()
    assert "upstream dependency not met" in r.out  # at least one check before it landed
    assert env.read("orders").num_rows == 3


def test_wait_mode_gives_up_after_the_timeout(env):
    flag = env.root / "late.flag"
    config(env, deps=[f"file:{flag}"], on_unmet_dependencies="wait",
           dependency_poll_interval_seconds=1, dependency_wait_timeout_seconds=1)
    r = env.run("run")
    assert r.rc == 3 and "waited 1 s" in r.out, r
    assert not env.table_path("orders").exists()
    # cluster-status reports the timed-out dependency as critical until a run finds it met.
    s = env.run("cluster-status", "--json")
    assert s.rc == 1, s
    status = json.loads(s.stdout)
    assert status["dependencies"][0]["state"] == "timeout", status["dependencies"]
    assert status["health"]["status"] == "critical", status["health"]
    flag.write_text("")
    env.load()
    s = env.run("cluster-status", "--json")
    assert json.loads(s.stdout)["dependencies"][0]["state"] == "ok", s.stdout


def test_sigterm_ends_the_wait(env):
    config(env, deps=[f"file:{env.root / 'never.flag'}"], on_unmet_dependencies="wait",
           dependency_poll_interval_seconds=1, dependency_wait_timeout_seconds=600)
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        deadline = time.monotonic() + 60
        seen = ""
        while "upstream dependency not met" not in seen and time.monotonic() < deadline:
            seen += p.stderr.readline()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 1, (out, seen + err)
    assert "stopped by signal while waiting" in seen + err
    assert not env.table_path("orders").exists()


def test_table_dependency_needs_a_commit_newer_than_our_last_run(env):
    upstream = env.processed / "bronze" / "events"
    config(env, deps=["table:bronze.events"])
    r = env.run("run")
    assert r.rc == 3 and f"no Delta table at {upstream}" in r.out, r
    write_deltalake(str(upstream), pa.table({"x": [1]}))
    env.load()  # met: the table exists and we never ran before
    r = env.run("run")  # upstream has not committed since our last successful run
    assert r.rc == 3 and "not after our last successful run" in r.out, r
    write_deltalake(str(upstream), pa.table({"x": [2]}), mode="append")
    env.load()


def test_cluster_status_reads_a_table_dependency_outside_the_configs_locations(env, tmp_path):
    """A `table:` dependency on a table with a checkpoint outside the config's locations (here
    an absolute path; on a store, another bucket): the run found it met, but cluster-status
    read its checkpoint with its own engine, locked to the config's locations, and called it
    "not ready" with the engine's "Permission Error"."""
    upstream = tmp_path / "elsewhere" / "up"
    for i in range(3):
        write_deltalake(str(upstream), pa.table({"x": [i]}), mode="append")
    DeltaTable(str(upstream)).create_checkpoint()
    config(env, deps=[f"table:{upstream}"], dependency_max_age_seconds=3600)
    env.load()
    s = env.run("cluster-status", "--json")
    [dep] = json.loads(s.stdout)["dependencies"]
    assert dep["state"] == "ok", dep


def test_job_dependency_reads_the_latest_run_through_the_jobs_api(env, monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", DB_TOKEN)
    with JobsApiServer(runs={42: [run(7, "TERMINATED", "SUCCESS")],
                             43: [run(9, "TERMINATED", "FAILED"), run(8, "TERMINATED", "SUCCESS")],
                             44: [run(11, "RUNNING")]},
                       token=DB_TOKEN) as jobs:
        monkeypatch.setenv("DATABRICKS_HOST", jobs.url)
        config(env, deps=["job:42"])
        r = env.load()
        q = jobs.requests[0]
        assert (q["method"], q["path"], q["query"]) == (
            "GET", "/api/2.1/jobs/runs/list", {"job_id": "42", "limit": "1"})
        assert q["headers"]["Authorization"] == f"Bearer {DB_TOKEN}"
        config(env, deps=["job:42", "job:43", "job:44"])
        r = env.run("run")
        assert r.rc == 3, r
        assert "job:43 (latest run 9: TERMINATED FAILED)" in r.out, r
        assert "job:44 (latest run 11: RUNNING)" in r.out, r
        assert DB_TOKEN not in r.out
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{closed_port()}")  # refusing
    r = env.run("run")
    assert r.rc == 3 and "job:42 (GET http://127.0.0.1:" in r.out, r
    assert "connect" in r.out.lower() and DB_TOKEN not in r.out, r
    monkeypatch.delenv("DATABRICKS_HOST")
    r = env.run("run")
    assert r.rc == 3 and "$DATABRICKS_HOST is not set" in r.out, r


# ---- downstream notifications ------------------------------------------------------------

def test_webhook_gets_the_run_summary_and_slack_gets_text(env):
    with RecordingServer() as hook:
        slack = f"{hook.url}/services/T000/B000/SlackSecretPart"
        config(env, notes=[f"webhook:{hook.url}/hook", f"webhook:{slack}"])
        r = env.load()
        by_path = {q["path"]: q for q in hook.requests}
        summary = by_path["/hook"]["body"]
        assert summary["event"] == "data_loader.run" and summary["status"] == "success"
        assert summary["exit_code"] == 0
        assert summary["totals"]["files_loaded"] == 1 and summary["totals"]["rows_loaded"] == 3
        assert summary["tables"][0]["table"] == "e2e.orders"
        assert by_path["/hook"]["headers"]["Content-Type"] == "application/json"
        text = by_path["/services/T000/B000/SlackSecretPart"]["body"]
        assert list(text) == ["text"] and "3 rows" in text["text"], text
        assert "notification sent" in r.out
        assert "SlackSecretPart" not in r.out  # webhook URLs are logged redacted


def test_a_failing_notification_is_retried_and_never_fails_the_load(env):
    with RecordingServer("fail_then_ok", failures=2) as flaky, \
            RecordingServer("always_500") as broken:
        refused = f"http://127.0.0.1:{closed_port()}/hook"
        config(env, notes=[f"webhook:{flaky.url}/a", f"webhook:{broken.url}/b",
                           f"webhook:{refused}"], notification_retries=2)
        r = env.load()  # exit 0: the load succeeded
        assert len(flaky.requests) == 3  # 500, 500, 200
        assert len(broken.requests) == 3  # 1 + 2 retries, then reported
        assert r.out.count("notification failed") == 2, r
        assert "HTTP 500" in r.out and "attempts=3" in r.out, r
        assert env.read("orders").num_rows == 3


def test_a_slow_webhook_times_out_and_is_reported(env):
    with RecordingServer("slow", delay=3) as slow:
        config(env, notes=[f"webhook:{slow.url}/slow"], notification_retries=0,
               http_timeout_seconds=1)
        r = env.load()
        assert "notification failed" in r.out and "no answer within 1000 ms" in r.out, r


def test_a_failed_load_still_notifies_with_status_failed(env):
    with RecordingServer() as hook:
        config(env, notes=[f"webhook:{hook.url}/hook"])
        (env.raw / "orders" / "bad.parquet").write_bytes(b"not parquet")
        env.load(expect=1)
        body = hook.requests[0]["body"]
        assert body["status"] == "failed" and body["exit_code"] == 1
        assert body["totals"]["files_failed"] == 1


def test_job_notification_triggers_run_now(env, monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", DB_TOKEN)
    with JobsApiServer(token=DB_TOKEN) as jobs:
        monkeypatch.setenv("DATABRICKS_HOST", jobs.url)
        config(env, notes=["job:77"])
        r = env.load()
        q = jobs.requests[0]
        assert (q["method"], q["path"], q["body"]) == ("POST", "/api/2.1/jobs/run-now",
                                                       {"job_id": 77})
        assert q["headers"]["Authorization"] == f"Bearer {DB_TOKEN}"
        assert "run 1001 started" in r.out
        assert DB_TOKEN not in r.out
        monkeypatch.setenv("DATABRICKS_TOKEN", "wrong-token-value")
        write_parquet(env.raw / "orders" / "b.parquet", {"id": [4]})
        r = env.load()  # 401: reported, the load still succeeds
        assert "notification failed" in r.out and "HTTP 401" in r.out, r
        assert "wrong-token-value" not in r.out
