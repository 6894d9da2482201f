"""The log, staging and schema inference (docs/reliability.md): an empty commit file is a
corrupt log, not an empty commit; staging files of a killed writer are removed; one odd JSON
file neither changes a table's schema nor hides a wide object's columns; columns differing
only in case are reported."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from e2e_lib import (LoaderEnv, assert_completed, assert_file_failed, assert_loaded_exactly,
                     csv_rows, run_and_kill_when, write_csv, write_jsonl, write_parquet)


def other_table(env: LoaderEnv):
    """A healthy table next to the one under test: it must load regardless."""
    f = write_csv(env.raw / "other" / "o.csv", csv_rows(1, 3, "o"))
    return env.table_entry("other", "other/*.csv", "csv"), f


# -- an empty commit file ----------------------------------------------------------------------

def test_empty_commit_file_is_a_corrupt_log_naming_it(env: LoaderEnv):
    """Truncating commit 1 to 0 bytes used to read as an empty commit: exit 0, its rows gone
    from the table, `status` still counting them. Now the table fails naming the file, the
    other table loads, and `status` reports the error instead of claiming the rows."""
    entry, o = other_table(env)
    a = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    env.write_config([env.table_entry("t", "t/a.csv", "csv")])
    env.load()
    b = write_csv(env.raw / "t" / "b.csv", csv_rows(10, 2))
    env.write_config([env.table_entry("t", "t/[ab].csv", "csv")])
    env.load()
    assert_loaded_exactly(env, "t", {a: 4, b: 2})
    commit = env.table_path("t") / "_delta_log" / "00000000000000000001.json"
    assert str(b) in commit.read_text()
    commit.write_bytes(b"")

    c = write_csv(env.raw / "t" / "c.csv", csv_rows(20, 3))
    env.write_config([env.table_entry("t", "t/*.csv", "csv"), entry])
    r = env.run("run")
    assert r.rc != 0, f"a table with an empty commit must fail the run\n{r}"
    lines = [line for line in r.out.splitlines() if str(commit) in line]
    assert any(re.search(r"empty", line, re.I) for line in lines), f"{lines}\n{r}"
    # The summary on stdout says why the table did not load, not only the log.
    summary = r.stdout.split("Tables not loaded (1):", 1)
    assert len(summary) == 2 and str(commit) in summary[1] and "e2e.t: " in summary[1], str(r)
    assert_loaded_exactly(env, "other", {o: 3})
    assert env.tracker_for("t").get(str(c)) is None or (
        env.tracker_for("t")[str(c)]["status"] != "completed"), "c.csv cannot have loaded"

    status = env.status()["e2e.t"]
    assert str(commit) in status.get("table_error", ""), status
    assert status["rows_loaded"] is None, f"status still claims the rows: {status}"
    text = env.run("status")
    assert text.rc == 0 and str(commit) in text.stdout, str(text)
    assert "rows loaded: unknown" in text.stdout, str(text)


# -- staging files of killed writers -------------------------------------------------------------

def staging_dirs(env: LoaderEnv, table: str = "t") -> list[Path]:
    root = env.table_path(table)
    return sorted(root.glob("_dl_staging_*")) if root.is_dir() else []


def staged_bytes(env: LoaderEnv) -> int:
    return sum(f.stat().st_size for d in staging_dirs(env) for f in d.rglob("*") if f.is_file()
               and f.name != "_owner")


def test_staging_of_a_writer_killed_mid_write_is_removed_by_the_next_run(env: LoaderEnv):
    """SIGKILL while the loader writes a big file's data files used to leave them in
    <table>/_dl_staging_<uuid>/ forever. The next run removes them (no live writer owns
    them) and loads the file exactly once."""
    n = 3_000_000
    ids = pa.array(range(n), pa.int64())
    big = write_parquet(env.raw / "t" / "big.parquet",
                        {"id": ids, "name": pc.binary_join_element_wise(
                            "name-", pc.cast(ids, pa.string()), "")})
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet")])
    run_and_kill_when(env, lambda: staged_bytes(env) > 0, 120, "data files in a staging directory")
    left = staging_dirs(env)
    assert left and staged_bytes(env) > 0, "the killed writer left no staging files to clean"

    r = env.load("--dry-run")  # a dry run touches nothing
    assert staging_dirs(env) == left, f"the dry run changed the staging dirs\n{r}"
    r = env.load()
    assert staging_dirs(env) == [], f"staging left after the next run: {staging_dirs(env)}\n{r}"
    assert "removed the staging directory of a writer that died" in r.stderr, str(r)
    assert_loaded_exactly(env, "t", {big: n})
    ids = env.read("t").column("id")
    assert (pc.count_distinct(ids).as_py(), pc.min(ids).as_py(), pc.max(ids).as_py()) == (
        n, 0, n - 1)


def test_vacuum_reports_and_deletes_staging_after_the_retention(env: LoaderEnv):
    """A staging directory whose owner cannot be checked from here (another host) is left by
    runs; VACUUM lists it once it is as old as the retention and deletes it."""
    a = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    env.write_config([env.table_entry("t", "t/*.csv", "csv")])
    env.load()
    foreign = env.table_path("t") / "_dl_staging_0000-foreign"
    (foreign / "data").mkdir(parents=True)
    (foreign / "_owner").write_text("4242 some-other-host 1\n")
    (foreign / "data" / "data_0.parquet").write_bytes(b"x" * 5000)
    old = time.time() - 3 * 3600
    for f in [foreign / "data" / "data_0.parquet", foreign / "_owner", foreign / "data", foreign]:
        os.utime(f, (old, old))
    env.load()
    assert foreign.is_dir(), "a run removed a staging directory owned from another host"

    path = str(env.table_path("t"))
    r = env.run("table", "vacuum", path, "--dry-run", "--json", config=False)
    assert r.rc == 0, str(r)
    assert json.loads(r.stdout)["staging_dirs"] == [], "younger than the default 7 days"
    r = env.run("table", "vacuum", path, "--retention-hours", "1", "--force", "--dry-run",
                "--json", config=False)
    assert r.rc == 0, str(r)
    out = json.loads(r.stdout)
    assert out["staging_dirs"] == [str(foreign)] and out["bytes"] >= 5000, out
    assert foreign.is_dir(), "a dry run deleted it"
    r = env.run("table", "vacuum", path, "--retention-hours", "1", "--force", config=False)
    assert r.rc == 0, str(r)
    assert str(foreign) in r.stdout and "1 staging dirs" in r.stdout, str(r)
    assert not foreign.exists()
    assert_loaded_exactly(env, "t", {a: 4})


# -- JSON inference -----------------------------------------------------------------------------

def test_json_file_of_non_objects_fails_alone(env: LoaderEnv):
    """A file holding just `42` beside ndjson files used to turn the batch into one `json`
    column (exit 0). Now it fails alone, named; the others load with their columns."""
    entry, o = other_table(env)
    g1 = write_jsonl(env.raw / "t" / "a.json", [{"id": i, "v": f"a{i}"} for i in range(1, 4)])
    bad = env.raw / "t" / "b.json"
    bad.write_text("42\n")
    g2 = write_jsonl(env.raw / "t" / "c.json", [{"id": 10, "v": "c"}])
    env.write_config([env.table_entry("t", "t/*.json", "json"), entry])
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert_file_failed(env, r, "t", bad, r"not objects")
    assert_loaded_exactly(env, "t", {g1: 3, g2: 1})
    assert_completed(env, "t", [g1, g2])
    assert_loaded_exactly(env, "other", {o: 3})
    cols = [c for c in env.read("t").column_names if not c.startswith("_")]
    assert cols == ["id", "v"], cols


def test_wide_json_objects_keep_their_columns(env: LoaderEnv):
    """Objects with 500 keys (over DuckDB's map inference threshold of 200) used to become one
    MAP column; keys present in few rows too. Now every key is a column."""
    wide = env.raw / "t" / "wide.json"
    wide.parent.mkdir(parents=True, exist_ok=True)
    wide.write_text("".join(json.dumps({f"k{i}": i + r for i in range(500)}) + "\n"
                            for r in range(3)))
    sparse = write_jsonl(env.raw / "t" / "sparse.json",
                         [{"id": r, f"s{r}": r} for r in range(40)])
    env.write_config([env.table_entry("t", "t/*.json", "json")])
    env.load()
    t = env.read("t")
    cols = [c for c in t.column_names if not c.startswith("_")]
    assert len([c for c in cols if c.startswith("k")]) == 500, cols[:10]
    assert len([c for c in cols if c.startswith("s")]) == 40, cols
    assert "id" in cols
    assert_loaded_exactly(env, "t", {wide: 3, sparse: 40})
    rows = {r["_source_file"]: r for r in t.to_pylist() if r["k499"] is not None}
    assert rows and all(r["k0"] is not None for r in rows.values())


def test_a_json_member_of_mixed_types_is_text_as_spark_reads_it(env: LoaderEnv):
    """`v` is a number in one row and a string in another: DuckDB reads the column as JSON, which
    used to be stored as JSON text (`"x"` with its quotes). Strings are now stored as themselves,
    other values as their JSON text, as Spark loads the same file."""
    f = write_jsonl(env.raw / "t" / "a.json",
                    [{"id": 1, "v": 1}, {"id": 2, "v": "x"}, {"id": 3, "v": {"a": 1}},
                     {"id": 4, "v": None}, {"id": 5, "v": 'say "hi"'}])
    env.write_config([env.table_entry("t", "t/*.json", "json")])
    env.load()
    assert_loaded_exactly(env, "t", {f: 5})
    t = env.read("t")
    assert t.schema.field("v").type == pa.string()
    got = {r["id"]: r["v"] for r in t.to_pylist()}
    assert got == {1: "1", 2: "x", 3: '{"a":1}', 4: None, 5: 'say "hi"'}, got


# -- columns differing only in case -------------------------------------------------------------

def test_columns_differing_only_in_case_are_reported(env: LoaderEnv):
    """`id` and `ID` in one file: Delta names ignore case, so the reader renames the second to
    `ID_1`. That used to happen without a word; now a warning names both and the file."""
    f = write_csv(env.raw / "t" / "a.csv", "id,ID,v\n1,10,a\n2,20,b\n")
    plain = write_csv(env.raw / "t" / "b.csv", "id,v\n3,c\n")
    env.write_config([env.table_entry("t", "t/*.csv", "csv")])
    r = env.load()
    warnings = [line for line in r.stderr.splitlines()
                if "'id' and 'ID' differ only in case" in line]
    assert warnings, f"no warning about id / ID\n{r}"
    assert "ID_1" in warnings[0] and str(f) in warnings[0], warnings[0]
    assert str(plain) not in warnings[0], warnings[0]
    t = env.read("t")
    assert {"id", "ID_1", "v"} <= set(t.column_names), t.column_names
    assert_loaded_exactly(env, "t", {f: 2, plain: 1})
