"""The Spark engine on a server whose JVM and default session time zone are not UTC
(America/New_York, as a cluster outside UTC may be): every load sets
spark.sql.session.timeZone=UTC in its own session (spark_plan.cpp PrepareSession), so zoned
timestamps are cut in UTC by the compiled config fragments and naive csv timestamps are read
as on DuckDB. The tables equal the DuckDB engine's. This module starts a server of its own
(the session's shared one is in UTC, where the setting would change nothing)."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from e2e_lib import LoaderEnv, write_csv, write_parquet
from spark_connect.client import Spark41
from spark_connect.server import SparkConnectServer, free_port
from test_e2e_spark_append import rows, write_configs
from test_e2e_spark_merge import duck_table

ZONE = "America/New_York"


@pytest.fixture(scope="module")
def new_york_server(tmp_path_factory):
    server = SparkConnectServer(port=free_port(), workdir=tmp_path_factory.mktemp("spark-ny"),
                                time_zone=ZONE)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def spark_remote(new_york_server, monkeypatch):
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLUSTER_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPARK_REMOTE", new_york_server.remote)


def utc(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, 30, tzinfo=dt.timezone.utc)


def test_the_server_is_not_in_utc(new_york_server, tmp_path):
    # What the tests below rely on: a session that sets nothing is in New York time.
    client = Spark41(new_york_server, tmp_path)
    try:
        assert client.rows("SELECT current_timezone() AS z") == [{"z": ZONE}]
    finally:
        client.close()


def test_fragments_cut_zoned_timestamps_in_utc_like_duckdb(env: LoaderEnv):
    # 23:30 UTC is 18:30 in New York, 03:30 UTC is 22:30 the day before: `hour(ts) >= 22`
    # deletes opposite keys in the two zones.
    ts = pa.timestamp("us", tz="UTC")
    write_parquet(env.raw / "a.parquet",
                  {"id": [1, 2, 3, 4], "v": ["a", "b", "c", "d"],
                   "ts": pa.array([utc(9, 12)] * 4, ts)})
    entry = env.table_entry("t", "*.parquet", "parquet", loading_strategy="merge",
                            primary_keys=["id"], delete_condition="hour(ts) >= 22",
                            merge_condition="day(source.ts) >= day(target.ts)")
    _, duck_cfg = write_configs(env, entry)
    env.load()
    write_parquet(env.raw / "b.parquet",
                  {"id": [1, 2, 3, 4, 5], "v": ["a2", "b2", "c2", "d2", "e"],
                   "ts": pa.array([utc(9, 23), utc(10, 3), utc(9, 23), utc(10, 3), utc(10, 3)],
                                  ts)})
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    got = sorted((r["id"], r["v"]) for r in env.read("t").to_pylist())
    assert got == [(2, "b2"), (4, "d2"), (5, "e")], got  # 1 and 3: 23:30 UTC, deleted
    assert rows(env.read("t")) == rows(duck_table(env, "t"))


def test_naive_csv_timestamps_and_a_replace_where_like_duckdb(env: LoaderEnv):
    # Read in New York time, 01:30 would be stored as 06:30 UTC.
    write_csv(env.raw / "a.csv", "id,ts\n1,2024-03-10 01:30:00\n2,2024-03-10 23:30:00\n")
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="overwrite",
                            replace_where="day(ts) = 10")
    _, duck_cfg = write_configs(env, entry)
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    assert rows(env.read("t")) == rows(duck_table(env, "t"))
    got = {r["id"]: r["ts"] for r in env.read("t").to_pylist()}
    assert [got[1].hour, got[2].hour] == [1, 23], got


def test_naive_csv_timestamps_into_a_zoned_column_read_as_utc(env: LoaderEnv):
    # The first file's offsets make the column zoned (Delta `timestamp`) on both engines. A
    # table the Spark engine made before it read naive csv timestamps as naive has such
    # columns: the next file's naive values go into it read as UTC (New York would give 06:30
    # and 07:30). The DuckDB engine refuses that file (timestamp_ntz into timestamp).
    write_csv(env.raw / "a.csv", "id,ts\n1,2024-03-10 01:30:00+00:00\n")
    entry = env.table_entry("t", "*.csv", "csv")
    _, duck_cfg = write_configs(env, entry)
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    assert rows(env.read("t")) == rows(duck_table(env, "t"))
    write_csv(env.raw / "b.csv", "id,ts\n2,2024-03-10 02:30:00\n")
    env.load()
    got = {r["id"]: r["ts"] for r in env.read("t").to_pylist()}
    assert got == {1: utc(10, 1), 2: utc(10, 2)}, got
