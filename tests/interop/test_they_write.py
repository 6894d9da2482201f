"""Tables written by Spark + delta-spark and by delta-rs are read identically by data_loader
(latest and every older version), and data_loader can append to them, after which Spark,
delta-rs and DuckDB read the result identically."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import interop_data as data
import interop_lib as il

UTC = dt.timezone.utc


@dataclasses.dataclass
class TheirTable:
    kind: str
    path: str
    partition_by: list[str]
    expected: dict[int, pa.Table]  # version -> expected content
    make_rows: Callable[[range], pa.Table]  # rows with the table's latest schema, for appends
    src_dir: Path


def _spark_conf(spark, key, value):
    old = spark.conf.get(key, None)
    spark.conf.set(key, value)
    return old


def _restore_conf(spark, key, old):
    if old is None:
        spark.conf.unset(key)
    else:
        spark.conf.set(key, old)


def _spark_write(spark, src: str, path: str, mode: str, partition_by=None, merge_schema=False):
    df = spark.read.parquet(src).coalesce(1)
    w = df.write.format("delta").mode(mode)
    if partition_by:
        w = w.partitionBy(*partition_by)
    if merge_schema:
        w = w.option("mergeSchema", "true")
    w.save(path)


def _parquet_physical_types(path: str) -> dict[str, str]:
    """Physical type per leaf column of the first data file of a table."""
    for root, _, files in os.walk(path):
        if "_delta_log" in root:
            continue
        for f in sorted(files):
            if f.endswith(".parquet"):
                s = pq.ParquetFile(os.path.join(root, f)).schema
                return {s.column(i).path: s.column(i).physical_type for i in range(len(s))}
    raise AssertionError(f"no data file under {path}")


def _assert_no_deletion_vectors(path: str):
    for v in il.commit_versions(path):
        for a in il.read_commit(path, v):
            assert not (a.get("add") or {}).get("deletionVector"), f"unexpected DV in {path} v{v}"


# --------------------------------------------------------------------------------------------
# Fixture tables
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark_table(spark, tmp_path_factory) -> TheirTable:
    """Spark table partitioned by a string with special characters and nulls, TIMESTAMP_MICROS
    timestamps + timestamp_ntz, nested types, a mergeSchema evolution, a copy-on-write DELETE and
    12 commits (so Spark wrote the version-10 checkpoint)."""
    base = tmp_path_factory.mktemp("spark_table")
    path, src = str(base / "table"), base / "src"
    old = _spark_conf(spark, "spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    expected: dict[int, pa.Table] = {}
    try:
        a = data.make_batch(range(0, 16))
        _spark_write(spark, il.write_parquet(a, src / "v0.parquet"), path, "overwrite", ["part"])
        expected[0] = a
        cur = a
        for v in range(1, 5):  # plain appends
            b = data.make_batch(range(v * 100, v * 100 + 6))
            _spark_write(spark, il.write_parquet(b, src / f"v{v}.parquet"), path, "append")
            cur = il.concat([cur, b])
            expected[v] = cur
        c = data.make_batch(range(500, 508), extra=True)  # v5: schema evolution
        _spark_write(spark, il.write_parquet(c, src / "v5.parquet"), path, "append", merge_schema=True)
        cur = il.concat([cur, c])
        expected[5] = cur
        spark.sql(f"DELETE FROM delta.`{path}` WHERE id % 4 = 1 OR part = 'x y'")  # v6
        cur = il.filter_rows(cur, lambda r: r["id"] % 4 == 1 or r["part"] == "x y")
        expected[6] = cur
        for v in range(7, 12):
            b = data.make_batch(range(v * 100, v * 100 + 4), extra=True)
            _spark_write(spark, il.write_parquet(b, src / f"v{v}.parquet"), path, "append")
            cur = il.concat([cur, b])
            expected[v] = cur
    finally:
        _restore_conf(spark, "spark.sql.parquet.outputTimestampType", old)
    # Preconditions: what this fixture is meant to contain really is there.
    assert il.commit_versions(path) == list(range(12))
    assert (Path(path) / "_delta_log" / f"{10:020d}.checkpoint.parquet").exists(), "Spark wrote no checkpoint"
    meta = il.replay_log(path)
    sch = il.schema_of_delta_json(json.loads(meta.metadata["schemaString"]))
    assert sch["ntz"] == "timestamp_ntz" and sch["ts"] == "timestamp" and "extra_l" in sch
    assert "timestampNtz" in meta.protocol.get("readerFeatures", [])
    assert _parquet_physical_types(path)["ts"] == "INT64"
    assert any(("%" in p) for p in meta.adds), "expected URI/Hive-escaped partition paths"
    _assert_no_deletion_vectors(path)
    return TheirTable("spark", path, ["part"], expected, lambda ids: data.make_batch(ids, extra=True), src)


def _typed_parts_batch(ids) -> pa.Table:
    rows = []
    for i in ids:
        rows.append({
            "id": i,
            "pd": [dt.date(2021, 9, 8), None, dt.date(1970, 1, 1)][i % 3],
            "pts": [dt.datetime(2021, 9, 8, 11, 11, 11, tzinfo=UTC),
                    dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC), None][i % 3],
            "pi": [None, -5, 42, 0][i % 4],
            "ts": None if i % 5 == 0 else dt.datetime(1950, 6, 1, 12, 0, 0, tzinfo=UTC) + dt.timedelta(days=400 * (i % 97), microseconds=1001 * i),
            "ntz": dt.datetime(2030, 1, 1) + dt.timedelta(microseconds=i),
            "s": data.STRINGS[i % len(data.STRINGS)],
        })
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("id", pa.int64()), ("pd", pa.date32()), ("pts", pa.timestamp("us", tz="UTC")), ("pi", pa.int32()),
        ("ts", pa.timestamp("us", tz="UTC")), ("ntz", pa.timestamp("us")), ("s", pa.string())]))


@pytest.fixture(scope="module")
def spark_int96_table(spark, tmp_path_factory) -> TheirTable:
    """Spark table with INT96 timestamps (spark.sql.parquet.outputTimestampType=INT96), partitioned
    by date, timestamp and int columns (with nulls)."""
    base = tmp_path_factory.mktemp("spark_int96")
    path, src = str(base / "table"), base / "src"
    old = _spark_conf(spark, "spark.sql.parquet.outputTimestampType", "INT96")
    try:
        a = _typed_parts_batch(range(0, 12))
        _spark_write(spark, il.write_parquet(a, src / "v0.parquet"), path, "overwrite", ["pd", "pts", "pi"])
        b = _typed_parts_batch(range(100, 106))
        _spark_write(spark, il.write_parquet(b, src / "v1.parquet"), path, "append")
    finally:
        _restore_conf(spark, "spark.sql.parquet.outputTimestampType", old)
    assert _parquet_physical_types(path)["ts"] == "INT96", "Spark did not write INT96 timestamps"
    _assert_no_deletion_vectors(path)
    return TheirTable("spark_int96", path, ["pd", "pts", "pi"], {0: a, 1: il.concat([a, b])}, _typed_parts_batch, src)


@pytest.fixture(scope="module")
def delta_rs_table(tmp_path_factory) -> TheirTable:
    """delta-rs table partitioned by a string with special characters and nulls: appends, a
    schema-merge append, a delete, an overwrite, create_checkpoint() and one more append."""
    from deltalake import DeltaTable, write_deltalake

    base = tmp_path_factory.mktemp("delta_rs_table")
    path = str(base / "table")
    expected = {}
    a = data.make_batch(range(0, 16))
    write_deltalake(path, a, partition_by=["part"])
    expected[0] = cur = a
    b = data.make_batch(range(100, 110))
    write_deltalake(path, b, mode="append")
    expected[1] = cur = il.concat([cur, b])
    c = data.make_batch(range(200, 210), extra=True)
    write_deltalake(path, c, mode="append", schema_mode="merge")
    expected[2] = cur = il.concat([cur, c])
    DeltaTable(path).delete("id > 100 AND id < 106 OR part = '='")
    expected[3] = cur = il.filter_rows(cur, lambda r: 100 < r["id"] < 106 or r["part"] == "=")
    d = data.make_batch(range(300, 312), extra=True)
    write_deltalake(path, d, mode="overwrite")
    expected[4] = cur = d
    e = data.make_batch(range(400, 405), extra=True)
    write_deltalake(path, e, mode="append")
    expected[5] = cur = il.concat([cur, e])
    DeltaTable(path).create_checkpoint()
    f = data.make_batch(range(500, 505), extra=True)
    write_deltalake(path, f, mode="append")
    expected[6] = il.concat([cur, f])
    assert il.commit_versions(path) == list(range(7))
    assert (Path(path) / "_delta_log" / f"{5:020d}.checkpoint.parquet").exists()
    return TheirTable("delta_rs", path, ["part"], expected, lambda ids: data.make_batch(ids, extra=True), base / "src")


@pytest.fixture(scope="module")
def spark_multipart_table(spark, tmp_path_factory) -> TheirTable:
    """Spark table whose version-10 checkpoint is multi-part (checkpoint.partSize=3)."""
    base = tmp_path_factory.mktemp("spark_multipart")
    path, src = str(base / "table"), base / "src"
    old = _spark_conf(spark, "spark.databricks.delta.checkpoint.partSize", "3")
    expected, cur = {}, None
    try:
        for v in range(12):
            b = data.make_batch(range(v * 10, v * 10 + 3))
            _spark_write(spark, il.write_parquet(b, src / f"v{v}.parquet"), path, "append" if v else "overwrite")
            cur = b if cur is None else il.concat([cur, b])
            if v in (0, 6, 9, 10, 11):
                expected[v] = cur
    finally:
        _restore_conf(spark, "spark.databricks.delta.checkpoint.partSize", old)
    parts = [f for f in os.listdir(Path(path) / "_delta_log") if f.startswith(f"{10:020d}.checkpoint.0")]
    assert len(parts) > 1, f"precondition: multi-part checkpoint, found {parts}"
    return TheirTable("spark_multipart", path, [], expected, lambda ids: data.make_batch(ids), src)


KINDS = ["spark_table", "spark_int96_table", "delta_rs_table", "spark_multipart_table"]


@pytest.fixture(params=KINDS)
def their(request) -> TheirTable:
    return request.getfixturevalue(request.param)


def _expected(t: pa.Table) -> il.Snapshot:
    return il.snapshot_from_arrow(t)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_engines_agree_on_their_table(their, readers):
    """Harness check: Spark, delta-rs and DuckDB all read the fixture table as modelled, at every
    version (so the later data_loader comparisons compare against a trustworthy expectation)."""
    mm = il.Mismatches()
    latest = max(their.expected)
    for name, read in readers.items():
        mm.check(f"{name} latest", lambda: read(their.path), _expected(their.expected[latest]))
        for v, exp in sorted(their.expected.items()):
            mm.check(f"{name} v{v}", lambda: read(their.path, v), _expected(exp))
    mm.assert_none(f"{their.kind} table {their.path}")


def test_data_loader_reads_their_table(their, dl):
    """`table scan` (latest and --version N for every version) equals the expected content,
    including partition values with special characters, nulls, INT96 and checkpoints."""
    mm = il.Mismatches()
    latest = max(their.expected)
    mm.check("data_loader latest", lambda: dl.scan(their.path), _expected(their.expected[latest]))
    for v, exp in sorted(their.expected.items()):
        mm.check(f"data_loader --version {v}", lambda: dl.scan(their.path, version=v), _expected(exp))
    mm.assert_none(f"{their.kind} table {their.path}")


def test_data_loader_reads_their_table_same_as_spark(their, dl, spark):
    """Direct reader-vs-reader comparison (not only vs. the model) at the latest and first version."""
    for v in (None, 0):
        assert not il.diff_snapshots(dl.scan(their.path, version=v), il.read_spark(spark, their.path, v)), \
            f"{their.kind} v{v}: data_loader != Spark: " + il.diff_snapshots(
                dl.scan(their.path, version=v), il.read_spark(spark, their.path, v))
        assert not il.diff_snapshots(dl.scan(their.path, version=v), il.read_delta_rs(their.path, v))


def test_data_loader_describe_their_table(their, dl, spark):
    snap = il.replay_log(their.path)
    d = dl.describe(their.path)
    assert d["version"] == snap.version
    assert d["id"] == snap.metadata["id"]
    assert d["partition_columns"] == their.partition_by
    assert il.schema_of_delta_json(d["schema"]) == il.schema_of_delta_json(json.loads(snap.metadata["schemaString"]))
    assert d["protocol"]["minReaderVersion"] == snap.protocol["minReaderVersion"]
    assert d["protocol"]["minWriterVersion"] == snap.protocol["minWriterVersion"]
    assert sorted(d["protocol"].get("readerFeatures") or []) == sorted(snap.protocol.get("readerFeatures") or [])
    assert sorted(d["protocol"].get("writerFeatures") or []) == sorted(snap.protocol.get("writerFeatures") or [])
    assert d["num_files"] == len(snap.adds)
    assert d["size_bytes"] == sum(a["size"] for a in snap.adds.values())
    hist = dl.history(their.path)
    assert [h["version"] for h in hist] == list(range(snap.version, -1, -1))
    spark_ops = {r["version"]: r["operation"] for r in
                 spark.sql(f"DESCRIBE HISTORY delta.`{their.path}`").select("version", "operation").collect()}
    assert {h["version"]: h["operation"] for h in hist} == spark_ops


def test_data_loader_appends_to_their_table(their, dl, readers, tmp_path):
    """data_loader appends (twice: a checkpointed table must stay consistent); every engine then
    reads the result identically; protocol and table id are preserved."""
    path = il.copy_table(their.path, tmp_path / "table")
    before = il.replay_log(path)
    latest = before.version
    new1 = their.make_rows(range(9000, 9007))
    new2 = their.make_rows(range(9100, 9103))
    dl.write(path, il.write_parquet(new1, tmp_path / "new1.parquet"))
    dl.write(path, il.write_parquet(new2, tmp_path / "new2.parquet"))
    after = il.replay_log(path)
    assert after.version == latest + 2, f"expected versions {latest + 1}, {latest + 2}; log has {il.commit_versions(path)}"
    assert after.metadata["id"] == before.metadata["id"]
    assert after.metadata["partitionColumns"] == before.metadata["partitionColumns"]
    assert json.loads(after.metadata["schemaString"]) == json.loads(before.metadata["schemaString"])
    assert after.protocol == before.protocol
    for v in (latest + 1, latest + 2):
        ops = [a for a in il.read_commit(path, v)]
        assert not any("remove" in a for a in ops), f"append v{v} removed files"
        assert all(a["add"]["dataChange"] for a in ops if "add" in a)
    expected = _expected(il.concat([their.expected[latest], new1, new2]))
    expected_mid = _expected(il.concat([their.expected[latest], new1]))
    mm = il.Mismatches()
    for name, read in readers.items():
        mm.check(f"{name} after data_loader appends", lambda: read(path), expected)
        mm.check(f"{name} at v{latest + 1}", lambda: read(path, latest + 1), expected_mid)
        mm.check(f"{name} at v{latest} (time travel to before the appends)", lambda: read(path, latest),
                 _expected(their.expected[latest]))
    mm.check("data_loader itself", lambda: dl.scan(path), expected)
    mm.assert_none(f"{their.kind} table after data_loader append")
