"""`file_format: delta` on the Spark engine: a Delta table (written by delta-rs) as the source,
each run loading the data files its new versions added. Spark reads them as parquet with the
source's columns, partition values taken from the log. Spark's commit carries the table's own
txn (two loaders planning from the same table state collide: one write is skipped) and the
source version loaded in its userMetadata; our txn-only commit of `data_loader/source/<id>`
follows it (rolled forward by the next run after a SIGKILL in between). Reruns, a SIGKILL and
two loaders planning different source versions load nothing twice. Each table equals the
DuckDB engine's, loaded from the same source versions."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from e2e_lib import LoaderEnv, stop_process, wait_for, write_csv
from test_e2e_spark_append import (commit_infos, commits, rows, spark_remote,  # noqa: F401
                                   write_configs)
from test_e2e_spark_merge import duck_table

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64()),
                    ("region", pa.string()), ("day", pa.date32())])


def version_rows(ids: list[int], tag: str, regions: list) -> pa.Table:
    day = dt.date(2024, 1, 1)
    return pa.table({"id": ids, "name": [f"{tag}{i}" for i in ids],
                     "amount": [i * 1.5 for i in ids],
                     "region": [regions[i % len(regions)] for i in range(len(ids))],
                     "day": [day + dt.timedelta(days=i % 2) for i in ids]}, schema=SCHEMA)


def source_entry(env: LoaderEnv, name: str, source, **extra) -> dict:
    entry = env.table_entry(name, "unused", "delta", **extra)
    entry["source_path_pattern"] = str(source)
    return entry


def txns(env: LoaderEnv, name: str) -> list[dict]:
    out = []
    for c in commits(env, name):
        out += [json.loads(line)["txn"] for line in c.read_text().splitlines()
                if line.strip() and "txn" in json.loads(line)]
    return out


def source_txns(env: LoaderEnv, name: str) -> list[int]:
    """The versions our commits recorded as the source's txn, in log order."""
    return [t["version"] for t in txns(env, name)
            if t["appId"].startswith("data_loader/source/")]


def spark_commits(env: LoaderEnv, name: str) -> list[dict]:
    return [i for i in commit_infos(env, name) if "userMetadata" in i]


def held_run(env: LoaderEnv, hook: str, release: Path) -> subprocess.Popen:
    """A `run` held at the test hook `hook` (DL_TEST_PAUSE_...) until `release` exists."""
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env={**os.environ, hook: str(release)})
    wait_for(lambda: Path(f"{release}.waiting").exists() or p.poll() is not None, 300, 0.05,
             f"the run to reach {hook}")
    assert p.poll() is None, f"the held run exited early: {p.communicate()}"
    return p


def run_both(env: LoaderEnv, duck_cfg, names: list[str], timeout: float = 120) -> None:
    env.load(timeout=timeout)
    d = env.run("run", config=duck_cfg)
    assert d.rc == 0, str(d)
    for name in names:
        assert rows(env.read(name)) == rows(duck_table(env, name)), name


def test_append_and_merge_over_source_versions_like_duckdb(env: LoaderEnv):
    """Partitioned by a string (a space and a NULL among its values: escaped and null
    partition values) and a date. The second run loads three versions at once: new rows with
    updates, a compaction (nothing new) and more rows."""
    source = env.root / "source"
    regions = ["north east", "west", None]
    write_deltalake(str(source), version_rows([1, 2, 3, 4, 5, 6], "a", regions),
                    partition_by=["region", "day"])
    tables = [source_entry(env, "app", source, partition_columns=["region"]),
              source_entry(env, "mrg", source, loading_strategy="merge", primary_keys=["id"])]
    duck_cfg = env.root / "duck.yaml"
    env.write_config([dict(t, engine="duckdb") for t in tables],
                     processed_data_path=str(env.root / "duck" / "processed"),
                     checkpoint_path=str(env.root / "duck" / "checkpoints"))
    env.config_path.rename(duck_cfg)
    env.write_config([dict(t, engine="spark") for t in tables])
    run_both(env, duck_cfg, ["app", "mrg"])

    write_deltalake(str(source), version_rows([7, 8, 2, 3], "b", regions), mode="append")
    DeltaTable(str(source)).optimize.compact()  # dataChange=false
    write_deltalake(str(source), version_rows([9, 1], "c", regions), mode="append")
    run_both(env, duck_cfg, ["app", "mrg"])

    source_version = DeltaTable(str(source)).version()
    assert sorted(env.read("mrg").column("name").to_pylist()) == \
        ["a4", "a5", "a6", "b2", "b3", "b7", "b8", "c1", "c9"]
    assert env.read("app").num_rows == 12
    for name in ("app", "mrg"):
        # Two Spark commits, each recording the source version it loaded, and each followed
        # by our commit of the source's txn.
        infos = spark_commits(env, name)
        assert len(infos) == 2 and all(i["engineInfo"].startswith("Apache-Spark") for i in infos)
        loaded = [json.loads(i["userMetadata"])["dataLoader"]["deltaSource"]["version"]
                  for i in infos]
        assert loaded == [0, source_version]
        assert source_txns(env, name) == [0, source_version]
    before = [env.version(name) for name in ("app", "mrg")]
    env.load()  # nothing new: no commit
    assert [env.version(name) for name in ("app", "mrg")] == before


def test_scd2_with_a_sequence_column_from_a_delta_source_like_duckdb(env: LoaderEnv):
    """A late event in the source's version 1 is replayed from the change store (whose txn
    versions are the table's, not the source's)."""
    source = env.root / "source"
    schema = pa.schema([("id", pa.int64()), ("a", pa.string()), ("seq", pa.int64())])
    write_deltalake(str(source), pa.table({"id": [1, 2, 3], "a": ["x", "y", "z"],
                                           "seq": [10, 10, 10]}, schema=schema))
    entry = source_entry(env, "t", source, loading_strategy="scd2", primary_keys=["id"],
                         sequence_column="seq")
    _, duck_cfg = write_configs(env, entry)
    # Spark's SCD2 is several scans and commits per batch: slow on a loaded machine.
    run_both(env, duck_cfg, ["t"], timeout=600)
    write_deltalake(str(source), pa.table({"id": [1, 2, 4], "a": ["x2", "y0", "w"],
                                           "seq": [20, 5, 20]}, schema=schema), mode="append")
    run_both(env, duck_cfg, ["t"], timeout=600)
    assert source_txns(env, "t") == [0, 1]
    before = env.version("t")
    env.load(timeout=600)
    assert env.version("t") == before


def test_sigkill_between_sparks_commit_and_the_source_txn_then_rerun_loads_nothing_twice(
        env: LoaderEnv):
    """Two tables on one source, one loader slot: the run is killed once Spark committed the
    first table's batch, before our commit of the source's txn and before the tracker is
    written. The rerun takes the source version from the commit's metadata (loading nothing
    of it again), records the txn, and loads the second table."""
    source = env.root / "source"
    write_deltalake(str(source), version_rows(list(range(1, 21)), "a", ["e", "w"]),
                    partition_by=["region"])
    tables = [source_entry(env, name, source, engine="spark") for name in ("t", "u")]
    env.write_config(tables, max_parallel_jobs=1)
    release = env.root / "never"
    held = held_run(env, "DL_TEST_PAUSE_AFTER_REMOTE_COMMIT", release)
    stop_process(held)
    assert held.returncode == -signal.SIGKILL
    first = next(n for n in ("t", "u") if env.is_delta(n))
    assert len(spark_commits(env, first)) == 1 and source_txns(env, first) == []
    env.load()
    for name in ("t", "u"):
        assert sorted(env.read(name).column("id").to_pylist()) == list(range(1, 21)), name
        assert len(spark_commits(env, name)) == 1, name
        assert source_txns(env, name) == [0], name
    tracked = env.tracker_for(first)
    assert tracked and all(r["status"] == "completed" for r in tracked.values()), tracked
    before = [env.version(name) for name in ("t", "u")]
    env.load()
    assert [env.version(name) for name in ("t", "u")] == before


def test_two_loaders_planning_different_source_versions_load_each_row_once(env: LoaderEnv):
    """Loader A plans source version 1 and is held before Spark's write; the source moves to
    version 2; loader B plans versions 1-2 from the same table state and is held too. A
    commits, then B: B's write takes the same table txn version as A's, so Spark skips it; B
    plans again without A's files and loads version 2 alone. Before, B's txn was the source's
    (next version 3, not A's 2): Spark did not skip it and version 1's rows were loaded twice."""
    source = env.root / "source"
    write_deltalake(str(source), version_rows([1, 2, 3], "a", ["e"]))
    env.write_config([source_entry(env, "t", source, engine="spark")])
    env.load()
    write_deltalake(str(source), version_rows([4, 5], "b", ["e"]), mode="append")
    hook = "DL_TEST_PAUSE_BEFORE_COMMIT"
    release_a, release_b = env.root / "release_a", env.root / "release_b"
    a = held_run(env, hook, release_a)
    b = None
    try:
        write_deltalake(str(source), version_rows([6, 7], "c", ["e"]), mode="append")
        b = held_run(env, hook, release_b)
        release_a.write_text("")
        out_a, err_a = a.communicate(timeout=300)
        assert a.returncode == 0, f"{out_a}\n{err_a}"
        release_b.write_text("")
        out_b, err_b = b.communicate(timeout=300)
        assert b.returncode == 0, f"{out_b}\n{err_b}"
    finally:
        for p in (a, b):
            if p is not None:
                stop_process(p)
    assert sorted(env.read("t").column("id").to_pylist()) == list(range(1, 8))
    assert "0 failed" in out_b, out_b
    assert source_txns(env, "t") == [0, 1, 2]
    before = env.version("t")
    env.load()
    assert env.version("t") == before
    assert sorted(env.read("t").column("id").to_pylist()) == list(range(1, 8))


def test_partition_values_keyed_in_another_case_load_like_duckdb(env: LoaderEnv):
    """A writer that keyed add.partitionValues in another case than partitionColumns (column
    names are case-insensitive in Delta): both engines match the keys ignoring case."""
    source = env.root / "source"
    write_deltalake(str(source), version_rows([1, 2, 3], "a", ["north east", "west", None]),
                    partition_by=["region"])
    log = source / "_delta_log" / f"{0:020d}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    for a in actions:
        if "add" in a:
            a["add"]["partitionValues"] = {k.upper(): v
                                           for k, v in a["add"]["partitionValues"].items()}
    log.write_text("".join(json.dumps(a) + "\n" for a in actions))
    _, duck_cfg = write_configs(env, source_entry(env, "t", source))
    run_both(env, duck_cfg, ["t"])
    assert sorted(env.read("t").column("region").to_pylist(), key=str) == \
        [None, "north east", "west"]


@pytest.mark.parametrize("prop,feature", [("delta.columnMapping.mode=name", "column mapping"),
                                          ("delta.enableDeletionVectors=true", "deletion vectors")])
def test_a_source_feature_spark_cannot_read_is_refused_before_anything_is_written(
        env: LoaderEnv, prop, feature):
    source = env.root / "source"
    write_csv(env.raw / "a.csv", "id,v\n1,x\n2,y\n3,z\n")

    def table(*args):
        made = subprocess.run([env.bin, "table", *args], capture_output=True, text=True,
                              timeout=120)
        assert made.returncode == 0, made.stderr
    table("write", str(source), "--source", str(env.raw / "a.csv"), "--format", "csv",
          "--property", prop)
    table("delete", str(source), "--where", "id = 3")  # a deletion vector, if enabled
    env.write_config([source_entry(env, "t", source, engine="spark")])
    r = env.load(expect=1)
    assert f"the source Delta table {source} of" in r.out and f"uses {feature}" in r.out, str(r)
    assert not env.is_delta("t")
    # The same table loads on DuckDB.
    env.write_config([source_entry(env, "t", source, engine="duckdb")])
    env.load()
    assert sorted(env.read("t").column("id").to_pylist()) == [1, 2]


def test_a_target_our_delta_module_cannot_commit_to_is_refused_before_spark_writes(
        env: LoaderEnv):
    """The source's position is committed to the target by our Delta module after Spark's
    commit: a target with a writer feature it does not know fails the batch first, naming the
    feature, and Spark writes nothing."""
    source = env.root / "source"
    write_deltalake(str(source), version_rows([1, 2], "a", ["west"]))
    target = env.table_path("t")
    write_deltalake(str(target), version_rows([9], "z", ["west"]))
    log = target / "_delta_log" / f"{0:020d}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    for a in actions:
        if "protocol" in a:
            a["protocol"] = {"minReaderVersion": 1, "minWriterVersion": 7,
                             "writerFeatures": ["someFutureWriterFeature"]}
    log.write_text("".join(json.dumps(a) + "\n" for a in actions))
    env.write_config([source_entry(env, "t", source, engine="spark")])
    r = env.load(expect=1)
    assert "someFutureWriterFeature" in r.out and "commits its position" in r.out, str(r)
    assert env.version("t") == 0


@pytest.mark.parametrize("properties", [
    {"delta.feature.allowColumnDefaults": "supported"},
    {"delta.enableIcebergCompatV2": "true"},
])
def test_a_table_the_batch_would_create_uncommittable_is_refused_before_spark_writes(
        env: LoaderEnv, properties: dict):
    """The same check for the table the first batch creates, with the features its
    properties ask for (Spark would create it with them): refused naming the feature, and no
    table is created."""
    source = env.root / "source"
    write_deltalake(str(source), version_rows([1, 2], "a", ["west"]))
    env.write_config([source_entry(env, "t", source, engine="spark",
                                   table_properties=properties)])
    r = env.load(expect=1)
    feature = ("allowColumnDefaults" if "delta.feature.allowColumnDefaults" in properties
               else "icebergCompatV2")
    assert feature in r.out and "commits its position" in r.out, str(r)
    assert not (env.table_path("t") / "_delta_log").exists()
