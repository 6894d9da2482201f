"""CHECK constraints on tables Spark 4.1 + Delta 4.1 creates (fixture `spark41`: CREATE TABLE
... LOCATION, ALTER TABLE ... ADD CONSTRAINT), and generated and identity columns on tables the
in-process Spark 3.5 + Delta 3.3 creates (DeltaTable.create(...).addColumn(...,
generatedAlwaysAs=...): Spark 4.1's SQL DDL refuses both through the Connect server with
UNSUPPORTED_FEATURE.TABLE_OPERATION, and the Python DeltaTable builder needs delta-spark's
Connect client): data_loader appends to them, Spark reads exactly the rows written and its own
later INSERT still works. Rows that break
a rule are refused (exit 1) naming the rule, its expression, the source file and the number of
rows, and nothing is committed. Constraints data_loader adds (`table add-constraint`) are
enforced by Spark, after every existing row was checked."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pyarrow as pa
import pytest

import interop_lib as il

UTC = dt.timezone.utc


def _create(spark41, path, columns: str) -> str:
    """A catalog table at `path` (identity and generated columns need one, not delta.`path`)."""
    name = f"rules_{uuid.uuid4().hex[:12]}"
    spark41.sql(f"CREATE TABLE {name} ({columns}) USING delta LOCATION '{path}'")
    return name


def _ids(ids, s=None) -> pa.Table:
    cols = {"id": pa.array(list(ids), pa.int64())}
    cols["s"] = pa.array(s if s is not None else [f"v{i}" for i in ids], pa.string())
    return pa.table(cols)


def _spark_rows(spark, path, cols):
    """Delta 3.3 (in-process) reads the table."""
    spark.catalog.clearCache()
    return sorted(tuple(r[c] for c in cols) for r in spark.read.format("delta").load(str(path)).collect())


def _spark41_rows(spark41, path, cols, where: str = ""):
    got = spark41.rows(f"SELECT {', '.join(cols)} FROM delta.`{path}` {where}")
    return sorted(tuple(r[c] for c in cols) for r in got)


def test_check_constraints_of_a_spark_table(dl, spark41, tmp_path):
    path = tmp_path / "t"
    name = _create(spark41, path, "id BIGINT, s STRING")
    spark41.sql(f"INSERT INTO {name} VALUES (1, 'a')")
    spark41.sql(f"ALTER TABLE {name} ADD CONSTRAINT id_positive CHECK (id > 0)")
    spark41.sql(f"ALTER TABLE {name} ADD CONSTRAINT s_short CHECK (length(`s`) < 5 AND s != \"bad\")")

    dl.write(path, il.write_parquet(_ids([2, 3]), tmp_path / "good.parquet"))
    assert _spark41_rows(spark41, path, ["id"]) == [(1,), (2,), (3,)]

    versions = il.commit_versions(path)
    bad = il.write_parquet(_ids([4, -1, -2]), tmp_path / "bad.parquet")
    p = dl.write(path, bad, check=False)
    assert p.returncode == 1, il.output(p)
    assert re.search(r"2 rows of \S*bad\.parquet violate CHECK constraint id_positive \(id > 0\)",
                     il.output(p)), il.output(p)
    assert il.commit_versions(path) == versions, "a refused write committed"
    # NULL breaks a constraint as in Spark: the expression must be TRUE.
    nul = il.write_parquet(pa.table({"id": pa.array([None], pa.int64()), "s": ["x"]}), tmp_path / "null.parquet")
    p = dl.write(path, nul, check=False)
    assert p.returncode == 1 and "1 row of" in il.output(p) and "id_positive" in il.output(p), il.output(p)
    with pytest.raises(Exception, match=r"(?i)id_positive"):
        spark41.sql(f"INSERT INTO {name} VALUES (NULL, 'x')")
    long = il.write_parquet(_ids([9], ["toolong"]), tmp_path / "long.parquet")
    p = dl.write(path, long, check=False)
    assert p.returncode == 1 and "s_short" in il.output(p), il.output(p)
    assert il.commit_versions(path) == versions

    # Spark's own writes still work after ours.
    spark41.sql(f"INSERT INTO {name} VALUES (10, 'j')")
    assert _spark41_rows(spark41, path, ["id"]) == [(1,), (2,), (3,), (10,)]
    il.assert_same(il.read_dl(dl, path, out_dir=dl.scratch), il.read_spark41(spark41, path), "data_loader vs spark")


def test_constraints_we_add_are_enforced_by_spark(dl, spark41, tmp_path):
    path = tmp_path / "t"
    name = _create(spark41, path, "id BIGINT, s STRING")
    spark41.sql(f"INSERT INTO {name} VALUES (1, 'a'), (5, 'e')")
    versions = il.commit_versions(path)
    p = dl.run("table", "add-constraint", path, "small", "id < 3", check=False)
    assert p.returncode == 1 and "1 existing row violates CHECK constraint small (id < 3)" in il.output(p), il.output(p)
    p = dl.run("table", "add-constraint", path, "odd", "date_format(s, 'y') = 'x'", check=False)
    assert p.returncode == 1 and "date_format" in il.output(p) and "odd" in il.output(p), il.output(p)
    assert il.commit_versions(path) == versions

    dl.run("table", "add-constraint", path, "Not_Z", "s <> 'z'")
    log = il.replay_log(path)
    assert log.metadata["configuration"]["delta.constraints.not_z"] == "s <> 'z'"
    assert log.protocol["minWriterVersion"] >= 3
    hist = sorted(spark41.rows(f"DESCRIBE HISTORY {name}"), key=lambda r: r["version"])
    assert hist[-1]["operation"] == "ADD CONSTRAINT"
    with pytest.raises(Exception, match=r"(?i)not_z"):
        spark41.sql(f"INSERT INTO {name} VALUES (7, 'z')")
    p = dl.write(path, il.write_parquet(_ids([7], ["z"]), tmp_path / "z.parquet"), check=False)
    assert p.returncode == 1 and "not_z" in il.output(p), il.output(p)

    dl.run("table", "drop-constraint", path, "not_z")
    assert "delta.constraints.not_z" not in il.replay_log(path).metadata["configuration"]
    spark41.sql(f"INSERT INTO {name} VALUES (7, 'z')")
    dl.write(path, il.write_parquet(_ids([8], ["z"]), tmp_path / "z2.parquet"))
    assert _spark41_rows(spark41, path, ["id", "s"]) == [(1, "a"), (5, "e"), (7, "z"), (8, "z")]
    p = dl.run("table", "drop-constraint", path, "not_z", check=False)
    assert p.returncode == 1 and "no CHECK constraint not_z" in il.output(p), il.output(p)


def test_generated_columns_of_a_spark_table(dl, spark, tmp_path):
    path = tmp_path / "t"
    from delta.tables import DeltaTable

    # (This session's catalog is not Delta's, so SQL DDL cannot declare generated columns.)
    DeltaTable.create(spark).location(str(path)).addColumn("id", "BIGINT").addColumn("ts", "TIMESTAMP") \
        .addColumn("g", "BIGINT", generatedAlwaysAs="id * 2") \
        .addColumn("d", "DATE", generatedAlwaysAs="CAST(ts AS DATE)").execute()
    t0 = dt.datetime(2024, 1, 2, 23, 30, tzinfo=UTC)
    spark.createDataFrame([(1, t0)], "id bigint, ts timestamp").write.format("delta").mode("append").save(str(path))
    assert "generatedColumns" in str(il.replay_log(path).protocol) or il.replay_log(path).protocol["minWriterVersion"] >= 4

    # Without the generated columns: computed.
    src = pa.table({"id": pa.array([2, 3], pa.int64()), "ts": pa.array([t0, None], pa.timestamp("us", tz="UTC"))})
    dl.write(path, il.write_parquet(src, tmp_path / "computed.parquet"))
    # With them, agreeing (and a NULL, computed): accepted.
    given = pa.table({"id": pa.array([4, 5], pa.int64()), "ts": pa.array([t0, t0], pa.timestamp("us", tz="UTC")),
                      "g": pa.array([8, None], pa.int64()), "d": pa.array([dt.date(2024, 1, 2)] * 2, pa.date32())})
    dl.write(path, il.write_parquet(given, tmp_path / "given.parquet"))
    versions = il.commit_versions(path)
    wrong = pa.table({"id": pa.array([6, 7], pa.int64()), "g": pa.array([12, 15], pa.int64())})
    p = dl.write(path, il.write_parquet(wrong, tmp_path / "wrong.parquet"), check=False)
    assert p.returncode == 1, il.output(p)
    assert re.search(r"1 row of \S*wrong\.parquet holds a value of column g that disagrees with its "
                     r"generation expression \(id \* 2\)", il.output(p)), il.output(p)
    assert il.commit_versions(path) == versions

    spark.createDataFrame([(9, t0)], "id bigint, ts timestamp").write.format("delta").mode("append").save(str(path))
    d = dt.date(2024, 1, 2)
    assert _spark_rows(spark, path, ["id", "g", "d"]) == [
        (1, 2, d), (2, 4, d), (3, 6, None), (4, 8, d), (5, 10, d), (9, 18, d)]
    il.assert_same(il.read_dl(dl, path, out_dir=dl.scratch), il.read_spark(spark, path), "data_loader vs spark")


def test_identity_column_of_a_spark_table(dl, spark, tmp_path):
    from delta.tables import DeltaTable, IdentityGenerator

    path = tmp_path / "t"
    DeltaTable.create(spark).location(str(path)) \
        .addColumn("k", "BIGINT", generatedAlwaysAs=IdentityGenerator(start=10, step=5)) \
        .addColumn("s", "STRING").execute()
    spark.createDataFrame([("a",), ("b",)], "s string").write.format("delta").mode("append").save(str(path))
    src = pa.table({"s": ["c", "d", "e"]})
    dl.write(path, il.write_parquet(src, tmp_path / "s.parquet"))
    fields = {f["name"]: f for f in __import__("json").loads(il.replay_log(path).metadata["schemaString"])["fields"]}
    assert fields["k"]["metadata"]["delta.identity.highWaterMark"] == 30, fields["k"]

    versions = il.commit_versions(path)
    by_hand = pa.table({"k": pa.array([1000], pa.int64()), "s": ["x"]})
    p = dl.write(path, il.write_parquet(by_hand, tmp_path / "hand.parquet"), check=False)
    assert p.returncode == 1, il.output(p)
    assert re.search(r"1 row of \S*hand\.parquet violates identity column k", il.output(p)), il.output(p)
    assert il.commit_versions(path) == versions

    # Spark continues above our high-water mark (with gaps of its own): start + k * step, unique.
    spark.createDataFrame([("f",)], "s string").write.format("delta").mode("append").save(str(path))
    rows = dict((s, k) for k, s in _spark_rows(spark, path, ["k", "s"]))
    assert sorted(rows[s] for s in "abcde") == [10, 15, 20, 25, 30], rows
    assert rows["f"] > 30 and (rows["f"] - 10) % 5 == 0, rows
    il.assert_same(il.read_dl(dl, path, out_dir=dl.scratch), il.read_spark(spark, path), "data_loader vs spark")


def _identity_table(spark, path, columns: list[tuple[str, str]], rows: list[tuple]):
    """A Delta 3.3 table with `k BIGINT GENERATED ALWAYS AS IDENTITY` first, then `columns`,
    and `rows` (without k) appended by Spark, which allocates their k."""
    from delta.tables import DeltaTable, IdentityGenerator

    builder = DeltaTable.create(spark).location(str(path)) \
        .addColumn("k", "BIGINT", generatedAlwaysAs=IdentityGenerator())
    for name, type_ in columns:
        builder = builder.addColumn(name, type_)
    builder.execute()
    schema = ", ".join(f"{n} {t}" for n, t in columns)
    spark.createDataFrame(rows, schema).coalesce(1).write.format("delta").mode("append").save(str(path))
    return {r[1:]: r[0] for r in _spark_rows(spark, path, ["k"] + [n for n, _ in columns])}


def _high_water_mark(path) -> int:
    fields = __import__("json").loads(il.replay_log(path).metadata["schemaString"])["fields"]
    return next(f for f in fields if f["name"] == "k")["metadata"]["delta.identity.highWaterMark"]


def test_rewrites_keep_the_identity_values_of_a_spark_table(dl, spark, tmp_path):
    """Merge, SCD2 and replace_where into Delta 3.3 identity tables: rows of the table keep
    their identity values (updated, closed or copied), new rows get values above the high-water
    mark, Spark reads the result as we do; a batch with the identity column is refused naming
    it, before anything is written."""
    # Merge: id 2 updated keeps its k, id 9 is new.
    ld = il.Loader(dl, tmp_path / "m", {"table_name": "m", "loading_strategy": "merge",
                                        "primary_keys": ["id"]})
    before = _identity_table(spark, ld.table, [("id", "BIGINT"), ("s", "STRING")],
                             [(i, f"v{i}") for i in range(1, 5)])
    hwm = _high_water_mark(ld.table)
    ld.load(_ids([2, 9], ["B", "n"]))
    got = {(i, s): k for k, i, s in _spark_rows(spark, ld.table, ["k", "id", "s"])}
    assert got[(2, "B")] == before[(2, "v2")] and got[(9, "n")] == hwm + 1, (before, got)
    assert all(got[key] == k for key, k in before.items() if key[0] != 2), (before, got)
    assert _high_water_mark(ld.table) == hwm + 1
    il.assert_same(dl.scan(ld.table), il.read_spark(spark, ld.table), "merge: data_loader vs Spark")
    versions = il.commit_versions(ld.table)
    p = ld.load(pa.table({"id": pa.array([3], pa.int64()), "k": pa.array([3], pa.int64()),
                          "s": ["x"]}), check=False)
    assert p.returncode != 0 and re.search(r"identity column k\b.*allowExplicitInsert", il.output(p)), il.output(p)
    assert il.commit_versions(ld.table) == versions

    # SCD2: key 1's closed version keeps its k, its new version and key 3 get new ones.
    ld = il.Loader(dl, tmp_path / "s", {"table_name": "s", "loading_strategy": "scd2",
                                        "primary_keys": ["id"], "sequence_column": "seq"})
    scd2_cols = [("id", "BIGINT"), ("s", "STRING"), ("seq", "BIGINT"), ("effective_date", "BIGINT"),
                 ("end_date", "BIGINT"), ("is_current", "BOOLEAN")]
    before = _identity_table(spark, ld.table, scd2_cols,
                             [(1, "a", 1, 1, None, True), (2, "b", 1, 1, None, True)])
    hwm = _high_water_mark(ld.table)
    ld.load(pa.table({"id": pa.array([1, 3], pa.int64()), "s": ["a2", "c"],
                      "seq": pa.array([5, 5], pa.int64())}))
    got = {r[1:]: r[0] for r in _spark_rows(spark, ld.table, ["k"] + [n for n, _ in scd2_cols])}
    assert got[(1, "a", 1, 1, 5, False)] == before[(1, "a", 1, 1, None, True)], got
    assert got[(2, "b", 1, 1, None, True)] == before[(2, "b", 1, 1, None, True)], got
    new = sorted([got[(1, "a2", 5, 5, None, True)], got[(3, "c", 5, 5, None, True)]])
    assert new == [hwm + 1, hwm + 2] and len(got) == 4, got
    il.assert_same(dl.scan(ld.table), il.read_spark(spark, ld.table), "SCD2: data_loader vs Spark")

    # replace_where: rows kept from the partly replaced file keep their k.
    ld = il.Loader(dl, tmp_path / "r", {"table_name": "r", "loading_strategy": "overwrite",
                                        "replace_where": "day = 2"})
    before = _identity_table(spark, ld.table, [("id", "BIGINT"), ("day", "BIGINT")],
                             [(i, 1 + i % 2) for i in range(1, 5)])
    hwm = _high_water_mark(ld.table)
    ld.load(pa.table({"id": pa.array([7], pa.int64()), "day": pa.array([2], pa.int64())}))
    got = {r[1:]: r[0] for r in _spark_rows(spark, ld.table, ["k", "id", "day"])}
    assert got == {(2, 1): before[(2, 1)], (4, 1): before[(4, 1)], (7, 2): hwm + 1}, (before, got)
    il.assert_same(dl.scan(ld.table), il.read_spark(spark, ld.table),
                   "replace_where: data_loader vs Spark")


def test_generated_partition_column_of_a_spark_table(dl, spark, tmp_path):
    """The common Databricks layout: partitioned by a date generated from a timestamp."""
    from delta.tables import DeltaTable

    path = tmp_path / "t"
    DeltaTable.create(spark).location(str(path)).addColumn("id", "BIGINT").addColumn("ts", "TIMESTAMP") \
        .addColumn("d", "DATE", generatedAlwaysAs="CAST(ts AS DATE)").partitionedBy("d").execute()
    t0 = dt.datetime(2024, 3, 1, 12, tzinfo=UTC)
    spark.createDataFrame([(1, t0)], "id bigint, ts timestamp").write.format("delta").mode("append").save(str(path))
    src = pa.table({"id": pa.array([2, 3], pa.int64()),
                    "ts": pa.array([t0 + dt.timedelta(days=1), t0], pa.timestamp("us", tz="UTC"))})
    dl.write(path, il.write_parquet(src, tmp_path / "ts.parquet"))
    assert _spark_rows(spark, path, ["id", "d"]) == [
        (1, dt.date(2024, 3, 1)), (2, dt.date(2024, 3, 2)), (3, dt.date(2024, 3, 1))]
    # Spark prunes by the partition value we wrote.
    spark.catalog.clearCache()
    got = spark.read.format("delta").load(str(path)).where("d = DATE'2024-03-02'").collect()
    assert [r["id"] for r in got] == [2]
