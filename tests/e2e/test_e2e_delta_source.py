"""file_format: delta: Delta tables written by Spark and by delta-rs as sources, loaded version
by version (only new data; compactions and reruns load nothing twice)."""
from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from e2e_lib import LoaderEnv


def delta_entry(env: LoaderEnv, name: str, source) -> dict:
    entry = env.table_entry(name, "unused", "delta")
    entry["source_path_pattern"] = str(source)
    return entry


def ids(env: LoaderEnv, name: str) -> list[int]:
    return sorted(env.read(name).column("id").to_pylist())


def test_delta_rs_source_loads_incrementally(env: LoaderEnv):
    source = env.root / "rs_source"
    write_deltalake(str(source), pa.table({"id": [1, 2, 3], "part": ["a", "b", "a"]}),
                    partition_by=["part"])
    env.write_config([delta_entry(env, "t", source)])
    env.load()
    assert ids(env, "t") == [1, 2, 3]
    assert all("rs_source/part=" in f for f in env.read("t").column("_source_file").to_pylist())

    write_deltalake(str(source), pa.table({"id": [4, 5], "part": ["b", "c"]}), mode="append")
    DeltaTable(str(source)).optimize.compact()  # dataChange=false rewrite: nothing new
    env.load()
    assert ids(env, "t") == [1, 2, 3, 4, 5]
    v = env.version("t")
    env.load()
    assert env.version("t") == v, "a rerun with nothing new must not commit"


def test_spark_source_loads_incrementally(env: LoaderEnv, spark):
    source = env.root / "spark_source"
    spark.range(0, 5).selectExpr("id", "cast(id % 2 as string) as k") \
        .write.format("delta").partitionBy("k").save(str(source))
    env.write_config([delta_entry(env, "t", source)])
    env.load()
    assert ids(env, "t") == [0, 1, 2, 3, 4]
    spark.range(5, 8).selectExpr("id", "cast(id % 2 as string) as k") \
        .write.format("delta").mode("append").save(str(source))
    env.load()
    assert ids(env, "t") == list(range(8))
    assert sorted(env.read("t").column("k").to_pylist()) == sorted(str(i % 2) for i in range(8))


def test_a_loader_table_as_the_source_of_another(env: LoaderEnv):
    # Bronze -> silver in one config: a run loads silver after bronze (the first run too, when
    # bronze does not exist before it). Bronze carries the loader's audit columns, so silver's
    # own would clash: with the defaults silver fails naming the key to set, writing nothing;
    # with other names it keeps bronze's lineage (the raw file) beside its own.
    from e2e_lib import write_parquet

    raw = write_parquet(env.raw / "a.parquet", pa.table({"id": [1, 2]}))
    bronze = env.table_entry("bronze", "*.parquet", "parquet")
    silver = delta_entry(env, "silver", env.table_path("bronze"))
    env.write_config([bronze, silver])
    r = env.load(expect=1)
    assert "audit_columns.load_timestamp" in r.out and "audit_columns: false" in r.out, str(r)
    assert not env.table_path("silver").exists()
    assert ids(env, "bronze") == [1, 2]

    silver["audit_columns"] = {"load_timestamp": "_silver_loaded_at",
                               "source_file": "_silver_source_file",
                               "batch_id": "_silver_batch_id"}
    env.write_config([bronze, silver])
    env.load()
    rows = env.read("silver").to_pylist()
    assert sorted(r["id"] for r in rows) == [1, 2]
    assert {r["_source_file"] for r in rows} == {str(raw)}
    assert all("/bronze/" in r["_silver_source_file"] for r in rows), rows
    # One run carries a new file through both: silver is planned after bronze committed.
    write_parquet(env.raw / "b.parquet", pa.table({"id": [3]}))
    env.load()
    assert ids(env, "bronze") == [1, 2, 3]
    assert ids(env, "silver") == [1, 2, 3]


def test_missing_source_table_is_a_table_error(env: LoaderEnv):
    env.write_config([delta_entry(env, "t", env.root / "nowhere")])
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert "not a Delta table" in r.out or "nowhere" in r.out, str(r)


def test_merge_from_a_delta_source_last_row_of_a_file_wins(env: LoaderEnv, spark):
    """Without a sequence column, several rows for a key resolve by delivery order: file
    order, then row order within the file (the data file's row index), as for parquet."""
    source = env.root / "cdc_source"
    rows = [(1, f"v{i}") for i in range(50)] + [(2, "only")]
    spark.createDataFrame(rows, "id BIGINT, name STRING").coalesce(1) \
        .write.format("delta").save(str(source))
    entry = delta_entry(env, "t", source)
    entry.update(loading_strategy="merge", primary_keys=["id"], audit_columns=False)
    env.write_config([entry])
    env.load()
    got = dict(zip(env.read("t").column("id").to_pylist(), env.read("t").column("name").to_pylist()))
    assert got == {1: "v49", 2: "only"}
    # In-place deletes in the source (deletion vectors) bring nothing new to load.
    spark.sql(f"ALTER TABLE delta.`{source}` SET TBLPROPERTIES "
              "('delta.enableDeletionVectors' = 'true')")
    spark.sql(f"DELETE FROM delta.`{source}` WHERE name = 'v3'")
    v = env.version("t")
    env.load()
    assert env.version("t") == v, "a source's in-place delete must not reload its file"
