"""A `run` into tables Spark created with CHECK constraints and generated columns:
- append: the file breaking a constraint fails alone, named with the constraint, its expression
  and its row count (output, status, tracker); the other files of the batch load;
- merge: updated and inserted rows get the generated column computed, Spark reads them.
"""
from __future__ import annotations

import pyarrow as pa

import interop_lib as il
from e2e_lib import LoaderEnv, assert_completed, assert_file_failed, assert_loaded_exactly, write_parquet


def test_append_fails_only_the_file_breaking_a_constraint(env: LoaderEnv, spark):
    path = env.table_path("t")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, s STRING) USING delta")
    spark.sql(f"ALTER TABLE delta.`{path}` ADD CONSTRAINT id_positive CHECK (id > 0)")
    d = env.raw / "t"
    a = write_parquet(d / "a.parquet", {"id": pa.array([1, 2], pa.int64()), "s": ["a", "b"]})
    bad = write_parquet(d / "b.parquet", {"id": pa.array([3, -4, -5], pa.int64()), "s": ["c", "d", "e"]})
    c = write_parquet(d / "c.parquet", {"id": pa.array([6], pa.int64()), "s": ["f"]})
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet")])
    r = env.run("run")
    assert r.rc == 1, f"a failed file must make the run exit 1\n{r}"
    assert_file_failed(env, r, "t", bad, r"2 rows of .*b\.parquet violate CHECK constraint id_positive \(id > 0\)")
    assert_loaded_exactly(env, "t", {a: 2, c: 1})
    assert_completed(env, "t", [a, c])
    spark.catalog.clearCache()
    ids = sorted(r["id"] for r in spark.read.format("delta").load(str(path)).collect())
    assert ids == [1, 2, 6]


def test_merge_computes_generated_columns(env: LoaderEnv, spark):
    path = env.table_path("g")
    from delta.tables import DeltaTable

    DeltaTable.create(spark).location(str(path)).addColumn("id", "BIGINT").addColumn("v", "STRING") \
        .addColumn("g", "BIGINT", generatedAlwaysAs="id * 10").execute()
    spark.createDataFrame([(1, "a"), (2, "b")], "id bigint, v string").write.format("delta") \
        .mode("append").save(str(path))
    d = env.raw / "g"
    write_parquet(d / "m.parquet", {"id": pa.array([2, 3], pa.int64()), "v": ["B", "c"]})
    env.write_config([env.table_entry("g", "g/*.parquet", "parquet", loading_strategy="merge",
                                      primary_keys=["id"], audit_columns=False)])
    env.load()
    spark.catalog.clearCache()
    rows = sorted((r["id"], r["v"], r["g"]) for r in spark.read.format("delta").load(str(path)).collect())
    assert rows == [(1, "a", 10), (2, "B", 20), (3, "c", 30)]
    wrong = write_parquet(d / "w.parquet", {"id": pa.array([4], pa.int64()), "v": ["d"],
                                            "g": pa.array([41], pa.int64())})
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert_file_failed(env, r, "g", wrong, r"column g that disagrees with its generation expression \(id \* 10\)")
    spark.createDataFrame([(5, "e")], "id bigint, v string").write.format("delta").mode("append").save(str(path))
    spark.catalog.clearCache()
    assert sorted(r["g"] for r in spark.read.format("delta").load(str(path)).collect()) == [10, 20, 30, 50]


def test_concurrent_loaders_allocate_unique_identity_values(env: LoaderEnv, spark):
    """Two loaders append to one identity table (Spark's GENERATED ALWAYS AS IDENTITY). One is
    held before its commit, values allocated from the high-water mark, while the other commits
    values from the same mark; released, it loses the race on the other's metaData (the new
    mark), re-plans and allocates above it: every value unique, the mark the largest."""
    import json
    import os
    import subprocess
    from pathlib import Path

    from delta.tables import DeltaTable, IdentityGenerator
    from e2e_lib import stop_process, wait_for

    path = env.table_path("i")
    DeltaTable.create(spark).location(str(path)) \
        .addColumn("k", "BIGINT", generatedAlwaysAs=IdentityGenerator()).addColumn("s", "STRING").execute()
    spark.createDataFrame([("seed",)], "s string").write.format("delta").mode("append").save(str(path))
    write_parquet(env.raw / "a" / "a.parquet", {"s": ["a1", "a2", "a3"]})
    write_parquet(env.raw / "b" / "b.parquet", {"s": ["b1", "b2"]})
    configs = {}
    for src in ("a", "b"):
        configs[src] = env.root / f"{src}.yaml"
        env.write_config([env.table_entry("i", f"{src}/*.parquet", "parquet", audit_columns=False)])
        configs[src].write_text(env.config_path.read_text())
    release = env.root / "release"
    held = subprocess.Popen(env.cmd("run", config=configs["a"]), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "DL_TEST_PAUSE_BEFORE_COMMIT": str(release)})
    try:
        wait_for(lambda: Path(f"{release}.waiting").exists() or held.poll() is not None, 60, 0.02,
                 "the held loader to reach its commit")
        assert held.poll() is None, held.communicate()
        env.load(config=configs["b"])
        release.write_text("")
        out, err = held.communicate(timeout=120)
    finally:
        stop_process(held)
    assert held.returncode == 0, f"{out}\n{err}"
    spark.catalog.clearCache()
    rows = {r["s"]: r["k"] for r in spark.read.format("delta").load(str(path)).collect()}
    assert len(rows) == 6 and len(set(rows.values())) == 6, f"identity values must be unique: {rows}"
    schema = json.loads(il.replay_log(path).metadata["schemaString"])
    hwm = schema["fields"][0]["metadata"]["delta.identity.highWaterMark"]
    assert hwm == max(rows.values()), (hwm, rows)
