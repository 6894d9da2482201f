"""`engine: spark` through build/data_loader (docs/spark_engine.md): the config keys, their
validation, `cluster-status` against the session's local Spark Connect server (the
`spark_connect` fixture, tests/spark_connect/server.py), and `run`/`validate` refusing to load
what Spark cannot load yet (never silently on DuckDB)."""
from __future__ import annotations

import json
import re
import socket

import pytest

from e2e_lib import write_csv

TOKEN = "tok-e2e-Sp4rk-secret"


@pytest.fixture(autouse=True)
def no_remote_in_env(monkeypatch):
    for name in ("SPARK_REMOTE", "DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLUSTER_ID"):
        monkeypatch.delenv(name, raising=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_config(env, remote: str | None = None, table_engine: str | None = None, **globals_):
    write_csv(env.raw / "a.csv", "id,v\n1,x\n")
    extra = {"engine": table_engine} if table_engine else {}
    if remote is not None:
        globals_["spark"] = {"remote": remote}
    return env.write_config([env.table_entry("t1", "*.csv", "csv", **extra)], **globals_)


def test_cluster_status_reports_the_remote(env, spark_connect, monkeypatch):
    # The token comes through ${VAR} and is sent as a bearer header (the server requires it);
    # it must never be printed.
    monkeypatch.setenv("DL_E2E_SPARK_TOKEN", spark_connect.token)
    remote = spark_connect.endpoint + "/;token=${DL_E2E_SPARK_TOKEN};use_ssl=false"
    spark_config(env, remote=remote, engine="spark")
    r = env.run("cluster-status")
    assert r.rc == 0, str(r)
    assert spark_connect.token not in r.out
    assert f"remote: sc://127.0.0.1:{spark_connect.port}/;token=***" in r.stdout, str(r)
    assert "reachable: yes" in r.stdout, str(r)
    assert f"spark version: {spark_connect.spark_version}" in r.stdout, str(r)
    assert "memory" not in r.stdout.lower(), "local resources are not the Spark engine's"
    j = env.run("cluster-status", "--json")
    assert j.rc == 0, str(j)
    assert spark_connect.token not in j.out
    data = json.loads(j.stdout)
    assert data["engine"] == "spark" and data["reachable"] is True, data
    assert data["spark_version"] == spark_connect.spark_version
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        data["session_id"]), data


def test_cluster_status_uses_spark_remote_variable(env, spark_connect, monkeypatch):
    monkeypatch.setenv("SPARK_REMOTE", spark_connect.remote)
    spark_config(env, table_engine="spark")  # per table, no spark: key
    r = env.run("cluster-status", "--json")
    assert r.rc == 0, str(r)
    data = json.loads(r.stdout)
    assert data["reachable"], data
    # use_ssl=false is shown where it is not the default: with a token
    shown = ";token=***;use_ssl=false" if spark_connect.has_token else ""
    assert data["remote"] == f"sc://127.0.0.1:{spark_connect.port}/{shown}", data
    assert spark_connect.token not in r.out


def test_cluster_status_wrong_token_is_refused(env, spark_connect, monkeypatch):
    if not spark_connect.has_token:
        pytest.skip("a Spark 3.5 server takes no token: it refuses none")
    monkeypatch.setenv("DL_E2E_SPARK_TOKEN", TOKEN)
    spark_config(env, remote=spark_connect.endpoint + "/;token=${DL_E2E_SPARK_TOKEN};use_ssl=false",
                 engine="spark")
    r = env.run("cluster-status", "--json")
    assert r.rc == 1, str(r)
    assert TOKEN not in r.out and spark_connect.token not in r.out
    data = json.loads(r.stdout)
    assert data["reachable"] is False and "refused the credentials" in data["error"], data


def test_cluster_status_unreachable_remote(env, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("DL_E2E_SPARK_TOKEN", TOKEN)
    spark_config(env, remote=f"sc://127.0.0.1:{port}/;token=${{DL_E2E_SPARK_TOKEN}};use_ssl=false",
                 engine="spark")
    r = env.run("cluster-status", "--json")
    assert r.rc == 1, str(r)
    assert TOKEN not in r.out
    data = json.loads(r.stdout)
    assert data["reachable"] is False and data["spark_version"] is None, data
    assert f"127.0.0.1:{port}" in data["error"] and "transient" in data["error"], data


@pytest.mark.parametrize("where", ["global", "table"])
def test_run_and_validate_refuse_what_spark_cannot_load_yet(env, where):
    # What Spark cannot load (here a replace_where with an E'...' string, which has no Spark
    # spelling here) is refused naming its key, never loaded on DuckDB instead.
    write_csv(env.raw / "a.csv", "id,v\n1,x\n")
    extra = {} if where == "global" else {"engine": "spark"}
    entry = env.table_entry("t1", "*.csv", "csv", loading_strategy="overwrite",
                            replace_where="v = E'x'", **extra)
    globals_ = {"engine": "spark"} if where == "global" else {}
    env.write_config([entry], spark={"remote": "sc://127.0.0.1:1"}, **globals_)
    for cmd in ("run", "validate"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "tables[0].replace_where: an E'...' string" in r.stderr, str(r)
        assert "of e2e.t1 is not yet supported on the spark engine" in r.stderr, str(r)
    assert not env.processed.exists() or not any(env.processed.iterdir()), "nothing was loaded"
    assert not env.checkpoints.exists() or not any(env.checkpoints.iterdir())


def test_unknown_engine_is_a_config_error(env):
    spark_config(env, engine="flink")
    r = env.run("validate")
    assert r.rc == 2, str(r)
    assert "engine" in r.stderr and "flink" in r.stderr, str(r)
    spark_config(env, table_engine="velox")
    r = env.run("validate")
    assert r.rc == 2 and "tables[0].engine" in r.stderr and "velox" in r.stderr, str(r)


def test_spark_engine_needs_a_remote(env):
    spark_config(env, engine="spark")
    for cmd in ("validate", "cluster-status", "status"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "engine: spark needs a Spark Connect remote" in r.stderr, str(r)
        assert "SPARK_REMOTE" in r.stderr


def test_bad_remote_names_spark_remote(env, monkeypatch):
    monkeypatch.setenv("DL_E2E_SPARK_TOKEN", TOKEN)
    spark_config(env, remote="sc://h/;token=${DL_E2E_SPARK_TOKEN};use_ssl=false", engine="spark")
    r = env.run("cluster-status")
    assert r.rc == 2, str(r)
    assert "spark.remote" in r.stderr and "loopback" in r.stderr, str(r)
    assert TOKEN not in r.out
    spark_config(env, remote="localhost:15002", engine="spark")
    r = env.run("validate")
    assert r.rc == 2 and "spark.remote" in r.stderr and "sc://" in r.stderr, str(r)


def test_duckdb_engine_still_loads(env):
    spark_config(env, engine="duckdb")
    env.load()
    assert env.read("t1").num_rows == 1
