"""`loading_strategy: overwrite` on the Spark engine (full, overwrite_mode: dynamic, and
replace_where): a run's new files replace the table (the partitions they hold, or the rows
matching the predicate) in one Spark write that commits with our txn and metadata; the table
equals the DuckDB engine's, run after run."""
from __future__ import annotations

import json

import pytest

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


def test_overwrite_corrupt_file_fails_alone(env: LoaderEnv):
    good = write_parquet(env.raw / "a.parquet", {"id": [1, 2]})
    bad = env.raw / "b.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    env.write_config([env.table_entry("t", "*.parquet", "parquet", engine="spark",
                                      loading_strategy="overwrite")], retry_attempts=0)
    r = env.load(expect=1)
    assert str(bad) in r.out, str(r)
    tracked = env.tracker_for("t")
    assert tracked[str(bad)]["status"] == "failed" and tracked[str(good)]["status"] == "completed", str(r)
    assert_loaded_exactly(env, "t", {good: 2})


def replace_where_entry(env: LoaderEnv, predicate: str, **extra) -> dict:
    return env.table_entry("t", "*.parquet", "parquet", loading_strategy="overwrite",
                           replace_where=predicate, **extra)


@pytest.mark.parametrize("partitioned", [False, True], ids=["data-column", "partition-column"])
def test_replace_where_runs_like_duckdb(env: LoaderEnv, partitioned):
    extra = {"partition_columns": ["day"]} if partitioned else {}
    runs = [("day = '2024-01-01'", {"id": [1, 2], "day": ["2024-01-01"] * 2, "v": ["a", "b"]}),
            ("day = '2024-01-02'", {"id": [3, 4], "day": ["2024-01-02"] * 2, "v": ["c", "d"]}),
            # Replaces the first day's rows; the second day's stay.
            ("day = '2024-01-01'", {"id": [5], "day": ["2024-01-01"], "v": ["e"]})]
    files = []
    for n, (predicate, data) in enumerate(runs):
        files.append(write_parquet(env.raw / f"r{n}.parquet", data))
        _, duck_cfg = write_configs(env, replace_where_entry(env, predicate, **extra))
        run_both_and_compare(env, duck_cfg, "t", f"run {n}")
    got = sorted((r["id"], r["day"], r["v"]) for r in env.read("t").to_pylist())
    assert got == [(3, "2024-01-02", "c"), (4, "2024-01-02", "d"), (5, "2024-01-01", "e")]
    # Each run one commit with our metadata and the next txn version; a rerun writes nothing.
    infos = commit_infos(env)
    loaded = [[f["path"] for f in json.loads(i["userMetadata"])["dataLoader"]["sourceFiles"]]
              for i in infos]
    assert loaded == [[str(f)] for f in files]
    txns = [json.loads(line)["txn"]["version"]
            for p in sorted((env.table_path("t") / "_delta_log").glob("*.json"))
            for line in p.read_text().splitlines() if '"txn"' in line]
    assert txns == [1, 2, 3]
    version = env.version("t")
    env.load()
    assert env.version("t") == version


def test_replace_where_with_quoted_names_and_backslashes_runs_like_duckdb(env: LoaderEnv):
    # DuckDB SQL: "Day" names a column, a backslash is itself, LIKE has no escape character.
    runs = [('"Day" = \'2024-01-01\'',
             {"id": [1, 2], "Day": ["2024-01-01"] * 2, "Dir": ["C:\\a", "D:\\b"]}),
            ('"Day" = \'2024-01-02\'', {"id": [3], "Day": ["2024-01-02"], "Dir": ["C:%"]}),
            # Replaces the rows under C:\ (1, not 3) with the batch's.
            ("\"Dir\" LIKE 'C:\\%'", {"id": [5], "Day": ["2024-01-03"], "Dir": ["C:\\c"]})]
    for n, (predicate, data) in enumerate(runs):
        write_parquet(env.raw / f"r{n}.parquet", data)
        _, duck_cfg = write_configs(env, replace_where_entry(env, predicate))
        run_both_and_compare(env, duck_cfg, "t", f"run {n}")
    got = sorted((r["id"], r["Day"], r["Dir"]) for r in env.read("t").to_pylist())
    assert got == [(2, "2024-01-01", "D:\\b"), (3, "2024-01-02", "C:%"), (5, "2024-01-03", "C:\\c")]
    # C:% is not under C:\ on either engine: the batch fails, its message quoting the config.
    version = env.version("t")
    write_parquet(env.raw / "r3.parquet", {"id": [6], "Day": ["2024-01-04"], "Dir": ["C:%"]})
    _, duck_cfg = write_configs(env, replace_where_entry(env, runs[2][0]), retry_attempts=0)
    r = run_both_and_compare(env, duck_cfg, "t", "run 3", expect=1)
    assert "1 of the batch's 1 rows for e2e.t violate replace_where (\"Dir\" LIKE 'C:\\%')" \
        in r.out, str(r)
    assert env.version("t") == version


def test_replace_where_batch_rows_outside_the_predicate_fail_like_duckdb(env: LoaderEnv):
    write_parquet(env.raw / "a.parquet", {"id": [1, 2], "day": ["2024-01-01", "2024-01-02"]})
    _, duck_cfg = write_configs(env, replace_where_entry(env, "day >= '2024-01-01'"),
                                retry_attempts=0)
    run_both_and_compare(env, duck_cfg, "t", "run 1")
    version = env.version("t")
    # A row where the predicate is FALSE and one where it is NULL: the batch fails, nothing is
    # written, on both engines alike.
    bad = write_parquet(env.raw / "b.parquet", {"id": [3, 4, 5],
                                                "day": ["2024-01-03", "2023-12-31", None]})
    r = run_both_and_compare(env, duck_cfg, "t", "run 2", expect=1)
    assert "2 of the batch's 3 rows for e2e.t violate replace_where" in r.out, str(r)
    assert env.version("t") == version
    assert env.tracker_for("t")[str(bad)]["status"] == "failed"


def test_replace_where_fragments_are_checked(env: LoaderEnv):
    write_parquet(env.raw / "a.parquet", {"id": [1], "day": ["2024-01-01"]})
    # An E'...' string has no Spark spelling here: refused before anything runs.
    env.write_config([replace_where_entry(env, "day = E'x'", engine="spark")])
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2 and "tables[0].replace_where: an E'...' string" in r.stderr, str(r)
    # ^ is power on DuckDB and XOR on Spark: refused naming what to write instead.
    env.write_config([replace_where_entry(env, "id ^ 2 = 1", engine="spark")])
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "tables[0].replace_where: `^` (power on DuckDB, XOR on Spark; write the product" \
            in r.stderr, str(r)
    # A column the data lacks: the batch fails naming the key, nothing is written.
    env.write_config([replace_where_entry(env, "nope = 1", engine="spark")], retry_attempts=0)
    r = env.load(expect=1)
    assert "replace_where of e2e.t does not fit the data" in r.out, str(r)
    assert not env.is_delta("t")
