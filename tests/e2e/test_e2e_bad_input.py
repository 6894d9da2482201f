"""Bad input, one test each. Every time: exit 1; a clear error naming the file and the cause in
the run output, `status --json` and the tracker (status failed); the other files of the same
batch and the other tables still loaded; nothing duplicated. Then: failed files are retried on
later runs until retry_attempts is used up; fixing a file (new mtime) loads it."""
from __future__ import annotations

import datetime as dt
import os
import re

import pyarrow as pa

from e2e_lib import (LoaderEnv, assert_completed, assert_file_failed, assert_loaded_exactly,
                     bump_mtime, csv_rows, write_csv, write_jsonl, write_parquet)


def other_table(env: LoaderEnv):
    """A healthy table next to the one with the bad file: it must load regardless."""
    f = write_csv(env.raw / "other" / "o.csv", csv_rows(1, 3, "o"))
    return env.table_entry("other", "other/*.csv", "csv"), f


def run_and_check(env: LoaderEnv, table: str, good: dict, bad, cause: str, other_file):
    r = env.run("run")
    assert r.rc == 1, f"a failed file must make the run exit 1\n{r}"
    assert_file_failed(env, r, table, bad, cause)
    assert_loaded_exactly(env, table, good)
    assert_completed(env, table, good)
    assert_loaded_exactly(env, "other", {other_file: 3})
    # A later run neither duplicates the good files nor loads the bad one.
    env.run("run")
    assert_loaded_exactly(env, table, good)
    assert_loaded_exactly(env, "other", {other_file: 3})
    return r


def pq_rows(start: int, n: int) -> dict:
    return {"id": list(range(start, start + n)), "name": [f"n{i}" for i in range(start, start + n)],
            "amount": [float(i) for i in range(start, start + n)]}


def test_corrupt_parquet(env: LoaderEnv):
    entry, o = other_table(env)
    g1 = write_parquet(env.raw / "t" / "a.parquet", pq_rows(1, 4))
    g2 = write_parquet(env.raw / "t" / "c.parquet", pq_rows(10, 3))
    bad = env.raw / "t" / "b.parquet"
    bad.write_bytes(b"PAR1 this is not a parquet file at all PAR1")
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet"), entry])
    run_and_check(env, "t", {g1: 4, g2: 3}, bad, r"parquet|magic|corrupt|footer|invalid", o)


def test_truncated_parquet(env: LoaderEnv):
    entry, o = other_table(env)
    g1 = write_parquet(env.raw / "t" / "a.parquet", pq_rows(1, 4))
    full = write_parquet(env.raw / "t" / "b.parquet", pq_rows(100, 50))
    data = full.read_bytes()
    full.write_bytes(data[: len(data) // 2])
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet"), entry])
    run_and_check(env, "t", {g1: 4}, full, r"parquet|magic|corrupt|truncat|footer|invalid", o)


def test_csv_malformed_rows(env: LoaderEnv):
    entry, o = other_table(env)
    g1 = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    g2 = write_csv(env.raw / "t" / "c.csv", csv_rows(10, 2))
    bad = write_csv(env.raw / "t" / "b.csv",
                    "id,name,amount\n20,ok,1\n21,too,many,fields,here\n22,\"unterminated,3\n")
    env.write_config([env.table_entry("t", "t/*.csv", "csv",
                                      csv_options={"header": True, "delimiter": ","}), entry])
    run_and_check(env, "t", {g1: 4, g2: 2}, bad, r"line|column|field|quote|malformed|csv", o)


def test_csv_wrong_delimiter(env: LoaderEnv):
    """The config says ',' but one file uses ';': it reads as one column named 'id;name;amount',
    which is not the table's schema. It must fail, not load garbage."""
    entry, o = other_table(env)
    g1 = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    env.write_config([env.table_entry("t", "t/*.csv", "csv", schema_evolution=False,
                                      csv_options={"header": True, "delimiter": ","}), entry])
    r = env.run("run")  # creates the table (id, name, amount) from the good file
    assert r.rc == 0, str(r)
    bad = write_csv(env.raw / "t" / "b.csv", "id;name;amount\n30;x;1\n31;y;2\n")
    g2 = write_csv(env.raw / "t" / "c.csv", csv_rows(10, 2))
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert_file_failed(env, r, "t", bad, r"delimiter|column|id;name;amount")
    assert_loaded_exactly(env, "t", {g1: 4, g2: 2})
    assert_completed(env, "t", [g1, g2])
    assert_loaded_exactly(env, "other", {o: 3})
    assert "id;name;amount" not in env.read("t").column_names


def test_csv_bad_encoding(env: LoaderEnv):
    entry, o = other_table(env)
    g1 = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    bad = write_csv(env.raw / "t" / "b.csv", b"id,name,amount\n40,caf\xe9 cr\xe8me,1\n41,\xff\xfe,2\n")
    g2 = write_csv(env.raw / "t" / "c.csv", csv_rows(10, 2))
    env.write_config([env.table_entry("t", "t/*.csv", "csv"), entry])
    run_and_check(env, "t", {g1: 4, g2: 2}, bad, r"unicode|utf-?8|encoding|byte", o)


def test_json_wrong_types(env: LoaderEnv):
    """A json file whose `amount` (BIGINT in the table) holds words."""
    entry, o = other_table(env)
    g1 = write_jsonl(env.raw / "t" / "a.json", [{"id": i, "amount": i * 10} for i in range(1, 5)])
    env.write_config([env.table_entry("t", "t/*.json", "json"), entry])
    r = env.run("run")
    assert r.rc == 0, str(r)
    g2 = write_jsonl(env.raw / "t" / "b.json", [{"id": 5, "amount": 50}])
    bad = write_jsonl(env.raw / "t" / "c.json",
                      [{"id": 6, "amount": "sixty"}, {"id": 7, "amount": "seventy"}])
    g3 = write_jsonl(env.raw / "t" / "d.json", [{"id": 8, "amount": 80}])
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert_file_failed(env, r, "t", bad, r"amount|convert|cast|type")
    assert_loaded_exactly(env, "t", {g1: 4, g2: 1, g3: 1})
    assert_completed(env, "t", [g1, g2, g3])
    assert_loaded_exactly(env, "other", {o: 3})
    assert env.read("t").schema.field("amount").type == pa.int64()


def test_empty_file(env: LoaderEnv):
    entry, o = other_table(env)
    g1 = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    bad = write_csv(env.raw / "t" / "b.csv", b"")
    g2 = write_csv(env.raw / "t" / "c.csv", csv_rows(10, 2))
    env.write_config([env.table_entry("t", "t/*.csv", "csv"), entry])
    run_and_check(env, "t", {g1: 4, g2: 2}, bad, r"empty|no columns|0 bytes|no data", o)


def test_new_column_with_schema_evolution_off(env: LoaderEnv):
    entry, o = other_table(env)
    g1 = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    env.write_config([env.table_entry("t", "t/*.csv", "csv", schema_evolution=False), entry])
    assert env.run("run").rc == 0
    g2 = write_csv(env.raw / "t" / "b.csv", csv_rows(10, 2))
    bad = write_csv(env.raw / "t" / "c.csv", "id,name,amount,surprise\n50,x,1,boo\n")
    g3 = write_csv(env.raw / "t" / "d.csv", csv_rows(20, 3))
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert_file_failed(env, r, "t", bad, r"surprise")
    assert_loaded_exactly(env, "t", {g1: 4, g2: 2, g3: 3})
    assert "surprise" not in env.read("t").column_names
    assert_loaded_exactly(env, "other", {o: 3})


def test_incompatible_type_change(env: LoaderEnv):
    """`id` is BIGINT in the table; a parquet file delivers it as strings."""
    entry, o = other_table(env)
    g1 = write_parquet(env.raw / "t" / "a.parquet", pq_rows(1, 4))
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet"), entry])
    assert env.run("run").rc == 0
    g2 = write_parquet(env.raw / "t" / "b.parquet", pq_rows(10, 2))
    bad = write_parquet(env.raw / "t" / "c.parquet",
                        {"id": ["abc", "def"], "name": ["p", "q"], "amount": [1.0, 2.0]})
    g3 = write_parquet(env.raw / "t" / "d.parquet", pq_rows(20, 3))
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert_file_failed(env, r, "t", bad, r"\bid\b.*(type|convert|cast|string|varchar)|"
                                         r"(type|convert|cast|string|varchar).*\bid\b")
    assert_loaded_exactly(env, "t", {g1: 4, g2: 2, g3: 3})
    assert env.read("t").schema.field("id").type == pa.int64()
    assert_loaded_exactly(env, "other", {o: 3})


def test_missing_partition_column(env: LoaderEnv):
    entry, o = other_table(env)
    rows = lambda s, n: {**pq_rows(s, n), "day": [dt.date(2024, 1, 1 + i % 2) for i in range(n)]}
    g1 = write_parquet(env.raw / "t" / "a.parquet", rows(1, 4))
    bad = write_parquet(env.raw / "t" / "b.parquet", pq_rows(30, 2))  # no `day`
    g2 = write_parquet(env.raw / "t" / "c.parquet", rows(10, 2))
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet", partition_columns=["day"]),
                      entry])
    run_and_check(env, "t", {g1: 4, g2: 2}, bad, r"\bday\b", o)
    assert env.read("t").column("day").null_count == 0


def test_target_path_not_a_delta_table(env: LoaderEnv):
    """A table whose target directory exists and holds something else: a table-level error
    naming the path; the other tables load; the directory is left alone."""
    entry, o = other_table(env)
    write_csv(env.raw / "t" / "a.csv", csv_rows(1, 4))
    target = env.table_path("t")
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("somebody else's data\n")
    env.write_config([env.table_entry("t", "t/*.csv", "csv"), entry])
    r = env.run("run")
    assert r.rc == 1, str(r)
    lines = [l for l in r.out.splitlines() if "e2e.t" in l or str(target) in l]
    assert any(re.search(r"not a delta table", l, re.I) for l in lines), f"{lines}\n{r}"
    assert str(target) in r.out, f"the error does not name {target}\n{r}"
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"], list(target.iterdir())
    assert_loaded_exactly(env, "other", {o: 3})
    status = env.status()
    assert re.search(r"not a delta table", str(status["e2e.t"]), re.I), status["e2e.t"]


def test_failed_file_retried_until_attempts_used_up_then_fixed(env: LoaderEnv):
    entry, o = other_table(env)
    good = write_parquet(env.raw / "t" / "a.parquet", pq_rows(1, 4))
    bad = env.raw / "t" / "b.parquet"
    bad.write_bytes(b"not parquet")
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet"), entry], retry_attempts=2)
    # retry_attempts: 2 -> the first attempt and two retries, one per run.
    for attempt in (1, 2, 3):
        r = env.run("run")
        assert r.rc == 1, f"run {attempt}\n{r}"
        assert f"{bad}" in r.out, f"run {attempt} does not try/name {bad}\n{r}"
        rec = env.tracker_for("t")[str(bad)]
        assert rec["status"] == "failed" and rec["retry_count"] == attempt, (
            f"after run {attempt}: {rec}")
    # Attempts used up: not tried again, reported, and the run still exits 1 (the file is
    # not loaded).
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert re.search(r"\b1 skipped", r.stdout), r.stdout
    lines = [l for l in r.out.splitlines() if str(bad) in l]
    assert any(re.search(r"retries exhausted|retry_attempts|failed \d+ times", l) for l in lines), (
        f"exhausted file not reported:\n{r}")
    rec = env.tracker_for("t")[str(bad)]
    assert rec["status"] in ("failed", "skipped") and rec["retry_count"] == 3, rec
    st = env.status()["e2e.t"]
    assert str(bad) in {f["file"] for f in st["failures"]}, st
    # Fixing the file (new content, new mtime) loads it.
    write_parquet(bad, pq_rows(50, 6))
    bump_mtime(bad, 10)
    r = env.run("run")
    assert r.rc == 0, str(r)
    assert_loaded_exactly(env, "t", {good: 4, bad: 6})
    assert env.tracker_for("t")[str(bad)]["status"] == "completed"
    assert env.status()["e2e.t"]["failures"] == []
