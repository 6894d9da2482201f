"""Type widening (table features typeWidening and Delta 3's typeWidening-preview), both ways.

- Spark 4.1 + Delta 4.1 (the stable `typeWidening` feature) widens columns of a table with
  ALTER COLUMN ... TYPE (integer -> long, decimal precision/scale, float -> double, date ->
  timestamp_ntz, short -> integer), so older files keep the narrower types: data_loader reads it
  as Spark does (and as at each earlier version), appends to it, optimizes it (rewriting the
  mixed files), and Spark reads the result identically; DuckDB's delta extension agrees.
- The in-process Spark 3.5 + delta-spark 3.3 writes `typeWidening-preview` (which only widens
  byte/short/integer): the same, and our widening keeps the preview feature.
- data_loader widens: schema evolution with delta.enableTypeWidening=true, and
  `table widen-column`, record `delta.typeChanges` and the feature; Spark 4.1 and DuckDB read
  the table identically. delta-rs (deltalake 1.6) refuses the feature by name.
- Bad cases: widening without the property or without schema evolution, narrowing, a change
  that is no widening, a table recording an unsupported change.

Spark 4.1 is the session's Spark Connect server (fixture `spark41`, tests/spark_connect/client.py).
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import interop_lib as il

def _row_sql(path, columns) -> str:
    """A query printing each row as 'ROW|v1|v2...' with Spark's CAST AS STRING of each value."""
    cells = ", ".join(f"coalesce(CAST({c} AS STRING), 'NULL')" for c in columns)
    return f"SELECT concat_ws('|', 'ROW', {cells}) FROM delta.`{path}`"


def run41(spark41, statements: list[str]) -> list[tuple[str, ...]]:
    """Run `statements` in Spark 4.1 + Delta 4.1 (the session's Spark Connect server); the rows
    that queries made with _row_sql returned, sorted."""
    out = []
    for stmt in statements:
        tbl = spark41.sql(stmt)
        if tbl.num_columns == 1 and tbl.num_rows:
            out += [tuple(v.split("|")[1:]) for v in tbl.column(0).to_pylist()
                    if isinstance(v, str) and v.startswith("ROW|")]
    return sorted(out)


def _cell(v) -> str:
    """A Python value as Spark's CAST(... AS STRING) prints it."""
    if v is None:
        return "NULL"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, float):
        return repr(v)
    return str(v)


def dl_rows(dl, path, columns, version=None) -> list[tuple[str, ...]]:
    out = dl.scratch / f"scan_{os.getpid()}_{len(os.listdir(dl.scratch))}.parquet"
    args = ["table", "scan", path, "--output", out]
    if version is not None:
        args += ["--version", version]
    dl.run(*args)
    tbl = pq.read_table(out)
    out.unlink()
    return sorted(tuple(_cell(r[c]) for c in columns) for r in tbl.to_pylist())


def _schema_types(path, version=None) -> dict[str, str]:
    md = il.replay_log(path, version).metadata
    return {f["name"]: il.delta_type_of_json(f["type"]) for f in
            json.loads(md["schemaString"])["fields"]}


def _type_changes(path, version=None) -> dict[str, list[tuple[str, str]]]:
    md = il.replay_log(path, version).metadata
    return {f["name"]: [(c["fromType"], c["toType"]) for c in f["metadata"]["delta.typeChanges"]]
            for f in json.loads(md["schemaString"])["fields"]
            if "delta.typeChanges" in f.get("metadata", {})}


def _features(path) -> tuple[list[str], list[str]]:
    p = il.replay_log(path).protocol
    return p.get("readerFeatures", []), p.get("writerFeatures", [])


def _duckdb_rows(path, columns) -> list[tuple[str, ...]]:
    """DuckDB's delta extension's reading, as strings (the fallback reads files, not the log)."""
    if il.duckdb_mode() != "extension":
        pytest.fail("DuckDB's delta extension is needed to check DuckDB reads widened tables")
    con = il._duckdb_connect_with_delta().cursor()
    try:
        tbl = con.execute(f"SELECT * FROM delta_scan('{path}')").fetch_arrow_table()
    finally:
        con.close()
    return sorted(tuple(_cell(r[c]) for c in columns) for r in tbl.to_pylist())


def _assert_delta_rs_refuses(path):
    with pytest.raises(Exception, match="typeWidening"):
        il.read_delta_rs(path)


COLS = ["id", "price", "f", "d", "s"]


def test_spark4_widened_table_read_appended_optimized(dl, spark41, tmp_path):
    path = str(tmp_path / "t")
    spark_rows = run41(spark41, [
        f"CREATE TABLE delta.`{path}` (id INT, price DECIMAL(6,2), f FLOAT, d DATE, s SMALLINT) "
        f"USING delta TBLPROPERTIES ('delta.enableTypeWidening' = 'true', "
        f"'delta.feature.timestampNtz' = 'supported')",
        f"INSERT INTO delta.`{path}` VALUES (1, 1.25, 1.5, DATE'2020-01-02', 7), "
        f"(2, NULL, 0.1, NULL, -3)",
        f"ALTER TABLE delta.`{path}` ALTER COLUMN id TYPE BIGINT",
        f"ALTER TABLE delta.`{path}` ALTER COLUMN price TYPE DECIMAL(10,4)",
        f"ALTER TABLE delta.`{path}` ALTER COLUMN f TYPE DOUBLE",
        f"ALTER TABLE delta.`{path}` ALTER COLUMN d TYPE TIMESTAMP_NTZ",
        f"ALTER TABLE delta.`{path}` ALTER COLUMN s TYPE INT",
        f"INSERT INTO delta.`{path}` VALUES (5000000000, 123456.7891, 2.25, "
        f"TIMESTAMP_NTZ'2021-01-01 10:00:00', 100000)",
        _row_sql(path, COLS),
    ])
    readers, writers = _features(path)
    assert "typeWidening" in readers and "typeWidening" in writers, (readers, writers)
    assert _type_changes(path)["id"] == [("integer", "long")]
    assert _schema_types(path) == {"id": "long", "price": "decimal(10,4)", "f": "double",
                                   "d": "timestamp_ntz", "s": "integer"}
    assert len(spark_rows) == 3
    # The files of the first insert still hold the narrower types: we convert on read.
    assert dl_rows(dl, path, COLS) == spark_rows
    assert ("1", "1.2500", "1.5", "2020-01-02 00:00:00", "7") in spark_rows
    assert _duckdb_rows(path, COLS) == spark_rows
    _assert_delta_rs_refuses(path)
    # Time travel: version 1 has the narrower schema.
    assert _schema_types(path, 1)["id"] == "integer"
    f32 = repr(pa.scalar(0.1, pa.float32()).as_py())  # the float 0.1, as a double
    assert dl_rows(dl, path, COLS, version=1) == [("1", "1.25", "1.5", "2020-01-02", "7"),
                                                  ("2", "NULL", f32, "NULL", "-3")]

    # We append (narrower types are cast up, no schema change), delete one row (copy-on-write
    # of a file holding the old types) and optimize (one file out of mixed-type files).
    src = il.write_parquet(pa.table({
        "id": pa.array([3], pa.int32()), "price": pa.array([decimal.Decimal("9.5")], pa.decimal128(4, 1)),
        "f": pa.array([0.5], pa.float32()), "d": pa.array([dt.date(2022, 3, 4)], pa.date32()),
        "s": pa.array([4], pa.int16())}), tmp_path / "a.parquet")
    dl.run("table", "write", path, "--source", src)
    dl.run("table", "delete", path, "--where", "id = 2")
    dl.run("table", "optimize", path)
    narrow_files = {a["add"]["path"] for a in il.read_commit(path, 1) if "add" in a}
    assert not narrow_files & set(il.replay_log(path).adds), \
        "the files holding the old types must have been rewritten"
    assert _type_changes(path)["id"] == [("integer", "long")], "the type changes must be kept"
    expected = sorted([r for r in spark_rows if r[0] != "2"] +
                      [("3", "9.5000", "0.5", "2022-03-04 00:00:00", "4")])
    assert dl_rows(dl, path, COLS) == expected
    assert run41(spark41, [_row_sql(path, COLS)]) == expected
    assert _duckdb_rows(path, COLS) == expected


def test_we_widen_and_spark4_duckdb_read(dl, spark41, tmp_path):
    path = str(tmp_path / "t")
    v0 = il.write_parquet(pa.table({
        "id": pa.array([1, 2], pa.int32()), "price": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(6, 2)),
        "d": pa.array([dt.date(2020, 1, 2), dt.date(2020, 5, 6)], pa.date32())}), tmp_path / "v0.parquet")
    dl.run("table", "write", path, "--source", v0, "--property", "delta.enableTypeWidening=true")
    assert _features(path) == (["typeWidening"], ["typeWidening"])
    # Schema evolution widens id to long in the commit that writes the wider data.
    v1 = il.write_parquet(pa.table({
        "id": pa.array([5_000_000_000], pa.int64()), "price": pa.array([decimal.Decimal("3.5")], pa.decimal128(6, 2)),
        "d": pa.array([dt.date(2021, 1, 1)], pa.date32())}), tmp_path / "v1.parquet")
    dl.run("table", "write", path, "--source", v1, "--schema-evolution", "add_new_columns")
    assert _schema_types(path)["id"] == "long"
    assert _type_changes(path) == {"id": [("integer", "long")]}
    actions = il.read_commit(path, 1)
    assert any("metaData" in a for a in actions) and any("add" in a for a in actions), \
        "the schema change must be committed with the data"
    # By hand, as ALTER COLUMN ... TYPE: metadata only.
    before = {f for f in il.file_tree(path) if not f.startswith("_delta_log")}
    dl.run("table", "widen-column", path, "--column", "price", "--type", "decimal(10,4)")
    dl.run("table", "widen-column", path, "--column", "d", "--type", "timestamp_ntz")
    assert {f for f in il.file_tree(path) if not f.startswith("_delta_log")} == before
    assert _type_changes(path) == {"id": [("integer", "long")],
                                   "price": [("decimal(6,2)", "decimal(10,4)")],
                                   "d": [("date", "timestamp_ntz")]}
    readers, writers = _features(path)
    assert set(readers) == {"typeWidening", "timestampNtz"}, readers
    v4 = il.write_parquet(pa.table({
        "id": pa.array([7], pa.int64()), "price": pa.array([decimal.Decimal("12345.6789")], pa.decimal128(10, 4)),
        "d": pa.array([dt.datetime(2023, 7, 8, 9, 10, 11)], pa.timestamp("us"))}), tmp_path / "v4.parquet")
    dl.run("table", "write", path, "--source", v4)
    cols = ["id", "price", "d"]
    expected = sorted([("1", "1.2500", "2020-01-02 00:00:00"), ("2", "NULL", "2020-05-06 00:00:00"),
                       ("5000000000", "3.5000", "2021-01-01 00:00:00"),
                       ("7", "12345.6789", "2023-07-08 09:10:11")])
    assert dl_rows(dl, path, cols) == expected
    assert dl_rows(dl, path, cols, version=0) == [("1", "1.25", "2020-01-02"), ("2", "NULL", "2020-05-06")]
    assert run41(spark41, [_row_sql(path, cols)]) == expected
    assert _duckdb_rows(path, cols) == expected
    _assert_delta_rs_refuses(path)


def test_spark_preview_widened_table(dl, spark, tmp_path):
    """Delta 3.3's typeWidening-preview (byte/short/integer only): read, appended, widened."""
    path = str(tmp_path / "t")
    spark.sql(f"CREATE TABLE delta.`{path}` (b BYTE, v SHORT, s STRING) USING delta "
              f"TBLPROPERTIES ('delta.enableTypeWidening' = 'true')")
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 2, 'a'), (-5, NULL, 'b')")
    spark.sql(f"ALTER TABLE delta.`{path}` ALTER COLUMN b TYPE SHORT")
    spark.sql(f"ALTER TABLE delta.`{path}` ALTER COLUMN b TYPE INT")
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (100000, 300, 'c')")
    readers, writers = _features(path)
    assert "typeWidening-preview" in readers and "typeWidening" not in readers, readers
    assert [c[:2] for c in _type_changes(path)["b"]] == [("byte", "short"), ("short", "integer")]
    il.assert_same(dl.scan(path), il.read_spark(spark, path), "data_loader vs Spark (current)")
    il.assert_same(dl.scan(path, version=1), il.read_spark(spark, path, 1), "at version 1")
    # We widen v (short -> integer) by schema evolution: the preview feature serves.
    src = il.write_parquet(pa.table({"b": pa.array([7], pa.int32()), "v": pa.array([70000], pa.int32()),
                                     "s": ["d"]}), tmp_path / "a.parquet")
    dl.run("table", "write", path, "--source", src, "--schema-evolution", "add_new_columns")
    readers, writers = _features(path)
    assert "typeWidening" not in readers and "typeWidening" not in writers, (readers, writers)
    assert [c[:2] for c in _type_changes(path)["v"]] == [("short", "integer")]
    got = il.read_spark(spark, path)
    assert got.schema == {"b": "integer", "v": "integer", "s": "string"}
    il.assert_same(dl.scan(path), got, "data_loader vs Spark after our widening append")
    assert got.num_rows == 4


# ----------------------------------------------------------------------------- bad cases


def _ints(path, name="id", values=(1, 2), t=pa.int32()) -> str:
    return il.write_parquet(pa.table({name: pa.array(list(values), t)}), path)


def test_widening_needs_the_property_and_schema_evolution(dl, tmp_path):
    path = str(tmp_path / "t")
    dl.run("table", "write", path, "--source", _ints(tmp_path / "a.parquet"))
    wide = _ints(tmp_path / "wide.parquet", values=[5_000_000_000], t=pa.int64())
    before = il.file_tree(path)
    p = dl.run("table", "write", path, "--source", wide, "--schema-evolution", "add_new_columns",
               check=False)
    out = il.output(p)
    assert p.returncode == 1, out
    for part in ("column id has type integer in the table but long", "delta.enableTypeWidening",
                 path, f"source {wide}"):
        assert part in out, out
    assert il.file_tree(path) == before
    p = dl.run("table", "widen-column", path, "--column", "id", "--type", "long", check=False)
    assert p.returncode != 0 and "delta.enableTypeWidening=true" in il.output(p), il.output(p)
    assert il.file_tree(path) == before
    # With the property but schema evolution off, the write is refused too.
    path2 = str(tmp_path / "t2")
    dl.run("table", "write", path2, "--source", _ints(tmp_path / "b.parquet"), "--property",
           "delta.enableTypeWidening=true")
    before = il.file_tree(path2)
    p = dl.run("table", "write", path2, "--source", wide, check=False)
    assert p.returncode == 1 and "schema evolution" in il.output(p), il.output(p)
    assert il.file_tree(path2) == before


def test_narrowing_and_unsupported_changes_refused(dl, tmp_path):
    path = str(tmp_path / "t")
    src = il.write_parquet(pa.table({"id": pa.array([1], pa.int64()),
                                     "d": pa.array([dt.date(2020, 1, 1)], pa.date32())}),
                           tmp_path / "a.parquet")
    dl.run("table", "write", path, "--source", src, "--property", "delta.enableTypeWidening=true")
    before = il.file_tree(path)
    for column, to, words in [("id", "integer", "cannot change from long to integer"),
                              ("id", "double", "cannot change from long to double"),
                              ("d", "timestamp", "cannot change from date to timestamp"),
                              ("id", "string", "cannot change from long to string")]:
        p = dl.run("table", "widen-column", path, "--column", column, "--type", to, check=False)
        assert p.returncode == 1 and words in il.output(p) and path in il.output(p), il.output(p)
    for name, t, value in [("id", pa.string(), "x"), ("id", pa.float64(), 1.5)]:
        bad = il.write_parquet(pa.table({name: pa.array([value], t)}), tmp_path / "bad.parquet")
        p = dl.run("table", "write", path, "--source", bad, "--schema-evolution", "add_new_columns",
                   check=False)
        assert p.returncode == 1 and "column id has type long in the table" in il.output(p), il.output(p)
    assert il.file_tree(path) == before


def test_unsupported_recorded_change_refused(dl, tmp_path):
    """A table whose delta.typeChanges records a change the protocol does not allow: readers
    must fail rather than misread the older files."""
    path = str(tmp_path / "t")
    dl.run("table", "write", path, "--source", _ints(tmp_path / "a.parquet"), "--property",
           "delta.enableTypeWidening=true")
    md = il.replay_log(path).metadata
    schema = json.loads(md["schemaString"])
    schema["fields"][0]["type"] = "string"
    schema["fields"][0]["metadata"] = {"delta.typeChanges": [{"fromType": "integer", "toType": "string"}]}
    md = dict(md, schemaString=json.dumps(schema))
    il.commit_path(path, 1).write_text(json.dumps({"commitInfo": {"operation": "CHANGE COLUMN"}}) +
                                       "\n" + json.dumps({"metaData": md}) + "\n")
    p = dl.run("table", "scan", path, "--output", tmp_path / "o.parquet", check=False)
    assert p.returncode == 1, il.output(p)
    assert "integer -> string" in il.output(p) and path in il.output(p), il.output(p)
