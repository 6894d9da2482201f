"""`loading_strategy: overwrite` on the Spark engine (full, and overwrite_mode: dynamic): a
run's new files replace the table (or the partitions they hold) in one Spark write that
commits with our txn and metadata; the table equals the DuckDB engine's, run after run."""
from __future__ import annotations

import json

from e2e_lib import LoaderEnv, assert_loaded_exactly, write_csv, write_parquet
from test_e2e_spark_append import commit_infos, spark_remote, write_configs  # noqa: F401
from test_e2e_spark_merge import run_both_and_compare


def test_full_overwrite_two_runs_like_duckdb(env: LoaderEnv):
    a = write_csv(env.raw / "a.csv", "id,v\n1,a\n2,b\n")
    b = write_csv(env.raw / "b.csv", "id,v\n3,c\n")
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.csv", "csv",
                                                     loading_strategy="overwrite"))
    run_both_and_compare(env, duck_cfg, "t", "run 1")
    assert_loaded_exactly(env, "t", {a: 2, b: 1})
    c = write_csv(env.raw / "c.csv", "id,v\n4,d\n5,e\n")
    run_both_and_compare(env, duck_cfg, "t", "run 2")
    assert_loaded_exactly(env, "t", {c: 2})  # the run's new files replaced the table
    version = env.version("t")
    env.load()  # nothing new: the table stays
    assert env.version("t") == version
    infos = commit_infos(env)
    assert len(infos) == 2 and all("dataLoader" in json.loads(i["userMetadata"]) for i in infos)
    assert {p: r["rows_loaded"] for p, r in env.tracker_for("t").items()} == {
        str(a): 2, str(b): 1, str(c): 2}


def test_dynamic_partition_overwrite_like_duckdb(env: LoaderEnv):
    write_parquet(env.raw / "a.parquet", {"id": [1, 2, 3], "region": ["eu", "us", "eu"]})
    entry = env.table_entry("t", "*.parquet", "parquet", loading_strategy="overwrite",
                            overwrite_mode="dynamic", partition_columns=["region"])
    _, duck_cfg = write_configs(env, entry)
    run_both_and_compare(env, duck_cfg, "t", "run 1")
    # Only the partition the new file holds is replaced.
    write_parquet(env.raw / "b.parquet", {"id": [7], "region": ["eu"]})
    run_both_and_compare(env, duck_cfg, "t", "run 2")
    got = sorted((r["id"], r["region"]) for r in env.read("t").to_pylist())
    assert got == [(2, "us"), (7, "eu")]


def test_overwrite_corrupt_file_fails_alone_and_replace_where_is_refused(env: LoaderEnv):
    good = write_parquet(env.raw / "a.parquet", {"id": [1, 2]})
    bad = env.raw / "b.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    env.write_config([env.table_entry("t", "*.parquet", "parquet", engine="spark",
                                      loading_strategy="overwrite")], retry_attempts=0)
    r = env.load(expect=1)
    assert str(bad) in r.out, str(r)
    tracked = env.tracker_for("t")
    assert tracked[str(bad)]["status"] == "failed" and tracked[str(good)]["status"] == "completed"
    assert_loaded_exactly(env, "t", {good: 2})
    env.write_config([env.table_entry("t", "*.parquet", "parquet", engine="spark",
                                      loading_strategy="overwrite", replace_where="id > 0")])
    r = env.run("validate")
    assert r.rc == 2 and "tables[0].replace_where:" in r.stderr, str(r)
