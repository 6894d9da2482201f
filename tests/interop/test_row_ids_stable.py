"""Row ids stay stable when data_loader rewrites rows of a row-tracking table (PROTOCOL.md
"Row Tracking": rewritten files carry the materialized row id and row commit version columns).

- Spark creates a table with row tracking (with and without deletion vectors, as Databricks
  does) and runs its own MERGE (which materializes row ids). Our merge (upsert) then updates
  and inserts rows: Spark's `_metadata.row_id` of every row that existed keeps its value,
  unchanged rows keep their `_metadata.row_commit_version`, updated rows take our commit's
  version, inserted rows get fresh unique ids above the old high-water mark. A second merge
  that updates rows our first merge moved keeps their ids too (we read our own materialized
  columns). All readers see the same rows, and the materialized columns stay out of our scans.
- A table data_loader creates with row tracking (and with column mapping): the same through
  two merges.
- Copy-on-write `table delete` and `table optimize` keep every copied row's id and version.
- SCD2 (copy-on-write, late events too) and overwrite with replace_where keep the ids of the rows
  they copy or close; new versions and new rows get fresh ids.
"""
from __future__ import annotations


import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import interop_lib as il

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def rows(ids, name="n") -> pa.Table:
    ids = list(ids)
    return pa.table({"id": ids, "name": [f"{name}{i}" for i in ids]}, schema=SCHEMA)


def spark_row_ids(spark, path, keys=("id",)) -> dict:
    """key -> (row_id, row_commit_version) as Spark reads them (keys and row ids unique)."""
    return il.row_ids_of((r.asDict() for r in spark.sql(il.row_ids_sql(path, keys)).collect()),
                         keys)


def check_merge_kept_ids(before, after, updated, inserted, version, hwm_before):
    """Protocol expectations for a merge committed as `version`."""
    assert set(after) == set(before) | set(inserted)
    row_ids = [rid for rid, _ in after.values()]
    assert len(set(row_ids)) == len(row_ids), "duplicate row ids"
    for i, (rid, rcv) in before.items():
        if i in updated:
            assert after[i] == (rid, version), f"updated row {i}: {before[i]} -> {after[i]}"
        else:
            assert after[i] == (rid, rcv), f"unchanged row {i}: {before[i]} -> {after[i]}"
    for i in inserted:
        assert after[i][0] > hwm_before, f"inserted row {i} reuses id {after[i][0]}"
        assert after[i][1] == version, f"inserted row {i}: commit version {after[i][1]}"


def expected_after(before: dict[int, str], updates: dict[int, str]) -> il.Snapshot:
    merged = {**before, **updates}
    ids = sorted(merged)
    return il.snapshot_from_arrow(
        pa.table({"id": ids, "name": [merged[i] for i in ids]}, schema=SCHEMA))


def names(snap_rows) -> dict[int, str]:
    return {r["id"]: r["name"] for r in snap_rows}


def merge_and_check(spark, dl, readers, ld, path, batch: pa.Table):
    before = spark_row_ids(spark, path)
    current = names(il.read_spark(spark, path).row_dicts())
    hwm = il.row_id_high_water_mark(path)
    ld.load(batch)
    version = il.replay_log(path).version
    after = spark_row_ids(spark, path)
    ids = batch.column("id").to_pylist()
    check_merge_kept_ids(before, after, {i for i in ids if i in before},
                         [i for i in ids if i not in before], version, hwm)
    assert il.row_id_high_water_mark(path) >= max(rid for rid, _ in after.values())
    exp = expected_after(current, names(batch.to_pylist()))
    mm = il.Mismatches()
    dv = "deletionVectors" in il.replay_log(path).protocol.get("readerFeatures", [])
    for name, read in readers.items():
        if dv and name == "delta-rs":
            continue  # deltalake 1.6.6 refuses the deletionVectors reader feature
        mm.check(name, lambda: read(path), exp)
    mm.check("data_loader", lambda: dl.scan(path), exp)  # no materialized columns in our scan
    mm.assert_none(f"row-tracking table after our merge (version {version})")
    return version


@pytest.mark.parametrize("dv", [True, False], ids=["deletion_vectors", "copy_on_write"])
def test_our_merge_keeps_spark_row_ids(spark, dl, readers, tmp_path, dv):
    ld = il.Loader(dl, tmp_path, {"table_name": "rt", "loading_strategy": "merge",
                               "primary_keys": ["id"]})
    path = str(ld.table)
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING) USING delta TBLPROPERTIES "
              f"('delta.enableRowTracking' = 'true', "
              f"'delta.enableDeletionVectors' = '{str(dv).lower()}')")
    for lo in (0, 100):
        spark.createDataFrame(rows(range(lo, lo + 100)).to_pandas()) \
            .coalesce(1).write.format("delta").mode("append").save(path)
    # Spark's own MERGE materializes the row ids of the rows it moves.
    spark.createDataFrame(rows([3, 50, 150, 250], "s").to_pandas()).createOrReplaceTempView("src")
    spark.sql(f"MERGE INTO delta.`{path}` t USING src s ON t.id = s.id "
              "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
    conf = il.replay_log(path).metadata["configuration"]
    materialized = conf["delta.rowTracking.materializedRowIdColumnName"]
    assert names(dl.scan(path).row_dicts()) == names(il.read_spark(spark, path).row_dicts())

    # Rows Spark moved (3, 50, 150), untouched rows (7, 120) and new ones.
    v1 = merge_and_check(spark, dl, readers, ld, path, rows([3, 7, 120, 150, 300, 301], "a"))
    adds = [a["add"] for a in il.read_commit(path, v1) if "add" in a]
    assert adds and all("baseRowId" in a for a in adds)
    if dv:
        assert il.deletion_vector_count(path) > 0, "the merge marks rows deleted in place"
    new_files = [a for a in adds if not a.get("deletionVector")]  # not a DV re-add
    assert new_files
    for add in new_files:
        written = pq.read_table(il.file_abs_path(path, add["path"]))
        assert materialized in written.column_names, written.column_names
    # Updates of rows our merge wrote (our materialized ids) and of Spark's.
    merge_and_check(spark, dl, readers, ld, path, rows([7, 50, 300, 302], "b"))


@pytest.mark.parametrize("mapping", [None, "name"], ids=["plain", "column_mapping"])
def test_our_merges_keep_row_ids_of_a_table_we_create(spark, dl, readers, tmp_path, mapping):
    props = {"delta.enableRowTracking": "true", "delta.enableDeletionVectors": "true"}
    if mapping:
        props["delta.columnMapping.mode"] = mapping
    ld = il.Loader(dl, tmp_path, {"table_name": "ours", "loading_strategy": "merge",
                               "primary_keys": ["id"], "table_properties": props})
    path = str(ld.table)
    ld.load(rows(range(20)))
    conf = il.replay_log(path).metadata["configuration"]
    assert conf["delta.rowTracking.materializedRowIdColumnName"].startswith("_row-id-col-")
    merge_and_check(spark, dl, readers, ld, path, rows([1, 2, 30], "a"))
    merge_and_check(spark, dl, readers, ld, path, rows([2, 5, 30, 31], "b"))


def test_delete_and_optimize_keep_row_ids(spark, dl, readers, tmp_path):
    """Copy-on-write `table delete` and `table optimize` copy rows: each keeps its row id and
    row commit version (Spark's UPDATE materialized some of them first)."""
    path = str(tmp_path / "rt_cow")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING) USING delta TBLPROPERTIES "
              "('delta.enableRowTracking' = 'true', 'delta.enableDeletionVectors' = 'false')")
    for lo in (0, 50, 100):
        spark.createDataFrame(rows(range(lo, lo + 50)).to_pandas()) \
            .coalesce(1).write.format("delta").mode("append").save(path)
    spark.sql(f"UPDATE delta.`{path}` SET name = concat('u', name) WHERE id % 7 = 0")
    before = spark_row_ids(spark, path)
    current = names(il.read_spark(spark, path).row_dicts())

    dl.run("table", "delete", path, "--where", "id IN (3, 13)")
    deleted = il.replay_log(path).version
    assert any("remove" in a for a in il.read_commit(path, deleted))
    after = spark_row_ids(spark, path)
    assert after == {i: ids for i, ids in before.items() if i not in (3, 13)}

    dl.run("table", "optimize", path)
    optimized = il.replay_log(path).version
    assert optimized == deleted + 1 and len(il.replay_log(path).adds) == 1
    assert spark_row_ids(spark, path) == after
    exp = expected_after({i: n for i, n in current.items() if i not in (3, 13)}, {})
    mm = il.Mismatches()
    for name, read in readers.items():
        mm.check(name, lambda: read(path), exp)
    mm.check("data_loader", lambda: dl.scan(path), exp)
    mm.assert_none("row-tracking table after our delete and optimize")


def check_kept(path, before, after, changed, version, hwm_before):
    """Row ids after a rewrite committed as `version`: keys of `changed` keep their row id and
    take `version`, the other keys of `before` keep both, keys new in `after` get fresh ids
    (within the table's high-water mark)."""
    row_ids = [rid for rid, _ in after.values()]
    assert len(set(row_ids)) == len(row_ids), "duplicate row ids"
    for k, (rid, rcv) in before.items():
        if k in after:
            assert after[k] == ((rid, version) if k in changed else (rid, rcv)), \
                f"row {k}: {before[k]} -> {after[k]}"
    for k in set(after) - set(before):
        assert after[k][0] > hwm_before and after[k][1] == version, f"new row {k}: {after[k]}"
    assert il.row_id_high_water_mark(path) >= max(row_ids)


def check_readers(spark, dl, readers, path, exp: il.Snapshot, what: str):
    mm = il.Mismatches()
    mm.check("Spark", lambda: il.read_spark(spark, path), exp)
    for name, read in readers.items():
        mm.check(name, lambda: read(path), exp)
    mm.check("data_loader", lambda: dl.scan(path), exp)
    mm.assert_none(what)


def test_scd2_copy_on_write_keeps_spark_row_ids(spark, dl, readers, tmp_path):
    """SCD2 batches rewrite the files of a Spark-made row-tracking table (no deletion
    vectors): closed and split versions keep their row ids, the rows copied along keep their
    ids and versions (Spark's UPDATE materialized some), new versions get fresh ids."""
    ld = il.Loader(dl, tmp_path, {"table_name": "hist", "loading_strategy": "scd2",
                               "primary_keys": ["id"], "sequence_column": "seq"})
    path = str(ld.table)
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING, seq BIGINT, "
              f"effective_date BIGINT, end_date BIGINT, is_current BOOLEAN) USING delta "
              f"TBLPROPERTIES ('delta.enableRowTracking' = 'true', "
              f"'delta.enableDeletionVectors' = 'false')")
    spark.sql(f"INSERT INTO delta.`{path}` SELECT id, concat('n', id), 1, 1, NULL, true "
              f"FROM range(10)")
    spark.sql(f"UPDATE delta.`{path}` SET name = concat('u', name) WHERE id % 4 = 0")
    names = {i: ("un" if i % 4 == 0 else "n") + str(i) for i in range(10)}
    before = spark_row_ids(spark, path, ("id", "effective_date"))
    hwm = il.row_id_high_water_mark(path)

    def batch(ids, labels, seq):
        return pa.table({"id": pa.array(ids, pa.int64()), "name": labels,
                         "seq": pa.array([seq] * len(ids), pa.int64())})

    ld.load(batch([0, 3, 30], ["x0", "x3", "x30"], 5))
    v1 = il.replay_log(path).version
    assert any("remove" in a for a in il.read_commit(path, v1)), "copy-on-write"
    after = spark_row_ids(spark, path, ("id", "effective_date"))
    check_kept(path, before, after, {(0, 1), (3, 1)}, v1, hwm)
    rows = [(i, names[i], 1, 1, 5 if i in (0, 3) else None, i not in (0, 3)) for i in range(10)]
    rows += [(0, "x0", 5, 5, None, True), (3, "x3", 5, 5, None, True), (30, "x30", 5, 5, None, True)]
    check_readers(spark, dl, readers, path, il.scd2_snapshot(rows, "name"), "after our SCD2 batch")

    ld.load(batch([3], ["late3"], 3))  # splits key 3's first version
    v2 = il.replay_log(path).version
    late = spark_row_ids(spark, path, ("id", "effective_date"))
    check_kept(path, after, late, {(3, 1)}, v2, max(rid for rid, _ in after.values()))
    assert (3, 3) in late
    rows = [r for r in rows if r[0] != 3 or r[3] == 5]
    rows += [(3, "n3", 1, 1, 3, False), (3, "late3", 3, 3, 5, False)]
    check_readers(spark, dl, readers, path, il.scd2_snapshot(rows, "name"), "after a late event")


def test_replace_where_keeps_row_ids(spark, dl, readers, tmp_path):
    """Overwrite with replace_where: the rows it copies from partly replaced files keep their
    row ids and versions, a file whose rows all match goes, the batch's rows are new rows."""
    ld = il.Loader(dl, tmp_path, {"table_name": "rw", "loading_strategy": "overwrite",
                               "replace_where": "day = 2"})
    path = str(ld.table)
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, name STRING, day INT) USING delta "
              f"TBLPROPERTIES ('delta.enableRowTracking' = 'true', "
              f"'delta.enableDeletionVectors' = 'false')")
    spark.sql(f"INSERT INTO delta.`{path}` SELECT id, concat('n', id), CAST(id % 3 AS INT) "
              f"FROM range(10)")
    spark.sql(f"INSERT INTO delta.`{path}` SELECT id, concat('n', id), 2 FROM range(10, 13)")
    spark.sql(f"UPDATE delta.`{path}` SET name = 'u4' WHERE id = 4")
    before = spark_row_ids(spark, path)
    hwm = il.row_id_high_water_mark(path)
    ld.load(pa.table({"id": pa.array([100, 101], pa.int64()), "name": ["a", "b"],
                      "day": pa.array([2, 2], pa.int32())}))
    version = il.replay_log(path).version
    after = spark_row_ids(spark, path)
    kept = [i for i in range(10) if i % 3 != 2]
    assert sorted(after) == kept + [100, 101]
    check_kept(path, before, after, set(), version, hwm)
    exp = il.snapshot_from_arrow(pa.table({
        "id": pa.array(kept + [100, 101], pa.int64()),
        "name": ["u4" if i == 4 else f"n{i}" for i in kept] + ["a", "b"],
        "day": pa.array([i % 3 for i in kept] + [2, 2], pa.int32())}))
    check_readers(spark, dl, readers, path, exp, "after our replace_where")
