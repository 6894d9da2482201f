"""Merge (upsert) against Spark + delta-spark `MERGE INTO`, and overwrite's replace_where.

Each randomized scenario (variant x seed) loads a few batches with `data_loader run`
(loading_strategy: merge) into one table and, next to it, runs the equivalent Spark `MERGE INTO`
into a table Spark created: the source deduplicated in Spark SQL the way the loader documents it
(per key: highest sequence_column, then the last delivered: file order, then row order), then

    MERGE INTO t AS target USING src AS source ON target.id = source.id
    WHEN MATCHED AND (merge_condition) AND (op = 'D') THEN DELETE
    WHEN MATCHED AND (merge_condition) THEN UPDATE SET <all | update_columns | all but except>
    WHEN NOT MATCHED AND NOT (op = 'D') THEN INSERT *
    [WHEN NOT MATCHED BY SOURCE THEN DELETE]

After every batch both tables must hold identical rows (read with delta-rs and Spark).
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

import interop_lib as il
from e2e_lib import LoaderEnv

COLUMNS = ["id", "name", "amount", "category", "seq", "op"]
ARROW = pa.schema([("id", pa.int64()), ("name", pa.string()), ("amount", pa.float64()),
                   ("category", pa.string()), ("seq", pa.int64()), ("op", pa.string())])
SPARK_DDL = "id BIGINT, name STRING, amount DOUBLE, category STRING, seq BIGINT, op STRING"
DELETE_SQL = "op = 'D'"


@dataclass(frozen=True)
class Variant:
    name: str
    sequence: bool = True
    fmt: str = "parquet"
    merge_condition: str | None = None
    update_columns: tuple = ()
    except_columns: tuple = ()
    snapshot: bool = False  # full-snapshot batches with when_not_matched_by_source: delete
    dv: bool = False  # table_properties: delta.enableDeletionVectors (rows deleted in place)


VARIANTS = [
    Variant("sequence"),
    Variant("file_order", sequence=False),
    Variant("file_order_csv", sequence=False, fmt="csv"),
    Variant("merge_condition", merge_condition="source.seq > target.seq"),
    Variant("update_columns", sequence=False, update_columns=("name", "amount")),
    Variant("except_columns", except_columns=("category", "op")),
    Variant("snapshot_delete", snapshot=True),
    Variant("sequence_dv", dv=True),
    Variant("merge_condition_dv", merge_condition="source.seq > target.seq", dv=True),
    Variant("snapshot_delete_dv", snapshot=True, dv=True),
    Variant("except_columns_dv", except_columns=("category", "op"), dv=True),
]
SEEDS = [5, 17]
N_BATCHES = 3


# ------------------------------------------------------------------------------------------
# Random batches
# ------------------------------------------------------------------------------------------

@dataclass
class BatchFiles:
    files: list[list[dict]] = field(default_factory=list)  # in delivery order


def random_batch(rng: random.Random, v: Variant, b: int, n_keys: int) -> BatchFiles:
    """Several files; keys old and new, updates, deletes, several rows per key (ties too)."""
    out = BatchFiles()
    if v.snapshot and b > 0:
        keys = sorted(rng.sample(range(n_keys), k=rng.randint(n_keys // 3, n_keys - 2)))
    else:
        keys = [rng.randrange(n_keys) for _ in range(rng.randint(8, 20))]
    rows = []
    for k in keys:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):  # duplicates per key
            rows.append({
                "id": k,
                "name": f"n{k}_{b}_{rng.randrange(1000)}",
                "amount": round(rng.uniform(0, 1000), 2),
                "category": rng.choice(["a", "b", None]),
                "seq": rng.randrange(8) + 4 * b,  # ties happen; older than the table happens
                "op": "D" if b > 0 and rng.random() < 0.2 else "U",
            })
    rng.shuffle(rows)
    n_files = rng.randint(1, 3)
    for i in range(n_files):
        part = rows[i::n_files]
        if part:
            out.files.append(part)
    return out


def write_file(path: Path, rows: list[dict], fmt: str, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows, schema=ARROW), path)
    else:
        def cell(c, v):
            if v is None:
                return ""
            return f"{v:.2f}" if c == "amount" else str(v)
        lines = [",".join(COLUMNS)] + [",".join(cell(c, r[c]) for c in COLUMNS) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    os.utime(path, (mtime, mtime))


# ------------------------------------------------------------------------------------------
# The two sides
# ------------------------------------------------------------------------------------------

def loader_entry(env: LoaderEnv, v: Variant) -> dict:
    entry = env.table_entry("dim", f"dim/*.{v.fmt}", v.fmt, loading_strategy="merge",
                            primary_keys=["id"], delete_condition=DELETE_SQL,
                            audit_columns=False, max_files_per_batch=100)
    if v.sequence:
        entry["sequence_column"] = "seq"
    if v.merge_condition:
        entry["merge_condition"] = v.merge_condition
    if v.update_columns:
        entry["update_columns"] = list(v.update_columns)
    if v.except_columns:
        entry["except_columns"] = list(v.except_columns)
    if v.snapshot:
        entry["when_not_matched_by_source"] = "delete"
    if v.dv:
        entry["table_properties"] = {"delta.enableDeletionVectors": True}
    return entry


def spark_merge_sql(v: Variant, path: str) -> str:
    order = ("seq DESC, " if v.sequence else "") + "file_ord DESC, row_ord DESC"
    cond = f"({v.merge_condition})" if v.merge_condition else "true"
    if v.update_columns:
        update = "UPDATE SET " + ", ".join(f"target.{c} = source.{c}" for c in v.update_columns)
    elif v.except_columns:
        cols = [c for c in COLUMNS if c != "id" and c not in v.except_columns]
        update = "UPDATE SET " + ", ".join(f"target.{c} = source.{c}" for c in cols)
    else:
        update = "UPDATE SET *"
    by_source = "WHEN NOT MATCHED BY SOURCE THEN DELETE" if v.snapshot else ""
    return f"""
MERGE INTO delta.`{path}` AS target
USING (
  SELECT {', '.join(COLUMNS)} FROM (
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY {order}) AS rn FROM batch_raw)
  WHERE rn = 1) AS source
ON target.id = source.id
WHEN MATCHED AND {cond} AND coalesce(source.{DELETE_SQL}, false) THEN DELETE
WHEN MATCHED AND {cond} THEN {update}
WHEN NOT MATCHED AND NOT coalesce(source.{DELETE_SQL}, false) THEN INSERT *
{by_source}"""


def spark_apply(spark, v: Variant, path: str, batch: BatchFiles) -> None:
    rows = [tuple(r[c] for c in COLUMNS) + (fi, ri)
            for fi, f in enumerate(batch.files) for ri, r in enumerate(f)]
    df = spark.createDataFrame(rows, SPARK_DDL + ", file_ord INT, row_ord INT")
    df.createOrReplaceTempView("batch_raw")
    spark.sql(spark_merge_sql(v, path))


def run_scenario(env: LoaderEnv, spark, v: Variant, seed: int) -> Path:
    rng = random.Random(seed)
    n_keys = rng.randint(15, 30)
    env.write_config([loader_entry(env, v)])
    spark_path = str(env.root / "spark_dim")
    spark.sql(f"CREATE TABLE delta.`{spark_path}` ({SPARK_DDL}) USING delta")
    mtime = 1_700_000_000
    for b in range(N_BATCHES):
        batch = random_batch(rng, v, b, n_keys)
        for i, rows in enumerate(batch.files):
            mtime += 10
            write_file(env.raw / "dim" / f"b{b}_{i}.{v.fmt}", rows, v.fmt, mtime)
        env.load()
        spark_apply(spark, v, spark_path, batch)
        # delta-rs 1.6 does not read tables with deletion vectors: Spark reads ours then.
        ours = (il.read_spark(spark, env.table_path("dim")) if v.dv
                else il.read_delta_rs(env.table_path("dim")))
        theirs = il.read_spark(spark, spark_path)
        d = il.diff_snapshots(ours, theirs)
        assert not d, (f"variant {v.name} seed {seed}: after batch {b} ours (actual) differs "
                       f"from Spark MERGE INTO (expected):\n  {d}\nbatch files: {batch.files}")
    return env.table_path("dim")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_merge_matches_spark_merge_into(env: LoaderEnv, spark, variant: Variant, seed: int):
    run_scenario(env, spark, variant, seed)


@pytest.mark.parametrize("variant", [VARIANTS[0], VARIANTS[-4]], ids=lambda v: v.name)
def test_spark_delta_rs_and_duckdb_read_the_same_merged_table(env: LoaderEnv, spark,
                                                              variant: Variant):
    path = run_scenario(env, spark, variant, seed=99)
    if variant.dv:
        assert il.deletion_vector_count(path) > 0, "no deletion vector was written"
    expected = il.read_spark(spark, path) if variant.dv else il.read_delta_rs(path)
    assert expected.num_rows > 0
    m = il.Mismatches()
    m.check("spark", lambda: il.read_spark(spark, path), expected)
    m.check("duckdb", lambda: il.read_duckdb(path), expected)
    m.assert_none(f"readers disagree on the merged table {path}")
    log = il.replay_log(path)
    assert log.commit_infos[log.version]["operation"] == "MERGE"


# ------------------------------------------------------------------------------------------
# Overwrite with replace_where
# ------------------------------------------------------------------------------------------

def rows_of(path: Path, version: int | None = None) -> list[tuple]:
    t = (DeltaTable(str(path), version=version) if version is not None
         else DeltaTable(str(path))).to_pyarrow_table()
    return sorted(zip(t.column("id").to_pylist(), t.column("day").to_pylist(),
                      t.column("v").to_pylist()))


def test_replace_where_replaces_matching_rows_and_keeps_the_rest(env: LoaderEnv):
    path = env.table_path("facts")
    # A table another writer made: three days in one file, one day in another.
    write_deltalake(str(path), pa.table({"id": [1, 2, 3], "day": [1, 2, 3], "v": ["a", "b", "c"]}))
    write_deltalake(str(path), pa.table({"id": [4], "day": [1], "v": ["d"]}), mode="append")
    untouched = set(DeltaTable(str(path)).file_uris())
    env.write_config([env.table_entry("facts", "facts/*.parquet", "parquet",
                                      loading_strategy="overwrite", replace_where="day = 2",
                                      audit_columns=False)])
    (env.raw / "facts").mkdir()
    pq.write_table(pa.table({"id": [20, 21], "day": [2, 2], "v": ["x", "y"]}),
                   env.raw / "facts" / "a.parquet")
    env.load()
    assert rows_of(path) == [(1, 1, "a"), (3, 3, "c"), (4, 1, "d"), (20, 2, "x"), (21, 2, "y")]
    # Only the file holding day 2 was replaced; time travel still sees the old day 2.
    live = set(DeltaTable(str(path)).file_uris())
    assert len(untouched & live) == 1, (untouched, live)
    assert rows_of(path, version=1) == [(1, 1, "a"), (2, 2, "b"), (3, 3, "c"), (4, 1, "d")]
    info = DeltaTable(str(path)).history()[0]
    assert info["operation"] == "WRITE"
    assert "day = 2" in info["operationParameters"]["predicate"]


def test_replace_where_fails_the_batch_for_rows_outside_the_predicate(env: LoaderEnv):
    path = env.table_path("facts")
    write_deltalake(str(path), pa.table({"id": [1], "day": [2], "v": ["a"]}))
    env.write_config([env.table_entry("facts", "facts/*.parquet", "parquet",
                                      loading_strategy="overwrite", replace_where="day = 2",
                                      audit_columns=False)])
    (env.raw / "facts").mkdir()
    bad = env.raw / "facts" / "a.parquet"
    pq.write_table(pa.table({"id": [5, 6, 7], "day": [2, 3, None], "v": ["x", "y", "z"]}), bad)
    r = env.load(expect=1)
    assert "2 of the batch's 3 rows" in r.out and "day = 2" in r.out, str(r)
    assert rows_of(path) == [(1, 2, "a")]
    assert DeltaTable(str(path)).version() == 0


# ------------------------------------------------------------------------------------------
# Through the loader: exactly once, bad rows
# ------------------------------------------------------------------------------------------

def merge_entry(env: LoaderEnv) -> dict:
    return env.table_entry("dim", "dim/*.parquet", "parquet", loading_strategy="merge",
                           primary_keys=["id"], sequence_column="seq",
                           delete_condition=DELETE_SQL)


def dim_rows(ids, seq, op="U", name="n"):
    return [{"id": i, "name": f"{name}{i}", "amount": 1.0, "category": "a", "seq": seq, "op": op}
            for i in ids]


def test_merged_files_are_not_merged_again(env: LoaderEnv):
    env.write_config([merge_entry(env)])
    write_file(env.raw / "dim" / "a.parquet", dim_rows([1, 2, 3], 1), "parquet", 1_700_000_000)
    env.load()
    write_file(env.raw / "dim" / "b.parquet", dim_rows([2], 2, op="D") + dim_rows([4], 2),
               "parquet", 1_700_000_100)
    env.load()
    version = env.version("dim")
    r = env.load()
    assert env.version("dim") == version, str(r)
    t = env.read("dim")
    assert sorted(t.column("id").to_pylist()) == [1, 3, 4]
    assert env.rows_by_file("dim") == {str(env.raw / "dim" / "a.parquet"): 2,
                                       str(env.raw / "dim" / "b.parquet"): 1}
    recs = env.tracker_for("dim")
    assert {Path(p).name: r["status"] for p, r in recs.items()} == {"a.parquet": "completed",
                                                                    "b.parquet": "completed"}


def test_null_key_fails_its_file_and_the_rest_of_the_batch_merges(env: LoaderEnv):
    env.write_config([merge_entry(env)])
    good = env.raw / "dim" / "good.parquet"
    bad = env.raw / "dim" / "bad.parquet"
    write_file(good, dim_rows([1, 2], 1), "parquet", 1_700_000_000)
    write_file(bad, dim_rows([3], 1) + [{**dim_rows([0], 1)[0], "id": None}], "parquet",
               1_700_000_010)
    r = env.load(expect=1)
    assert any(str(bad) in line and "NULL in primary_keys column 'id'" in line
               for line in r.out.splitlines()), str(r)
    assert sorted(env.read("dim").column("id").to_pylist()) == [1, 2]
    recs = env.tracker_for("dim")
    assert recs[str(good)]["status"] == "completed" and recs[str(bad)]["status"] == "failed"
