"""Cases where the Spark engine loaded other data than the DuckDB engine from the same config and
files (found by a user's side-by-side test): each now loads the same table row for row and type
for type, or fails the same way."""
from __future__ import annotations

from pathlib import Path

import pytest

from e2e_lib import LoaderEnv, write_csv
from test_e2e_spark_append import spark_remote, write_configs  # noqa: F401
from test_e2e_spark_sources import duck_table, run_both


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
