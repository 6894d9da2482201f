"""SCD2 on the Spark engine into tables Spark created with generated and identity columns (as
Databricks users make their dimensions): a generated column the files lack is computed by
Delta for every version, as the DuckDB engine computes it, and the table equals DuckDB's (a
file giving it a value that disagrees fails on both); an identity column,
whose values the DuckDB engine keeps in the versions replacing a row and Spark's MERGE cannot,
is refused before anything is written, naming the table and the column."""
from __future__ import annotations

import os

import pyarrow as pa
import pytest

from e2e_lib import LoaderEnv, write_parquet
from test_e2e_spark_append import spark_remote, write_configs  # noqa: F401

SCD2 = dict(loading_strategy="scd2", primary_keys=["id"], sequence_column="seq")


@pytest.fixture
def local_spark(request):
    """The in-process Spark (Delta's table builder: Spark 4.1's CREATE TABLE refuses generation
    expressions on Delta 4.1's catalog). It refuses to start while SPARK_REMOTE is set."""
    remote = os.environ.pop("SPARK_REMOTE")
    try:
        return request.getfixturevalue("spark")
    finally:
        os.environ["SPARK_REMOTE"] = remote


def create(spark, path, extra: tuple[str, str, object]):
    from delta.tables import DeltaTable
    b = DeltaTable.create(spark).location(str(path))
    for name, typ in [("id", "BIGINT"), ("name", "STRING"), ("seq", "BIGINT"),
                      ("effective_date", "BIGINT"), ("end_date", "BIGINT"),
                      ("is_current", "BOOLEAN")]:
        b = b.addColumn(name, typ)
    b.addColumn(extra[0], extra[1], generatedAlwaysAs=extra[2]).execute()


def batch(env: LoaderEnv, name: str, rows: list[tuple[int, str, int]]):
    return write_parquet(env.raw / "t" / name, {
        "id": pa.array([r[0] for r in rows], pa.int64()), "name": [r[1] for r in rows],
        "seq": pa.array([r[2] for r in rows], pa.int64())})


def spark_rows(spark41, path, drop=()) -> list[tuple]:
    got = spark41.rows(f"SELECT * FROM delta.`{path}`")
    return sorted((tuple(v for k, v in r.items() if k not in drop) for r in got), key=repr)


def both_tables(env: LoaderEnv):
    return env.table_path("t"), env.root / "duck" / "processed" / env.DB / "t"


def test_scd2_computes_a_generated_column_like_duckdb(env: LoaderEnv, spark41, local_spark):
    _, duck_cfg = write_configs(env, env.table_entry("t", "t/*.parquet", "parquet", **SCD2))
    for root in both_tables(env):
        create(local_spark, root, ("g", "BIGINT", "id * 10"))
    batch(env, "1.parquet", [(1, "a", 1), (2, "b", 1)])
    batch(env, "2.parquet", [(1, "a2", 2), (3, "c", 2)])
    for more in ([(2, "b0", 0)], [(3, "c", 2)]):  # a late event; then an identical row
        spark_run = env.run("run")
        assert spark_run.rc == 0, str(spark_run)
        duck_run = env.run("run", config=duck_cfg)
        assert duck_run.rc == 0, str(duck_run)
        batch(env, f"late{len(more)}{more[0][0]}.parquet", more)
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    ours, theirs = both_tables(env)
    drop = {"_load_timestamp", "_batch_id", "_source_file"}
    assert spark_rows(spark41, ours, drop) == spark_rows(spark41, theirs, drop)
    current = spark41.rows(f"SELECT id, name, g FROM delta.`{ours}` WHERE is_current ORDER BY id")
    assert current == [{"id": 1, "name": "a2", "g": 10}, {"id": 2, "name": "b", "g": 20},
                       {"id": 3, "name": "c", "g": 30}], current
    assert all(r["g"] == r["id"] * 10 for r in spark41.rows(f"SELECT id, g FROM delta.`{ours}`"))
    version = len(list((ours / "_delta_log").glob("*.json")))
    env.load()  # a rerun loads nothing
    assert len(list((ours / "_delta_log").glob("*.json"))) == version
    # A file giving the generated column a value that disagrees fails on both engines.
    wrong = write_parquet(env.raw / "t" / "wrong.parquet", {
        "id": pa.array([4], pa.int64()), "name": ["d"], "seq": pa.array([5], pa.int64()),
        "g": pa.array([41], pa.int64())})
    for r in (env.run("run"), env.run("run", config=duck_cfg)):
        assert r.rc == 1 and str(wrong) in r.out, str(r)
    assert len(list((ours / "_delta_log").glob("*.json"))) == version
    assert spark_rows(spark41, ours, drop) == spark_rows(spark41, theirs, drop)


def test_scd2_into_an_identity_table_is_refused_naming_it(env: LoaderEnv, spark41, local_spark):
    from delta.tables import IdentityGenerator
    write_configs(env, env.table_entry("t", "t/*.parquet", "parquet", **SCD2))
    ours, _ = both_tables(env)
    create(local_spark, ours, ("sk", "BIGINT", IdentityGenerator()))
    bad = batch(env, "1.parquet", [(1, "a", 1), (2, "b", 1)])
    log = sorted((ours / "_delta_log").glob("*.json"))
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert "identity column sk" in r.out and "e2e.t" in r.out and "engine: duckdb" in r.out, str(r)
    assert str(bad) in r.out
    assert sorted((ours / "_delta_log").glob("*.json")) == log, "nothing may be committed"
    assert not (ours / "_dl_scd2_changes").exists()
    assert spark41.rows(f"SELECT count(*) AS n FROM delta.`{ours}`") == [{"n": 0}]
