"""Tables as Databricks creates them today: row tracking and liquid clustering, with Spark 4.1 +
Delta 4.1 (fixture `spark41`; the `readers` comparison adds the in-process Spark 3.5 + Delta 3.3,
delta-rs and DuckDB). The combination with deletion vectors, in-commit timestamps and column
mapping: test_databricks_table.py.

- Spark creates a table with delta.enableRowTracking; data_loader reads it identically and
  appends; Spark's `_metadata.row_id` / `_metadata.row_commit_version` then agree with the
  row ids data_loader assigned (baseRowId + row position), are unique, and are unchanged for
  the rows that existed before.
- A table data_loader creates with row tracking gets row ids Spark reads back (and Spark can
  write on).
- Rewrites that move rows keep their ids: see test_row_ids_stable.py.
- Spark creates a clustered table (CLUSTER BY); data_loader appends; Spark and data_loader
  agree and the clustering columns are kept. A table data_loader creates clustered is seen as
  clustered by Spark (DESCRIBE DETAIL) and read identically by Spark, delta-rs and DuckDB;
  `table optimize` sorts its rows by the clustering column.
"""
from __future__ import annotations

import json
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import interop_lib as il

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def rows(ids) -> pa.Table:
    ids = list(ids)
    return pa.table({"id": ids, "name": [f"n{i}" for i in ids]}, schema=SCHEMA)


def expected(ids) -> il.Snapshot:
    return il.snapshot_from_arrow(rows(sorted(ids)))


def spark_append(spark41, path, tbl: pa.Table, scratch) -> None:
    """Spark appends `tbl` in one file (INSERT from a Parquet file)."""
    src = il.write_parquet(tbl, scratch / f"spark_src_{len(list(scratch.iterdir()))}.parquet")
    spark41.sql(f"INSERT INTO delta.`{path}` SELECT * FROM parquet.`{src}`")


def spark_row_ids(spark41, path) -> dict[int, tuple[int, int]]:
    """id -> (row_id, row_commit_version) as Spark reads them."""
    return il.row_ids_of(spark41.rows(il.row_ids_sql(path, ["id"])), ["id"])


@pytest.fixture
def spark_rt_table(spark41, tmp_path):
    """Spark table with row tracking: two appends and an UPDATE (which materializes row ids)."""
    path = str(tmp_path / "spark_rt")
    spark41.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING) USING delta "
              "TBLPROPERTIES ('delta.enableRowTracking' = 'true')")
    for lo in (0, 100):
        spark_append(spark41, path, rows(range(lo, lo + 100)), tmp_path)
    spark41.sql(f"UPDATE delta.`{path}` SET name = concat('u', name) WHERE id % 10 = 0")
    return path


def test_data_loader_appends_to_spark_row_tracking_table(spark_rt_table, spark41, dl, readers, tmp_path):
    path = spark_rt_table
    assert "rowTracking" in il.replay_log(path).protocol.get("writerFeatures", [])
    theirs = il.read_spark41(spark41, path)
    assert il.diff_snapshots(dl.scan(path), theirs) == ""
    before = spark_row_ids(spark41, path)
    hwm_before = il.row_id_high_water_mark(path)

    dl.write(path, il.write_parquet(rows(range(1000, 1050)), tmp_path / "new1.parquet"))
    dl.write(path, il.write_parquet(rows(range(2000, 2030)), tmp_path / "new2.parquet"))
    latest = il.replay_log(path).version

    after = spark_row_ids(spark41, path)
    assert len(after) == 280
    row_ids = [rid for rid, _ in after.values()]
    assert len(set(row_ids)) == len(row_ids), "Spark sees duplicate row ids"
    for i, ids in before.items():
        assert after[i] == ids, f"row {i}: row id / commit version changed from {ids} to {after[i]}"
    ours = {**il.added_row_ids(path, latest - 1), **il.added_row_ids(path, latest)}
    assert set(ours) == set(range(1000, 1050)) | set(range(2000, 2030))
    for i, ids in ours.items():
        assert after[i] == ids, f"new row {i}: Spark reads {after[i]}, we assigned {ids}"
    assert min(rid for rid, _ in ours.values()) == hwm_before + 1
    assert il.row_id_high_water_mark(path) == max(rid for rid, _ in ours.values())

    exp = il.snapshot_from_arrow(il.concat([
        pa.Table.from_pylist(sorted(theirs.row_dicts(), key=lambda r: r["id"]), schema=SCHEMA),
        rows(range(1000, 1050)), rows(range(2000, 2030))]))
    mm = il.Mismatches()
    for name, read in readers.items():
        mm.check(name, lambda: read(path), exp)
    mm.check("data_loader", lambda: dl.scan(path), exp)
    mm.assert_none("Spark row-tracking table after data_loader appends")
    # Spark goes on writing (an UPDATE materializes ids of our rows too) without complaint.
    spark41.sql(f"UPDATE delta.`{path}` SET name = 'x' WHERE id = 1001")
    assert spark_row_ids(spark41, path)[1001][0] == after[1001][0]


def test_spark_reads_row_ids_of_a_table_we_create(spark41, dl, tmp_path):
    path = str(tmp_path / "ours_rt")
    dl.run("table", "write", path, "--source", il.write_parquet(rows(range(10)), tmp_path / "a.parquet"),
           "--property", "delta.enableRowTracking=true")
    log = il.replay_log(path)
    assert {"domainMetadata", "rowTracking"} <= set(log.protocol["writerFeatures"])
    conf = log.metadata["configuration"]
    assert conf["delta.rowTracking.materializedRowIdColumnName"].startswith("_row-id-col-")
    ids = spark_row_ids(spark41, path)
    assert sorted(rid for rid, _ in ids.values()) == list(range(10))
    assert {v for _, v in ids.values()} == {0}
    spark_append(spark41, path, rows(range(10, 15)), tmp_path)
    dl.write(path, il.write_parquet(rows(range(20, 25)), tmp_path / "b.parquet"))
    ids = spark_row_ids(spark41, path)
    assert len({rid for rid, _ in ids.values()}) == 20
    assert ids[20][1] == 2 and ids[10][1] == 1


def detail_clustering(spark41, path) -> list[str]:
    return list(spark41.rows(f"DESCRIBE DETAIL delta.`{path}`")[0]["clusteringColumns"])


def test_data_loader_appends_to_spark_clustered_table(spark41, dl, readers, tmp_path):
    path = str(tmp_path / "spark_clustered")
    name = f"clustered_{uuid.uuid4().hex[:8]}"
    spark41.sql(f"CREATE TABLE {name} (id BIGINT, name STRING) USING delta CLUSTER BY (id) "
              f"LOCATION '{path}'")
    try:
        spark_append(spark41, path, rows(range(100)), tmp_path)
    finally:
        spark41.sql(f"DROP TABLE {name}")  # external: the files stay
    assert "clustering" in il.replay_log(path).protocol["writerFeatures"]
    assert il.diff_snapshots(dl.scan(path), il.read_spark41(spark41, path)) == ""
    dl.write(path, il.write_parquet(rows(range(100, 150)), tmp_path / "new.parquet"))
    assert detail_clustering(spark41, path) == ["id"]
    mm = il.Mismatches()
    for n, read in readers.items():
        mm.check(n, lambda: read(path), expected(range(150)))
    mm.check("data_loader", lambda: dl.scan(path), expected(range(150)))
    mm.assert_none("Spark clustered table after data_loader append")
    # OPTIMIZE leaves Spark's (liquid) files alone and clusters ours.
    dl.run("table", "optimize", path)
    for a in il.replay_log(path).adds.values():
        assert a.get("clusteringProvider") in (None, "liquid", "data_loader")
    assert il.diff_snapshots(il.read_spark41(spark41, path), expected(range(150))) == ""


def test_table_we_create_clustered(spark41, dl, readers, tmp_path):
    path = str(tmp_path / "ours_clustered")
    for n, lo in enumerate((0, 300, 150)):  # overlapping id ranges across files
        ids = [i for i in range(lo, lo + 300) if i % 3 == n]
        dl.run("table", "write", path, "--source", il.write_parquet(rows(ids), tmp_path / f"{n}.parquet"),
               "--cluster-by", "id")
    all_ids = sorted(i for n, lo in enumerate((0, 300, 150)) for i in range(lo, lo + 300) if i % 3 == n)
    log = il.replay_log(path)
    assert {"domainMetadata", "clustering"} <= set(log.protocol["writerFeatures"])
    assert detail_clustering(spark41, path) == ["id"]
    mm = il.Mismatches()
    for n, read in readers.items():
        mm.check(n, lambda: read(path), expected(all_ids))
    mm.assert_none("table data_loader created clustered")

    dl.run("table", "optimize", path)
    adds = list(il.replay_log(path).adds.values())
    assert adds and all(a.get("clusteringProvider") == "data_loader" for a in adds)
    for a in adds:  # each file's rows in clustering order, files not overlapping
        ids = pq.read_table(il.file_abs_path(path, a["path"]), columns=["id"]).column("id").to_pylist()
        assert ids == sorted(ids), f"{a['path']} is not sorted by id"
    ranges = sorted((json.loads(a["stats"])["minValues"]["id"], json.loads(a["stats"])["maxValues"]["id"])
                    for a in adds)
    for (_, hi), (lo, _) in zip(ranges, ranges[1:]):
        assert hi < lo, f"optimized files overlap in id: {ranges}"
    # Our clustered files are not reclustered again.
    assert dl.run_json("table", "optimize", path, "--json")["version"] is None
    mm = il.Mismatches()
    for n, read in readers.items():
        mm.check(f"{n} after optimize", lambda: read(path), expected(all_ids))
    mm.check("data_loader after optimize", lambda: dl.scan(path), expected(all_ids))
    mm.assert_none("clustered table after optimize")
    assert detail_clustering(spark41, path) == ["id"]


def test_clustering_errors_name_the_key(dl, tmp_path):
    src = il.write_parquet(rows(range(3)), tmp_path / "a.parquet")
    p = dl.run("table", "write", str(tmp_path / "t"), "--source", src, "--cluster-by", "nope", check=False)
    assert p.returncode == 2 and "clustering_columns" in p.stderr and "nope" in p.stderr, p.stderr
    assert not (tmp_path / "t" / "_delta_log").exists()
    dl.run("table", "write", str(tmp_path / "t"), "--source", src, "--cluster-by", "id")
    p = dl.run("table", "write", str(tmp_path / "t"), "--source", src, "--cluster-by", "name", check=False)
    assert p.returncode == 2 and "clustered by [\"id\"]" in p.stderr, p.stderr
