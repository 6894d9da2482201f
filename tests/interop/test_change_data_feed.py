"""Change data feed (delta.enableChangeDataFeed), both ways.

- data_loader writes a CDF table: merge (copy-on-write and deletion vectors), SCD2,
  replace_where, overwrite and `table delete`. Spark's change feed reader (delta-spark's
  `readChangeFeed`, what `table_changes(...)` runs) must return exactly the rows our
  `table changes` returns, with the same `_change_type`, `_commit_version` and
  `_commit_timestamp`; and merges must record updates as update_preimage/update_postimage.
- Spark writes a CDF table (INSERT, MERGE, UPDATE, DELETE; with and without deletion vectors):
  our `table changes` must return what Spark's reader returns.
- Bad ranges: versions past the table's end, and a range where the feed was off, are errors
  naming the version.
"""
from __future__ import annotations

import pyarrow as pa
import pytest

import interop_lib as il


def sparks(spark, path, start: int, end: int | None = None) -> list[dict]:
    r = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", start)
    if end is not None:
        r = r.option("endingVersion", end)
    return [row.asDict() for row in r.load(str(path)).collect()]


def assert_same_changes(dl, spark, path, columns, start=0, end=None) -> list[tuple]:
    a = il.canon_changes(il.dl_changes(dl, path, start, end), columns)
    b = il.canon_changes(sparks(spark, path, start, end), columns)
    assert a == b, f"table changes differ from Spark's for {path}:\n ours:  {a}\n spark: {b}"
    assert a, "the range has changes"
    return a


def _types(changes: list[tuple], version: int) -> list[str]:
    return sorted(c[-3] for c in changes if c[-2] == version)


def _versions(path) -> int:
    return il.commit_versions(path)[-1]


def _has_cdc(path, version: int) -> bool:
    return any("cdc" in a for a in il.read_commit(path, version))


# --------------------------------------------------------------------------------------------
# Tables data_loader writes
# --------------------------------------------------------------------------------------------

class Loader(il.Loader):
    def load(self, table: pa.Table) -> int:
        """The version the run committed."""
        super().load(table)
        return self.version()


def batch(ids, name="n", op=None) -> pa.Table:
    ids = list(ids)
    return pa.table({"id": pa.array(ids, pa.int64()), "name": [f"{name}{i}" for i in ids],
                     "op": pa.array([op] * len(ids), pa.string())})


CDF = {"delta.enableChangeDataFeed": "true"}


@pytest.mark.parametrize("dv", [False, True], ids=["copy_on_write", "deletion_vectors"])
def test_spark_reads_the_changes_of_our_merges_and_deletes_as_we_do(dl, spark, tmp_path, dv):
    props = dict(CDF, **({"delta.enableDeletionVectors": "true"} if dv else {}))
    ld = Loader(dl, tmp_path, {"table_name": "dim", "loading_strategy": "merge",
                               "primary_keys": ["id"], "delete_condition": "op = 'D'",
                               "table_properties": props})
    v0 = ld.load(batch(range(1, 7)))
    assert il.read_commit(ld.table, v0)  # created with the feature
    proto = il.replay_log(ld.table).protocol
    assert proto.get("minWriterVersion", 0) >= 4 or "changeDataFeed" in proto.get("writerFeatures", [])
    v1 = ld.load(il.concat([batch([2, 3], "u"), batch([4], op="D"), batch([7])]))
    assert _has_cdc(ld.table, v1), "a merge that updates and deletes writes cdc files"
    d = dl.run("table", "delete", ld.table, "--where", "id = 5")
    v2 = _versions(ld.table)
    assert "version" in d.stdout and _has_cdc(ld.table, v2)

    changes = assert_same_changes(dl, spark, ld.table, ["id", "name", "op"])
    assert _types(changes, v0) == ["insert"] * 6
    assert _types(changes, v1) == ["delete", "insert", "update_postimage", "update_postimage",
                                   "update_preimage", "update_preimage"]
    assert _types(changes, v2) == ["delete"]
    # A sub-range, as both read it.
    assert_same_changes(dl, spark, ld.table, ["id", "name", "op"], v1, v1)


def test_spark_reads_the_changes_of_our_overwrites_and_replace_where_as_we_do(dl, spark, tmp_path):
    path = tmp_path / "t"
    src = il.write_parquet(pa.table({"id": pa.array([1, 2, 3, 4], pa.int64()),
                                     "day": pa.array([1, 1, 2, 2], pa.int64())}),
                           tmp_path / "a.parquet")
    dl.run("table", "write", path, "--source", src, "--partition-by", "day",
           "--property", "delta.enableChangeDataFeed=true")
    ld = Loader(dl, tmp_path / "rw", {"table_name": "facts", "loading_strategy": "overwrite",
                                      "replace_where": "id = 3 OR id = 10"})
    il.copy_table(path, ld.table)
    v_rw = ld.load(pa.table({"id": pa.array([10], pa.int64()), "day": pa.array([2], pa.int64())}))
    assert _has_cdc(ld.table, v_rw), "replace_where keeps rows of the files it rewrites: cdc"
    changes = assert_same_changes(dl, spark, ld.table, ["id", "day"])
    assert sorted((c[0], c[2]) for c in changes if c[-2] == v_rw) == [(3, "delete"), (10, "insert")]

    src2 = il.write_parquet(pa.table({"id": pa.array([9], pa.int64()),
                                      "day": pa.array([1], pa.int64())}), tmp_path / "b.parquet")
    dl.run("table", "write", path, "--source", src2, "--mode", "overwrite")
    v = _versions(path)
    changes = assert_same_changes(dl, spark, path, ["id", "day"])
    assert sorted((c[0], c[2]) for c in changes if c[-2] == v) == [
        (1, "delete"), (2, "delete"), (3, "delete"), (4, "delete"), (9, "insert")]


@pytest.mark.parametrize("dv", [False, True], ids=["copy_on_write", "deletion_vectors"])
def test_spark_reads_the_changes_of_our_scd2_as_we_do(dl, spark, tmp_path, dv):
    props = dict(CDF, **({"delta.enableDeletionVectors": "true"} if dv else {}))
    ld = Loader(dl, tmp_path, {"table_name": "hist", "loading_strategy": "scd2",
                               "primary_keys": ["id"], "table_properties": props})
    seq = pa.array
    ld.load(pa.table({"id": seq([1, 2], pa.int64()), "name": ["a", "b"]}))
    v1 = ld.load(pa.table({"id": seq([2, 3], pa.int64()), "name": ["b2", "c"]}))
    changes = assert_same_changes(dl, spark, ld.table, ["id", "name", "is_current"])
    # Key 2's current version is closed (an update) and a new one opened (an insert).
    assert sorted((c[0], c[1], c[2], c[3]) for c in changes if c[-2] == v1) == [
        (2, "b", False, "update_postimage"), (2, "b", True, "update_preimage"),
        (2, "b2", True, "insert"), (3, "c", True, "insert")]


# --------------------------------------------------------------------------------------------
# Tables Spark writes
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dv", [False, True], ids=["copy_on_write", "deletion_vectors"])
def test_we_read_the_changes_spark_recorded_as_spark_does(dl, spark, tmp_path, dv):
    path = str(tmp_path / "spark_cdf")
    props = "'delta.enableChangeDataFeed' = 'true'" + (
        ", 'delta.enableDeletionVectors' = 'true'" if dv else ", 'delta.enableDeletionVectors' = 'false'")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING, part STRING) USING delta "
              f"PARTITIONED BY (part) TBLPROPERTIES ({props})")
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a', 'x'), (2, 'b', 'y'), (3, 'c', 'x'), "
              f"(4, 'd', 'y')")
    spark.createDataFrame([(2, "b2", "y"), (5, "e", "x")], "id BIGINT, name STRING, part STRING") \
        .createOrReplaceTempView("cdf_src")
    spark.sql(f"MERGE INTO delta.`{path}` t USING cdf_src s ON t.id = s.id "
              f"WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
    spark.sql(f"UPDATE delta.`{path}` SET name = 'c3' WHERE id = 3")
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id = 1")
    spark.sql(f"DELETE FROM delta.`{path}` WHERE part = 'y'")  # whole files: no cdc needed
    changes = assert_same_changes(dl, spark, path, ["id", "name", "part"])
    assert {c[-3] for c in changes} == {"insert", "update_preimage", "update_postimage", "delete"}
    assert_same_changes(dl, spark, path, ["id", "name", "part"], 2, 3)


# --------------------------------------------------------------------------------------------
# Bad ranges
# --------------------------------------------------------------------------------------------

def test_bad_ranges_are_errors_naming_the_version(dl, tmp_path):
    src = il.write_parquet(batch([1, 2]), tmp_path / "a.parquet")
    path = tmp_path / "t"
    dl.run("table", "write", path, "--source", src, "--property", "delta.enableChangeDataFeed=true")
    for args, needle in [(["--from", "5"], "no version 5"), (["--from", "0", "--to", "7"], "no version 7"),
                         (["--from", "1", "--to", "0"], "before")]:
        p = dl.run("table", "changes", path, *args, check=False)
        assert p.returncode != 0 and needle in p.stderr + p.stdout, (args, p.stderr)
        assert str(path) in p.stderr + p.stdout

    plain = tmp_path / "plain"
    dl.run("table", "write", plain, "--source", src)
    dl.run("table", "delete", plain, "--where", "id = 1")
    p = dl.run("table", "changes", plain, "--from", "0", check=False)
    assert p.returncode != 0, p.stdout
    assert "not enabled at version 0" in p.stderr and "delta.enableChangeDataFeed" in p.stderr, p.stderr


def test_column_mapped_table_changes_both_ways(dl, spark, tmp_path):
    """Spark's column-mapped CDF table (a renamed column): our merge and delete write cdc files
    by physical name that Spark reads, and we read Spark's update."""
    ld = Loader(dl, tmp_path, {"table_name": "cm", "loading_strategy": "merge",
                               "primary_keys": ["id"]})
    path = str(ld.table)
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING) USING delta TBLPROPERTIES "
              f"('delta.enableChangeDataFeed' = 'true', 'delta.columnMapping.mode' = 'name', "
              f"'delta.minReaderVersion' = '2', 'delta.minWriterVersion' = '5')")
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    spark.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN name TO label")
    start = _versions(path) + 1  # Spark reads no changes across a rename
    spark.sql(f"UPDATE delta.`{path}` SET label = 'b2' WHERE id = 2")
    v = ld.load(pa.table({"id": pa.array([1, 4], pa.int64()), "label": ["a1", "d"]}))
    assert _has_cdc(path, v)
    dl.run("table", "delete", path, "--where", "id = 3")
    changes = assert_same_changes(dl, spark, path, ["id", "label"], start)
    assert sorted((c[0], c[1], c[2]) for c in changes if c[-2] == v) == [
        (1, "a", "update_preimage"), (1, "a1", "update_postimage"), (4, "d", "insert")]
