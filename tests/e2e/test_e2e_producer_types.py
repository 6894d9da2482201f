"""Data shapes real producers emit, loaded by both engines and read back by delta-rs, DuckDB's
delta_scan and Spark 4.1 (a data engineer's side-by-side test, as test_e2e_spark_type_parity.py):
parquet as pandas writes it by default (unsigned integers above the signed maximum, category
columns as dictionary-encoded strings, large_string, date32, time64, timestamp[ns] with and
without a zone, Timestamp.max as an open end), by append, merge and a new column in a later
file of the same batch; json numbers going into a decimal column (one a parquet file made, and
decimals inside struct, list and map columns); and map columns whose keys come in another order
in SCD2's change detection."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from e2e_lib import LoaderEnv, assert_file_failed
from test_e2e_spark_append import spark_remote  # noqa: F401  (SPARK_REMOTE: the test server)
from test_e2e_spark_type_parity import assert_both_engines_wrote, both_configs, delta_schema

UTC = dt.timezone.utc
U64_MAX = 2**64 - 1


def duck_env(env: LoaderEnv) -> LoaderEnv:
    """The DuckDB engine's side of both_configs (its own processed dir)."""
    duck = LoaderEnv(env.bin, env.root)
    duck.processed = env.root / "duck" / "processed"
    duck.config_path = env.root / "duck.yaml"
    return duck


def run_both(env: LoaderEnv, duck_cfg: Path):
    return env.run("run", timeout=300), env.run("run", config=duck_cfg)


def versions_of(path: Path) -> list[tuple]:
    return sorted((r["id"], r["seq"], r["is_current"])
                  for r in DeltaTable(str(path)).to_pyarrow_table().to_pylist())


# --- pandas' parquet: unsigned integers, categories, large strings, dates -------------------

def pandas_frame(ids: list[int], **extra) -> pd.DataFrame:
    n = len(ids)
    df = pd.DataFrame({
        "id": np.array(ids, dtype="int64"),
        "u8": np.array([255, 0, 7][:n], dtype="uint8"),
        "u16": np.array([65535, 0, 7][:n], dtype="uint16"),
        "u32": np.array([2**32 - 1, 0, 7][:n], dtype="uint32"),
        "u64": np.array([U64_MAX, 2**63, 7][:n], dtype="uint64"),
        "cat": pd.Categorical(["a", "b", "a"][:n]),
        "s": pd.array(["x", None, "ü"][:n], dtype="str"),
        "day": [dt.date(2024, 2, 29), dt.date(1, 1, 1), None][:n],
    })
    for k, v in extra.items():
        df[k] = v
    return df


PANDAS_TYPES = {"id": "long", "u8": "short", "u16": "integer", "u32": "long",
                "u64": "decimal(20,0)", "cat": "string", "s": "string", "day": "date"}


def expected_rows(df: pd.DataFrame) -> list[dict]:
    out = []
    for r in df.to_dict("records"):
        r = {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
             for k, v in r.items()}
        out.append({k: (Decimal(int(v)) if k in ("u64", "new_u64") and v is not None
                        else int(v) if isinstance(v, np.integer) else v) for k, v in r.items()})
    return out



NESTED_COLUMNS = {"id": "BIGINT", "st": "STRUCT(d DECIMAL(20,2), s VARCHAR)",
                  "arr": "DECIMAL(38,10)[]", "m": "MAP(VARCHAR, DECIMAL(18,4))",
                  "e": "STRUCT(d NUMERIC(5,1))[]"}
D18 = pa.schema([("id", pa.int64()), ("d", pa.decimal128(18, 4))])
MAPS = pa.schema([("id", pa.int64()), ("m", pa.map_(pa.string(), pa.int64())), ("seq", pa.int64())])


def write_round_one(env: LoaderEnv) -> dict[str, pd.DataFrame]:
    frames = {"first": pandas_frame([1, 2, 3])}
    (env.raw / "p").mkdir()
    frames["first"].to_parquet(env.raw / "p" / "a.parquet")  # pandas' defaults (pyarrow)
    (env.raw / "d").mkdir()
    pq.write_table(pa.Table.from_pylist([{"id": 1, "d": Decimal("12345678901234.5678")}],
                                        schema=D18), env.raw / "d" / "a.parquet")
    (env.raw / "j").mkdir()
    (env.raw / "j" / "a.json").write_text(
        '{"id":1,"st":{"d":1234567.89,"s":"x"},"arr":[1234567.89,1234567890.12345,null,'
        '"12345678901234567.5"],"m":{"k":0.1,"n":null,"s":"1e2"},"e":[{"d":0.3}]}\n'
        '{"id":2,"st":null,"arr":null,"m":null,"e":null}\n'
        '{"id":3,"st":{"d":null},"arr":[],"m":{},"e":[null,{"d":"7"}]}\n')
    (env.raw / "k").mkdir()  # 18 significant digits: a double cannot keep them
    (env.raw / "k" / "a.json").write_text('{"id":4,"st":{"d":1234567890123456.78}}\n')
    (env.raw / "s").mkdir()
    pq.write_table(pa.Table.from_pylist(
        [{"id": 1, "m": [("a", 1), ("b", 2)], "seq": 1},
         {"id": 2, "m": [("a", 1), ("b", 2)], "seq": 1},
         {"id": 3, "m": [("a", 1)], "seq": 1}], schema=MAPS), env.raw / "s" / "a.parquet")
    return frames


def write_round_two(env: LoaderEnv, frames: dict[str, pd.DataFrame]) -> None:
    # One batch of two files, only the second with a new uint64 column: Spark took the
    # batch's columns from one file's footer and dropped new_u64 without a word.
    second = pandas_frame([4, 5])
    second["u64"] = np.array([5, 2**63], dtype="uint64")  # a new merge key; row 2's key
    third = pandas_frame([6], new_u64=np.array([U64_MAX], dtype="uint64"))  # row 1's key
    second.to_parquet(env.raw / "p" / "b.parquet")
    third.to_parquet(env.raw / "p" / "c.parquet")
    frames.update(second=second, third=third)
    (env.raw / "d" / "b.json").write_text('{"id":2,"d":12345678901234.5678}\n{"id":3,"d":0.1}\n')
    pq.write_table(pa.Table.from_pylist(
        [{"id": 1, "m": [("b", 2), ("a", 1)], "seq": 2},   # the same entries, reordered
         {"id": 2, "m": [("a", 1), ("b", 3)], "seq": 2},   # a value changed
         {"id": 3, "m": [("a", 1)], "seq": 2}],            # unchanged
        schema=MAPS), env.raw / "s" / "b.parquet")


def entries(env: LoaderEnv, decimal_format: str) -> list[dict]:
    d = (env.table_entry("d", "d/*.parquet", "parquet") if decimal_format == "parquet" else
         env.table_entry("d", "d/*.json", "json", json_options={"format": "lines"}))
    return [
        *(env.table_entry(name, "p/*.parquet", "parquet", loading_strategy=strategy,
                          primary_keys=["u64"], schema_evolution_mode="add_new_columns")
          for name, strategy in (("a", "append"), ("m", "merge"))),
        d,
        *(env.table_entry(name, f"{name}/*.json", "json",
                          json_options={"format": "lines", "columns": NESTED_COLUMNS})
          for name in ("j", "k")),
        env.table_entry("s", "s/*.parquet", "parquet", loading_strategy="scd2",
                        primary_keys=["id"], sequence_column="seq", tracking_columns=["m"]),
    ]


@pytest.fixture(scope="module")
def loaded(dl_bin, spark_connect, tmp_path_factory):
    """Both rounds of the shared tables on both engines (a run loads every table, so two
    rounds cost two runs an engine): the env, the pandas frames and each round's runs."""
    env = LoaderEnv(dl_bin, tmp_path_factory.mktemp("producer"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPARK_REMOTE", spark_connect.remote)
        frames = write_round_one(env)
        duck_cfg = both_configs(env, entries(env, "parquet"), retry_attempts=0, max_parallel_jobs=3)
        first = run_both(env, duck_cfg)
        write_round_two(env, frames)
        duck_cfg = both_configs(env, entries(env, "json"), retry_attempts=0, max_parallel_jobs=3)
        second = run_both(env, duck_cfg)
    return env, frames, first, second


# --- pandas' parquet: append, merge on a uint64 key, a new column in a later file ----------

def test_pandas_parquet_defaults_append_merge_and_a_new_column_alike(loaded, spark41):
    env, frames, _, _ = loaded
    written = pq.read_schema(env.raw / "p" / "a.parquet")
    assert str(written.field("u64").type) == "uint64" and pa.types.is_dictionary(
        written.field("cat").type) and pa.types.is_large_string(written.field("s").type), written
    types = dict(PANDAS_TYPES, new_u64="decimal(20,0)")
    schema = pa.schema([("id", pa.int64()), ("u8", pa.int16()), ("u16", pa.int32()),
                        ("u32", pa.int64()), ("u64", pa.decimal128(20, 0)), ("cat", pa.string()),
                        ("s", pa.string()), ("day", pa.date32()),
                        ("new_u64", pa.decimal128(20, 0))])
    appended = [dict(r, new_u64=None)
                for r in expected_rows(frames["first"]) + expected_rows(frames["second"])]
    appended += expected_rows(frames["third"])
    assert_both_engines_wrote(env, spark41, "a", pa.Table.from_pylist(appended, schema=schema),
                              types)
    # The merge on the uint64 key (2**64-1 and 2**63 are above the signed maximum): one row
    # each, the newest.
    by_key = {}
    for r in appended:
        by_key[r["u64"]] = r
    assert_both_engines_wrote(env, spark41, "m",
                              pa.Table.from_pylist(list(by_key.values()), schema=schema), types)


# --- json numbers into decimal columns ------------------------------------------------------

def test_json_numbers_into_a_decimal_column_a_parquet_file_made(loaded, spark41):
    # Without explicit columns json numbers are doubles: neither engine puts them into the
    # decimal(18,4) column (a double is no exact decimal); the file fails by name, nothing is
    # written and the table keeps its type.
    env, _, _, (spark_run, duck_run) = loaded
    bad = env.raw / "d" / "b.json"
    assert_file_failed(env, spark_run, "d", bad, r"'d'.*json numbers as doubles.*json_options")
    assert_file_failed(duck_env(env), duck_run, "d", bad, r"column d .*decimal\(18,4\)")
    assert_both_engines_wrote(env, spark41, "d", pa.Table.from_pylist(
        [{"id": 1, "d": Decimal("12345678901234.5678")}], schema=D18),
        {"id": "long", "d": "decimal(18,4)"})


def test_json_decimals_inside_structs_lists_and_maps_arrive_exactly(loaded, spark41):
    # DuckDB's json reader gave the nested decimals from doubles: 1234567.89 arrived as
    # 1234567.8899999998, and 17 digits of a json number as other digits. Now each comes
    # from its text, as scalar decimal columns do; more than 15 digits fail naming the file
    # and the field (Spark reads them exactly).
    env, _, (spark_run, duck_run), _ = loaded
    schema = pa.schema([
        ("id", pa.int64()), ("st", pa.struct([("d", pa.decimal128(20, 2)), ("s", pa.string())])),
        ("arr", pa.list_(pa.decimal128(38, 10))), ("m", pa.map_(pa.string(), pa.decimal128(18, 4))),
        ("e", pa.list_(pa.struct([("d", pa.decimal128(5, 1))])))])
    expected = pa.Table.from_pylist([
        {"id": 1, "st": {"d": Decimal("1234567.89"), "s": "x"},
         "arr": [Decimal("1234567.89"), Decimal("1234567890.12345"), None,
                 Decimal("12345678901234567.5")],
         "m": [("k", Decimal("0.1")), ("n", None), ("s", Decimal("100"))],
         "e": [{"d": Decimal("0.3")}]},
        {"id": 2, "st": None, "arr": None, "m": None, "e": None},
        {"id": 3, "st": {"d": None, "s": None}, "arr": [], "m": [],
         "e": [None, {"d": Decimal("7")}]},
    ], schema=schema)
    types = {
        "id": "long", "st": {"type": "struct", "fields": [
            {"name": "d", "type": "decimal(20,2)", "nullable": True, "metadata": {}},
            {"name": "s", "type": "string", "nullable": True, "metadata": {}}]},
        "arr": {"type": "array", "elementType": "decimal(38,10)", "containsNull": True},
        "m": {"type": "map", "keyType": "string", "valueType": "decimal(18,4)",
              "valueContainsNull": True},
        "e": {"type": "array", "elementType": {"type": "struct", "fields": [
            {"name": "d", "type": "decimal(5,1)", "nullable": True, "metadata": {}}]},
            "containsNull": True}}
    assert_both_engines_wrote(env, spark41, "j", expected, types)
    assert [str(r["st"]["d"]) for r in env.read("k").to_pylist()] == ["1234567890123456.78"]
    assert_file_failed(duck_env(env), duck_run, "k", env.raw / "k" / "a.json",
                       r"1234567890123456\.8 of decimal column st\.d in .*engine: spark")


# --- SCD2: a map whose keys come in another order -------------------------------------------

def test_scd2_map_with_keys_reordered_is_judged_alike(loaded):
    # Both engines compare a map's entries in order: the reordered map is a new version on
    # both (the versions are the same, whichever engine judged).
    env, _, _, _ = loaded
    expected = [(1, 1, False), (1, 2, True), (2, 1, False), (2, 2, True), (3, 1, True)]
    assert versions_of(env.table_path("s")) == versions_of(duck_env(env).table_path("s")) == \
        expected


def test_the_runs_failed_only_the_files_they_should(loaded):
    env, _, first, second = loaded
    # Round one: k (18 digits) on DuckDB; round two: d's json file on both.
    assert [r.rc for r in first] == [0, 1], "\n".join(map(str, first))
    assert [r.rc for r in second] == [1, 1], "\n".join(map(str, second))
    failed = {t: p for (t, p), r in env.tracker().items() if r["status"] != "completed"}
    assert failed == {"e2e.d": str(env.raw / "d" / "b.json")}, failed
    failed = {t: p for (t, p), r in duck_env(env).tracker().items() if r["status"] != "completed"}
    assert failed == {"e2e.d": str(env.raw / "d" / "b.json"),
                      "e2e.k": str(env.raw / "k" / "a.json")}, failed


# --- pandas' timestamps: nanoseconds (with and without a zone), Timestamp.max, time64 -------

NS = [pd.Timestamp("2024-01-01 00:00:00.123456789"), pd.Timestamp("1970-01-01 00:00:00.000000999"),
      pd.Timestamp.max, pd.Timestamp.min]


def nanosecond_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4],
        "ts": pd.Series(NS, dtype="datetime64[ns]"),
        "tz": pd.Series(NS[:2] + [pd.Timestamp("2024-06-30 23:59:59.999999999"), None],
                        dtype="datetime64[ns]").dt.tz_localize("Europe/Berlin"),
    })


def test_nanosecond_timestamps_and_time_columns(env: LoaderEnv, spark41):
    ns = env.raw / "ns.parquet"
    nanosecond_frame().to_parquet(ns)
    assert pq.read_schema(ns).field("ts").type == pa.timestamp("ns"), pq.read_schema(ns)
    times = env.raw / "time.parquet"
    pd.DataFrame({"id": [5], "t": [dt.time(1, 2, 3, 456789)]}).to_parquet(times)
    assert pq.read_schema(times).field("t").type == pa.time64("us")
    micros = env.raw / "us.parquet"
    pq.write_table(pa.table({"id": [6], "ts": pa.array([dt.datetime(2024, 1, 2)],
                                                       pa.timestamp("us"))}), micros)
    duck_cfg = both_configs(env, [env.table_entry(
        "t", "*.parquet", "parquet", schema_evolution_mode="add_new_columns")], retry_attempts=0)
    spark_run, duck_run = run_both(env, duck_cfg)
    assert (spark_run.rc, duck_run.rc) == (1, 0), f"{spark_run}\n{duck_run}"
    # DuckDB: microseconds, truncated as pyarrow truncates; Timestamp.max and .min keep their
    # value (they were DuckDB's infinity, written as year 294247); the zone's instants in UTC;
    # a TIME as its text.
    ts = [dt.datetime(2024, 1, 1, 0, 0, 0, 123456), dt.datetime(1970, 1, 1),
          dt.datetime(2262, 4, 11, 23, 47, 16, 854775), dt.datetime(1677, 9, 21, 0, 12, 43, 145225)]
    # Truncated toward zero, as pyarrow's coerce_timestamps truncates: an instant before 1970
    # (...59.999999001 in UTC) becomes the next microsecond.
    tz = [dt.datetime(2023, 12, 31, 23, 0, 0, 123456, tzinfo=UTC),
          dt.datetime(1969, 12, 31, 23, 0, 0, 1, tzinfo=UTC),
          dt.datetime(2024, 6, 30, 21, 59, 59, 999999, tzinfo=UTC), None]
    duck_rows = sorted(DeltaTable(str(duck_env(env).table_path("t"))).to_pyarrow_table(
        columns=["id", "ts", "tz", "t"]).to_pylist(), key=lambda r: r["id"])
    assert duck_rows == [{"id": i + 1, "ts": ts[i], "tz": tz[i], "t": None} for i in range(4)] + [
        {"id": 5, "ts": None, "tz": None, "t": "01:02:03.456789"},
        {"id": 6, "ts": dt.datetime(2024, 1, 2), "tz": None, "t": None}], duck_rows
    assert delta_schema(duck_env(env).table_path("t"))["ts"] == "timestamp_ntz"
    # Spark reads DuckDB's table: every type, and the years 2262 and 1677 too.
    by_spark = spark41.read(duck_env(env).table_path("t"))[0].select(["id", "ts", "tz", "t"])
    assert sorted(by_spark.to_pylist(), key=lambda r: r["id"]) == duck_rows
    # Spark reads neither: each file fails by name with what to do, the other file loads.
    assert_file_failed(env, spark_run, "t", ns, r"TIMESTAMP\(NANOS.*coerce_timestamps='us'")
    assert_file_failed(env, spark_run, "t", times, r"TIME.*write it as a string.*engine: duckdb")
    assert [r["id"] for r in env.read("t").to_pylist()] == [6]
    # The remedy: the same frame written with microseconds loads as DuckDB loaded it.
    nanosecond_frame().to_parquet(ns, coerce_timestamps="us", allow_truncated_timestamps=True)
    pd.DataFrame({"id": [5], "t": ["01:02:03.456789"]}).to_parquet(times)
    assert env.run("run", timeout=300).rc == 0
    spark_rows = sorted(env.read("t").select(["id", "ts", "tz", "t"]).to_pylist(),
                        key=lambda r: r["id"])
    assert spark_rows == duck_rows




def test_infinite_dates_and_timestamps_fail_their_file_on_duckdb(env: LoaderEnv):
    # DuckDB reads a zoned datetime64[ns] column's Timestamp.max/min as infinity (its parquet
    # reader, before the loader sees the nanoseconds), and a csv's "infinity" so too; they were
    # written as years 294247 / 5881580. Each such file now fails naming the column and the
    # remedy; the other files load.
    zoned = env.raw / "zoned.parquet"
    pd.DataFrame({"id": [1, 2], "ts": pd.Series([pd.Timestamp.max, pd.Timestamp("2024-01-01")])
                  .dt.tz_localize("UTC")}).to_parquet(zoned)
    fine = env.raw / "fine.parquet"
    pd.DataFrame({"id": [3], "ts": pd.Series([pd.Timestamp("2024-01-02")])
                  .dt.tz_localize("UTC")}).to_parquet(fine)
    text = env.raw / "c" / "open.csv"
    text.parent.mkdir()
    text.write_text("id,day\n1,2024-01-01\n2,infinity\n")
    env.write_config([env.table_entry("t", "*.parquet", "parquet"),
                      env.table_entry("c", "c/*.csv", "csv")], retry_attempts=0)
    r = env.load(expect=1)
    assert_file_failed(env, r, "t", zoned,
                       r"column ts holds infinity, which a Delta table cannot store.*"
                       r"coerce_timestamps='us'")
    assert_file_failed(env, r, "c", text, r"column day holds infinity")
    assert [(x["id"], x["ts"]) for x in env.read("t").to_pylist()] == [
        (3, dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc))]
    # The remedy: the frame written with microseconds keeps Timestamp.max to the microsecond.
    pd.DataFrame({"id": [1, 2], "ts": pd.Series([pd.Timestamp.max, pd.Timestamp("2024-01-01")])
                  .dt.tz_localize("UTC")}).to_parquet(zoned, coerce_timestamps="us",
                                                      allow_truncated_timestamps=True)
    env.load("--tables", f"{env.DB}.t")
    assert sorted(x["ts"] for x in env.read("t").to_pylist())[-1] == dt.datetime(
        2262, 4, 11, 23, 47, 16, 854775, tzinfo=dt.timezone.utc)
