"""Spark (delta-spark over the S3A connector) and data_loader on the same S3 tables (issue 13):
Spark reads the tables we write on S3 exactly as delta-rs does and sees our versions in its
history, and we append to and merge into a table Spark wrote on S3.

The server is the session-wide versitygw of object_stores.py; each test has its own bucket,
which `il.configure_s3a` points Spark's s3a:// at (per-bucket Hadoop keys, so tests sharing the
session's Spark do not clash). Spark reads s3a://bucket/...; delta-rs and our loader the same
objects as s3://bucket/... (the loader also as s3a://). Spark commits to a plain S3 store
through S3SingleDriverLogStore (no conditional PUT): safe here, with Spark the only writer
while it writes."""
from __future__ import annotations

import io
import json

import interop_lib as il
from deltalake import DeltaTable
from object_stores import S3_ACCESS_KEY, S3_SECRET_KEY, s3_server  # noqa: F401  (fixture)
from test_e2e_object_store import DB, s3env  # noqa: F401  (fixture)


def s3a(uri: str) -> str:
    assert uri.startswith("s3://"), uri
    return "s3a://" + uri[len("s3://"):]


def csv_bytes(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    for r in rows:
        out.write(",".join(map(str, r)) + "\n")
    return out.getvalue().encode()


def delta_rs_snapshot(s3env, uri: str) -> il.Snapshot:
    return il.snapshot_from_arrow(
        DeltaTable(uri, storage_options=s3env.server.deltalake_options()).to_pyarrow_table())


def assert_spark_reads_as_delta_rs(spark, s3env, uri: str) -> il.Snapshot:
    theirs = delta_rs_snapshot(s3env, uri)
    il.assert_same(il.read_spark(spark, s3a(uri)), theirs, f"Spark vs delta-rs on {uri}")
    return theirs


def log_operations(s3env, prefix: str) -> dict[int, str]:
    """{version: commitInfo.operation} read straight from the commits in the bucket."""
    ops = {}
    for v in s3env.log_versions_of(prefix):
        key = f"{prefix}/_delta_log/{v:020d}.json"
        body = s3env.server.client.get_object(Bucket=s3env.bucket, Key=key)["Body"].read()
        infos = [a["commitInfo"] for a in map(json.loads, body.decode().splitlines())
                 if "commitInfo" in a]
        ops[v] = infos[0]["operation"] if infos else None
    return ops


def spark_history(spark, uri: str) -> dict[int, str]:
    rows = spark.sql(f"DESCRIBE HISTORY delta.`{s3a(uri)}`").select("version", "operation")
    return {r["version"]: r["operation"] for r in rows.collect()}


def rows_of(snapshot: il.Snapshot, *cols: str) -> list[tuple]:
    return sorted(tuple(r[c] for c in cols) for r in snapshot.row_dicts())


# ------------------------------------------------------------------------------------------


def test_spark_reads_the_tables_we_write_on_s3_as_delta_rs_does(s3env, spark):
    il.configure_s3a(spark, s3env.bucket, s3env.endpoint, S3_ACCESS_KEY, S3_SECRET_KEY)
    parquet = [s3env.put_parquet(f"raw/ev/p{i}.parquet",
                                 {"id": list(range(i * 10, i * 10 + 10)),
                                  "v": [f"v{i}_{j}" for j in range(10)],
                                  "amount": [i + j / 4 for j in range(10)]})
               for i in range(3)]
    s3env.put("raw/ppl/a.csv", csv_bytes([("id", "name", "score"), (1, "ann", 10),
                                          (2, "bob", 20), (3, "cid", 30)]))
    s3env.put("raw/ppl/b.csv", csv_bytes([("id", "name", "score"), (4, "dee", 40)]))
    s3env.write_config([
        s3env.table_entry("events", "ev/*.parquet", max_files_per_batch=1),
        s3env.table_entry("people", "ppl/*.csv", fmt="csv", loading_strategy="merge",
                          primary_keys=["id"], audit_columns={"enabled": False}),
    ])
    s3env.load()
    s3env.put("raw/ppl/c.csv", csv_bytes([("id", "name", "score"), (2, "BOB", 21),
                                         (5, "eve", 50)]))
    s3env.load()

    events = assert_spark_reads_as_delta_rs(spark, s3env, s3env.table_uri("events"))
    assert events.num_rows == 30
    # Audit columns came through: each row names its source file.
    assert sorted({r["_source_file"] for r in events.row_dicts()}) == sorted(parquet)
    people = assert_spark_reads_as_delta_rs(spark, s3env, s3env.table_uri("people"))
    assert rows_of(people, "id", "name", "score") == [
        (1, "ann", 10), (2, "BOB", 21), (3, "cid", 30), (4, "dee", 40), (5, "eve", 50)]

    # Spark's history is our log: every version we committed, with our operation names.
    for name in ("events", "people"):
        ours = log_operations(s3env, f"processed/{DB}/{name}")
        assert len(ours) >= 2, (name, ours)
        assert spark_history(spark, s3env.table_uri(name)) == ours, name
    assert "MERGE" in log_operations(s3env, f"processed/{DB}/people").values()


def test_we_append_and_merge_into_tables_spark_wrote_on_s3(s3env, spark):
    il.configure_s3a(spark, s3env.bucket, s3env.endpoint, S3_ACCESS_KEY, S3_SECRET_KEY)
    base = spark.createDataFrame([(1, "a", 1.5), (2, "b", 2.5)], "id long, v string, x double")
    for name in ("sparks", "sparks_m"):
        base.write.format("delta").save(s3a(s3env.table_uri(name)))
    s3env.put_parquet("raw/a/x.parquet", {"id": [3], "v": ["c"], "x": [3.5]})
    s3env.put_parquet("raw/m/x.parquet", {"id": [2, 4], "v": ["B", "d"], "x": [20.5, 4.5]})
    no_audit = {"audit_columns": {"enabled": False}}
    # The loader reaches the same tables as s3a:// (the scheme Spark used).
    s3env.write_config([
        s3env.table_entry("sparks", "a/*.parquet", **no_audit),
        s3env.table_entry("sparks_m", "m/*.parquet", loading_strategy="merge",
                          primary_keys=["id"], **no_audit),
    ], processed_data_path=s3a(s3env.processed))
    s3env.load()

    appended = assert_spark_reads_as_delta_rs(spark, s3env, s3env.table_uri("sparks"))
    assert rows_of(appended, "id", "v", "x") == [(1, "a", 1.5), (2, "b", 2.5), (3, "c", 3.5)]
    merged = assert_spark_reads_as_delta_rs(spark, s3env, s3env.table_uri("sparks_m"))
    assert rows_of(merged, "id", "v", "x") == [(1, "a", 1.5), (2, "B", 20.5), (4, "d", 4.5)]
    for name in ("sparks", "sparks_m"):
        ours = log_operations(s3env, f"processed/{DB}/{name}")
        assert sorted(ours) == [0, 1], (name, ours)
        assert spark_history(spark, s3env.table_uri(name)) == ours, name

    # Spark writes again after us, and we load again after Spark: one log, no lost commit.
    spark.createDataFrame([(6, "f", 6.5)], "id long, v string, x double") \
        .write.format("delta").mode("append").save(s3a(s3env.table_uri("sparks")))
    s3env.put_parquet("raw/a/y.parquet", {"id": [7], "v": ["g"], "x": [7.5]})
    s3env.load()
    final = assert_spark_reads_as_delta_rs(spark, s3env, s3env.table_uri("sparks"))
    assert rows_of(final, "id", "v", "x") == [(1, "a", 1.5), (2, "b", 2.5), (3, "c", 3.5),
                                              (6, "f", 6.5), (7, "g", 7.5)]
    assert s3env.log_versions("sparks") == [0, 1, 2, 3]
