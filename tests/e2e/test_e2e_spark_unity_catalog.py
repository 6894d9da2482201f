"""Unity Catalog names on the Spark engine (`use_unity_catalog` with `engine: spark`): the Spark
session's catalog is the catalog (Unity Catalog on Databricks; here the local server's session
catalog, `spark_catalog`). A table we create is registered there as an external Delta table at
our storage path; a Delta table the catalog already knows is loaded where the catalog says it
lives; a name held by a table that is not Delta is refused naming it. Checked through Spark 4.1
by name (the `spark41` fixture) and through our own reader."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from e2e_lib import LoaderEnv, read_delta, write_csv
from test_e2e_spark_append import spark_remote  # noqa: F401  (autouse: SPARK_REMOTE)


@pytest.fixture
def schema() -> str:
    return "uc_" + secrets.token_hex(4)


def uc_config(env: LoaderEnv, schema: str, **extra):
    entry = env.table_entry("orders", "*.csv", "csv", engine="spark", **extra)
    entry["database_name"] = schema
    env.write_config([entry], use_unity_catalog=True, default_catalog="spark_catalog")


def location(spark41, name: str) -> str:
    return spark41.rows(f"DESCRIBE DETAIL {name}")[0]["location"]


def test_new_table_is_registered_external_at_our_path_and_loads_exactly_once(
        env: LoaderEnv, spark41, schema):
    write_csv(env.raw / "a.csv", "id,v\n1,a\n2,b\n")
    uc_config(env, schema)
    env.load()
    name = f"spark_catalog.{schema}.orders"
    ours = env.processed / "spark_catalog" / schema / "orders"
    loc = location(spark41, name)
    assert loc.startswith("file:") and loc.rstrip("/").endswith(str(ours)), loc
    assert sorted(r["id"] for r in spark41.rows(f"SELECT id FROM {name}")) == [1, 2]
    assert read_delta(ours).num_rows == 2
    # The next run appends through the same registration; a rerun loads nothing twice.
    write_csv(env.raw / "b.csv", "id,v\n3,c\n")
    env.load()
    env.load()
    assert sorted(r["id"] for r in spark41.rows(f"SELECT id FROM {name}")) == [1, 2, 3]
    detail = spark41.rows(f"DESCRIBE TABLE EXTENDED {name}")
    assert any(r["col_name"] == "Type" and r["data_type"] == "EXTERNAL" for r in detail), detail


def test_table_the_catalog_knows_is_loaded_where_it_lives(env: LoaderEnv, spark41, schema):
    name = f"spark_catalog.{schema}.orders"
    spark41.sql(f"CREATE SCHEMA {schema}")
    spark41.sql(f"CREATE TABLE {name} (id INT, v STRING) USING delta")  # managed by Spark
    spark41.sql(f"INSERT INTO {name} VALUES (0, 'spark')")
    managed = location(spark41, name)
    write_csv(env.raw / "a.csv", "id,v\n1,a\n")
    uc_config(env, schema)
    env.load()
    got = sorted((row["id"], row["v"]) for row in spark41.rows(f"SELECT id, v FROM {name}"))
    assert got == [(0, "spark"), (1, "a")]
    assert location(spark41, name) == managed  # still the managed table, not re-registered
    assert not (env.processed / "spark_catalog" / schema / "orders").exists()
    # Exactly once: a rerun adds nothing; a new file lands in the same table.
    env.load()
    assert len(spark41.rows(f"SELECT id FROM {name}")) == 2
    write_csv(env.raw / "b.csv", "id,v\n2,b\n")
    env.load()
    assert sorted(r["id"] for r in spark41.rows(f"SELECT id FROM {name}")) == [0, 1, 2]
    # status reads the table where the catalog says it lives, not at our default path.
    st = env.status()[f"spark_catalog.{schema}.orders"]
    assert st["path"].rstrip("/").endswith(managed.rstrip("/").removeprefix("file:")), st
    assert st["version"] == 3 and st["files"]["completed"] == 2, st


def test_a_name_held_by_a_table_that_is_not_delta_is_refused(env: LoaderEnv, spark41, schema):
    name = f"spark_catalog.{schema}.orders"
    spark41.sql(f"CREATE SCHEMA {schema}")
    spark41.sql(f"CREATE TABLE {name} (id INT, v STRING) USING parquet")
    write_csv(env.raw / "a.csv", "id,v\n1,a\n")
    uc_config(env, schema)
    r = env.run("run")
    assert r.rc != 0, str(r)
    assert name in r.stderr and "parquet" in r.stderr, r.stderr
    assert spark41.rows(f"SELECT count(*) AS n FROM {name}")[0]["n"] == 0
