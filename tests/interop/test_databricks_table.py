"""The combination of table features a Databricks table typically has, made by Spark 4.1 +
Delta 4.1 (fixture `spark41`): deletion vectors + row tracking + in-commit timestamps + liquid
clustering + column mapping (name mode, with a renamed column).

- data_loader reads it exactly as Spark does; appends to it (new row ids past the high-water
  mark, an in-commit timestamp, the clustering kept) and deletes from it with a deletion vector;
  Spark reads the result identically, its DESCRIBE HISTORY timestamps are our in-commit
  timestamps, and its `_metadata.row_id` / `row_commit_version` are the ids we assigned, the
  earlier rows' unchanged.
- Our merge into it keeps row ids stable (updated rows keep their ids, unchanged rows their ids
  and commit versions); an SCD2 batch that would close a version is still refused on
  row-tracking tables, naming the feature and the table, before anything is written.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import interop_lib as il

UTC = dt.timezone.utc
T0 = 1_700_000_000
FEATURES = ("'delta.enableDeletionVectors' = 'true', 'delta.enableRowTracking' = 'true', "
            "'delta.enableInCommitTimestamps' = 'true', 'delta.columnMapping.mode' = 'name'")


def _rows(ids, tag="n") -> pa.Table:
    ids = list(ids)
    return pa.table({"id": pa.array(ids, pa.int64()), "label": [f"{tag}{i}" for i in ids],
                     "ts": pa.array([dt.datetime.fromtimestamp(T0 + i, UTC) for i in ids],
                                    pa.timestamp("us", tz="UTC"))})


def _expected(ids) -> il.Snapshot:
    return il.snapshot_from_arrow(_rows(sorted(ids)))


def _spark_row_ids(spark41, path) -> dict[int, tuple[int, int]]:
    got = spark41.rows(f"SELECT id, _metadata.row_id AS rid, _metadata.row_commit_version AS rcv "
                       f"FROM delta.`{path}`")
    return {r["id"]: (r["rid"], r["rcv"]) for r in got}


def _physical(path, column) -> str:
    fields = json.loads(il.replay_log(path).metadata["schemaString"])["fields"]
    return next(f["metadata"]["delta.columnMapping.physicalName"] for f in fields
                if f["name"] == column)


def _our_row_ids(path, version) -> dict[int, tuple[int, int]]:
    """id -> (baseRowId + position, defaultRowCommitVersion) of the files `version` added, from
    the log and the files alone (the files hold physical column names)."""
    out, col = {}, _physical(path, "id")
    for a in il.read_commit(path, version):
        add = a.get("add")
        if add:
            ids = pq.read_table(il.file_abs_path(path, add["path"]), columns=[col]).column(col)
            for pos, i in enumerate(ids.to_pylist()):
                out[i] = (add["baseRowId"] + pos, add["defaultRowCommitVersion"])
    return out


def _ict(path, version) -> int:
    first = il.read_commit(path, version)[0]
    assert "inCommitTimestamp" in first.get("commitInfo", {}), f"version {version}: {first}"
    return first["commitInfo"]["inCommitTimestamp"]


def _spark_history_ms(spark41, path) -> dict[int, int]:
    return {r["version"]: int(round(r["timestamp"].timestamp() * 1000))
            for r in spark41.rows(f"DESCRIBE HISTORY delta.`{path}`")}


def _tree(path) -> dict[str, int]:
    return {str(p.relative_to(path)): p.stat().st_size for p in Path(path).rglob("*") if p.is_file()}


def _run_config(dl, tmp_path, entry) -> subprocess.CompletedProcess:
    """`data_loader run` with one table (JSON is YAML) under tmp_path/processed/e2e."""
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({
        "raw_data_path": str(tmp_path / "raw"), "processed_data_path": str(tmp_path / "processed"),
        "checkpoint_path": str(tmp_path / "checkpoints"), "max_parallel_jobs": 1,
        "retry_attempts": 1, "timeout_minutes": 5, "enable_metrics": False,
        "tables": [dict({"database_name": "e2e", "file_format": "parquet", "audit_columns": False},
                        **entry)]}))
    return dl.run("run", "--config", config, check=False)


def test_spark41_databricks_style_table(dl, spark41, tmp_path):
    path = str(tmp_path / "processed" / "e2e" / "t")
    spark41.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING, ts TIMESTAMP) USING delta "
                f"CLUSTER BY (id) TBLPROPERTIES ({FEATURES})")
    select = f"SELECT id, concat('n', id), timestamp_seconds({T0} + id) FROM range"
    spark41.sql(f"INSERT INTO delta.`{path}` {select}(0, 10)")
    spark41.sql(f"INSERT INTO delta.`{path}` {select}(10, 20)")
    spark41.sql(f"DELETE FROM delta.`{path}` WHERE id IN (2, 15)")
    spark41.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN name TO label")
    ids = [i for i in range(20) if i not in (2, 15)]
    log = il.replay_log(path)
    for feature in ("deletionVectors", "columnMapping"):
        assert feature in log.protocol["readerFeatures"], log.protocol
    for feature in ("deletionVectors", "rowTracking", "inCommitTimestamp", "clustering",
                    "columnMapping", "domainMetadata"):
        assert feature in log.protocol["writerFeatures"], log.protocol
    assert any(a.get("deletionVector") for a in log.adds.values()), "precondition: Spark wrote a DV"
    assert _physical(path, "label") != "label", "precondition: column mapping renamed by metadata"

    il.assert_same(il.read_spark41(spark41, path), _expected(ids), "Spark 4.1 (harness check)")
    il.assert_same(dl.scan(path), il.read_spark41(spark41, path), "data_loader vs Spark 4.1")
    il.assert_same(dl.scan(path, version=2), il.read_spark41(spark41, path, version=2), "at v2")
    before = _spark_row_ids(spark41, path)
    hwm = max(rid for rid, _ in before.values())

    dl.write(path, il.write_parquet(_rows(range(100, 130)), tmp_path / "a.parquet"))
    appended = il.replay_log(path).version
    ids += list(range(100, 130))
    dl.run("table", "delete", path, "--where", "id = 3 OR id = 110")
    assert any(a["add"].get("deletionVector") for a in il.read_commit(path, appended + 1)
               if "add" in a), "our delete writes deletion vectors"
    ids = [i for i in ids if i not in (3, 110)]

    il.assert_same(il.read_spark41(spark41, path), _expected(ids), "Spark 4.1 after our writes")
    il.assert_same(dl.scan(path), _expected(ids), "data_loader after our writes")
    after = _spark_row_ids(spark41, path)
    assert len({rid for rid, _ in after.values()}) == len(after) == len(ids)
    for i in ids:
        if i < 100:
            assert after[i] == before[i], f"row {i}: row id {before[i]} became {after[i]}"
    ours = _our_row_ids(path, appended)
    assert min(rid for rid, _ in ours.values()) == hwm + 1
    for i in ids:
        if i >= 100:
            assert after[i] == ours[i], f"row {i}: Spark reads {after[i]}, we assigned {ours[i]}"

    last = il.replay_log(path).version
    icts = {v: _ict(path, v) for v in range(last + 1)}
    assert list(icts.values()) == sorted(set(icts.values())), icts
    assert _spark_history_ms(spark41, path) == icts, "Spark's DESCRIBE HISTORY shows our ICTs"
    assert {h["version"]: il.parse_ts_ms(h["timestamp"]) for h in dl.history(path)} == icts
    detail = spark41.rows(f"DESCRIBE DETAIL delta.`{path}`")[0]
    assert list(detail["clusteringColumns"]) == ["id"], detail

    # Our merge updates row 5 and inserts 500: the updated row keeps its row id and takes the
    # merge's commit version, every other row keeps both, the insert gets a new id.
    (tmp_path / "raw" / "t").mkdir(parents=True)
    il.write_parquet(_rows([5, 500], tag="u"), tmp_path / "raw" / "t" / "b.parquet")
    p = _run_config(dl, tmp_path, {"table_name": "t", "loading_strategy": "merge",
                                   "source_path_pattern": str(tmp_path / "raw" / "t" / "*.parquet"),
                                   "primary_keys": ["id"]})
    assert p.returncode == 0, p.stdout + p.stderr
    merged = il.replay_log(path).version
    want = il.snapshot_from_arrow(pa.concat_tables([_rows(sorted(i for i in ids if i != 5)),
                                                    _rows([5, 500], tag="u")]))
    il.assert_same(il.read_spark41(spark41, path), want, "Spark 4.1 after our merge")
    il.assert_same(dl.scan(path), want, "data_loader after our merge")
    final = _spark_row_ids(spark41, path)
    for i in ids:
        if i != 5:
            assert final[i] == after[i], f"row {i}: row id {after[i]} became {final[i]}"
    assert final[5] == (after[5][0], merged), (after[5], final[5], merged)
    assert final[500][0] > max(rid for rid, _ in after.values()) and final[500][1] == merged


def test_scd2_into_spark41_row_tracking_table_refused(dl, spark41, tmp_path):
    path = str(tmp_path / "processed" / "e2e" / "dim")
    spark41.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, label STRING, seq BIGINT, "
                f"effective_date BIGINT, end_date BIGINT, is_current BOOLEAN) USING delta "
                f"TBLPROPERTIES ('delta.enableRowTracking' = 'true')")
    spark41.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a', 1, 1, NULL, true)")
    raw = tmp_path / "raw" / "dim"
    raw.mkdir(parents=True)
    il.write_parquet(pa.table({"id": pa.array([1], pa.int64()), "label": ["b"],
                               "seq": pa.array([5], pa.int64())}), raw / "b.parquet")
    files = _tree(path)
    p = _run_config(dl, tmp_path, {"table_name": "dim", "loading_strategy": "scd2",
                                   "source_path_pattern": str(raw / "*.parquet"),
                                   "primary_keys": ["id"], "sequence_column": "seq"})
    out = p.stdout + p.stderr
    assert p.returncode != 0 and "rowTracking" in out and path in out, out
    assert _tree(path) == files, "a refused SCD2 batch wrote"
    assert spark41.rows(f"SELECT id, label, is_current FROM delta.`{path}`") == \
        [{"id": 1, "label": "a", "is_current": True}]
