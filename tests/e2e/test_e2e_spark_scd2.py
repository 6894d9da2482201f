"""`loading_strategy: scd2` on the Spark engine: one Spark `MERGE INTO` per batch (and, with
sequence_column, an append to the change store before it) whose commit carries our txn and
metadata. The randomized scenarios of test_e2e_scd2.py (late events, deletes, retire_absent_keys,
tracking columns, open end values, new columns, composite keys, csv and parquet) run on both
engines side by side: after every batch each table equals the reference row for row, and the
two engines' tables equal each other. A SIGKILL after Spark's commit and a rerun load each file
once. A clustered table with sequence_column is created empty first (its change store lives in
the table's directory): equal to DuckDB's, exactly once under a SIGKILL before its first MERGE
and with two loaders creating it at once."""
from __future__ import annotations

import dataclasses
import json
import random
import re
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from e2e_lib import AUDIT_COLUMNS, LoaderEnv, read_delta, write_csv, write_parquet
from scd2_harness import FAR_END_TS, Scd2Harness
from scd2_reference import Scd2Config
from test_e2e_scd2 import (DELETE_SQL, DV_PROPERTIES, SEEDS, VARIANTS, Generator, Variant,
                            is_delete)
from test_e2e_spark_append import (commit_infos, commits, kill_after_commits, rows,  # noqa: F401
                                   spark_remote, write_configs)
from test_e2e_spark_merge import duck_table
from test_e2e_spark_tables import FEATURES as SPARK_TABLE_FEATURES
from test_e2e_spark_tables import PROPERTIES as SPARK_TABLE_PROPERTIES
from test_e2e_spark_tables import clustering, describe, duck_root, features

# The dv variants create the table with deletion vectors on both engines. The files of one
# batch must share their columns on Spark (it reads one parquet file's schema, and maps csv
# columns by position): new columns arrive batch by batch there
# (test_new_columns_batch_by_batch_like_duckdb).
SPARK_VARIANTS = [dataclasses.replace(v, evolve_at=None) for v in VARIANTS]


def harness(env: LoaderEnv, v: Variant, seed: int, name: str, engine: str) -> Scd2Harness:
    """test_e2e_scd2.run_scenario's table, on `engine`."""
    keys = ("id", "k2") if v.composite else ("id",)
    cfg = Scd2Config(keys=keys, tracking=v.tracking, sequence="seq" if v.seq else None,
                     is_delete=is_delete if v.deletes else None, retire_absent_keys=v.retire,
                     open_end=(FAR_END_TS if v.seq != "int" else 99999999) if v.open_end else None)
    types = {"seq": pa.timestamp("us", tz="UTC")} if v.seq == "ts" else None
    return Scd2Harness(env, cfg, fmt=v.fmt, name=name, types=types, engine=engine,
                       label=f"[{engine}, variant {v.name}, seed {seed}] ",
                       delete_sql=DELETE_SQL if v.deletes else None,
                       open_end_sql=(("9999-12-31" if v.seq != "int" else "99999999")
                                     if v.open_end else None),
                       **(DV_PROPERTIES if v.dv else {}))


def comparable(h: Scd2Harness, v: Variant) -> list[str]:
    """The rows without what differs between two loads: the audit columns, and without a
    sequence column the effective and end values (each load's own load time)."""
    drop = set(AUDIT_COLUMNS) | ({"effective_date", "end_date"} if not v.seq else set())
    out = [{k: x for k, x in r.items() if k not in drop} for r in h.actual()]
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in out)


@pytest.mark.parametrize("seed", SEEDS[:1])
@pytest.mark.parametrize("variant", SPARK_VARIANTS, ids=lambda v: v.name)
def test_randomized_batches_match_the_reference_and_duckdb(env: LoaderEnv, variant: Variant,
                                                           seed: int):
    spark = harness(env, variant, seed, "dim", "spark")
    duck = harness(env, variant, seed, "dimd", "duckdb")
    spark.other_tables, duck.other_tables = [duck.entry], [spark.entry]
    gen = Generator(variant, seed, n_keys=random.Random(seed).randint(12, 24))
    for b in range(4):
        files = gen.batch(b)
        duck.load(files)
        spark.load(files)
        duck.check()
        spark.check()
        assert comparable(spark, variant) == comparable(duck, variant), \
            f"{spark.label}after batch {b}: the engines' tables differ"
    # One commit per batch (the first creates the table; new columns add one before the
    # MERGE), each batch's with our metadata and the next txn version.
    infos = [i for i in commit_infos(env, "dim") if "userMetadata" in i]
    assert len(infos) == 4
    assert all("dataLoader" in json.loads(i["userMetadata"]) for i in infos)
    assert [i["operation"] for i in infos][1:] == ["MERGE"] * 3


def test_sigkill_after_spark_committed_then_rerun_loads_each_file_once(env: LoaderEnv):
    # Late events (seq going back) replayed from the change store, across batches of one file.
    files = [write_csv(env.raw / f"f{i:02d}.csv",
                       f"id,a,seq\n{i % 3},v{i},{10 * i}\n{i % 2},w{i},{25 - 3 * i}\n")
             for i in range(6)]
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="scd2", primary_keys=["id"],
                            sequence_column="seq", max_files_per_batch=1)
    _, duck_cfg = write_configs(env, entry, max_parallel_jobs=1)
    kill_after_commits(env, 2)
    assert 2 <= len(commits(env)) < len(files)
    env.load()
    tracked = env.tracker_for("t")
    assert set(tracked) == {str(f) for f in files}
    assert all(t["status"] == "completed" for t in tracked.values()), tracked
    infos = [i for i in commit_infos(env) if "userMetadata" in i]
    loaded = [f["path"] for i in infos
              for f in json.loads(i["userMetadata"])["dataLoader"]["sourceFiles"]]
    assert sorted(loaded) == sorted(str(f) for f in files)
    version = env.version("t")
    env.load()  # nothing new: nothing applied twice
    assert env.version("t") == version
    d = env.run("run", config=duck_cfg)
    assert d.rc == 0, str(d)
    assert rows(env.read("t")) == rows(duck_table(env, "t"))


def test_null_keys_fail_their_file_and_a_missing_key_is_named(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,a,seq\n1,x,1\n2,y,2\n")
    nulls = write_csv(env.raw / "b.csv", "id,a,seq\n,x,3\n3,z,\n")
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="scd2", primary_keys=["id"],
                            sequence_column="seq", max_files_per_batch=1)
    _, duck_cfg = write_configs(env, entry, retry_attempts=0)
    r = env.load(expect=1)
    assert "NULL in primary_keys column 'id'" in r.out and str(nulls) in r.out, str(r)
    d = env.run("run", config=duck_cfg)
    assert d.rc == 1, str(d)
    assert rows(env.read("t")) == rows(duck_table(env, "t"))
    env.write_config([dict(entry, engine="spark", table_name="u", primary_keys=["nope"])],
                     retry_attempts=0)
    r = env.load(expect=1)
    assert "primary_keys column 'nope'" in r.out, str(r)
    assert not env.is_delta("u")


def test_new_columns_batch_by_batch_like_duckdb(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,a,seq\n1,x,1\n2,y,1\n")
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="scd2", primary_keys=["id"],
                            sequence_column="seq")
    _, duck_cfg = write_configs(env, entry)
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    # A new column: added to the table (its own commit) before the MERGE; it is tracked, so
    # key 1 opens a version, and key 3 is new.
    write_csv(env.raw / "b.csv", "id,a,seq,extra\n1,x,2,e\n3,z,2,\n")
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    assert rows(env.read("t")) == rows(duck_table(env, "t"))
    got = sorted(((r["id"], r["extra"], r["is_current"]) for r in env.read("t").to_pylist()),
                 key=repr)
    assert got == [(1, "e", True), (1, None, False), (2, None, True), (3, None, True)]
    # An identical re-delivery changes no version: its MERGE still commits (its txn and
    # metadata), so the file counts as loaded once and is never retried.
    again = write_csv(env.raw / "c.csv", "id,a,seq,extra\n3,z,2,\n")
    version = env.version("t")
    env.load()
    assert env.version("t") == version + 1
    assert env.tracker_for("t")[str(again)]["status"] == "completed"
    assert env.run("run", config=duck_cfg).rc == 0
    assert rows(env.read("t")) == rows(duck_table(env, "t"))


def summary_rows(r) -> int:
    """The rows a `run` reports (its summary line: "..., N rows, ...")."""
    m = re.search(r"skipped, ([\d,]+) rows", r.out)
    assert m, str(r)
    return int(m.group(1).replace(",", ""))


def test_without_audit_columns_the_versions_reported_like_duckdb(env: LoaderEnv):
    # Without the source file column the versions are the MERGE's inserted rows (no count of
    # its own): what each run reports equals DuckDB's, on the first write, with late events
    # and on a batch that changes nothing.
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="scd2", primary_keys=["id"],
                            sequence_column="seq", audit_columns=False)
    _, duck_cfg = write_configs(env, entry)
    batches = ["id,a,seq\n1,x,10\n2,y,10\n3,z,10\n",
               "id,a,seq\n1,x2,20\n2,y,5\n4,w,20\n",  # key 2: a late event
               "id,a,seq\n3,z,10\n"]  # the stored event again: no version changes
    for i, text in enumerate(batches):
        write_csv(env.raw / f"b{i}.csv", text)
        spark, duck = env.load(), env.run("run", config=duck_cfg)
        assert duck.rc == 0, str(duck)
        assert summary_rows(spark) == summary_rows(duck), f"batch {i}:\n{spark}\n{duck}"
        assert rows(env.read("t")) == rows(duck_table(env, "t")), f"batch {i}"
    assert summary_rows(spark) == 0


def run_together(env: LoaderEnv, configs: list) -> list[tuple[int, str]]:
    """`run` with each config, all started at once; (exit code, stdout + stderr) of each."""
    procs = [subprocess.Popen(env.cmd("run", config=c), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for c in configs]
    outs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=600)
            outs.append((p.returncode, out + "\n" + err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return outs


def landed_batches(env: LoaderEnv, name: str = "t") -> dict[int, tuple[str, list[str]]]:
    """txn version -> (batch id, source files) of each commit of the table that applied one."""
    out = {}
    for c in commits(env, name):
        actions = [json.loads(line) for line in c.read_text().splitlines()]
        txns = [a["txn"]["version"] for a in actions if "txn" in a]
        infos = [a["commitInfo"] for a in actions if "userMetadata" in a.get("commitInfo", {})]
        if txns and infos:
            meta = json.loads(infos[0]["userMetadata"])["dataLoader"]
            out[txns[0]] = (meta["batchId"], [f["path"] for f in meta["sourceFiles"]])
    return out


def two_loaders_configs(env: LoaderEnv, entry: dict) -> tuple[Path, Path, Path]:
    """A second Spark loader's config (two files per batch, where `entry` takes one), then
    the first's and the DuckDB engine's (write_configs)."""
    other = env.root / "spark2.yaml"
    env.write_config([dict(entry, engine="spark", max_files_per_batch=2)], retry_attempts=8,
                     max_parallel_jobs=1)
    env.config_path.rename(other)
    spark_cfg, duck_cfg = write_configs(env, entry, retry_attempts=8, max_parallel_jobs=1)
    return other, spark_cfg, duck_cfg


def test_two_loaders_at_once_with_late_events_store_each_event_once(env: LoaderEnv):
    # Two `run`s started together on the same table, in three rounds of new files (keys
    # overlapping across files, sequence values going back: late events replayed from the
    # store). Their batches differ (one file per batch against two), so both take the same
    # txn versions with different events: the loser's events must never be read, and the
    # winner's never deleted.
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="scd2", primary_keys=["id"],
                            sequence_column="seq", max_files_per_batch=1)
    other, spark_cfg, duck_cfg = two_loaders_configs(env, entry)
    rng = random.Random(5)
    seqs = rng.sample(range(1, 1000), 27)  # unique: no ties between files
    files, events, raced = [], [], 0
    for r in range(3):
        for i in range(3):
            lines = []
            for j in range(3):
                key, seq = rng.randrange(5), seqs.pop()
                lines.append(f"{key},r{r}f{i}x{j},{seq}")
                events.append((key, f"r{r}f{i}x{j}", seq))
            files.append(write_csv(env.raw / f"r{r}f{i}.csv", "id,a,seq\n" + "\n".join(lines)
                                   + "\n"))
        outs = run_together(env, [spark_cfg, other])
        report = "\n\n".join(f"exit {rc}\n{out[-4000:]}" for rc, out in outs)
        assert all(rc == 0 for rc, _ in outs), report
        # They overlapped: each committed a batch of this round, or one lost a race on a txn
        # version (a commit conflict, retried with the next one).
        retried = sum("will retry" in out for _, out in outs)
        assert retried or all("batch committed" in out for _, out in outs), report
        raced += retried
        d = env.run("run", config=duck_cfg)
        assert d.rc == 0, str(d)
        assert rows(env.read("t")) == rows(duck_table(env, "t")), f"round {r}\n{report}"
    assert raced, "no loader ever lost a race on a txn version: the test did not race"
    # Each file in the log once.
    landed = landed_batches(env)
    loaded = [p for _, paths in landed.values() for p in paths]
    assert sorted(loaded) == sorted(str(f) for f in files)
    assert sorted(landed) == list(range(1, len(landed) + 1))
    # The store as the loader reads it: of each applied txn version the rows of the batch id
    # its marker (or, for the latest, the log) names. Markers name only landed batches, every
    # version below the latest has one, and the events read are every file's rows once.
    store = read_delta(env.table_path("t") / "_dl_scd2_changes").to_pylist()
    pairs = {(v, b) for v, (b, _) in landed.items()}
    markers = {(s["_dl_event_batch"], s["_dl_event_batch_id"]) for s in store
               if s["_dl_event_delete"] is None}
    assert markers <= pairs, (markers, pairs)
    applied = max(landed)
    assert {v for v, _ in markers} == set(range(1, applied)), markers
    read = markers | {(applied, landed[applied][0])}
    stored = sorted((s["id"], s["a"], s["seq"]) for s in store
                    if s["_dl_event_delete"] is not None
                    and (s["_dl_event_batch"], s["_dl_event_batch_id"]) in read)
    assert stored == sorted(events)


# A clustered table with sequence_column: Spark creates a clustered table by CREATE TABLE ...
# AS SELECT, which refuses a directory holding anything, and the change store lives in the
# table's directory. So the first batch creates the table empty (a commit of its own, no txn,
# no metadata), then stores its events and MERGEs into it as into any existing table.
CLUSTERED = dict(loading_strategy="scd2", primary_keys=["id"], sequence_column="seq",
                 clustering_columns=["id"], max_files_per_batch=1,
                 table_properties=dict(SPARK_TABLE_PROPERTIES, **{"owner.team": "ingest"}))
SLOW = 600  # seconds a run of two batches may take on a busy shared machine


TYPED = pa.schema([("id", pa.int64()), ("a", pa.string()), ("seq", pa.int64())])


def first_run_files(env: LoaderEnv) -> list:
    """Two batches; the second holds a late event (key 2 at 5, before its 10)."""
    return [write_parquet(env.raw / "f0.parquet", {"id": [1, 2, 3], "a": ["x", "y", "z"],
                                                   "seq": [10, 10, 10]}, TYPED),
            write_parquet(env.raw / "f1.parquet", {"id": [1, 2], "a": ["x2", "y"],
                                                   "seq": [20, 5]}, TYPED)]


def second_run_file(env: LoaderEnv):
    """A late event for key 1 (15, between its 10 and 20), key 3's value again, a new key."""
    return write_parquet(env.raw / "f2.parquet", {"id": [1, 3, 4], "a": ["x1", "z", "w"],
                                                  "seq": [15, 30, 1]}, TYPED)


def assert_clustered_like_duckdb(env: LoaderEnv, duck_cfg) -> None:
    d = env.run("run", config=duck_cfg, timeout=SLOW)
    assert d.rc == 0, str(d)
    assert rows(env.read("t")) == rows(duck_table(env, "t"))
    ours, theirs = describe(env, env.table_path("t")), describe(env, duck_root(env))
    fields = [[(f["name"], f["type"], f["nullable"]) for f in d["schema"]["fields"]]
              for d in (ours, theirs)]
    assert fields[0] == fields[1], fields
    for d in (ours, theirs):
        for key, value in CLUSTERED["table_properties"].items():
            assert d["properties"][key] == str(value).lower(), (key, d["properties"])
        assert SPARK_TABLE_FEATURES <= features(d), d["protocol"]
    assert clustering(env.table_path("t"), ours) == clustering(duck_root(env), theirs) == [["id"]]


def store_rows(env: LoaderEnv) -> list[dict]:
    return read_delta(env.table_path("t") / "_dl_scd2_changes").to_pylist()


def test_clustered_table_with_sequence_column_like_duckdb(env: LoaderEnv, spark41):
    first = first_run_files(env)
    entry = env.table_entry("t", "*.parquet", "parquet", **CLUSTERED)
    _, duck_cfg = write_configs(env, entry)
    env.load(timeout=SLOW)
    second = second_run_file(env)
    env.load(timeout=SLOW)
    # The empty table's commit carries no batch (no txn, no metadata, no file); each batch's
    # MERGE carries the next txn version and our metadata.
    actions = [[json.loads(line) for line in c.read_text().splitlines()] for c in commits(env)]
    assert [a["commitInfo"]["operation"] for c in actions for a in c if "commitInfo" in a] == \
        ["CREATE TABLE AS SELECT", "MERGE", "MERGE", "MERGE"]
    assert not any("txn" in a or "add" in a for a in actions[0]), actions[0]
    assert "userMetadata" not in actions[0][0].get("commitInfo", {}), actions[0]
    assert sorted(landed_batches(env)) == [1, 2, 3]
    assert {p for _, paths in landed_batches(env).values() for p in paths} == \
        {str(f) for f in first + [second]}
    version = env.version("t")
    env.load(timeout=SLOW)  # a rerun loads nothing
    assert env.version("t") == version
    assert_clustered_like_duckdb(env, duck_cfg)
    # Every event stored once, all of landed attempts.
    landed = {b for b, _ in landed_batches(env).values()}
    events = [s for s in store_rows(env) if s["_dl_event_delete"] is not None]
    assert {s["_dl_event_batch_id"] for s in events} == landed
    assert len(events) == 8
    got = spark41.rows("SELECT count(*) AS n, count_if(is_current) AS c "
                       f"FROM delta.`{env.table_path('t')}`")
    assert got == [{"n": len(env.read("t")), "c": 4}]


@pytest.mark.parametrize("after", ["the empty table's commit", "the store's first commit"])
def test_sigkill_between_the_empty_table_and_the_first_batch_then_rerun(env: LoaderEnv, after):
    first = first_run_files(env)
    entry = env.table_entry("t", "*.parquet", "parquet", **CLUSTERED)
    _, duck_cfg = write_configs(env, entry, max_parallel_jobs=1)
    # Killed once the table exists (empty), or once the first attempt's events are stored: in
    # both cases before the batch's MERGE.
    kill_after_commits(env, 1, "t" if after.startswith("the empty") else "t/_dl_scd2_changes")
    assert len(commits(env)) == 1 and not landed_batches(env), "the MERGE must not have run"
    stored = bool(commits(env, "t/_dl_scd2_changes"))
    dead = {s["_dl_event_batch_id"] for s in store_rows(env)} if stored else set()
    assert after.startswith("the empty") or len(dead) == 1, dead
    # The rerun finds the empty table and loads each file once, by MERGEs into it.
    env.load(timeout=SLOW)
    landed = landed_batches(env)
    assert sorted(landed) == [1, 2]
    assert sorted(p for _, paths in landed.values() for p in paths) == sorted(map(str, first))
    assert all(t["status"] == "completed" for t in env.tracker_for("t").values())
    version = env.version("t")
    env.load(timeout=SLOW)
    assert env.version("t") == version
    # The late event of the next run replays what landed; the killed attempt's events were
    # deleted once txn version 1 had landed with another batch id (and were never read).
    second_run_file(env)
    env.load(timeout=SLOW)
    assert sorted(landed_batches(env)) == [1, 2, 3]
    ids = {b for b, _ in landed_batches(env).values()}
    assert {s["_dl_event_batch_id"] for s in store_rows(env)} <= ids
    assert not dead & ids
    assert_clustered_like_duckdb(env, duck_cfg)


def test_two_loaders_create_a_clustered_table_at_once(env: LoaderEnv):
    # Both find no table: one creates it, the other's CREATE is refused (a lost race, planned
    # again against the table); their batches differ, so they take the same txn versions with
    # different events, late ones among them.
    entry = env.table_entry("t", "*.csv", "csv", **dict(CLUSTERED, table_properties={}))
    other, spark_cfg, duck_cfg = two_loaders_configs(env, entry)
    rng = random.Random(7)
    seqs = rng.sample(range(1, 1000), 12)
    files, events = [], []
    for i in range(4):
        lines = []
        for j in range(3):
            key, seq = rng.randrange(4), seqs.pop()
            lines.append(f"{key},f{i}x{j},{seq}")
            events.append((key, f"f{i}x{j}", seq))
        files.append(write_csv(env.raw / f"f{i}.csv", "id,a,seq\n" + "\n".join(lines) + "\n"))
    outs = run_together(env, [spark_cfg, other])
    report = "\n\n".join(f"exit {rc}\n{out[-4000:]}" for rc, out in outs)
    assert all(rc == 0 for rc, _ in outs), report
    # They overlapped: one lost a race (on the create, seen as DELTA_PROTOCOL_CHANGED or the
    # table found there, or on a txn version) and retried, or each committed a batch.
    assert any("will retry" in out for _, out in outs) or \
        all("batch committed" in out for _, out in outs), report
    # One table, created once: one commit without a batch, the first.
    infos = commit_infos(env)
    assert ["userMetadata" in i for i in infos] == [False] + [True] * (len(infos) - 1), infos
    landed = landed_batches(env)
    assert sorted(landed) == list(range(1, len(landed) + 1))
    assert sorted(p for _, paths in landed.values() for p in paths) == sorted(map(str, files))
    d = env.run("run", config=duck_cfg, timeout=SLOW)
    assert d.rc == 0, str(d)
    assert rows(env.read("t")) == rows(duck_table(env, "t")), report
    # The events read (of landed attempts) are every file's rows once.
    store = store_rows(env)
    markers = {(s["_dl_event_batch"], s["_dl_event_batch_id"]) for s in store
               if s["_dl_event_delete"] is None}
    read = markers | {(max(landed), landed[max(landed)][0])}
    assert {(v, b) for v, (b, _) in landed.items()} == read, (landed, markers)
    stored = sorted((s["id"], s["a"], s["seq"]) for s in store
                    if s["_dl_event_delete"] is not None
                    and (s["_dl_event_batch"], s["_dl_event_batch_id"]) in read)
    assert stored == sorted(events)
