"""`loading_strategy: append` on the Spark engine through build/data_loader, against the
session's local Spark Connect server (the `spark_connect` fixture): each batch is one Spark
command that writes and commits (Delta's txnAppId/txnVersion/userMetadata), loaded exactly
once across reruns and a SIGKILL between Spark's commit and our tracker update; the table
equals what the DuckDB engine loads from the same files, and our reader and DuckDB read it."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from e2e_lib import (LoaderEnv, assert_loaded_exactly, csv_rows, read_delta, run_together,
                     wait_for, write_csv, write_parquet)

IGNORED = {"_load_timestamp", "_batch_id"}  # differ between any two loads


@pytest.fixture(autouse=True)
def spark_remote(spark_connect, monkeypatch):
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLUSTER_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPARK_REMOTE", spark_connect.remote)
    return spark_connect


def write_configs(env: LoaderEnv, entry: dict, **globals_) -> tuple[Path, Path]:
    """The same table on Spark (env's dirs) and on DuckDB (dirs of its own)."""
    duck = env.root / "duck"
    duck_cfg = env.root / "duck.yaml"
    env.write_config([dict(entry, engine="duckdb")], processed_data_path=str(duck / "processed"),
                     checkpoint_path=str(duck / "checkpoints"), **globals_)
    env.config_path.rename(duck_cfg)
    env.write_config([dict(entry, engine="spark")], **globals_)
    return env.config_path, duck_cfg


def rows(table) -> list[dict]:
    out = [{k: v for k, v in r.items() if k not in IGNORED} for r in table.to_pylist()]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def assert_same_as_duckdb(env: LoaderEnv, duck_cfg: Path, name: str = "t"):
    r = env.run("run", config=duck_cfg)
    assert r.rc == 0, str(r)
    spark_table = env.read(name)
    duck_table = read_delta(env.root / "duck" / "processed" / env.DB / name)
    assert sorted(spark_table.column_names) == sorted(duck_table.column_names)
    assert rows(spark_table) == rows(duck_table)


def commits(env: LoaderEnv, name: str = "t") -> list[Path]:
    log = env.table_path(name) / "_delta_log"
    return sorted(log.glob("*.json")) if log.is_dir() else []


def commit_infos(env: LoaderEnv, name: str = "t") -> list[dict]:
    out = []
    for c in commits(env, name):
        for line in c.read_text().splitlines():
            action = json.loads(line)
            if "commitInfo" in action:
                out.append(action["commitInfo"])
    return out


def kill_after_commits(env: LoaderEnv, n: int, name: str = "t") -> None:
    """`run`, SIGKILLed once the Spark table has `n` commits; then waits until its log is quiet:
    the batch Spark was running when we died may still commit (or be cancelled) on the server,
    and a rerun must plan against a settled table."""
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(commits(env, name)) >= n or p.poll() is not None, 300, 0.002,
                 f"Spark's commit {n}")
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == -signal.SIGKILL, "the run ended before it was killed"
    settled = {"n": -1, "since": time.monotonic()}

    def quiet() -> bool:
        count = len(commits(env, name))
        if count != settled["n"]:
            settled.update(n=count, since=time.monotonic())
        return time.monotonic() - settled["since"] > 5
    wait_for(quiet, 120, 0.2, "the Spark table's log to settle")


def test_two_runs_load_exactly_once_like_duckdb(env: LoaderEnv):
    files = {write_csv(env.raw / f"f{i}.csv", csv_rows(i * 100, 5, f"f{i}")): 5 for i in range(3)}
    parquet = write_parquet(env.raw / "p.parquet", {"id": [7, 8], "v": ["a", "b"]})
    spark_cfg, duck_cfg = write_configs(
        env, env.table_entry("t", "*.csv", "csv", max_files_per_batch=2))
    env.load()
    assert_loaded_exactly(env, "t", files)
    tracked = env.tracker_for("t")
    assert {str(f) for f in files} == set(tracked), tracked
    assert all(r["status"] == "completed" and r["rows_loaded"] == 5 for r in tracked.values())
    # Each batch is one Spark commit carrying our metadata and a txn.
    infos = commit_infos(env)
    assert len(infos) == 2 and all(i.get("engineInfo", "").startswith("Apache-Spark") for i in infos)
    loaded = [f["path"] for i in infos for f in json.loads(i["userMetadata"])["dataLoader"]["sourceFiles"]]
    assert sorted(loaded) == sorted(str(f) for f in files)
    version = env.version("t")
    env.load()  # nothing new: no commit, no duplicate
    assert env.version("t") == version
    assert_loaded_exactly(env, "t", files)
    assert_same_as_duckdb(env, duck_cfg)
    assert parquet.exists()


def test_parquet_partitioned_like_duckdb_and_readable_by_our_reader_and_duckdb(env: LoaderEnv):
    write_parquet(env.raw / "a.parquet", {"id": [1, 2, 3], "region": ["eu", "us", "eu"]})
    write_parquet(env.raw / "b.parquet", {"id": [4], "region": ["us"]})
    _, duck_cfg = write_configs(env, env.table_entry("t", "*.parquet", "parquet",
                                                     partition_columns=["region"]))
    env.load()
    assert_same_as_duckdb(env, duck_cfg)
    root = env.table_path("t")
    scan = subprocess.run([env.bin, "table", "scan", str(root), "--format", "jsonl",
                           "--order-by", "id"], capture_output=True, text=True, timeout=120)
    assert scan.returncode == 0, scan.stderr
    got = [json.loads(line) for line in scan.stdout.splitlines() if line.strip()]
    assert [(r["id"], r["region"], r["_source_file"]) for r in got] == [
        (1, "eu", str(env.raw / "a.parquet")), (2, "us", str(env.raw / "a.parquet")),
        (3, "eu", str(env.raw / "a.parquet")), (4, "us", str(env.raw / "b.parquet"))]
    con = duckdb.connect()
    n = con.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning=true)",
                    [str(root / "**" / "*.parquet")]).fetchone()[0]
    assert n == 4  # the data files as DuckDB reads them
    assert read_delta(root).num_rows == 4  # delta-rs / DuckDB's delta_scan


def test_sigkill_after_spark_committed_before_tracker_update(env: LoaderEnv):
    files = {write_csv(env.raw / f"f{i:02d}.csv", csv_rows(i * 100, 3, f"f{i}")): 3
             for i in range(8)}
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark",
                                      max_files_per_batch=1)], max_parallel_jobs=1)
    # The tracker is written every 10 s or at the end: a kill right after Spark's first commit
    # leaves that commit unknown to the tracker.
    kill_after_commits(env, 1)
    assert 1 <= len(commits(env)) < len(files)
    tracker_log = env.tracker_path / "_delta_log"
    assert not tracker_log.exists() or not env.tracker_for("t"), "the tracker knew already"
    r = env.load()
    assert_loaded_exactly(env, "t", files)
    tracked = env.tracker_for("t")
    assert set(tracked) == {str(f) for f in files}
    assert all(t["status"] == "completed" for t in tracked.values()), tracked
    assert r.rc == 0


def test_a_corrupt_file_fails_by_name_and_the_rest_loads(env: LoaderEnv):
    good = write_parquet(env.raw / "a.parquet", {"id": [1, 2]})
    bad = env.raw / "b.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all PAR1")
    env.write_config([env.table_entry("t", "*.parquet", "parquet", engine="spark")],
                     retry_attempts=0)
    r = env.load(expect=1)
    assert str(bad) in r.stderr, str(r)
    tracked = env.tracker_for("t")
    assert tracked[str(bad)]["status"] == "failed" and str(bad) in tracked[str(bad)]["error_message"]
    assert tracked[str(good)]["status"] == "completed"
    assert_loaded_exactly(env, "t", {good: 2})
    # The failed attempt committed nothing: one commit, the good file's.
    infos = commit_infos(env)
    assert len(infos) == 1
    assert [f["path"] for f in json.loads(infos[0]["userMetadata"])["dataLoader"]["sourceFiles"]] \
        == [str(good)]


@pytest.mark.parametrize("extra,key", [
    ({"loading_strategy": "overwrite", "replace_where": "v = E'x'"}, "tables[0].replace_where"),
])
def test_what_spark_cannot_do_yet_is_refused_naming_the_key(env: LoaderEnv, extra, key):
    write_csv(env.raw / "a.csv", "id,v\n1,x\n")
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark", **extra)])
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert f"{key}:" in r.stderr and "not yet supported on the spark engine" in r.stderr, str(r)
    assert not env.processed.exists() or not any(env.processed.iterdir())


def test_file_names_with_glob_characters_and_spaces(env: LoaderEnv):
    # Spark globs the paths it is given: [ ] { } * ? in a file name must reach it escaped, and
    # the file's URI (spaces %-escaped) must map back to its path.
    files = {write_csv(env.raw / "a [1] {x}.csv", csv_rows(1, 2)): 2,
             write_csv(env.raw / "b%20c.csv", csv_rows(10, 3)): 3,
             write_csv(env.raw / "[1].csv", csv_rows(20, 1)): 1}
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark")])
    env.load()
    assert_loaded_exactly(env, "t", files)
    assert {p: r["rows_loaded"] for p, r in env.tracker_for("t").items()} == {
        str(f): n for f, n in files.items()}


def test_two_loaders_started_together_load_each_file_once(env: LoaderEnv):
    # Both plan every file and take the same txn versions: Delta refuses or skips the loser's
    # commits (a lost race, retried with the next version); every row lands once.
    files = {write_csv(env.raw / f"f{i:02d}.csv", csv_rows(i * 100, 4, f"f{i}")): 4
             for i in range(8)}
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark",
                                      max_files_per_batch=2)], retry_attempts=8)
    outs, report = run_together([env.cmd("run"), env.cmd("run")], timeout=300)
    assert_loaded_exactly(env, "t", files)
    assert all(rc == 0 for rc, _, _ in outs), report
    env.load()  # files the other loader committed are recorded by reconciliation
    tracked = env.tracker_for("t")
    assert set(tracked) == {str(f) for f in files}, report
    assert all(t["status"] == "completed" for t in tracked.values()), report


def data_file_bounds(env: LoaderEnv, name: str = "t") -> list[tuple[str, str, int]]:
    """(min, max, numRecords) of the source-file column in each data file the log adds (its
    physical name when the table maps columns)."""
    out, physical = [], "_source_file"
    for c in commits(env, name):
        for line in c.read_text().splitlines():
            action = json.loads(line)
            if "metaData" in action:
                for f in json.loads(action["metaData"]["schemaString"])["fields"]:
                    if f["name"] == "_source_file":
                        physical = f["metadata"].get("delta.columnMapping.physicalName", physical)
            if "add" in action:
                stats = json.loads(action["add"]["stats"])
                out.append((stats["minValues"][physical], stats["maxValues"][physical],
                            stats["numRecords"]))
    return out


@pytest.mark.parametrize("mapping", [False, True], ids=["plain", "column_mapping"])
def test_rows_per_file_come_from_the_commit_or_the_written_files(env: LoaderEnv, mapping):
    # A plain append counts no rows before its write. Files of 4 MiB or more are read one
    # per Spark task, so each data file holds one source file, and its stats (whole paths, not
    # Delta's 32-character cut) give that file's rows; smaller files are packed into shared
    # data files, counted in those files after the commit (by physical column name when the
    # table maps columns).
    import random
    rng = random.Random(7)
    deep = env.raw / ("a_directory_name_long_enough_to_pass_32_characters" * 2)
    large = {}
    for i, n in enumerate((600_000, 650_000)):
        ids = [rng.getrandbits(62) for _ in range(n)]
        large[write_parquet(deep / f"large_{i}.parquet", {"id": ids, "v": ids})] = n
    assert all(f.stat().st_size >= 4 << 20 for f in large), [f.stat().st_size for f in large]
    small = {write_parquet(deep / f"small_{i}.parquet", {"id": [i, i + 1], "v": [i, i]}): 2
             for i in range(3)}
    extra = {"table_properties": {"delta.columnMapping.mode": "name"}} if mapping else {}
    env.write_config([env.table_entry("t", "**/large_*.parquet", "parquet", engine="spark",
                                      **extra),
                      env.table_entry("s", "**/small_*.parquet", "parquet", engine="spark",
                                      **extra)])
    env.load()
    for name, files in (("t", large), ("s", small)):
        if mapping:  # delta-rs 1.6 and DuckDB's delta_scan cannot read Spark's column-mapped
            # tables (NULL columns; "writer features must be ... reader features"): ours reads it
            out = env.root / f"{name}.jsonl"
            r = env.run("table", "scan", str(env.table_path(name)), "--columns", "_source_file",
                        "--output", str(out), config=False)
            assert r.rc == 0, str(r)
            got: dict[str, int] = {}
            for line in out.read_text().splitlines():
                f = json.loads(line)["_source_file"]
                got[f] = got.get(f, 0) + 1
            assert got == {str(f): n for f, n in files.items()}, name
        else:
            assert_loaded_exactly(env, name, files)
        assert {p: r["rows_loaded"] for p, r in env.tracker_for(name).items()} == {
            str(f): n for f, n in files.items()}, name
    # One source file per data file, named whole in the stats, for the large files ...
    assert sorted(data_file_bounds(env, "t")) == sorted((str(f), str(f), n)
                                                         for f, n in large.items())
    # ... and a data file holding more than one of the small ones.
    assert any(lo != hi for lo, hi, _ in data_file_bounds(env, "s"))


def test_a_count_that_fails_after_the_commit_leaves_the_batch_loaded(env: LoaderEnv):
    # Packed small files are counted in the written data files after the commit. If that count
    # fails (here the data files are gone when it runs), the batch is still the commit that
    # holds it: loaded, with a warning, its rows unknown; a rerun loads nothing again.
    import os
    files = [write_csv(env.raw / f"f{i}.csv", csv_rows(i * 10, 3)) for i in range(3)]
    env.write_config([env.table_entry("t", "*.csv", "csv", engine="spark")])
    release = env.root / "release"
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True,
                         env={**os.environ, "DL_TEST_PAUSE_AFTER_REMOTE_COMMIT": str(release)})
    try:
        wait_for(lambda: Path(f"{release}.waiting").exists() or p.poll() is not None, 300, 0.05,
                 "the run to hold after Spark's commit")
        assert p.poll() is None, p.communicate()
        data = list(env.table_path("t").glob("*.parquet"))
        assert data and any(lo != hi for lo, hi, _ in data_file_bounds(env))
        for f in data:
            f.unlink()
        release.touch()
        out, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, f"{out}\n{err}"
    assert "rows per file not counted" in err and "counting the rows of the" in err, err
    assert "3 files loaded" in out, out
    tracked = env.tracker_for("t")
    assert set(tracked) == {str(f) for f in files}
    assert all(r["status"] == "completed" and r["rows_loaded"] is None for r in tracked.values())
    assert len(commits(env)) == 1
    r = env.load()
    assert "0 files loaded" in r.stdout and len(commits(env)) == 1, str(r)
