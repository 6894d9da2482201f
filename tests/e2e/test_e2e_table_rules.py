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
