"""Deletion vectors, both ways.

- Spark (delta-spark) writes a table with delta.enableDeletionVectors and deletes/updates rows in
  place: data_loader must read exactly what Spark reads (their DV files, their bitmaps).
- data_loader deletes rows in place on such a table (`table delete`): Spark, delta-rs and DuckDB
  must read exactly what we expect, before and after Spark adds its own DVs on top of ours.
- OPTIMIZE rewrites files without their deleted rows; VACUUM keeps DV files still referenced.

delta-rs (deltalake 1.6) does not read tables with the deletionVectors reader feature: it must
refuse them with a protocol error naming the feature (never return deleted rows).
"""
from __future__ import annotations

import json
import os
import time

import pyarrow as pa
import pytest

import interop_lib as il

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("part", pa.string())])


def rows(ids) -> pa.Table:
    ids = list(ids)
    return pa.table({"id": ids, "name": [f"n{i}" for i in ids],
                     "part": ["a" if i % 2 else "b" for i in ids]}, schema=SCHEMA)


def expected(ids) -> il.Snapshot:
    return il.snapshot_from_arrow(rows(sorted(ids)))


def check_readers(readers, dl, path, exp: il.Snapshot, header: str) -> None:
    mm = il.Mismatches()
    for name, read in readers.items():
        if name == "delta-rs":
            try:
                read(path)
                mm.add("delta-rs read a table with deletion vectors; expected it to refuse")
            except Exception as e:  # noqa: BLE001
                if "deletionVectors" not in str(e):
                    mm.add(f"delta-rs failed without naming deletionVectors: {e}")
            continue
        mm.check(name, lambda: read(path), exp)
    mm.check("data_loader", lambda: dl.scan(path), exp)
    mm.assert_none(header)


def dv_adds(path) -> list[dict]:
    return [a for a in il.replay_log(path).adds.values() if a.get("deletionVector")]


@pytest.fixture
def spark_dv_table(spark, tmp_path):
    """A Spark table with deletion vectors: 3 files of ids, then a DELETE and an UPDATE (both
    write DVs), then a checkpoint, then one more DELETE."""
    path = str(tmp_path / "spark_dv")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING, part STRING) USING delta "
              "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true', "
              "'delta.checkpointInterval' = '4')")
    for lo in (0, 1000, 2000):
        spark.createDataFrame(rows(range(lo, lo + 1000)).to_pandas()) \
            .coalesce(1).write.format("delta").mode("append").save(path)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id % 7 = 0")
    spark.sql(f"UPDATE delta.`{path}` SET name = concat('u', name) WHERE id % 11 = 0")
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id BETWEEN 1500 AND 1600")
    return path


def test_data_loader_reads_spark_deletion_vectors(spark_dv_table, dl, spark):
    path = spark_dv_table
    assert dv_adds(path), "Spark wrote no deletion vector; the test would prove nothing"
    theirs = il.read_spark(spark, path)
    assert il.diff_snapshots(dl.scan(path), theirs) == ""
    assert len(theirs.rows) == len([i for i in range(3000)
                                    if i % 7 and not 1500 <= i <= 1600])
    # Time travel to before the deletes reads every row.
    assert dl.scan(path, version=3) == il.read_spark(spark, path, 3)


def test_data_loader_appends_to_a_spark_dv_table(spark_dv_table, dl, readers, tmp_path):
    path = spark_dv_table
    dl.write(path, il.write_parquet(rows(range(5000, 5010)), tmp_path / "new.parquet"))
    keep = [i for i in range(3000) if i % 7 and not 1500 <= i <= 1600] + list(range(5000, 5010))
    # Spark's UPDATE rewrote the names of ids divisible by 11 (into new files).
    names = {i: (f"un{i}" if i % 11 == 0 and i < 3000 else f"n{i}") for i in keep}
    exp = il.snapshot_from_arrow(pa.table({"id": sorted(keep),
                                           "name": [names[i] for i in sorted(keep)],
                                           "part": ["a" if i % 2 else "b" for i in sorted(keep)]},
                                          schema=SCHEMA))
    check_readers(readers, dl, path, exp, "readers disagree after data_loader appended to a DV table")


def test_our_deletion_vectors_read_by_every_engine(spark, dl, readers, tmp_path):
    path = str(tmp_path / "ours_dv")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING, part STRING) USING delta "
              "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")
    dl.write(path, il.write_parquet(rows(range(0, 2000)), tmp_path / "a.parquet"))
    dl.write(path, il.write_parquet(rows(range(2000, 2500)), tmp_path / "b.parquet"))
    files_before = {a["path"] for a in il.replay_log(path).adds.values()}

    dl.run("table", "delete", path, "--where", "id % 3 = 0 OR id = 2001")
    log = il.replay_log(path)
    assert {a["path"] for a in log.adds.values()} == files_before, \
        "a delete on a DV table must not rewrite data files"
    commit = il.read_commit(path, log.version)
    removes = [a["remove"] for a in commit if "remove" in a]
    assert removes and all(r["dataChange"] for r in removes)
    for a in dv_adds(path):
        dv = a["deletionVector"]
        assert dv["storageType"] in ("u", "i", "p") and dv["cardinality"] > 0
        stats = json.loads(a["stats"])
        assert stats["numRecords"] in (2000, 500) and stats.get("tightBounds") is False

    keep1 = {i for i in range(2500) if i % 3 and i != 2001}
    check_readers(readers, dl, path, expected(keep1), "readers disagree on our deletion vectors")

    # Spark deletes more rows of the same files: its DVs must include ours, and we read them.
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id % 5 = 0")
    keep2 = {i for i in keep1 if i % 5}
    assert dl.scan(path) == expected(keep2)
    # And we delete again on top of Spark's DVs.
    dl.run("table", "delete", path, "--where", "id < 100")
    keep3 = {i for i in keep2 if i >= 100}
    check_readers(readers, dl, path, expected(keep3), "readers disagree after DVs from both writers")
    # Time travel to before any delete still shows every row.
    assert dl.scan(path, version=2) == expected(range(2500))
    # Restore to the first delete: the same files with their older deletion vectors.
    first_delete = 3
    before_restore = il.replay_log(path).version
    dl.run("table", "restore", path, "--version", str(first_delete))
    check_readers(readers, dl, path, expected(keep1), "readers disagree after RESTORE")
    dl.run("table", "restore", path, "--version", str(before_restore))
    check_readers(readers, dl, path, expected(keep3), "readers disagree after RESTORE back")
    # A checkpoint of ours carries the deletion vectors (the earlier commits are then not
    # needed: removed as log cleanup would).
    dl.run("table", "checkpoint", path)
    for v in il.commit_versions(path)[:-1]:
        il.commit_path(path, v).unlink()
    check_readers(readers, dl, path, expected(keep3), "readers disagree reading our checkpoint")


def test_optimize_purges_deleted_rows_and_vacuum_keeps_live_dv_files(spark, dl, readers, tmp_path):
    path = str(tmp_path / "purge")  # created by us this time, deletion vectors on
    dl.run("table", "write", path, "--source", il.write_parquet(rows(range(0, 3000)),
                                                              tmp_path / "a.parquet"),
           "--property", "delta.enableDeletionVectors=true")
    proto = il.replay_log(path).protocol
    assert proto["minReaderVersion"] == 3 and "deletionVectors" in proto["readerFeatures"]
    dl.run("table", "delete", path, "--where", "id % 4 = 0")
    dv_files = [f for f in os.listdir(path) if f.startswith("deletion_vector_")]
    assert dv_files, "no DV file beside the data"
    # VACUUM with the DV still live must keep its file (and every reader must still agree).
    dl.run("table", "vacuum", path, "--retention-hours", "0", "--force")
    assert all(os.path.exists(os.path.join(path, f)) for f in dv_files), "VACUUM deleted a live DV"
    keep = {i for i in range(3000) if i % 4}
    assert dl.scan(path) == expected(keep)
    assert readers["spark"](path) == expected(keep)

    dl.run("table", "optimize", path)
    assert not dv_adds(path), "OPTIMIZE left a file with a deletion vector"
    check_readers(readers, dl, path, expected(keep), "readers disagree after OPTIMIZE purged rows")
    # Now nothing live uses the DV file: VACUUM (retention 0) deletes it with the old data file.
    time.sleep(0.01)
    dl.run("table", "vacuum", path, "--retention-hours", "0", "--force")
    assert not [f for f in os.listdir(path) if f.startswith("deletion_vector_")], \
        "VACUUM kept a deletion vector no file uses"
    check_readers(readers, dl, path, expected(keep), "readers disagree after VACUUM")
