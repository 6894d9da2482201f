"""Every Delta type, loaded by both engines and read back by every reader (a data engineer's
side-by-side test): the same files and config on `engine: duckdb` and `engine: spark` give the
same Delta schema and the same values, and delta-rs, DuckDB's delta_scan and Spark 4.1 read
those values back unchanged: extreme integers and decimals, NaN, infinities and -0.0, dates
and timestamps at the ends of their range, unicode and binary, nested nulls (a NULL struct
and a struct of NULLs, NULL array elements and map values) and column names with spaces,
dots, upper case and unicode; by append, overwrite, merge (keys of several types) and SCD2
(a nested compare column), from parquet, csv, json and a Delta source, and with schema
evolution (a new nested field, widened types)."""
from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

import interop_lib as il
from e2e_lib import AUDIT_COLUMNS, LoaderEnv, write_csv, write_jsonl
from test_e2e_spark_append import spark_remote, write_configs  # noqa: F401

UTC = dt.timezone.utc
SCD2_COLUMNS = ("effective_date", "end_date", "is_current")

# --- the data: every type, its extremes, nested nulls and odd names ---------------------------

ST = pa.struct([("a", pa.int32()), ("b.c", pa.string()),
                ("inner", pa.struct([("x", pa.float64())]))])
SCHEMA = pa.schema([
    ("id", pa.int64()),
    ("Flag", pa.bool_()),
    ("i8", pa.int8()), ("i16", pa.int16()), ("i32", pa.int32()), ("i64", pa.int64()),
    ("f32", pa.float32()), ("f64", pa.float64()),
    ("d9", pa.decimal128(9, 2)), ("d18", pa.decimal128(18, 6)), ("d38", pa.decimal128(38, 10)),
    ("s", pa.string()), ("bin", pa.binary()),
    ("day", pa.date32()), ("ts", pa.timestamp("us", tz="UTC")), ("ntz", pa.timestamp("us")),
    ("arr", pa.list_(pa.int32())), ("st", ST), ("m", pa.map_(pa.string(), pa.int64())),
    ("MiXeD-dash", pa.string()), ("dot.ted", pa.int32()), ("UPPER", pa.string()),
    ("ünï_çødé", pa.string()),
])
D38 = Decimal("9999999999999999999999999999.9999999999")
ROWS = [
    {"id": 1, "Flag": True, "i8": -128, "i16": -32768, "i32": -2**31, "i64": -2**63,
     "f32": float("nan"), "f64": float("nan"),
     "d9": Decimal("-9999999.99"), "d18": Decimal("-999999999999.999999"), "d38": Decimal("-" + str(D38)),
     "s": "", "bin": b"",
     "day": dt.date(1, 1, 1), "ts": dt.datetime(1, 1, 1, tzinfo=UTC), "ntz": dt.datetime(1, 1, 1),
     "arr": [], "st": None, "m": {},
     "MiXeD-dash": "a b", "dot.ted": 1, "UPPER": "X", "ünï_çødé": "ü"},
    {"id": 2, "Flag": False, "i8": 127, "i16": 32767, "i32": 2**31 - 1, "i64": 2**63 - 1,
     "f32": float("inf"), "f64": float("-inf"),
     "d9": Decimal("9999999.99"), "d18": Decimal("999999999999.999999"), "d38": D38,
     "s": "日本語 🎉 e\u0301 \u202eRTL\u202c \u2028 tab\t q'\"\\",
     "bin": bytes(range(256)),
     "day": dt.date(9999, 12, 31), "ts": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
     "ntz": dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
     "arr": [None, 1, None], "st": {"a": None, "b.c": None, "inner": None},
     "m": {"k": None, "": 0},
     "MiXeD-dash": None, "dot.ted": None, "UPPER": None, "ünï_çødé": None},
    {"id": 3, "Flag": None, "i8": 0, "i16": 0, "i32": 0, "i64": 0,
     "f32": -0.0, "f64": -0.0,
     "d9": Decimal("0.01"), "d18": Decimal("-0.000001"), "d38": Decimal("-0.0000000001"),
     "s": "ß ẞ İ ς Σ", "bin": b"\x00\xff\x00",
     "day": dt.date(1582, 10, 10), "ts": dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
     "ntz": dt.datetime(1582, 10, 10, 12, 0, 0, 1),
     "arr": None, "st": {"a": 7, "b.c": "ç", "inner": {"x": None}}, "m": None,
     "MiXeD-dash": "", "dot.ted": -1, "UPPER": "", "ünï_çødé": "é"},
    {"id": 4, "Flag": None, "i8": None, "i16": None, "i32": None, "i64": None,
     "f32": float("-inf"), "f64": 5e-324,
     "d9": None, "d18": None, "d38": None,
     "s": None, "bin": None, "day": None, "ts": None, "ntz": None,
     "arr": [None], "st": {"a": -1, "b.c": "", "inner": {"x": -0.0}}, "m": {"z": -1},
     "MiXeD-dash": "x", "dot.ted": 0, "UPPER": "y", "ünï_çødé": ""},
]

# The Delta type each arrow type must arrive as (whichever engine writes it).
DELTA_TYPES = {
    "id": "long", "Flag": "boolean", "i8": "byte", "i16": "short", "i32": "integer",
    "i64": "long", "f32": "float", "f64": "double", "d9": "decimal(9,2)",
    "d18": "decimal(18,6)", "d38": "decimal(38,10)", "s": "string", "bin": "binary",
    "day": "date", "ts": "timestamp", "ntz": "timestamp_ntz",
    "arr": {"type": "array", "elementType": "integer", "containsNull": True},
    "st": {"type": "struct", "fields": [
        {"name": "a", "type": "integer", "nullable": True, "metadata": {}},
        {"name": "b.c", "type": "string", "nullable": True, "metadata": {}},
        {"name": "inner", "type": {"type": "struct", "fields": [
            {"name": "x", "type": "double", "nullable": True, "metadata": {}}]},
         "nullable": True, "metadata": {}}]},
    "m": {"type": "map", "keyType": "string", "valueType": "long", "valueContainsNull": True},
    "MiXeD-dash": "string", "dot.ted": "integer", "UPPER": "string", "ünï_çødé": "string",
}


def batch(rows: list[dict], schema: pa.Schema = SCHEMA) -> pa.Table:
    rows = [{k: (list(v.items()) if isinstance(v, dict) and k == "m" else v)
             for k, v in r.items()} for r in rows]
    return pa.Table.from_pylist(rows, schema=schema)


# --- comparing: exact values (NaN, the sign of zero, a decimal's digits) ---------------------


def norm(v):
    """A value as a comparable, exact Python value: floats by their bits (NaN equal to NaN,
    -0.0 apart from 0.0), decimals by their digits, timestamps as UTC or naive, maps as sorted
    pairs, structs and lists element by element."""
    if isinstance(v, float):
        return ("nan",) if math.isnan(v) else (v, math.copysign(1.0, v))
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(UTC)
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):  # a map's pairs
            return sorted((k, norm(x)) for k, x in v)
        return [norm(x) for x in v]
    return v


def normalized(table: pa.Table, drop=AUDIT_COLUMNS + SCD2_COLUMNS) -> list[dict]:
    out = []
    for r in table.to_pylist():
        out.append({k: norm(v) for k, v in r.items() if k not in drop})
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def delta_schema(path: Path) -> dict[str, object]:
    """Each column's Delta type (and nullability) from the newest metaData in the log."""
    meta = None
    for commit in sorted((path / "_delta_log").glob("*.json")):
        for line in commit.read_text().split("\n"):
            if not line:
                continue
            action = json.loads(line)
            if "metaData" in action:
                meta = action["metaData"]
    assert meta is not None, f"no metaData in {path}"
    return {f["name"]: f["type"] for f in json.loads(meta["schemaString"])["fields"]}


def read_all(path: Path, spark41) -> dict[str, pa.Table]:
    """The table as delta-rs, DuckDB's delta_scan and Spark 4.1 (the test server) read it."""
    con = il._duckdb_connect_with_delta().cursor()
    try:
        duck = con.execute("SELECT * FROM delta_scan(?)", [str(path)]).fetch_arrow_table()
    finally:
        con.close()
    out = {"duckdb": duck, "spark": spark41.read(path)[0]}
    try:
        out["delta-rs"] = DeltaTable(str(path)).to_pyarrow_table()
    except Exception as e:  # noqa: BLE001
        if "typeWidening" not in str(e):  # delta-rs 1.6 refuses the feature (README)
            raise
    return out


def assert_both_engines_wrote(env: LoaderEnv, spark41, name: str, expected: pa.Table,
                              types: dict[str, object], drop=AUDIT_COLUMNS + SCD2_COLUMNS):
    """Both engines' tables have `types` (Delta types, audit columns aside) and every reader
    reads `expected`'s rows from each."""
    want = normalized(expected, drop)
    tables = {"spark": env.table_path(name), "duckdb": env.root / "duck" / "processed" / env.DB / name}
    problems = []
    for engine, path in tables.items():
        got_types = {k: v for k, v in delta_schema(path).items() if k not in drop}
        if got_types != types:
            diff = {k: (got_types.get(k), types.get(k)) for k in set(got_types) | set(types)
                    if got_types.get(k) != types.get(k)}
            problems.append(f"{engine} engine's Delta types differ (got, want): {diff}")
        for reader, table in read_all(path, spark41).items():
            got = normalized(table, drop)
            if got != want:
                pairs = [(g, w) for g, w in zip(got, want) if g != w]
                problems.append(f"{engine} engine's table read by {reader}: "
                                f"{len(got)} rows, first differences (got, want): {pairs[:2]}")
    assert not problems, "\n".join(problems)


def run_engines(env: LoaderEnv, duck_cfg: Path, expect: int = 0):
    spark_run = env.run("run", timeout=300)
    duck_run = env.run("run", config=duck_cfg)
    assert (spark_run.rc, duck_run.rc) == (expect, expect), f"{spark_run}\n{duck_run}"
    return spark_run, duck_run


def both_configs(env: LoaderEnv, entries: list[dict], **globals_) -> Path:
    """The config on Spark (env's dirs) and on DuckDB (dirs of its own); the DuckDB one's path."""
    duck_cfg = env.root / "duck.yaml"
    env.write_config([dict(e, engine="duckdb") for e in entries],
                     processed_data_path=str(env.root / "duck" / "processed"),
                     checkpoint_path=str(env.root / "duck" / "checkpoints"), **globals_)
    env.config_path.rename(duck_cfg)
    env.write_config([dict(e, engine="spark") for e in entries], **globals_)
    return duck_cfg


def with_values(row: dict, **changes) -> dict:
    return dict(row, **changes)


# --- merge: keys of several types (decimal(38), timestamp, unicode string, double) ----------


def test_merge_on_keys_of_many_types_alike(env: LoaderEnv, spark41):
    # Rows 1-3 have non-NULL keys; -0.0 and 0.0 are one key, NaN is NaN (both engines' =),
    # and a matched row keeps its key's value (-0.0).
    first = ROWS[:3]
    pq.write_table(batch(first), env.raw / "a.parquet")
    duck_cfg = both_configs(env, [env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy="merge",
        primary_keys=["d38", "ts", "s", "f64"])])
    run_engines(env, duck_cfg)
    second = [with_values(ROWS[0], i32=11, st={"a": 1, "b.c": None, "inner": None}),
              with_values(ROWS[2], f64=0.0, i32=33, m={"new": 3}),
              with_values(ROWS[1], id=5, d38=Decimal("1.5"), arr=[5])]
    pq.write_table(batch(second), env.raw / "b.parquet")
    run_engines(env, duck_cfg)
    expected = [second[0], ROWS[1], dict(second[1], f64=-0.0), second[2]]
    assert_both_engines_wrote(env, spark41, "t", batch(expected), DELTA_TYPES)


# --- SCD2: nested compare columns (a NULL struct is not a struct of NULLs) ------------------


def test_scd2_tracks_nested_columns_alike(env: LoaderEnv, spark41):
    schema = SCHEMA.append(pa.field("seq", pa.int64()))
    first = [dict(r, seq=1) for r in ROWS]
    pq.write_table(batch(first, schema), env.raw / "a.parquet")
    duck_cfg = both_configs(env, [env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy="scd2", primary_keys=["id"],
        sequence_column="seq", tracking_columns=["st", "m", "arr", "f64", "d38"])])
    run_engines(env, duck_cfg)
    second = [with_values(ROWS[0], seq=2, st={"a": None, "b.c": None, "inner": None}),  # NULL -> struct of NULLs
              with_values(ROWS[1], seq=2, st=None),                                     # and back
              with_values(ROWS[2], seq=2, m={}),                                         # NULL map -> empty
              with_values(ROWS[3], seq=2, s="untracked")]                                # in place
    pq.write_table(batch(second, schema), env.raw / "b.parquet")
    run_engines(env, duck_cfg)
    expected = first[:3] + second
    types = dict(DELTA_TYPES, seq="long")
    assert_both_engines_wrote(env, spark41, "t", batch(expected, schema), types,
                              drop=AUDIT_COLUMNS + SCD2_COLUMNS)
    # The versions: the same on both engines (current flags and intervals by seq).
    for path in (env.table_path("t"), env.root / "duck" / "processed" / env.DB / "t"):
        got = sorted((r["id"], r["seq"], r["is_current"]) for r in
                     DeltaTable(str(path)).to_pyarrow_table().to_pylist())
        assert got == [(1, 1, False), (1, 2, True), (2, 1, False), (2, 2, True), (3, 1, False),
                       (3, 2, True), (4, 2, True)], (path, got)


# --- append (parquet) and overwrite (a Delta source) ----------------------------------------


def test_every_type_from_parquet_and_a_delta_source_arrives_alike(env: LoaderEnv, spark41):
    pq.write_table(batch(ROWS), env.raw / "a.parquet")
    source = env.root / "source_table"
    write_deltalake(str(source), batch(ROWS))
    duck_cfg = both_configs(env, [
        env.table_entry("p", "*.parquet", "parquet"),
        dict(env.table_entry("d", "x", "delta", loading_strategy="overwrite"),
             source_path_pattern=str(source))])
    run_engines(env, duck_cfg)
    for name in ("p", "d"):
        assert_both_engines_wrote(env, spark41, name, batch(ROWS), DELTA_TYPES)


# --- struct fields named with dots, colons, brackets: in SCD2 and a new column of a merge -


def test_struct_fields_with_dots_colons_and_brackets_in_scd2_and_merge_alike(env: LoaderEnv, spark41):
    # DESCRIBE spells `struct<x.y:int>`, which Spark SQL cannot read back: SCD2's second batch
    # (its typed NULLs) and a merge adding such a column failed with PARSE_SYNTAX_ERROR. Names
    # with ':' or '<' (json keys such as "geo:lat") failed the same way after that was fixed:
    # DESCRIBE's `struct<geo:lat:double>` cannot be split into name and type at all.
    v = pa.struct([("x.y", pa.int32()), ("z", pa.string()), ("geo:lat", pa.float64())])
    w = pa.struct([("a.b", pa.string()), ("x:y<z>", pa.struct([("q`r", pa.int32())]))])
    first = pa.schema([("id", pa.int64()), ("v", v), ("seq", pa.int64())])
    second = first.append(pa.field("w", w))
    pq.write_table(pa.Table.from_pylist(
        [{"id": 1, "v": {"x.y": 1, "z": "a", "geo:lat": 1.5}, "seq": 1},
         {"id": 2, "v": None, "seq": 1}],
        schema=first), env.raw / "a.parquet")
    duck_cfg = both_configs(env, [
        env.table_entry(name, "*.parquet", "parquet", loading_strategy=strategy,
                        primary_keys=["id"], sequence_column="seq",
                        schema_evolution_mode="add_new_columns")
        for name, strategy in (("s", "scd2"), ("m", "merge"))])
    run_engines(env, duck_cfg)
    rows = [{"id": 1, "v": {"x.y": 2, "z": "a", "geo:lat": 1.5}, "seq": 2,
             "w": {"a.b": "n", "x:y<z>": {"q`r": 7}}},
            {"id": 3, "v": {"x.y": None, "z": None, "geo:lat": None}, "seq": 2, "w": None}]
    pq.write_table(pa.Table.from_pylist(rows, schema=second), env.raw / "b.parquet")
    run_engines(env, duck_cfg)
    types = {"id": "long", "seq": "long", "v": {"type": "struct", "fields": [
        {"name": "x.y", "type": "integer", "nullable": True, "metadata": {}},
        {"name": "z", "type": "string", "nullable": True, "metadata": {}},
        {"name": "geo:lat", "type": "double", "nullable": True, "metadata": {}}]},
        "w": {"type": "struct", "fields": [
            {"name": "a.b", "type": "string", "nullable": True, "metadata": {}},
            {"name": "x:y<z>", "type": {"type": "struct", "fields": [
                {"name": "q`r", "type": "integer", "nullable": True, "metadata": {}}]},
             "nullable": True, "metadata": {}}]}}
    merged = pa.Table.from_pylist([rows[0], {"id": 2, "v": None, "seq": 1, "w": None}, rows[1]],
                                  schema=second)
    assert_both_engines_wrote(env, spark41, "m", merged, types)
    versions = pa.Table.from_pylist(
        [{"id": 1, "v": {"x.y": 1, "z": "a", "geo:lat": 1.5}, "seq": 1, "w": None}] + merged.to_pylist(),
        schema=second)
    assert_both_engines_wrote(env, spark41, "s", versions, types)


# --- csv and json with explicit columns: text at the ends of each type's range --------------

CSV_COLUMNS = {"id": "BIGINT", "flag": "BOOLEAN", "i8": "TINYINT", "d38": "DECIMAL(38,10)",
               "d9": "DECIMAL(9,2)", "f64": "DOUBLE", "f32": "FLOAT", "day": "DATE",
               "ts": "TIMESTAMPTZ", "ntz": "TIMESTAMP", "s": "VARCHAR", "dot.ted": "INTEGER",
               "Ünï": "VARCHAR"}
CSV_TYPES = {"id": "long", "flag": "boolean", "i8": "byte", "d38": "decimal(38,10)",
             "d9": "decimal(9,2)", "f64": "double", "f32": "float", "day": "date",
             "ts": "timestamp", "ntz": "timestamp_ntz", "s": "string", "dot.ted": "integer",
             "Ünï": "string"}
CSV_TEXT = (
    "id,flag,i8,d38,d9,f64,f32,day,ts,ntz,s,dot.ted,Ünï\n"
    "1,true,-128,-9999999999999999999999999999.9999999999,-9999999.99,NaN,Infinity,0001-01-01,"
    "0001-01-01 00:00:00+00,0001-01-01 00:00:00,日本語 🎉,1,ü\n"
    "2,false,127,9999999999999999999999999999.9999999999,9999999.99,-Infinity,-0.0,9999-12-31,"
    "9999-12-31 23:59:59.999999+00,9999-12-31 23:59:59.999999,\"a\"\"b, c\",-2147483648,\n"
    "3,,0,0.0000000001,0.01,-0.0,3.4028235e38,1582-10-10,2024-03-10 02:30:00+05:30,"
    "2024-03-10 02:30:00.000001,x,2147483647,e\n")
CSV_EXPECTED = [
    {"id": 1, "flag": True, "i8": -128, "d38": Decimal("-" + str(D38)), "d9": Decimal("-9999999.99"),
     "f64": float("nan"), "f32": float("inf"), "day": dt.date(1, 1, 1),
     "ts": dt.datetime(1, 1, 1, tzinfo=UTC), "ntz": dt.datetime(1, 1, 1), "s": "日本語 🎉",
     "dot.ted": 1, "Ünï": "ü"},
    {"id": 2, "flag": False, "i8": 127, "d38": D38, "d9": Decimal("9999999.99"),
     "f64": float("-inf"), "f32": -0.0, "day": dt.date(9999, 12, 31),
     "ts": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
     "ntz": dt.datetime(9999, 12, 31, 23, 59, 59, 999999), "s": 'a"b, c', "dot.ted": -2**31,
     "Ünï": None},
    {"id": 3, "flag": None, "i8": 0, "d38": Decimal("0.0000000001"), "d9": Decimal("0.01"),
     "f64": -0.0, "f32": 3.4028234663852886e38, "day": dt.date(1582, 10, 10),
     "ts": dt.datetime(2024, 3, 9, 21, 0, tzinfo=UTC), "ntz": dt.datetime(2024, 3, 10, 2, 30, 0, 1),
     "s": "x", "dot.ted": 2**31 - 1, "Ünï": "e"},
]
JSON_COLUMNS = {"id": "BIGINT", "d38": "DECIMAL(38,10)", "ts": "TIMESTAMPTZ", "day": "DATE",
                "st": "STRUCT(x INTEGER, b VARCHAR)", "arr": "BIGINT[]",
                "m": "MAP(VARCHAR, BIGINT)", "f64": "DOUBLE"}
JSON_ST = {"type": "struct", "fields": [
    {"name": "x", "type": "integer", "nullable": True, "metadata": {}},
    {"name": "b", "type": "string", "nullable": True, "metadata": {}}]}
JSON_TYPES = {"id": "long", "d38": "decimal(38,10)", "ts": "timestamp", "day": "date",
              "st": JSON_ST, "arr": {"type": "array", "elementType": "long", "containsNull": True},
              "m": {"type": "map", "keyType": "string", "valueType": "long",
                    "valueContainsNull": True}, "f64": "double"}


def test_csv_and_json_with_explicit_columns_arrive_alike(env: LoaderEnv, spark41):
    write_csv(env.raw / "c" / "a.csv", CSV_TEXT)
    # Explicit json columns holding a map: Spark's per-file count (which parses every value)
    # hashed every column and failed every file with DATATYPE_MISMATCH.HASH_MAP_TYPE.
    (env.raw / "j").mkdir()
    (env.raw / "j" / "a.json").write_text(
        '{"id":1,"d38":"-9999999999999999999999999999.9999999999","ts":"0001-01-01T00:00:00Z",'
        '"day":"0001-01-01","st":null,"arr":[null,1],"m":{"k":null},"f64":-0.0}\n'
        '{"id":2,"d38":"1234567890123456789012345678.0123456789","ts":"2024-03-10T02:30:00+05:30",'
        '"day":"9999-12-31","st":{"x":null,"b":null},"arr":[],"m":{},"f64":1e308}\n'
        '{"id":3,"d38":0.0000000001,"ts":"9999-12-31T23:59:59.999999Z","day":null,'
        '"st":{"x":-1,"b":"ü"},"arr":null,"m":null,"f64":5e-324}\n')
    duck_cfg = both_configs(env, [
        env.table_entry("c", "c/*.csv", "csv", csv_options={"header": True, "columns": CSV_COLUMNS}),
        env.table_entry("j", "j/*.json", "json",
                        json_options={"format": "lines", "columns": JSON_COLUMNS})])
    run_engines(env, duck_cfg)
    assert_both_engines_wrote(env, spark41, "c", pa.Table.from_pylist(CSV_EXPECTED), CSV_TYPES)
    utc = pa.timestamp("us", tz="UTC")
    json_expected = pa.Table.from_pylist([
        {"id": 1, "d38": Decimal("-" + str(D38)), "ts": dt.datetime(1, 1, 1, tzinfo=UTC),
         "day": dt.date(1, 1, 1), "st": None, "arr": [None, 1], "m": [("k", None)], "f64": -0.0},
        {"id": 2, "d38": Decimal("1234567890123456789012345678.0123456789"),
         "ts": dt.datetime(2024, 3, 9, 21, 0, tzinfo=UTC), "day": dt.date(9999, 12, 31),
         "st": {"x": None, "b": None}, "arr": [], "m": [], "f64": 1e308},
        {"id": 3, "d38": Decimal("0.0000000001"),
         "ts": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "day": None,
         "st": {"x": -1, "b": "ü"}, "arr": None, "m": None, "f64": 5e-324},
    ], schema=pa.schema([("id", pa.int64()), ("d38", pa.decimal128(38, 10)), ("ts", utc),
                         ("day", pa.date32()),
                         ("st", pa.struct([("x", pa.int32()), ("b", pa.string())])),
                         ("arr", pa.list_(pa.int64())), ("m", pa.map_(pa.string(), pa.int64())),
                         ("f64", pa.float64())]))
    assert_both_engines_wrote(env, spark41, "j", json_expected, JSON_TYPES)


# --- schema evolution: a new nested field, widened types ------------------------------------


def test_a_new_nested_field_and_widened_types_arrive_alike(env: LoaderEnv, spark41):
    narrow = pa.schema([("id", pa.int32()), ("st", pa.struct([("a", pa.int32())])),
                        ("f", pa.float32()), ("d", pa.decimal128(9, 2))])
    wide = pa.schema([("id", pa.int64()), ("st", pa.struct([("a", pa.int32()), ("c", pa.string())])),
                      ("f", pa.float64()), ("d", pa.decimal128(18, 4))])
    first = [{"id": 1, "st": {"a": 1}, "f": 1.5, "d": Decimal("1234567.89")},
             {"id": 2, "st": None, "f": None, "d": Decimal("-0.01")}]
    second = [{"id": 2**40, "st": {"a": None, "c": "new"}, "f": 0.1,
               "d": Decimal("12345678901234.5678")},
              {"id": 3, "st": None, "f": float("nan"), "d": Decimal("-99999999999999.9999")}]
    pq.write_table(pa.Table.from_pylist(first, schema=narrow), env.raw / "a.parquet")
    duck_cfg = both_configs(env, [env.table_entry(
        "t", "*.parquet", "parquet", schema_evolution_mode="add_new_columns",
        max_files_per_batch=1, table_properties={"delta.enableTypeWidening": True})])
    run_engines(env, duck_cfg)
    pq.write_table(pa.Table.from_pylist(second, schema=wide), env.raw / "b.parquet")
    run_engines(env, duck_cfg)
    types = {"id": "long", "f": "double", "d": "decimal(18,4)", "st": {"type": "struct", "fields": [
        {"name": "a", "type": "integer", "nullable": True, "metadata": {}},
        {"name": "c", "type": "string", "nullable": True, "metadata": {}}]}}
    expected = [dict(r, st=r["st"] and dict(r["st"], c=None)) for r in first] + second
    # The float 1.5 widens exactly; the decimals keep their digits at the new scale.
    assert_both_engines_wrote(env, spark41, "t", pa.Table.from_pylist(expected, schema=wide),
                              types)


# --- json numbers into decimal columns: exact, or a named failure -----------------------------


def test_json_numbers_in_decimal_columns_arrive_exactly(env: LoaderEnv, spark41):
    # DuckDB's json reader parses numbers into doubles, and the DuckDB engine cast the double:
    # 1234567.89 arrived in a DECIMAL(38,10) column as 1234567.8899999998 (Spark: 1234567.89).
    cols = {"id": "BIGINT", "d": "DECIMAL(38,10)", "n": "NUMERIC(18,2)"}
    write_jsonl(env.raw / "j" / "a.json", [
        {"id": 1, "d": 1234567.89, "n": 1234567.89},
        {"id": 2, "d": 123456789012.345, "n": -0.01},
        {"id": 3, "d": 0.1, "n": 100},
        {"id": 4, "d": "1234567890123456789012345678.0123456789", "n": "1234567890123456.78"},
        {"id": 5, "d": None, "n": 9007199254740993}])
    # 17 significant digits: a double cannot tell 1234567890123456.78 from ...456.8.
    bad = write_csv(env.raw / "k" / "a.json", '{"id":1,"d":1.0,"n":1234567890123456.78}\n')
    duck_cfg = both_configs(env, [
        env.table_entry(name, f"{name}/*.json", "json",
                        json_options={"format": "lines", "columns": cols})
        for name in ("j", "k")], retry_attempts=0)
    run_engines_apart = (env.run("run", timeout=300), env.run("run", config=duck_cfg))
    assert [r.rc for r in run_engines_apart] == [0, 1], "\n".join(map(str, run_engines_apart))
    expected = pa.Table.from_pylist([
        {"id": 1, "d": Decimal("1234567.89"), "n": Decimal("1234567.89")},
        {"id": 2, "d": Decimal("123456789012.345"), "n": Decimal("-0.01")},
        {"id": 3, "d": Decimal("0.1"), "n": Decimal("100")},
        {"id": 4, "d": Decimal("1234567890123456789012345678.0123456789"),
         "n": Decimal("1234567890123456.78")},
        {"id": 5, "d": None, "n": Decimal("9007199254740993")}],
        schema=pa.schema([("id", pa.int64()), ("d", pa.decimal128(38, 10)),
                          ("n", pa.decimal128(18, 2))]))
    types = {"id": "long", "d": "decimal(38,10)", "n": "decimal(18,2)"}
    assert_both_engines_wrote(env, spark41, "j", expected, types)
    loaded = env.tracker_for("k")  # Spark reads the digits
    assert loaded[str(bad)]["status"] == "completed", loaded
    assert [str(r["n"]) for r in env.read("k").to_pylist()] == ["1234567890123456.78"]
    duck = LoaderEnv(env.bin, env.root)
    duck.processed = env.root / "duck" / "processed"
    record = duck.tracker_for("k")[str(bad)]
    assert record["status"] == "failed", record
    assert "decimal column n" in record["error_message"] and str(bad) in \
        record["error_message"], record
