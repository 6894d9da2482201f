"""Paths (issue 11 items 2, 4, 5 and three should-fix items): tables nested in tables, the
loader reading its own output, one file under two spellings, glob characters in
raw_data_path, files from the future, names too long for a directory."""
from __future__ import annotations

import json
import os
import time

import pytest

from e2e_lib import LoaderEnv, assert_loaded_exactly, csv_rows, read_delta, write_csv, write_parquet


def table_write(env: LoaderEnv, root, source, expect: int = 0):
    r = env.run("table", "write", str(root), "--source", str(source), config=False)
    assert r.rc == expect, str(r)
    return r


def data_files(root) -> set[str]:
    """The parquet files under a table directory, relative to it, outside any _delta_log."""
    return {str(p.relative_to(root)) for p in root.rglob("*.parquet") if "_delta_log" not in p.parts}


# -- item 2: VACUUM of one table deleted another table's data ---------------------------------

def test_config_with_nested_tables_is_refused(env: LoaderEnv):
    write_csv(env.raw / "b.csv", csv_rows(1, 2))
    env.write_config([env.table_entry("b", "b.csv", "csv", database_name="d"),
                      env.table_entry("c", "b.csv", "csv", database_name="d.b")])
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "tables[1] (d.b.c)" in r.stderr and "is inside tables[0] (d.b)" in r.stderr, str(r)
    assert not env.processed.exists() or not any(env.processed.rglob("*.parquet"))

    env.write_config([env.table_entry("b", "b.csv", "csv", database_name="d")],
                     file_tracker_database="d.b")
    r = env.run("validate")
    assert r.rc == 2 and "file_tracker_database: the file tracker" in r.stderr, str(r)

    env.write_config([env.table_entry("_delta_log", "b.csv", "csv", database_name="d.t")])
    r = env.run("validate")
    assert r.rc == 2 and "table_name: '_delta_log' is the name of a Delta table's log" in r.stderr, str(r)


def test_vacuum_never_descends_into_a_nested_table(env: LoaderEnv):
    src = write_parquet(env.root / "src" / "x.parquet", {"id": [1, 2, 3]})
    parent, child = env.processed / "d" / "b", env.processed / "d" / "b" / "c"
    # A nested table as older versions made them (`table write` now refuses to create one
    # inside another, so it is written next door and moved in).
    table_write(env, parent, src)
    table_write(env, env.root / "elsewhere", src)
    (env.root / "elsewhere").rename(child)
    child_files = data_files(child)
    assert child_files, "the nested table has no data file"
    r = env.run("table", "vacuum", str(parent), "--retention-hours", "0", "--force", config=False)
    assert r.rc == 0, str(r)
    assert data_files(child) == child_files, f"VACUUM of the parent deleted the child's files\n{r}"
    assert read_delta(child).num_rows == 3
    assert read_delta(parent).num_rows == 3
    # Writing, optimizing or vacuuming a table inside another is refused outright.
    for verb in (["write", str(child / "e"), "--source", str(src)], ["vacuum", str(child)],
                 ["optimize", str(child)],
                 ["write", str(env.processed / "x" / "_delta_log" / "t"), "--source", str(src)]):
        r = env.run("table", *verb, config=False)
        assert r.rc == 2, str(r)
        assert "inside the Delta table" in r.stderr or "inside a _delta_log directory" in r.stderr, str(r)


# -- item 4: the loader ingested its own output ------------------------------------------------

@pytest.mark.parametrize("audit", [True, False])
def test_raw_above_processed_does_not_load_its_own_output(env: LoaderEnv, audit: bool):
    landing = write_parquet(env.root / "landing" / "a.parquet", {"id": list(range(10))})
    entry = env.table_entry("t", "x", "parquet", audit_columns=audit)
    entry["source_path_pattern"] = "**/*.parquet"
    # Without audit columns the table's own files load cleanly: 10 -> 21 -> 34 rows before.
    env.write_config([entry], raw_data_path=str(env.root))
    r = env.run("validate")
    assert r.rc == 0 and "warning: raw_data_path contains processed_data_path" in r.stdout, str(r)
    for _ in range(3):
        r = env.load()
        assert env.read("t").num_rows == 10
    assert "not looking inside Delta tables" in r.stderr, str(r)
    if audit:
        assert_loaded_exactly(env, "t", {landing: 10})
    assert list(env.tracker_for("t")) == [str(landing)]


def test_a_delta_source_that_is_its_own_target_is_refused(env: LoaderEnv):
    entry = env.table_entry("t", "x", "delta")
    entry["source_path_pattern"] = str(env.table_path("t")) + "/"
    env.write_config([entry])
    r = env.run("validate")
    assert r.rc == 2, str(r)
    assert "tables[0].source_path_pattern" in r.stderr and "(its own target)" in r.stderr, str(r)


# -- item 5: one file under two names ---------------------------------------------------------

def test_one_file_under_two_spellings_is_loaded_once(env: LoaderEnv):
    f = write_csv(env.raw / "x.csv", csv_rows(1, 4))
    env.write_config([env.table_entry("t", "*.csv", "csv")])
    env.load()
    entry = env.table_entry("t", "x", "csv")
    entry["source_path_pattern"] = "./*.csv"
    env.write_config([entry])
    env.load()
    (env.root / "rawlink").symlink_to(env.raw)
    entry["source_path_pattern"] = "*.csv"
    env.write_config([entry], raw_data_path=str(env.root / "rawlink"))
    env.load()
    entry["source_path_pattern"] = str(env.root / "rawlink" / "." / "*.csv")
    env.write_config([entry])
    env.load()
    assert_loaded_exactly(env, "t", {f: 4})
    assert list(env.tracker_for("t")) == [str(f)]


# -- should-fix items ------------------------------------------------------------------------

def test_glob_characters_in_raw_data_path_are_literal(env: LoaderEnv):
    raw = env.root / "br[1]" / "raw"
    f = write_csv(raw / "x.csv", csv_rows(1, 3))
    write_csv(env.root / "br1" / "raw" / "decoy.csv", csv_rows(100, 5))
    # What br[1]/raw/x.csv matches as a pattern: the engine reads the file, not the pattern.
    write_csv(env.root / "br1" / "raw" / "x.csv", csv_rows(200, 7))
    entry = env.table_entry("t", "x", "csv")
    entry["source_path_pattern"] = "*.csv"
    env.write_config([entry], raw_data_path=str(raw))
    env.load()
    assert_loaded_exactly(env, "t", {f: 3})


def test_file_names_with_glob_characters_are_read_as_exactly_those_files(env: LoaderEnv):
    """st*.csv beside stZ.csv, q?/qq?.csv beside qq/qqz.csv, brk[1]/x[1].csv with nothing it
    matches: each file's rows once, named by their own file; tables and the tracker below
    glob characters too. A name no escape keeps whole (a backslash beside a '[') is read where
    it matches nothing else, and fails alone, named, where it does."""
    files = {}
    for i, name in enumerate(["g/st*.csv", "g/stZ.csv", "g/stY.csv", "q?/qq?.csv",
                              "q?/qqz.csv", "qq/qqz.csv", "brk[1]/x[1].csv",
                              "g/back\\slash[1].csv", "g/a/b1.csv"]):
        files[write_csv(env.raw / name, csv_rows(1000 * i, 10))] = 10
    bad = write_csv(env.raw / "g" / "a\\b[1].csv", csv_rows(9000, 2))  # matches g/a/b1.csv
    env.write_config([env.table_entry("t", "**/*.csv", "csv")],
                     processed_data_path=str(env.root / "pro[c]*?"))
    r = env.load(expect=1)
    assert "9 files loaded, 1 failed, 0 skipped, 90 rows" in r.out, r
    assert (f"{bad}: DuckDB takes this path as a pattern" in r.out and
            f"it matches '{env.raw / 'g/a/b1.csv'}'; rename the file" in r.out), r
    t = read_delta(env.root / "pro[c]*?" / env.DB / "t")
    by_file: dict[str, int] = {}
    for f in t.column("_source_file").to_pylist():
        by_file[f] = by_file.get(f, 0) + 1
    assert by_file == {str(k): v for k, v in files.items()}
    assert sorted(t.column("id").to_pylist()) == sorted(
        i for n in range(9) for i in range(1000 * n, 1000 * n + 10))
    r = env.load(expect=1)  # the tracker (below pro[c]*?) is read: nothing loads again
    assert "0 files loaded" in r.out, r


def test_a_missing_base_is_a_warning(env: LoaderEnv):
    entry = env.table_entry("t", "nowhere/*.csv", "csv")
    env.write_config([entry], enable_metrics=True)
    r = env.load()
    assert "its base directory does not exist" in r.stderr, str(r)
    [run_json] = sorted((env.checkpoints / "metrics").glob("run-*.json"))
    [table] = json.loads(run_json.read_text())["tables"]
    assert any("does not exist" in w for w in table["warnings"]), table
    r = env.run("status")
    assert r.rc == 0 and "its base directory does not exist" in r.stdout, str(r)


def test_a_file_from_the_future_waits_and_says_why(env: LoaderEnv):
    future = write_csv(env.raw / "future.csv", csv_rows(1, 2))
    ahead = time.time() + 3600
    os.utime(future, (ahead, ahead))
    old = write_csv(env.raw / "old.csv", csv_rows(10, 2))
    os.utime(old, (time.time() - 600, time.time() - 600))
    env.write_config([env.table_entry("t", "*.csv", "csv")], min_file_age_seconds=60,
                     enable_metrics=True)
    r = env.load("--dry-run")
    assert f"wait  {future} (modified in the future" in r.out, str(r)
    assert "clock skew?" in r.out, str(r)
    r = env.load()
    assert "file waiting" in r.stderr and "clock skew?" in r.stderr, str(r)
    assert_loaded_exactly(env, "t", {old: 2})
    [run_json] = sorted((env.checkpoints / "metrics").glob("run-*.json"))
    [table] = json.loads(run_json.read_text())["tables"]
    assert table["files_waiting"] == 1, table


def test_a_table_name_too_long_for_a_directory_is_a_config_error(env: LoaderEnv):
    env.write_config([env.table_entry("t" * 300, "*.csv", "csv")])
    r = env.run("validate")
    assert r.rc == 2, str(r)
    assert "tables[0].table_name" in r.stderr and "limited to 255 bytes" in r.stderr, str(r)


def test_a_symlinked_raw_data_path_loads_under_the_engine_lock_down(env: LoaderEnv):
    """File identities resolve symlinks, and the locked engine must then be allowed to read
    the resolved directory too, not only the spelling the config gave."""
    real = env.root / "landing"
    f = write_csv(real / "x.csv", csv_rows(1, 4))
    (env.root / "rawlink").symlink_to(real)
    entry = env.table_entry("t", "x", "csv")
    entry["source_path_pattern"] = "*.csv"
    env.write_config([entry], raw_data_path=str(env.root / "rawlink"))
    env.load()
    assert_loaded_exactly(env, "t", {f: 4})
