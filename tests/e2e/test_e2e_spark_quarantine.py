"""`on_bad_rows: quarantine` on the Spark engine (merge, SCD2): rows with a NULL key or
sequence value are written by Spark as Parquet files into `<table>_quarantine` (uncommitted),
recorded in the target commit's userMetadata, and committed to the quarantine table by our
Delta module after Spark's commit. The target and the quarantine table equal, row for row,
what the DuckDB engine makes of the same files; a rerun loads nothing; a SIGKILL between
Spark's commit and the quarantine's leaves it to the next batch, each bad row once."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from e2e_lib import LoaderEnv, il, read_delta, write_csv
from test_e2e_spark_append import (IGNORED, commit_infos, commits, kill_after_commits,  # noqa: F401
                                   rows, spark_remote, write_configs)

LOAD_TIMEOUT = 300  # a busy machine's Spark is slow; each run takes seconds when idle
# _quarantined_at is the batch's load time: it differs between any two loads.
Q_IGNORED = IGNORED | {"_quarantined_at"}


def q_rows(table) -> list[dict]:
    out = [{k: v for k, v in r.items() if k not in Q_IGNORED} for r in table.to_pylist()]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def quarantine_path(env: LoaderEnv, name: str, duck: bool = False) -> Path:
    base = env.root / "duck" / "processed" if duck else env.processed
    return base / env.DB / f"{name}_quarantine"


def quarantine_commits(env: LoaderEnv, name: str) -> int:
    log = quarantine_path(env, name) / "_delta_log"
    return len(list(log.glob("*.json"))) if log.is_dir() else 0


def quarantine_adds(env: LoaderEnv, name: str) -> list[str]:
    log = quarantine_path(env, name) / "_delta_log"
    return sorted(json.loads(line)["add"]["path"] for c in log.glob("*.json")
                  for line in c.read_text().splitlines() if '"add"' in line)


def assert_like_duckdb(env: LoaderEnv, duck_cfg: Path, name: str) -> None:
    d = env.run("run", config=duck_cfg, timeout=LOAD_TIMEOUT)
    assert d.rc == 0, str(d)
    ours, theirs = env.read(name), read_delta(env.root / "duck" / "processed" / env.DB / name)
    assert sorted(ours.column_names) == sorted(theirs.column_names)
    assert rows(ours) == rows(theirs), "the Spark engine's table differs from DuckDB's"
    q_ours = read_delta(quarantine_path(env, name))
    q_theirs = read_delta(quarantine_path(env, name, duck=True))
    assert sorted(q_ours.column_names) == sorted(q_theirs.column_names)
    assert q_rows(q_ours) == q_rows(q_theirs), "the quarantine tables differ"


def test_merge_quarantines_like_duckdb_and_a_rerun_loads_nothing(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,seq,v\n1,1,a\n,2,nokey\n2,,noseq\n3,1,c\n1,2,a2\n")
    write_csv(env.raw / "b.csv", "id,seq,v\n3,2,c2\n,5,nokey2\n4,1,d\n")
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="merge", primary_keys=["id"],
                            sequence_column="seq", on_bad_rows="quarantine",
                            max_files_per_batch=1)
    _, duck_cfg = write_configs(env, entry)
    env.load(timeout=LOAD_TIMEOUT)
    assert_like_duckdb(env, duck_cfg, "t")
    q = read_delta(quarantine_path(env, "t")).to_pylist()
    assert sorted((r["v"], r["_quarantine_reason"]) for r in q) == [
        ("nokey", "NULL in primary_keys column 'id'"),
        ("nokey2", "NULL in primary_keys column 'id'"),
        ("noseq", "NULL in sequence_column column 'seq'")]
    assert all(r["_quarantined_at"] is not None for r in q)
    # Each target commit records the files Spark wrote; the quarantine commits took those.
    recorded = [json.loads(i["userMetadata"])["dataLoader"].get("quarantine")
                for i in commit_infos(env)]
    assert all(r and r["adds"] for r in recorded), recorded
    assert sorted(a["add"]["path"] for r in recorded for a in r["adds"]) == quarantine_adds(env, "t")
    versions = (env.version("t"), quarantine_commits(env, "t"))
    env.load(timeout=LOAD_TIMEOUT)
    assert (env.version("t"), quarantine_commits(env, "t")) == versions, "a rerun loaded again"


def test_scd2_with_sequence_quarantines_like_duckdb(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,seq,v\n1,1,a\n,2,nokey\n2,1,b\n1,3,a3\n2,,noseq\n")
    entry = env.table_entry("dim", "*.csv", "csv", loading_strategy="scd2",
                            primary_keys=["id"], sequence_column="seq",
                            on_bad_rows="quarantine", audit_columns=False)
    _, duck_cfg = write_configs(env, entry)
    env.load(timeout=LOAD_TIMEOUT)
    assert_like_duckdb(env, duck_cfg, "dim")
    q = read_delta(quarantine_path(env, "dim")).to_pylist()
    # Without audit columns the quarantine still names each row's file.
    assert sorted((r["v"], Path(r["_source_file"]).name) for r in q) == [
        ("nokey", "a.csv"), ("noseq", "a.csv")]
    versions = (env.version("dim"), quarantine_commits(env, "dim"))
    env.load(timeout=LOAD_TIMEOUT)
    assert (env.version("dim"), quarantine_commits(env, "dim")) == versions


def test_sigkill_between_spark_commit_and_quarantine_commit(env: LoaderEnv):
    write_csv(env.raw / "a.csv", "id,seq,v\n1,1,a\n,2,nokey\n2,1,b\n")
    entry = env.table_entry("t", "*.csv", "csv", loading_strategy="merge", primary_keys=["id"],
                            sequence_column="seq", on_bad_rows="quarantine")
    _, duck_cfg = write_configs(env, entry)
    kill_after_commits(env, 1)
    # Killed once Spark's commit was there, before ours to the quarantine table.
    assert quarantine_commits(env, "t") == 0, "the quarantine was committed before the kill"
    assert len(commits(env)) == 1
    env.load(timeout=LOAD_TIMEOUT)  # nothing new: a.csv is loaded (the commit says so)
    write_csv(env.raw / "b.csv", "id,seq,v\n3,1,c\n,7,nokey2\n")
    env.load(timeout=LOAD_TIMEOUT)  # the next batch rolls the quarantine forward first
    assert_like_duckdb(env, duck_cfg, "t")
    q = read_delta(quarantine_path(env, "t")).to_pylist()
    assert sorted(r["v"] for r in q) == ["nokey", "nokey2"], q


# Each Delta primitive type of a quarantine column and the Arrow type its Parquet files hold.
PHYSICAL = {"long": pa.int64(), "integer": pa.int32(), "string": pa.string(),
            "timestamp": pa.timestamp("us", tz="UTC")}


def delta_log_state(table: Path) -> tuple[dict[str, str], dict, list[str]]:
    """The quarantine table's column types, protocol and data files, from its log."""
    types, protocol, adds = {}, {}, []
    for c in sorted((table / "_delta_log").glob("*.json")):
        for line in c.read_text().splitlines():
            action = json.loads(line)
            if "metaData" in action:
                schema = json.loads(action["metaData"]["schemaString"])
                types = {f["name"]: f["type"] for f in schema["fields"]}
            protocol = action.get("protocol", protocol)
            if "add" in action:
                adds.append(action["add"]["path"])
    return types, protocol, adds


def assert_files_hold_the_schema_types(table: Path, expected: dict[str, str]) -> None:
    types, protocol, adds = delta_log_state(table)
    assert {k: types.get(k) for k in expected} == expected, types
    assert "typeWidening" not in json.dumps(protocol), protocol
    for add in adds:
        footer = pq.read_schema(table / add)
        for name, t in types.items():
            if name in footer.names:
                assert footer.field(name).type == PHYSICAL[t], (add, name, footer)
    # Both readers take every file with the table's types.
    by_rs = DeltaTable(str(table)).to_pyarrow_table()
    con = il._duckdb_connect_with_delta().cursor()
    try:
        by_duck = con.execute("SELECT * FROM delta_scan(?)", [str(table)]).fetch_arrow_table()
    finally:
        con.close()
    assert by_rs.num_rows == by_duck.num_rows == 4
    for name, t in expected.items():
        assert by_rs.schema.field(name).type == PHYSICAL[t], by_rs.schema
    assert sorted(by_duck.column("v").to_pylist()) == sorted(by_rs.column("v").to_pylist())


def test_quarantine_types_stay_the_tables_whichever_engine_writes(env: LoaderEnv):
    """csv integers are `bigint` on DuckDB and `int` in Spark's inference: a quarantine table
    first written by one engine and then by the other keeps one type per column (`long`, as
    DuckDB makes it), and every file holds it. `t` is loaded by DuckDB then Spark, `u` by
    Spark then DuckDB (its target widens: the table allows it)."""
    write_csv(env.raw / "t1.csv", "id,seq,v\n1,1,a\n,2,t-nokey1\n2,,t-noseq1\n")
    write_csv(env.raw / "u1.csv", "id,seq,v\n1,1,a\n,2,u-nokey1\n2,,u-noseq1\n")
    common = dict(loading_strategy="merge", primary_keys=["id"], sequence_column="seq",
                  on_bad_rows="quarantine",
                  table_properties={"delta.enableTypeWidening": "true"})
    t = env.table_entry("t", "t*.csv", "csv", **common)
    u = env.table_entry("u", "u*.csv", "csv", **common)
    env.write_config([dict(t, engine="duckdb"), dict(u, engine="spark")])
    env.load(timeout=LOAD_TIMEOUT)
    write_csv(env.raw / "t2.csv", "id,seq,v\n3,1,c\n,5,t-nokey2\n4,,t-noseq2\n")
    write_csv(env.raw / "u2.csv", "id,seq,v\n3,1,c\n,5,u-nokey2\n4,,u-noseq2\n")
    env.write_config([dict(t, engine="spark"), dict(u, engine="duckdb")])
    env.load(timeout=LOAD_TIMEOUT)
    expected = {"id": "long", "seq": "long", "v": "string", "_quarantine_reason": "string",
                "_quarantined_at": "timestamp"}
    for name in ("t", "u"):
        assert_files_hold_the_schema_types(quarantine_path(env, name), expected)
