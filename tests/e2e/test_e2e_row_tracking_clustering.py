"""Row tracking and clustering through `run` (the loader's config path).

- A merge batch into a Spark table with delta.enableRowTracking whose keys are all new only
  inserts: it commits, and Spark's row ids stay unique and unchanged for the existing rows. A
  batch that updates an existing key keeps that row's id (with the merge's commit version),
  every other row's id and version, and gives the insert a new id.
- `clustering_columns` creates a clustered table (Spark's DESCRIBE DETAIL shows the columns);
  a column the data lacks fails the batch naming the key (a config error, exit 2, from
  `table write --cluster-by`), and nothing is written.
"""
from __future__ import annotations

import pyarrow as pa

import interop_lib as il
from e2e_lib import LoaderEnv

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _rows(ids, tag="n") -> pa.Table:
    ids = list(ids)
    return pa.table({"id": ids, "name": [f"{tag}{i}" for i in ids]}, schema=SCHEMA)


def _row_ids(spark, path) -> dict[int, tuple[int, int]]:
    got = spark.sql(f"SELECT id, _metadata.row_id AS rid, _metadata.row_commit_version AS rcv "
                    f"FROM delta.`{path}`").collect()
    return {r["id"]: (r["rid"], r["rcv"]) for r in got}


def test_merge_into_row_tracking_table(env: LoaderEnv, spark):
    path = env.table_path("t")
    path.parent.mkdir(parents=True, exist_ok=True)
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING) USING delta "
              "TBLPROPERTIES ('delta.enableRowTracking' = 'true')")
    spark.createDataFrame(_rows(range(20)).to_pandas()).coalesce(1) \
        .write.format("delta").mode("append").save(str(path))
    before = _row_ids(spark, path)

    (env.raw / "t").mkdir(parents=True, exist_ok=True)
    il.write_parquet(_rows(range(100, 110)), env.raw / "t" / "b0.parquet")
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet", loading_strategy="merge",
                                      primary_keys=["id"], audit_columns=False)])
    env.load()
    after = _row_ids(spark, path)
    assert len(after) == 30 and len({rid for rid, _ in after.values()}) == 30
    assert all(after[i] == before[i] for i in before)
    version = il.replay_log(path).version

    # An update keeps its row id and takes the merge's commit version; the other rows keep
    # both; the insert gets a new id.
    il.write_parquet(_rows([5, 200], tag="u"), env.raw / "t" / "b1.parquet")
    env.load()
    merged = il.replay_log(path).version
    assert merged == version + 1
    final = _row_ids(spark, path)
    assert len(final) == 31
    assert all(final[i] == after[i] for i in after if i != 5)
    assert final[5] == (after[5][0], merged), (after[5], final[5])
    assert final[200][0] > max(rid for rid, _ in after.values()) and final[200][1] == merged


def test_clustering_columns_config(env: LoaderEnv, spark):
    (env.raw / "c").mkdir(parents=True, exist_ok=True)
    il.write_parquet(_rows(range(10)), env.raw / "c" / "a.parquet")
    env.write_config([env.table_entry("c", "c/*.parquet", "parquet", audit_columns=False,
                                      clustering_columns=["nope"])])
    # Known only once the data is read: the batch fails naming the key (as a merge_condition
    # that does not fit the data does) and nothing is written.
    r = env.run("run")
    assert r.rc == 1 and "clustering_columns: 'nope'" in r.out, str(r)
    assert not (env.table_path("c") / "_delta_log").exists()

    env.write_config([env.table_entry("c", "c/*.parquet", "parquet", audit_columns=False,
                                      clustering_columns=["id"])])
    env.load()
    path = env.table_path("c")
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]
    assert list(detail["clusteringColumns"]) == ["id"]
    assert sorted(r["id"] for r in spark.read.format("delta").load(str(path)).collect()) == list(range(10))
