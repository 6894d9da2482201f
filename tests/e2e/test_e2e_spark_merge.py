"""`loading_strategy: merge` on the Spark engine: one Spark `MERGE INTO` per batch whose commit
carries our txn and metadata. After every batch the table equals, row for row, what the DuckDB
engine merges from the same files (randomized batches with duplicates per key, ties, updates,
deletes, merge_condition, update/except_columns, when_not_matched_by_source); reruns load
nothing twice; a corrupt file or NULL keys fail their files alone."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from e2e_lib import LoaderEnv, assert_loaded_exactly, read_delta, write_csv, write_parquet
from test_e2e_merge import VARIANTS, loader_entry, random_batch, write_file
from test_e2e_spark_append import (commit_infos, commits, kill_after_commits, rows,  # noqa: F401
                                   spark_remote, write_configs)

SPARK_VARIANTS = VARIANTS  # the dv variants: a table created with deletion vectors on both


def duck_table(env: LoaderEnv, name: str):
    return read_delta(env.root / "duck" / "processed" / env.DB / name)


def run_both_and_compare(env: LoaderEnv, duck_cfg: Path, name: str, what: str, expect: int = 0):
    r = env.load(expect=expect)
    d = env.run("run", config=duck_cfg)
    assert d.rc == expect, str(d)
    ours, theirs = env.read(name), duck_table(env, name)
    assert sorted(ours.column_names) == sorted(theirs.column_names), what
    assert rows(ours) == rows(theirs), f"{what}: the Spark engine's table differs from DuckDB's"
    return r


@pytest.mark.parametrize("variant", SPARK_VARIANTS, ids=lambda v: v.name)
def test_merge_like_duckdb_batch_after_batch(env: LoaderEnv, variant):
    rng = random.Random(5)
    n_keys = rng.randint(15, 30)
    _, duck_cfg = write_configs(env, loader_entry(env, variant))
    mtime = 1_700_000_000
    for b in range(3):
        batch = random_batch(rng, variant, b, n_keys)
        for i, file_rows in enumerate(batch.files):
            mtime += 10
            write_file(env.raw / "dim" / f"b{b}_{i}.{variant.fmt}", file_rows, variant.fmt, mtime)
        run_both_and_compare(env, duck_cfg, "dim", f"{variant.name} after batch {b}")
    # One commit per batch (the first creates the table), each with our metadata and txn.
    infos = commit_infos(env, "dim")
    assert len(infos) == 3
    assert all("dataLoader" in json.loads(i["userMetadata"]) for i in infos)
    assert [i["operation"] for i in infos][1:] == ["MERGE", "MERGE"]


def test_two_runs_updates_deletes_audit_columns_exactly_once(env: LoaderEnv):
    a = write_csv(env.raw / "a.csv", "id,v,op\n1,a1,U\n2,a2,U\n2,a2b,U\n3,a3,U\n")
    b = write_csv(env.raw / "b.csv", "id,v,op\n3,b3,U\n4,b4,U\n")
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="merge", primary_keys=["id"],
                            delete_condition="op = 'D'", max_files_per_batch=1)
    _, duck_cfg = write_configs(env, entry)
    run_both_and_compare(env, duck_cfg, "t", "run 1")
    got = sorted((r["id"], r["v"]) for r in env.read("t").to_pylist())
    assert got == [(1, "a1"), (2, "a2b"), (3, "b3"), (4, "b4")]
    # Run 2: an update, a delete, a delete of an absent key, an insert.
    c = write_csv(env.raw / "c.csv", "id,v,op\n1,c1,U\n2,,D\n9,,D\n5,c5,U\n")
    run_both_and_compare(env, duck_cfg, "t", "run 2")
    got = sorted((r["id"], r["v"], r["_source_file"]) for r in env.read("t").to_pylist())
    assert got == [(1, "c1", str(c)), (3, "b3", str(b)), (4, "b4", str(b)), (5, "c5", str(c))]
    tracked = {p: r["rows_loaded"] for p, r in env.tracker_for("t").items()}
    assert tracked == {str(a): 3, str(b): 2, str(c): 2}, tracked  # inserted + updated
    version = env.version("t")
    env.load()  # nothing new: nothing merged twice
    assert env.version("t") == version
    infos = commit_infos(env)
    loaded = [f["path"] for i in infos for f in json.loads(i["userMetadata"])["dataLoader"]["sourceFiles"]]
    assert loaded == [str(a), str(b), str(c)]
    txns = [json.loads(line)["txn"] for p in sorted((env.table_path("t") / "_delta_log").glob("*.json"))
            for line in p.read_text().splitlines() if '"txn"' in line]
    assert [t["version"] for t in txns] == [1, 2, 3]


def test_merge_corrupt_file_and_null_keys_fail_their_files_alone(env: LoaderEnv):
    good = write_parquet(env.raw / "a.parquet", {"id": [1, 2], "v": ["a", "b"]})
    env.write_config([env.table_entry("t", "*.parquet", "parquet", engine="spark",
                                      loading_strategy="merge", primary_keys=["id"])],
                     retry_attempts=0)
    env.load()
    bad = env.raw / "b.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    nulls = write_parquet(env.raw / "c.parquet", {"id": [3, None], "v": ["c", "n"]})
    fine = write_parquet(env.raw / "d.parquet", {"id": [2, 4], "v": ["b2", "d"]})
    r = env.load(expect=1)
    assert str(bad) in r.out and str(nulls) in r.out, str(r)
    assert "NULL in primary_keys column 'id'" in r.out, str(r)
    tracked = env.tracker_for("t")
    assert tracked[str(bad)]["status"] == "failed" and tracked[str(nulls)]["status"] == "failed"
    assert tracked[str(fine)]["status"] == "completed" and tracked[str(good)]["status"] == "completed"
    got = sorted((r["id"], r["v"]) for r in env.read("t").to_pylist())
    assert got == [(1, "a"), (2, "b2"), (4, "d")]
    assert_loaded_exactly(env, "t", {good: 1, fine: 2})


def test_merge_condition_fragments_and_missing_keys_are_named(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,v\n1,x\n")
    # A function that means otherwise on Spark (log is base 10 on DuckDB, natural on Spark):
    # refused before anything runs, naming the key and why.
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark", loading_strategy="merge",
                                      primary_keys=["id"],
                                      merge_condition="log(source.id) > log(target.id)")])
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "tables[0].merge_condition: log() (base 10 on DuckDB, natural on Spark" in r.stderr
    assert not env.is_delta("t")
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark", loading_strategy="merge",
                                      primary_keys=["nope"])], retry_attempts=0)
    r = env.load(expect=1)
    assert "primary_keys column 'nope'" in r.out, str(r)
    assert not env.is_delta("t")


def test_quoted_names_quotes_and_backslashes_merge_like_duckdb(env: LoaderEnv):
    # The fragments are DuckDB SQL: "x" names a column, '' is a quote, a backslash is itself,
    # and LIKE has no escape character, also in a pattern built from the row. On Spark they
    # mean the same.
    entry = env.table_entry(
        "t", "*.parquet", "parquet", loading_strategy="merge", primary_keys=["id"],
        merge_condition='source."SeqNo" > target."SeqNo" AND source."Note""x" <> \'skip\'',
        delete_condition="\"Path\" = 'C:\\tmp\\it''s' OR source.\"Path\" LIKE 'D:\\%' "
                         "OR \"Path\" LIKE 'Z\\' || \"Note\"\"x\"")
    _, duck_cfg = write_configs(env, entry)

    def batch(name, rows):
        write_parquet(env.raw / name, {"id": [r[0] for r in rows], "SeqNo": [r[1] for r in rows],
                                       "Path": [r[2] for r in rows],
                                       'Note"x': [r[3] for r in rows]})

    # Deletes of absent keys (1, 2), and paths close to the deleted ones (3, 4, 5).
    batch("a.parquet", [(1, 1, "C:\\tmp\\it's", "a"), (2, 1, "D:\\x", "a"), (3, 1, "D:%", "a"),
                        (4, 1, "E:\\", "a"), (5, 1, "C:\\tmp\\its", "a"), (6, 1, "x", "a"),
                        (8, 5, "y", "a")])
    run_both_and_compare(env, duck_cfg, "t", "batch 1")
    assert sorted(r["id"] for r in env.read("t").to_pylist()) == [3, 4, 5, 6, 8]
    # 3 and 5 deleted; 4 (skip) and 8 (older) unchanged by merge_condition; 6 updated; 7 new;
    # 9 an absent delete (Z\b is its pattern, backslash and all); 10 new (Zb is not).
    batch("b.parquet", [(3, 2, "D:\\y", "b"), (4, 2, "C:\\tmp\\it's", "skip"),
                        (5, 2, "C:\\tmp\\it's", "b"), (6, 2, "D:%", "b"), (7, 1, "D:%", "b"),
                        (8, 1, "C:\\tmp\\it's", "b"), (9, 1, "Z\\b", "b"), (10, 1, "Zb", "b")])
    run_both_and_compare(env, duck_cfg, "t", "batch 2")
    got = sorted((r["id"], r["SeqNo"], r["Path"], r['Note"x']) for r in env.read("t").to_pylist())
    assert got == [(4, 1, "E:\\", "a"), (6, 2, "D:%", "b"), (7, 1, "D:%", "b"), (8, 5, "y", "a"),
                   (10, 1, "Zb", "b")]


def test_new_source_columns_like_duckdb(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,v\n1,a\n2,b\n")
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="merge", primary_keys=["id"])
    _, duck_cfg = write_configs(env, entry)
    run_both_and_compare(env, duck_cfg, "t", "run 1")
    # The column is added (its own schema commit before the MERGE), updated rows take it.
    write_csv(env.raw / "b.csv", "id,v,extra\n2,b2,x2\n3,c,x3\n")
    run_both_and_compare(env, duck_cfg, "t", "run 2")
    got = sorted((r["id"], r["v"], r["extra"]) for r in env.read("t").to_pylist())
    assert got == [(1, "a", None), (2, "b2", "x2"), (3, "c", "x3")]
    # fail_on_new_columns: the batch fails naming the column, nothing is merged.
    write_csv(env.raw / "c.csv", "id,v,extra,more\n1,a2,x1,m\n")
    env.write_config([dict(entry, engine="spark", schema_evolution_mode="fail_on_new_columns")],
                     retry_attempts=0)
    version = env.version("t")
    r = env.load(expect=1)
    assert "column more" in r.out and "not in the table schema" in r.out, str(r)
    assert env.version("t") == version


def test_sigkill_after_spark_merged_before_tracker_update(env: LoaderEnv):
    files = [write_csv(env.raw / f"f{i:02d}.csv", f"id,v\n{i % 3},v{i}\n{i + 10},w{i}\n")
             for i in range(6)]
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="merge", primary_keys=["id"],
                            max_files_per_batch=1)
    _, duck_cfg = write_configs(env, entry, max_parallel_jobs=1)
    kill_after_commits(env, 2)  # the first batch creates the table, the second MERGEs
    assert 2 <= len(commits(env)) < len(files)
    env.load()
    tracked = env.tracker_for("t")
    assert set(tracked) == {str(f) for f in files}
    assert all(t["status"] == "completed" for t in tracked.values()), tracked
    # Each file merged once: one commit per file, and the same table as DuckDB's.
    infos = commit_infos(env)
    loaded = [f["path"] for i in infos for f in json.loads(i["userMetadata"])["dataLoader"]["sourceFiles"]]
    assert sorted(loaded) == sorted(str(f) for f in files)
    d = env.run("run", config=duck_cfg)
    assert d.rc == 0, str(d)
    assert rows(env.read("t")) == rows(duck_table(env, "t"))
