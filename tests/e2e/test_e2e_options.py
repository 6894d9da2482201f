"""Table options end to end: schema evolution modes, dedup_keys, allow_overwrites,
min_file_age_seconds."""
from __future__ import annotations

import json
import os
import re
import time

from e2e_lib import (LoaderEnv, assert_loaded_exactly, bump_mtime, csv_rows, write_csv,
                     write_jsonl, write_parquet)


def first_then_wider(env: LoaderEnv, mode: str):
    """Run 1 loads (id, name); run 2 a file that also has `extra` and `more`."""
    f1 = write_jsonl(env.raw / "t" / "a.json", [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    env.write_config([env.table_entry("t", "t/*.json", "json", schema_evolution_mode=mode)])
    r = env.load()
    f2 = write_jsonl(env.raw / "t" / "b.json", [{"id": 3, "name": "c", "extra": "x3", "more": 30},
                                                  {"id": 4, "name": "d", "extra": None, "more": 40}])
    r = env.load()
    assert_loaded_exactly(env, "t", {f1: 2, f2: 2})
    rows = sorted(env.read("t").to_pylist(), key=lambda r: r["id"])
    return rows, env.read("t").column_names


def test_schema_evolution_add_new_columns(env: LoaderEnv):
    rows, cols = first_then_wider(env, "add_new_columns")
    assert "extra" in cols and "more" in cols, cols
    assert [r["extra"] for r in rows] == [None, None, "x3", None]
    assert [r["more"] for r in rows] == [None, None, 30, 40]
    assert [r["name"] for r in rows] == ["a", "b", "c", "d"]


def test_schema_evolution_true_means_add_new_columns(env: LoaderEnv):
    f1 = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 2))
    env.write_config([env.table_entry("t", "t/*.csv", "csv", schema_evolution=True)])
    env.load()
    f2 = write_csv(env.raw / "t" / "b.csv", "id,name,amount,note\n7,g,70,hello\n")
    env.load()
    assert_loaded_exactly(env, "t", {f1: 2, f2: 1})
    rows = sorted(env.read("t").to_pylist(), key=lambda r: r["id"])
    assert [r["note"] for r in rows] == [None, None, "hello"]


def test_schema_evolution_rescue(env: LoaderEnv):
    rows, cols = first_then_wider(env, "rescue")
    assert "extra" not in cols and "more" not in cols, cols
    assert "_rescued_data" in cols, cols
    assert rows[0]["_rescued_data"] is None and rows[1]["_rescued_data"] is None
    assert json.loads(rows[2]["_rescued_data"]) == {"extra": "x3", "more": 30}, rows[2]
    rescued = json.loads(rows[3]["_rescued_data"])
    assert rescued.get("more") == 40 and rescued.get("extra") is None, rows[3]
    assert [r["name"] for r in rows] == ["a", "b", "c", "d"]


def test_schema_evolution_none_drops_new_columns(env: LoaderEnv):
    rows, cols = first_then_wider(env, "none")
    assert "extra" not in cols and "more" not in cols and "_rescued_data" not in cols, cols
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert [r["name"] for r in rows] == ["a", "b", "c", "d"]


def test_dedup_keys_within_batch_and_against_table(env: LoaderEnv):
    f1 = write_parquet(env.raw / "t" / "a.parquet",
                       {"id": [1, 2, 2, 3], "v": ["first1", "first2", "dup2", "first3"]})
    f2 = write_parquet(env.raw / "t" / "b.parquet", {"id": [3, 4], "v": ["dup3", "first4"]})
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet", dedup_keys=["id"])])
    env.load()
    rows = sorted(env.read("t").to_pylist(), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == [1, 2, 3, 4], rows
    assert [r["v"] for r in rows] == ["first1", "first2", "first3", "first4"], rows
    # Next run: ids already in the table are dropped, new ones (and only one copy) kept.
    f3 = write_parquet(env.raw / "t" / "c.parquet",
                       {"id": [4, 5, 5, 1, 6], "v": ["dup4", "first5", "dup5", "dup1", "first6"]})
    env.load()
    rows = sorted(env.read("t").to_pylist(), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6], rows
    assert [r["v"] for r in rows] == [f"first{i}" for i in range(1, 7)], rows
    assert env.tracker_for("t")[str(f3)]["status"] == "completed"


def test_modified_file_skipped_with_warning_by_default(env: LoaderEnv):
    f = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3, "old"))
    env.write_config([env.table_entry("t", "t/*.csv", "csv")])
    env.load()
    version = env.version("t")
    write_csv(f, csv_rows(1, 5, "new"))
    bump_mtime(f, 10)
    r = env.load()
    assert env.version("t") == version, "a modified file was reloaded without allow_overwrites"
    assert_loaded_exactly(env, "t", {f: 3})
    warn = [l for l in r.stderr.splitlines() if str(f) in l and re.search(r"\bWARN", l)]
    assert warn and any("allow_overwrites" in l for l in warn), f"no warning naming the file\n{r}"
    names = sorted(env.read("t").column("name").to_pylist())
    assert names == ["old1", "old2", "old3"]


def test_modified_file_reloaded_with_allow_overwrites(env: LoaderEnv):
    f = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3, "old"))
    other = write_csv(env.raw / "t" / "b.csv", csv_rows(100, 2, "keep"))
    env.write_config([env.table_entry("t", "t/*.csv", "csv", allow_overwrites=True)])
    env.load()
    write_csv(f, csv_rows(1, 5, "new"))
    bump_mtime(f, 10)
    env.load()
    names = env.read("t").column("name").to_pylist()
    assert sorted(n for n in names if n.startswith("new")) == [f"new{i}" for i in range(1, 6)], names
    assert sorted(n for n in names if n.startswith("keep")) == ["keep100", "keep101"], names
    rec = env.tracker_for("t")[str(f)]
    assert rec["status"] == "completed" and rec["file_size"] == f.stat().st_size, rec
    # The new version is loaded once: another run changes nothing.
    version = env.version("t")
    env.load()
    assert env.version("t") == version


def test_min_file_age_skips_fresh_files(env: LoaderEnv):
    old = write_csv(env.raw / "t" / "old.csv", csv_rows(1, 2))
    os.utime(old, (time.time() - 600, time.time() - 600))
    fresh = write_csv(env.raw / "t" / "fresh.csv", csv_rows(10, 3))
    env.write_config([env.table_entry("t", "t/*.csv", "csv", min_file_age_seconds=60)])
    r = env.load("--dry-run")
    assert f"load  {old}" in r.stdout and f"load  {fresh}" not in r.stdout, r.stdout
    assert f"wait  {fresh} (younger than min_file_age_seconds)" in r.stdout, r.stdout
    env.load()
    assert_loaded_exactly(env, "t", {old: 2})
    assert str(fresh) not in env.tracker_for("t") or env.tracker_for("t")[str(fresh)][
        "status"] != "completed"
    # Once it is old enough it loads.
    os.utime(fresh, (time.time() - 120, time.time() - 120))
    env.load()
    assert_loaded_exactly(env, "t", {old: 2, fresh: 3})


def test_json_explicit_decimal_columns_scalar_exact_and_lists_load(env: LoaderEnv):
    # A scalar decimal column is read from the json text (exact); a list of decimals is not a
    # decimal column: it loads (as DuckDB's reader gives it) instead of failing its file on
    # the scalar rule's digit count of the whole list.
    write_jsonl(env.raw / "t" / "a.json", [
        {"id": 1, "d": 1234567.89, "ds": [1.5, 2.25, 3.75, 4.5, 5.25, 6.75]},
        {"id": 2, "d": "0.1", "ds": []}])
    env.write_config([env.table_entry("t", "t/*.json", "json", json_options={
        "format": "lines",
        "columns": {"id": "BIGINT", "d": "DECIMAL(38,10)", "ds": "DECIMAL(10,2)[]"}})])
    env.load()
    rows = sorted(env.read("t").to_pylist(), key=lambda r: r["id"])
    assert [str(r["d"]) for r in rows] == ["1234567.8900000000", "0.1000000000"]
    assert [[str(x) for x in r["ds"]] for r in rows] == [
        ["1.50", "2.25", "3.75", "4.50", "5.25", "6.75"], []]
