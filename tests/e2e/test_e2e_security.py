"""Config SQL fragments and the engine lock-down (issue 12): escape attempts through
merge_condition / delete_condition / replace_where / table --where are refused as config or
usage errors (exit 2) naming the key and the offending part, before any work; the engine
itself refuses files outside the locations the config names."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from e2e_lib import LoaderEnv, csv_rows, write_csv, write_parquet

SECRET = "TOPSECRET_7f3a"
DEEP = "abs(" * 100 + "source.id" + ")" * 100 + " > 0"
LONG = "source.id = 1 OR " * 300 + "true"

# (key, fragment, a part of the refusal naming what is wrong)
ESCAPES = [
    ("merge_condition",
     "source.id = CAST((SELECT content FROM read_text('/etc/hostname')) AS INTEGER)", "subquery"),
    ("merge_condition", "source.id IN (SELECT id FROM read_csv('/etc/passwd'))", "subquery"),
    ("merge_condition", "source.id = (SELECT count(*) FROM read_parquet('/x.parquet'))",
     "subquery"),
    ("merge_condition", "length(read_text('/etc/hostname')) > source.id", "function read_text"),
    ("merge_condition", "read_csv('/etc/passwd') IS NULL", "function read_csv"),
    ("merge_condition", "read_parquet('/x/*.parquet') IS NULL", "function read_parquet"),
    ("merge_condition", "len(glob('/etc/*')) > source.id", "function glob"),
    ("merge_condition", "getenv('HOME') = source.name", "function getenv"),
    ("merge_condition", "current_setting('temp_directory') = source.name",
     "function current_setting"),
    ("merge_condition", "source.id = 1) FROM read_text('/etc/hostname') --",
     "must be one expression"),
    ("merge_condition", "source.id = 1; ATTACH '/tmp/x.db' AS x", "not a single SQL expression"),
    ("merge_condition", "source.id = 1; COPY (SELECT 1) TO '/tmp/x.csv'",
     "not a single SQL expression"),
    ("merge_condition", "source.id = 1; PRAGMA threads=1", "not a single SQL expression"),
    ("merge_condition", "source.id = 1; SET enable_external_access = true",
     "not a single SQL expression"),
    ("merge_condition", "source.id = 1; INSTALL httpfs; LOAD httpfs",
     "not a single SQL expression"),
    ("merge_condition", "source.id = 1 --", "not a single SQL expression"),
    ("merge_condition", "source.id = 1 /* unterminated", "not a single SQL expression"),
    ("merge_condition", "source.id = 1) OR (1 = 1", "closes a parenthesis"),
    ("merge_condition", "source.name = 'x') FROM read_text('/etc/hostname') --",
     "must be one expression"),
    ("merge_condition", "source.name = $$x$$ || (SELECT content FROM read_text('/etc/hostname'))",
     "subquery"),
    ("merge_condition", "source.name = U&'\\0061'", "not a single SQL expression"),
    ("merge_condition", "source.name = E'\\x41' || getenv('HOME')", "function getenv"),
    ("merge_condition", "source.id = my_macro(1)", "function my_macro"),
    ("merge_condition",
     "list_apply([1], x -> (SELECT content FROM read_text('/etc/hostname'))) IS NOT NULL",
     "function list_apply"),
    ("merge_condition", "source.name = (FROM query('SELECT 1'))", "subquery"),
    ("merge_condition", "source.id = getvariable('x')", "function getvariable"),
    ("merge_condition", "source.name = user", "reads the session"),
    ("merge_condition", "source.id::my_enum = 'x'", "cast to USER"),
    ("merge_condition", "id = 1", "must be written source.id or target.id"),
    ("merge_condition", DEEP, "deeper than 64"),
    ("merge_condition", LONG, "at most 4096"),
    ("delete_condition", "op IN (SELECT 'D')", "subquery"),
    ("delete_condition", "target.op = 'D'", "names the target"),
    ("delete_condition", "op = getenv('USER')", "function getenv"),
    ("replace_where", "day = (SELECT max(day) FROM read_parquet('/etc/*.parquet'))", "subquery"),
    ("replace_where", "day = current_setting('threads')", "function current_setting"),
]


def config_with(env: LoaderEnv, key: str, fragment: str) -> Path:
    """A one-table config (JSON, so any fragment text survives) with `key: fragment`."""
    if key == "replace_where":
        entry = env.table_entry("t", "t/*.csv", "csv", loading_strategy="overwrite",
                                partition_columns=["day"])
    else:
        entry = env.table_entry("t", "t/*.csv", "csv", loading_strategy="merge",
                                primary_keys=["id"])
    entry[key] = fragment
    env.config_path.write_text(json.dumps(env.config_dict([entry])))
    return env.config_path


@pytest.mark.parametrize("key,fragment,why", ESCAPES, ids=[f"{k}-{i}" for i, (k, _, _) in
                                                          enumerate(ESCAPES)])
def test_validate_refuses_escape(env: LoaderEnv, key: str, fragment: str, why: str):
    config_with(env, key, fragment)
    r = env.run("validate")
    assert r.rc == 2, str(r)
    assert f"tables[0] (e2e.t).{key}: " in r.stderr, str(r)
    assert why in r.stderr, str(r)


@pytest.mark.parametrize("fragment", [ESCAPES[0][1], ESCAPES[9][1], ESCAPES[21][1]])
def test_run_refuses_escape_before_any_work(env: LoaderEnv, fragment: str):
    secret = env.root / "secret.txt"
    secret.write_text(SECRET + "\n")
    write_csv(env.raw / "t" / "a.csv", "id,name,op\n1,a,U\n")
    config_with(env, "merge_condition", fragment.replace("/etc/hostname", str(secret)))
    r = env.run("run")
    assert r.rc == 2, str(r)
    assert "merge_condition" in r.stderr, str(r)
    assert SECRET not in r.out, str(r)
    assert not env.processed.exists() or not any(env.processed.rglob("*")), str(r)


def test_legitimate_fragments_still_load(env: LoaderEnv):
    """merge_condition and delete_condition as the docs write them, over two batches."""
    write_csv(env.raw / "t" / "a.csv", "id,name,op,seq\n1,a,U,1\n2,b,U,1\n")
    entry = env.table_entry("t", "t/*.csv", "csv", loading_strategy="merge", primary_keys=["id"],
                            merge_condition="source.seq > target.seq", delete_condition="op = 'D'")
    env.write_config([entry])
    assert env.run("validate").rc == 0
    env.load()
    write_csv(env.raw / "t" / "b.csv", "id,name,op,seq\n1,stale,U,0\n2,b,D,2\n")
    env.load()
    rows = env.read("t").to_pylist()
    assert [(r["id"], r["name"]) for r in rows] == [(1, "a")], rows


def test_table_where_escapes_are_refused(env: LoaderEnv):
    write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3))
    env.write_config([env.table_entry("t", "t/*.csv", "csv")])
    env.load()
    path = str(env.table_path("t"))
    version = env.version("t")
    for verb in ("scan", "delete"):
        for where in ("id = (SELECT 1)", "getenv('HOME') IS NOT NULL",
                      "id = 1) FROM read_text('/etc/hostname') --"):
            r = env.run("table", verb, path, "--where", where, config=False)
            assert r.rc == 2, str(r)
            assert "--where: " in r.stderr, str(r)
    assert env.version("t") == version
    r = env.run("table", "scan", path, "--where", "id % 2 = 1", config=False)
    assert r.rc == 0, str(r)
    assert len(r.stdout.strip().splitlines()) == 3, str(r)  # header + ids 1 and 3
    out = env.root / "out.csv"
    for _ in range(2):  # the locked engine may write the --output file, also over itself
        r = env.run("table", "scan", path, "--output", out, config=False)
        assert r.rc == 0, str(r)
    assert len(out.read_text().strip().splitlines()) == 4


def test_engine_refuses_a_data_file_outside_the_allowed_locations(env: LoaderEnv):
    """Even if a path got through (here: a Delta source's log naming an absolute file
    elsewhere), the locked engine refuses to read it and nothing of it is loaded."""
    source = env.root / "src"
    write_deltalake(str(source), pa.table({"id": [1], "v": ["ok"]}))
    outside = write_parquet(env.root / "outside" / "x.parquet", {"id": [2], "v": [SECRET]})
    log = source / "_delta_log" / "00000000000000000000.json"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    for action in lines:
        if "add" in action:
            action["add"]["path"] = "file://" + str(outside)
            action["add"]["size"] = outside.stat().st_size
            action["add"].pop("stats", None)
    log.write_text("\n".join(json.dumps(a) for a in lines) + "\n")
    entry = env.table_entry("t", "unused", "delta")
    entry["source_path_pattern"] = str(source)
    env.write_config([entry])
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert "disabled by configuration" in r.out, str(r)
    assert SECRET not in r.out, str(r)
    assert not env.is_delta("t") or SECRET not in str(env.read("t").to_pylist())


def test_engine_error_text_is_bounded(env: LoaderEnv):
    """A failing file's error keeps at most 1000 characters in the tracker and the log."""
    long_value = "x" * 5000
    write_csv(env.raw / "t" / "a.csv", "id,name\n1,a\n")
    env.write_config([env.table_entry("t", "t/*.csv", "csv", csv_options={
        "columns": {"id": "BIGINT", "name": "VARCHAR"}})])
    env.load()
    write_csv(env.raw / "t" / "b.csv", f"id,name\n{long_value},b\n")
    r = env.run("run")
    assert r.rc == 1, str(r)
    error = env.tracker_for("t")[str(env.raw / "t" / "b.csv")]["error_message"]
    assert len(error) <= 1000 + len("...(truncated)"), len(error)
    assert error.endswith("...(truncated)"), error
    assert long_value not in r.out
