"""Source options on the Spark engine: explicit csv/json `columns`, `json_options.format: auto`
and `schema_evolution_mode` none / rescue. Each loads the same table as the DuckDB engine
from the same files (compared row for row), and a rerun loads nothing."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from e2e_lib import LoaderEnv, read_delta, write_csv, write_jsonl, write_parquet
from test_e2e_spark_append import rows, spark_remote, write_configs  # noqa: F401


def duck_table(env: LoaderEnv, name: str = "t") -> pa.Table:
    return read_delta(env.root / "duck" / "processed" / env.DB / name)


def run_both(env: LoaderEnv, duck_cfg: Path, expect: int = 0):
    """One run on each engine: same exit code, equal tables with the same column types (a csv
    integer Spark infers as int is bigint, as DuckDB infers it)."""
    spark_run = env.run("run")
    assert spark_run.rc == expect, str(spark_run)
    duck_run = env.run("run", config=duck_cfg)
    assert duck_run.rc == expect, str(duck_run)
    spark, duck = env.read("t"), duck_table(env)
    assert sorted(spark.column_names) == sorted(duck.column_names)
    assert sorted(zip(spark.column_names, map(str, spark.schema.types))) == \
        sorted(zip(duck.column_names, map(str, duck.schema.types)))
    assert rows(spark) == rows(duck)
    return spark_run, duck_run


def rerun_loads_nothing(env: LoaderEnv, duck_cfg: Path):
    version = env.version("t")
    run_both(env, duck_cfg)
    assert env.version("t") == version


CSV_COLUMNS = {"id": "INTEGER", "amount": "DECIMAL(10,2)", "seen": "TIMESTAMP", "day": "DATE",
               "name": "VARCHAR"}


def test_explicit_csv_columns_like_duckdb(env: LoaderEnv):
    # Columns are taken by position whatever the header says, as DuckDB does.
    write_csv(env.raw / "a.csv", "id,amount,seen,day,name\n1,2.50,2024-01-02 03:04:05,2024-01-02,x\n"
                                 "2,,2024-01-03 00:00:00.123,,\"y, z\"\n")
    write_csv(env.raw / "b.csv", "ID,AMT,SEEN,DAY,NAME\n3,100,2024-02-01 10:00:00,2024-02-01,w\n")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", csv_options={"columns": CSV_COLUMNS}))
    run_both(env, duck_cfg)
    t = env.read("t")
    assert dict(zip(t.column_names, map(str, t.schema.types)))["amount"] == "decimal128(10, 2)"
    assert sorted(r["amount"] for r in t.to_pylist() if r["amount"] is not None) == \
        [Decimal("2.50"), Decimal("100.00")]
    write_csv(env.raw / "c.csv", "id,amount,seen,day,name\n4,1.25,2024-03-01 00:00:00,2024-03-01,v\n")
    run_both(env, duck_cfg)
    assert env.read("t").num_rows == 4
    rerun_loads_nothing(env, duck_cfg)


def test_explicit_csv_columns_a_file_that_does_not_fit_fails_by_name_like_duckdb(env: LoaderEnv):
    # Another number of columns, or a value of another type: the file fails by name on both
    # engines (Spark reads with mode FAILFAST), the others load.
    good = write_csv(env.raw / "a.csv", "id,name\n1,x\n")
    wide = write_csv(env.raw / "b.csv", "id,name,extra\n2,y,q\n")
    narrow = write_csv(env.raw / "c.csv", "id\n3\n")
    text = write_csv(env.raw / "d.csv", "id,name\nabc,z\n")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", max_files_per_batch=4,
        csv_options={"columns": {"id": "INTEGER", "name": "VARCHAR"}}), retry_attempts=0)
    run_both(env, duck_cfg, expect=1)
    tracked = env.tracker_for("t")
    assert tracked[str(good)]["status"] == "completed", tracked
    for bad in (wide, narrow, text):
        assert tracked[str(bad)]["status"] == "failed", tracked
        assert str(bad) in tracked[str(bad)]["error_message"], tracked[str(bad)]
    assert [(x["id"], x["name"]) for x in env.read("t").to_pylist()] == [(1, "x")]


def test_explicit_json_columns_like_duckdb(env: LoaderEnv):
    # Keys by name: a missing key is NULL, an extra key is ignored, keys match exactly.
    write_jsonl(env.raw / "a.json", [{"id": 1, "v": "x", "extra": 5}, {"id": 2}])
    write_jsonl(env.raw / "b.json", [{"ID": 3, "v": "y"}, {"id": 4, "v": None, "when": "2024-01-02"}])
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.json", "json", json_options={"format": "lines", "columns": {
            "id": "BIGINT", "v": "VARCHAR", "when": "DATE"}}))
    run_both(env, duck_cfg)
    assert sorted(env.read("t").column_names) == ["_batch_id", "_load_timestamp", "_source_file",
                                                  "id", "v", "when"]
    rerun_loads_nothing(env, duck_cfg)


def test_json_format_auto_lines_and_arrays_in_one_batch_like_duckdb(env: LoaderEnv):
    write_jsonl(env.raw / "a.json", [{"id": 1, "v": "x"}, {"id": 2, "v": "y"}])
    (env.raw / "b.json").write_text(' \n[{"id": 3, "w": "q"},\n {"id": 4, "v": "z"}]\n')
    (env.raw / "c.json").write_text('\t[{"id": 5}]')
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.json", "json",
                                                     json_options={"format": "auto"}))
    run_both(env, duck_cfg)
    assert env.read("t").num_rows == 5
    (env.raw / "d.json").write_text('[{"id": 6, "v": "n"}]')
    run_both(env, duck_cfg)
    rerun_loads_nothing(env, duck_cfg)


def test_json_format_auto_a_file_spark_cannot_infer_is_isolated(env: LoaderEnv):
    # Pretty-printed objects (DuckDB's 'unstructured') fail Spark's schema inference, whose
    # error names no file: the batch is split until the file is alone, and the halves that
    # load each take their own txn version (none is deferred to the next run).
    good = write_jsonl(env.raw / "a.json", [{"id": 1}])
    pretty = env.raw / "b.json"
    pretty.write_text('{\n  "id": 2\n}\n')
    array = env.raw / "c.json"
    array.write_text('[{"id": 3}]')
    env.write_config([env.table_entry("t", "*.json", "json", engine="spark",
                                      max_files_per_batch=3, json_options={"format": "auto"})],
                     retry_attempts=0)
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert "deferred" not in r.stdout, str(r)
    tracked = env.tracker_for("t")
    assert {p: t["status"] for p, t in tracked.items()} == {
        str(good): "completed", str(pretty): "failed", str(array): "completed"}, tracked
    assert sorted(x["id"] for x in env.read("t").to_pylist()) == [1, 3]


def test_json_format_auto_with_explicit_columns_like_duckdb(env: LoaderEnv):
    write_jsonl(env.raw / "a.json", [{"id": 1, "v": "x"}])
    (env.raw / "b.json").write_text('[{"id": 2, "v": "y", "w": 1}]')
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.json", "json", json_options={"format": "auto",
                                             "columns": {"id": "INTEGER", "v": "VARCHAR"}}))
    run_both(env, duck_cfg)
    rerun_loads_nothing(env, duck_cfg)


def test_schema_evolution_none_ignores_new_columns_like_duckdb(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,name\n1,x\n")
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.csv", "csv",
                                                     schema_evolution_mode="none"))
    run_both(env, duck_cfg)
    # New columns (and one spelled in another case) arrive: the table keeps its columns.
    write_csv(env.raw / "b.csv", "ID,extra,name\n2,q,y\n")
    run_both(env, duck_cfg)
    assert sorted(env.read("t").column_names) == ["_batch_id", "_load_timestamp", "_source_file",
                                                  "id", "name"]
    assert sorted((r["id"], r["name"]) for r in env.read("t").to_pylist()) == [(1, "x"), (2, "y")]
    rerun_loads_nothing(env, duck_cfg)


@pytest.mark.parametrize("mode", ["none", "rescue"])
def test_schema_evolution_none_and_rescue_merge_like_duckdb(env: LoaderEnv, mode: str):
    write_csv(env.raw / "a.csv", "id,v\n1,x\n2,y\n")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", loading_strategy="merge", primary_keys=["id"],
        schema_evolution_mode=mode))
    run_both(env, duck_cfg)
    write_csv(env.raw / "b.csv", "id,v,extra\n2,z,q\n3,w,\n")
    run_both(env, duck_cfg)
    got = sorted((r["id"], r["v"], r.get("_rescued_data")) for r in env.read("t").to_pylist())
    rescued = {"none": [None, None, None], "rescue": [None, '{"extra":"q"}', None]}[mode]
    assert got == [(1, "x", rescued[0]), (2, "z", rescued[1]), (3, "w", rescued[2])]


def test_schema_evolution_rescue_like_duckdb_byte_for_byte(env: LoaderEnv):
    write_parquet(env.raw / "a.parquet", {"id": [1, 2]})
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.parquet", "parquet",
                                                     schema_evolution_mode="rescue"))
    run_both(env, duck_cfg)
    assert [r["_rescued_data"] for r in env.read("t").to_pylist()] == [None, None]
    # Columns the table lacks, of many types, NULLs among them; a row where all are NULL
    # rescues nothing.
    utc = dt.timezone.utc
    write_parquet(env.raw / "b.parquet", {
        "id": [3, 4, 5],
        "s": ['q"uo\\te/é\n', None, None],
        "n": [7, None, None],
        "big": [123456789012, -1, None],
        "f": [1.5, 0.1, None],
        "b": [True, False, None],
        "dec": pa.array([Decimal("2.50"), Decimal("-100.00"), None], pa.decimal128(10, 2)),
        "day": [dt.date(2024, 1, 2), None, None],
        "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=utc),
                        dt.datetime(2024, 1, 2, 0, 0, tzinfo=utc), None],
                       pa.timestamp("us", tz="UTC")),
        "ntz": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None, None], pa.timestamp("us")),
    })
    run_both(env, duck_cfg)
    got = {r["id"]: r["_rescued_data"] for r in env.read("t").to_pylist()}
    assert got[5] is None
    assert json.loads(got[3])["s"] == 'q"uo\\te/é\n' and json.loads(got[3])["dec"] == 2.5
    rerun_loads_nothing(env, duck_cfg)


@pytest.mark.parametrize("strategy", ["append", "merge", "scd2"])
def test_csv_tables_switch_engines_with_their_types(env: LoaderEnv, strategy: str):
    """A csv table one engine created takes the other's batches, both ways, with one type per
    column: Spark infers a csv integer as int, which Delta refuses to append to DuckDB's bigint
    column (DELTA_FAILED_TO_MERGE_FIELDS) and which DuckDB would widen a Spark table to; now
    Spark's batch meets the table's type, and a table Spark creates has DuckDB's bigint. A
    timestamp without an offset is naive (timestamp_ntz) on both. No type change is
    recorded."""
    extra = {"append": {},
             "merge": {"loading_strategy": "merge", "primary_keys": ["id"]},
             "scd2": {"loading_strategy": "scd2", "primary_keys": ["id"]}}[strategy]
    for name, first, second in (("d", "duckdb", "spark"), ("s", "spark", "duckdb")):
        entry = env.table_entry(name, f"{name}/*.csv", "csv", **extra)
        write_csv(env.raw / name / "a.csv",
                  "id,n,v,t\n1,10,x,2024-01-02 03:04:05\n2,20,y,2024-01-03 00:00:00\n")
        env.write_config([dict(entry, engine=first)])
        r = env.run("run")
        assert r.rc == 0, str(r)
        write_csv(env.raw / name / "b.csv",
                  "id,n,v,t\n2,21,z,2024-01-04 05:06:07\n3,30,w,2024-01-05 00:00:00\n")
        env.write_config([dict(entry, engine=second)])
        r = env.run("run")
        assert r.rc == 0, str(r)
        t = env.read(name)
        types = dict(zip(t.column_names, map(str, t.schema.types)))
        assert types["id"] == types["n"] == "int64", (name, types)
        assert types["t"] == "timestamp[us]", (name, types)
        log = (env.table_path(name) / "_delta_log")
        assert "delta.typeChanges" not in "".join(p.read_text() for p in log.glob("*.json"))
        ids = sorted(r["id"] for r in t.to_pylist())
        assert ids == {"append": [1, 2, 2, 3], "merge": [1, 2, 3], "scd2": [1, 2, 2, 3]}[strategy]


def test_json_dates_and_timestamps_in_a_duckdb_table_take_spark_batches(env: LoaderEnv):
    """DuckDB infers json date and naive timestamp text as date and timestamp_ntz; Spark
    keeps it as strings (docs/spark_engine.md), which Delta refused to append to DuckDB's
    columns (DELTA_FAILED_TO_MERGE_FIELDS). Spark's batch is cast to the table's types."""
    entry = env.table_entry("t", "*.json", "json")
    write_jsonl(env.raw / "a.json", [{"id": 1, "d": "2024-03-10", "ts": "2024-03-10 01:30:00"}])
    env.write_config([dict(entry, engine="duckdb")])
    assert env.run("run").rc == 0
    write_jsonl(env.raw / "b.json", [{"id": 2, "d": "2024-03-11", "ts": "2024-03-11 02:30:00"}])
    env.write_config([dict(entry, engine="spark")])
    r = env.run("run")
    assert r.rc == 0, str(r)
    t = env.read("t")
    types = dict(zip(t.column_names, map(str, t.schema.types)))
    assert (types["d"], types["ts"]) == ("date32[day]", "timestamp[us]"), types
    got = sorted((r["id"], r["d"], r["ts"]) for r in t.to_pylist())
    assert got == [(1, dt.date(2024, 3, 10), dt.datetime(2024, 3, 10, 1, 30)),
                   (2, dt.date(2024, 3, 11), dt.datetime(2024, 3, 11, 2, 30))], got
    # Text that is no date fails its own file, by name; the other file of the batch loads.
    bad = write_jsonl(env.raw / "c.json", [{"id": 3, "d": "soon", "ts": "2024-03-12 00:00:00"}])
    write_jsonl(env.raw / "d.json", [{"id": 4, "d": "2024-03-13", "ts": "2024-03-13 00:00:00"}])
    r = env.run("run")
    assert r.rc == 1 and str(bad) in r.out, str(r)
    assert sorted(r["id"] for r in env.read("t").to_pylist()) == [1, 2, 4]
