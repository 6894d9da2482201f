"""`loading_strategy: append` with dedup on the Spark engine: the same rows as the DuckDB
engine loads from the same files (the first delivery of each key wins, or the highest
sequence_column; rows whose key the table holds are dropped), across runs and batches,
exactly once."""
from __future__ import annotations

import json
from pathlib import Path

from e2e_lib import LoaderEnv, assert_loaded_exactly, write_csv, write_jsonl, write_parquet
from test_e2e_spark_append import commit_infos, rows, spark_remote, write_configs  # noqa: F401


def run_both(env: LoaderEnv, duck_cfg: Path, expect: int = 0):
    """One run on each engine; the two tables (and trackers' row counts) are equal."""
    spark_run = env.load(expect=expect)
    r = env.run("run", config=duck_cfg)
    assert r.rc == expect, str(r)
    duck_root = env.root / "duck" / "processed"
    from e2e_lib import read_delta
    duck_table = read_delta(duck_root / env.DB / "t")
    spark_table = env.read("t")
    assert sorted(spark_table.column_names) == sorted(duck_table.column_names)
    assert rows(spark_table) == rows(duck_table)
    return spark_run


def tracked_rows(env: LoaderEnv) -> dict[str, int]:
    return {p: r["rows_loaded"] for p, r in env.tracker_for("t").items()}


def test_dedup_keys_first_delivery_wins_within_and_across_batches_like_duckdb(env: LoaderEnv):
    f1 = write_csv(env.raw / "a.csv", "id,v\n1,first1\n2,first2\n2,dup2\n3,first3\n")
    f2 = write_csv(env.raw / "b.csv", "id,v\n3,dup3\n4,first4\n4,dup4\n")
    f3 = write_csv(env.raw / "c.csv", "id,v\n5,first5\n1,dup1\n")
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.csv", "csv", dedup_keys=["id"],
                                                     max_files_per_batch=2))
    run_both(env, duck_cfg)
    got = sorted((r["id"], r["v"]) for r in env.read("t").to_pylist())
    assert got == [(i, f"first{i}") for i in range(1, 6)]
    assert tracked_rows(env) == {str(f1): 3, str(f2): 1, str(f3): 1}
    # Run 2: keys the table holds are dropped, one copy of each new key is kept.
    f4 = write_csv(env.raw / "d.csv", "id,v\n4,dup4\n6,first6\n6,dup6\n1,dup1\n")
    run_both(env, duck_cfg)
    got = sorted((r["id"], r["v"]) for r in env.read("t").to_pylist())
    assert got == [(i, f"first{i}") for i in range(1, 7)]
    assert tracked_rows(env)[str(f4)] == 1
    version = env.version("t")
    env.load()  # nothing new: nothing loaded twice
    assert env.version("t") == version
    assert_loaded_exactly(env, "t", {f1: 3, f2: 1, f3: 1, f4: 1})
    # Each batch is one Spark commit with our metadata.
    infos = commit_infos(env)
    assert len(infos) == 3 and all("dataLoader" in json.loads(i["userMetadata"]) for i in infos)


def test_sequence_column_and_primary_keys_on_parquet_like_duckdb(env: LoaderEnv):
    write_parquet(env.raw / "a.parquet", {"id": [1, 1, 2, 2, 3], "seq": [1, 3, 5, None, None],
                                          "v": ["a1", "a3", "b5", "bnull", "c"]})
    write_parquet(env.raw / "b.parquet", {"id": [1, 3], "seq": [3, 9], "v": ["late1", "c9"]})
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.parquet", "parquet", dedup=True,
                                                     primary_keys=["id"], sequence_column="seq"))
    run_both(env, duck_cfg)
    got = sorted((r["id"], r["v"]) for r in env.read("t").to_pylist())
    # The highest seq wins (NULLs last); on a tie the first delivered.
    assert got == [(1, "a3"), (2, "b5"), (3, "c9")]


def test_whole_row_dedup_on_json_with_nulls_like_duckdb(env: LoaderEnv):
    write_jsonl(env.raw / "a.json", [{"id": 1, "v": "x"}, {"id": 1, "v": "x"},
                                     {"id": 2, "v": None}, {"id": 2, "v": None},
                                     {"id": 3, "v": "y"}])
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.json", "json", dedup=True,
                                                     json_options={"format": "lines"}))
    run_both(env, duck_cfg)
    assert env.read("t").num_rows == 3
    # Whole rows the table holds (NULLs equal) are dropped in the next run.
    write_jsonl(env.raw / "b.json", [{"id": 2, "v": None}, {"id": 3, "v": "z"}])
    run_both(env, duck_cfg)
    got = sorted((r["id"], r["v"] or "") for r in env.read("t").to_pylist())
    assert got == [(1, "x"), (2, ""), (3, "y"), (3, "z")]


def test_dedup_corrupt_file_fails_alone_and_missing_key_is_named(env: LoaderEnv):
    good = write_parquet(env.raw / "a.parquet", {"id": [1, 1, 2], "v": ["a", "b", "c"]})
    bad = env.raw / "b.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    env.write_config([env.table_entry("t", "*.parquet", "parquet", engine="spark",
                                      dedup_keys=["id"])], retry_attempts=0)
    r = env.load(expect=1)
    assert str(bad) in r.stderr, str(r)
    tracked = env.tracker_for("t")
    assert tracked[str(bad)]["status"] == "failed"
    assert tracked[str(good)]["status"] == "completed" and tracked[str(good)]["rows_loaded"] == 2
    assert_loaded_exactly(env, "t", {good: 2})
    # A dedup key the files lack fails the batch naming the key and the column.
    write_parquet(env.raw / "c.parquet", {"id": [5], "v": ["e"]})
    env.write_config([env.table_entry("t", "c.parquet", "parquet", engine="spark",
                                      dedup_keys=["nope"])], retry_attempts=0)
    r = env.load(expect=1)
    assert "dedup_keys column 'nope'" in r.out, str(r)
