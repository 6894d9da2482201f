"""Cases where the Spark engine loaded other data than the DuckDB engine from the same config and
files (found by a user's side-by-side test): each now loads the same table row for row and type
for type, or fails the same way."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e2e_lib import LoaderEnv, write_csv
from test_e2e_spark_append import spark_remote, write_configs  # noqa: F401
from test_e2e_spark_sources import duck_table, rerun_loads_nothing, run_both


# --- csv quoting: RFC 4180, as DuckDB reads it by default --------------------------------------


def test_csv_doubled_quotes_and_quoted_line_breaks_like_duckdb(env: LoaderEnv):
    # A quote inside a quoted value is doubled; a quoted value may hold line breaks. Spark's
    # defaults (escape `\`, a row per line) loaded `"a""b"` as is and split the second file's
    # row in two (with `id` a string column).
    write_csv(env.raw / "a.csv", 'id,name\n1,"a""b"\n2,"Smith, ""J"""\n3,plain\n')
    write_csv(env.raw / "b.csv", 'id,name,v\n4,"multi\nline",5\n5,x,6\n')
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", csv_options={"header": True}, max_files_per_batch=1))
    run_both(env, duck_cfg)
    t = env.read("t")
    assert dict(zip(t.column_names, map(str, t.schema.types)))["id"] == "int64"
    names = {r["id"]: r["name"] for r in t.to_pylist()}
    assert names == {1: 'a"b', 2: 'Smith, "J"', 3: "plain", 4: "multi\nline", 5: "x"}


def test_csv_configured_quote_and_escape_still_win(env: LoaderEnv):
    # quote `'`: a quote inside is doubled as `''`; escape `\`: `\"` is a quote.
    write_csv(env.raw / "a.csv", "id,name\n1,'a''b'\n2,'x,y'\n3,'l1\nl2'\n")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", csv_options={"header": True, "quote": "'"}))
    run_both(env, duck_cfg)
    assert sorted(r["name"] for r in env.read("t").to_pylist()) == ["a'b", "l1\nl2", "x,y"]

    other = LoaderEnv(env.bin, env.root / "escape")
    write_csv(other.raw / "a.csv", 'id,name\n1,"a\\"b"\n2,"x,y"\n')
    _, duck_cfg = write_configs(other, other.table_entry(
        "t", "*.csv", "csv", csv_options={"header": True, "escape": "\\"}))
    run_both(other, duck_cfg)
    assert sorted(r["name"] for r in other.read("t").to_pylist()) == ['a"b', "x,y"]


def test_csv_explicit_columns_read_quoted_line_breaks_like_duckdb(env: LoaderEnv):
    write_csv(env.raw / "a.csv", 'id,name\n1,"two\nlines ""q"""\n2,x\n')
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", csv_options={"columns": {"id": "INTEGER", "name": "VARCHAR"}}))
    run_both(env, duck_cfg)
    assert sorted(r["name"] for r in env.read("t").to_pylist()) == ['two\nlines "q"', "x"]


def test_csv_file_names_with_glob_characters(env: LoaderEnv):
    # Spark's multiLine inference globs the real names again (matching nothing): with inferred
    # types such a batch is read without multiLine (a warning says so); with explicit columns
    # nothing is inferred and quoted line breaks load as on DuckDB.
    write_csv(env.raw / "a [1].csv", 'id,name\n1,"a""b"\n2,x\n')
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark")])
    r = env.load()
    assert "read without multiLine" in r.out, str(r)
    assert sorted(x["name"] for x in env.read("t").to_pylist()) == ['a"b', "x"]

    other = LoaderEnv(env.bin, env.root / "columns")
    write_csv(other.raw / "b {2}.csv", 'id,name\n1,"two\nlines"\n2,x\n')
    _, duck_cfg = write_configs(other, other.table_entry(
        "t", "*.csv", "csv", csv_options={"columns": {"id": "INTEGER", "name": "VARCHAR"}}))
    run_both(other, duck_cfg)
    assert sorted(x["name"] for x in other.read("t").to_pylist()) == ["two\nlines", "x"]


def test_csv_multi_line_false_reads_a_row_per_line_and_fails_a_split_row_by_name(env: LoaderEnv):
    # `multi_line: false`: the user says no quoted value holds a line break, so Spark reads
    # (and splits) files line by line. Doubled quotes still load as on DuckDB; a quoted line
    # break leaves a row short of columns, which fails its file by name on Spark (DuckDB reads
    # it whole either way) instead of loading broken rows.
    good = write_csv(env.raw / "a.csv", 'name,id,v\n"a""b",1,2\n"x, y",2,3\n')
    # Split at the break, the row's lines are `"multi` (one value of three) and `line",4,5`:
    # the types inferred stay those of the good rows, only the count of values betrays it.
    broken = write_csv(env.raw / "b.csv", 'name,id,v\n"multi\nline",4,5\nx,5,6\n')
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", csv_options={"multi_line": False}, max_files_per_batch=1),
        retry_attempts=0)
    spark_run = env.run("run")
    assert spark_run.rc == 1, str(spark_run)
    tracked = env.tracker_for("t")
    assert tracked[str(good)]["status"] == "completed", tracked
    assert tracked[str(broken)]["status"] == "failed", tracked
    assert str(broken) in tracked[str(broken)]["error_message"], tracked[str(broken)]
    assert sorted((r["id"], r["name"]) for r in env.read("t").to_pylist()) == \
        [(1, 'a"b'), (2, "x, y")]
    assert env.run("run", config=duck_cfg).rc == 0
    assert sorted(r["name"] for r in duck_table(env).to_pylist()) == ['a"b', "multi\nline", "x",
                                                                      "x, y"]


# --- merge and SCD2: the batch's types against the table's, as on DuckDB -----------------------


def typed(name_types: dict[str, tuple[list, pa.DataType]]) -> pa.Table:
    return pa.table({n: pa.array(v, t) for n, (v, t) in name_types.items()})


def types_of(t: pa.Table) -> dict[str, str]:
    return dict(zip(t.column_names, map(str, t.schema.types)))


# A sequence column, so that SCD2's effective and end values are no load times.
NARROW = {"id": ([1, 2], pa.int32()), "v": ([1, 2], pa.int32()), "f": ([1.5, 2.5], pa.float32()),
          "seq": ([1, 1], pa.int64())}
WIDE = {"id": ([2, 3], pa.int64()), "v": ([5, 3], pa.int64()), "f": ([1.1, 2.5], pa.float64()),
        "seq": ([2, 2], pa.int64())}


@pytest.mark.parametrize("strategy", ["merge", "scd2"])
def test_a_wider_batch_type_fails_like_duckdb_without_type_widening(env: LoaderEnv, strategy):
    # Spark's MERGE cast the batch into the table's types: 1.1 stored as the float
    # 1.100000023841858, a long that does not fit failing with an opaque TASK_WRITE_FAILED.
    pq.write_table(typed(NARROW), env.raw / "a.parquet")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy=strategy, primary_keys=["id"],
        sequence_column="seq", schema_evolution_mode="add_new_columns"), retry_attempts=0)
    run_both(env, duck_cfg)
    pq.write_table(typed(WIDE), env.raw / "b.parquet")
    spark_run, duck_run = run_both(env, duck_cfg, expect=1)
    message = ("SchemaMismatch: column id has type integer in the table but long in the incoming "
               "data; widening the column needs the table property delta.enableTypeWidening=true")
    assert message in spark_run.out and message in duck_run.out, (spark_run, duck_run)
    assert types_of(env.read("t"))["f"] == "float"


@pytest.mark.parametrize("strategy", ["merge", "scd2"])
def test_a_wider_batch_type_widens_the_table_like_duckdb(env: LoaderEnv, strategy):
    pq.write_table(typed(NARROW), env.raw / "a.parquet")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy=strategy, primary_keys=["id"],
        sequence_column="seq", schema_evolution_mode="add_new_columns",
        table_properties={"delta.enableTypeWidening": True}))
    run_both(env, duck_cfg)
    # 2**40 does not fit the table's int: the column widens first.
    wide = dict(WIDE, v=([2**40, 3], pa.int64()))
    pq.write_table(typed(wide), env.raw / "b.parquet")
    run_both(env, duck_cfg)
    t = env.read("t")
    assert {k: types_of(t)[k] for k in ("id", "v", "f")} == \
        {"id": "int64", "v": "int64", "f": "double"}
    current = {r["id"]: (r["v"], r["f"]) for r in t.to_pylist() if r.get("is_current", True)}
    assert current == {1: (1, 1.5), 2: (2**40, 1.1), 3: (3, 2.5)}
    rerun_loads_nothing(env, duck_cfg)


def test_scd2_a_widened_sequence_column_widens_the_change_store(env: LoaderEnv):
    # The effective and end columns and the change store's column widen with the sequence
    # column; a late event after it replays the stored ones.
    first = {"id": ([1, 2], pa.int32()), "seq": ([1, 2], pa.int32()), "v": (["a", "b"], pa.string())}
    pq.write_table(typed(first), env.raw / "a.parquet")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy="scd2", primary_keys=["id"],
        sequence_column="seq", schema_evolution_mode="add_new_columns",
        table_properties={"delta.enableTypeWidening": True}))
    run_both(env, duck_cfg)
    second = {"id": ([2, 3], pa.int32()), "seq": ([2**40, 3], pa.int64()), "v": (["b2", "c"], pa.string())}
    pq.write_table(typed(second), env.raw / "b.parquet")
    run_both(env, duck_cfg)
    late = {"id": ([2, 1], pa.int32()), "seq": ([5, 0], pa.int64()), "v": (["late", "early"], pa.string())}
    pq.write_table(typed(late), env.raw / "c.parquet")
    run_both(env, duck_cfg)
    types = types_of(env.read("t"))
    assert (types["seq"], types["effective_date"], types["end_date"]) == ("int64",) * 3


@pytest.mark.parametrize("strategy", ["merge", "scd2"])
@pytest.mark.parametrize("widening", [False, True])
def test_another_batch_type_fails_like_duckdb(env: LoaderEnv, strategy, widening):
    # A string column receiving a long (Spark's MERGE loaded "20"), a zoned timestamp column a
    # naive one (Spark reinterpreted it; its SCD2 failed with a CAST_INVALID_INPUT).
    utc = pa.timestamp("us", tz="UTC")
    first = {"id": ([1], pa.int64()), "s": (["x"], pa.string()),
             "ts": ([dt.datetime(2024, 1, 1)], utc), "seq": ([1], pa.int64())}
    pq.write_table(typed(first), env.raw / "a.parquet")
    extra = {"table_properties": {"delta.enableTypeWidening": True}} if widening else {}
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy=strategy, primary_keys=["id"],
        sequence_column="seq", max_files_per_batch=1, **extra), retry_attempts=0)
    run_both(env, duck_cfg)
    number = {"id": ([2], pa.int64()), "s": ([20], pa.int64()), "ts": ([dt.datetime(2024, 1, 2)], utc),
              "seq": ([2], pa.int64())}
    pq.write_table(typed(number), env.raw / "b.parquet")
    naive = {"id": ([3], pa.int64()), "s": (["z"], pa.string()),
             "ts": ([dt.datetime(2024, 1, 3)], pa.timestamp("us")), "seq": ([3], pa.int64())}
    pq.write_table(typed(naive), env.raw / "c.parquet")
    spark_run, duck_run = run_both(env, duck_cfg, expect=1)
    for message in ("SchemaMismatch: column s has type string in the table but long in the "
                    "incoming data",
                    "SchemaMismatch: column ts has type timestamp in the table but timestamp_ntz "
                    "in the incoming data"):
        assert message in spark_run.out and message in duck_run.out, (spark_run, duck_run)
    assert [r["id"] for r in env.read("t").to_pylist()] == [1]


# --- a partition column whose name holds a dot ---------------------------------------------------


@pytest.mark.parametrize("strategy", ["merge", "scd2"])
def test_merge_into_a_table_partitioned_by_a_dotted_name_like_duckdb(env: LoaderEnv, strategy):
    # Delta's MERGE repartitions by the unquoted name: [UNRESOLVED_COLUMN] p.q from the second
    # batch on, until that repartition was turned off for such tables.
    def batch(ids, parts, values, seq):
        return pa.table({"id": ids, "p.q": parts, "v": values, "seq": [seq] * len(ids)})

    pq.write_table(batch([1, 2], ["x", "y"], ["a", "b"], 1), env.raw / "a.parquet")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy=strategy, primary_keys=["id"],
        sequence_column="seq", partition_columns=["p.q"]))
    run_both(env, duck_cfg)
    pq.write_table(batch([1, 3], ["x", "z"], ["a2", "c"], 2), env.raw / "b.parquet")
    run_both(env, duck_cfg)
    pq.write_table(batch([3, 4], ["z", "x"], ["c2", "d"], 3), env.raw / "c.parquet")
    run_both(env, duck_cfg)
    assert (env.table_path("t") / "p.q=z").is_dir()
    rerun_loads_nothing(env, duck_cfg)


# --- json keys that differ only in case ------------------------------------------------------------


def test_json_keys_differing_in_case_fail_saying_what_to_do(env: LoaderEnv):
    # DuckDB loads the second key as name_1 (with a warning); Spark's inference, which ignores
    # case, cannot make two columns of them: the file fails naming the remedies, the others
    # load. With json_options.columns (keys matched exactly) both engines load the same table.
    mixed = env.raw / "a.json"
    mixed.write_text('{"id":1,"Name":"a"}\n{"id":2,"name":"b"}\n')
    (env.raw / "b.json").write_text('{"id":3,"name":"c"}\n')
    env.write_config([env.table_entry("t", "*.json", "json", engine="spark")], retry_attempts=0)
    r = env.run("run")
    assert r.rc == 1, str(r)
    failed = env.tracker_for("t")[str(mixed)]
    assert failed["status"] == "failed"
    assert "COLUMN_ALREADY_EXISTS" in failed["error_message"]
    assert "json_options.columns" in failed["error_message"]
    assert "engine: duckdb" in failed["error_message"]
    assert [x["id"] for x in env.read("t").to_pylist()] == [3]

    other = LoaderEnv(env.bin, env.root / "columns")
    (other.raw / "a.json").write_text(mixed.read_text())
    _, duck_cfg = write_configs(other, other.table_entry(
        "t", "*.json", "json", json_options={"format": "lines", "columns": {
            "id": "BIGINT", "Name": "VARCHAR"}}))
    run_both(other, duck_cfg)
    assert sorted((x["id"], x["Name"]) for x in other.read("t").to_pylist()) == \
        [(1, "a"), (2, None)]


# --- csv inference differences: the documented remedy -----------------------------------------


def test_csv_text_spark_infers_otherwise_loads_alike_with_explicit_columns(env: LoaderEnv):
    # Inferred, Spark makes 01234 a bigint 1234, 10:00:00 a timestamp of today and a 20-digit
    # integer a decimal(20,0), where DuckDB keeps strings and a double (docs/spark_engine.md).
    write_csv(env.raw / "a.csv", "zip,t,flag,big\n01234,10:00:00,T,12345678901234567890\n"
                                 "00042,11:30:00,F,98765432109876543210\n")
    _, duck_cfg = write_configs(env, env.table_entry(
        "t", "*.csv", "csv", csv_options={"columns": {
            "zip": "VARCHAR", "t": "VARCHAR", "flag": "VARCHAR", "big": "DECIMAL(20,0)"}}))
    run_both(env, duck_cfg)
    got = sorted((r["zip"], r["t"], r["flag"], str(r["big"])) for r in env.read("t").to_pylist())
    assert got == [("00042", "11:30:00", "F", "98765432109876543210"),
                   ("01234", "10:00:00", "T", "12345678901234567890")]
