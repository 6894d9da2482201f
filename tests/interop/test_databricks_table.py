"""The combination of table features a Databricks table typically has, made by Spark 4.1 +
Delta 4.1 (fixture `spark41`): deletion vectors + row tracking + in-commit timestamps + liquid
clustering + column mapping (name mode, with a renamed column).

- data_loader reads it exactly as Spark does; appends to it (new row ids past the high-water
  mark, an in-commit timestamp, the clustering kept) and deletes from it with a deletion vector;
  Spark reads the result identically, its DESCRIBE HISTORY timestamps are our in-commit
  timestamps, and its `_metadata.row_id` / `row_commit_version` are the ids we assigned, the
  earlier rows' unchanged.
- Our merge into it keeps row ids stable (updated rows keep their ids, unchanged rows their ids
  and commit versions), and so do SCD2 batches (closed and split versions keep their ids, new
  versions get fresh ones), late events included; with the change data feed on, Spark's
  `table_changes_by_path` returns the changes our `table changes` reads.
"""
from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

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


def _spark_row_ids(spark41, path, keys=("id",)) -> dict:
    """key -> (row_id, row_commit_version) as Spark 4.1 reads them (keys and row ids unique)."""
    return il.row_ids_of(spark41.rows(il.row_ids_sql(path, keys)), keys)


def _physical(path, column) -> str:
    fields = json.loads(il.replay_log(path).metadata["schemaString"])["fields"]
    return next(f["metadata"]["delta.columnMapping.physicalName"] for f in fields
                if f["name"] == column)


def _ict(path, version) -> int:
    first = il.read_commit(path, version)[0]
    assert "inCommitTimestamp" in first.get("commitInfo", {}), f"version {version}: {first}"
    return first["commitInfo"]["inCommitTimestamp"]


def _spark_history_ms(spark41, path) -> dict[int, int]:
    return {r["version"]: int(round(r["timestamp"].timestamp() * 1000))
            for r in spark41.rows(f"DESCRIBE HISTORY delta.`{path}`")}


def test_spark41_databricks_style_table(dl, spark41, tmp_path):
    ld = il.Loader(dl, tmp_path, {"table_name": "t", "loading_strategy": "merge",
                                  "primary_keys": ["id"]})
    path = str(ld.table)
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
    ours = il.added_row_ids(path, appended, _physical(path, "id"))
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
    ld.load(_rows([5, 500], tag="u"))
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


def test_scd2_into_spark41_databricks_style_table(dl, spark41, tmp_path):
    """SCD2 batches (a tracked change, a new key, a no-op, then a late event) into the
    Databricks-style table with the change data feed on: Spark reads the versions we wrote; a
    closed or split version keeps its row id and takes our commit's version, an unchanged one
    keeps both, new versions get fresh ids; DESCRIBE HISTORY shows our in-commit timestamps and
    table_changes_by_path the changes our `table changes` reads."""
    ld = il.Loader(dl, tmp_path, {"table_name": "dim", "loading_strategy": "scd2",
                                  "primary_keys": ["id"], "sequence_column": "seq"})
    path = str(ld.table)
    spark41.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, label STRING, seq BIGINT, "
                f"effective_date BIGINT, end_date BIGINT, is_current BOOLEAN) USING delta "
                f"TBLPROPERTIES ({FEATURES}, 'delta.enableChangeDataFeed' = 'true')")
    spark41.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a', 1, 1, NULL, true), "
                f"(2, 'b', 1, 1, NULL, true), (3, 'c', 1, 1, NULL, true)")
    before = _spark_row_ids(spark41, path, ("id", "effective_date"))
    hwm = max(rid for rid, _ in before.values())

    def load(ids, labels, seqs):
        ld.load(pa.table({"id": pa.array(ids, pa.int64()), "label": labels,
                          "seq": pa.array(seqs, pa.int64())}))
        return ld.version()

    v1 = load([1, 2, 4], ["a2", "b", "d"], [5, 5, 5])
    want = il.scd2_snapshot([(1, "a", 1, 1, 5, False), (1, "a2", 5, 5, None, True),
                             (2, "b", 1, 1, None, True), (3, "c", 1, 1, None, True),
                             (4, "d", 5, 5, None, True)])
    il.assert_same(il.read_spark41(spark41, path), want, "Spark 4.1 after our SCD2 batch")
    il.assert_same(dl.scan(path), want, "data_loader after our SCD2 batch")
    after = _spark_row_ids(spark41, path, ("id", "effective_date"))
    assert after[(1, 1)] == (before[(1, 1)][0], v1), "the closed version keeps its row id"
    assert after[(2, 1)] == before[(2, 1)] and after[(3, 1)] == before[(3, 1)]
    for new in ((1, 5), (4, 5)):
        assert after[new][0] > hwm and after[new][1] == v1, (new, after[new], hwm)

    # A late event at 3 splits key 1's first version: it keeps its id (closed earlier), the
    # version from 5 is unchanged, the one from 3 is new.
    v2 = load([1], ["x"], [3])
    want = il.scd2_snapshot([(1, "a", 1, 1, 3, False), (1, "x", 3, 3, 5, False),
                             (1, "a2", 5, 5, None, True), (2, "b", 1, 1, None, True),
                             (3, "c", 1, 1, None, True), (4, "d", 5, 5, None, True)])
    il.assert_same(il.read_spark41(spark41, path), want, "Spark 4.1 after a late event")
    il.assert_same(dl.scan(path), want, "data_loader after a late event")
    late = _spark_row_ids(spark41, path, ("id", "effective_date"))
    assert late[(1, 1)] == (before[(1, 1)][0], v2)
    assert all(late[k] == after[k] for k in after if k != (1, 1)), (after, late)
    assert late[(1, 3)][0] > max(rid for rid, _ in after.values()) and late[(1, 3)][1] == v2

    icts = {v: _ict(path, v) for v in range(v2 + 1)}
    assert _spark_history_ms(spark41, path) == icts, "Spark's DESCRIBE HISTORY shows our ICTs"
    ops = {r["version"]: r["operation"] for r in spark41.rows(f"DESCRIBE HISTORY delta.`{path}`")}
    assert ops[v1] == ops[v2] == "MERGE", ops
    cols = ["id", "label", "seq", "effective_date", "end_date", "is_current"]
    theirs = il.canon_changes(
        spark41.rows(f"SELECT * FROM table_changes_by_path('{path}', {v1}, {v2})"), cols)
    assert theirs == il.canon_changes(il.dl_changes(dl, path, v1, v2), cols)
    assert sorted(c[-3] for c in theirs if c[-2] == v2) == \
        ["insert", "update_postimage", "update_preimage"], theirs
