"""SCD Type 2 end to end (issue 4; the contract is docs/architecture.md, "SCD Type 2", mirrored
in scd2_reference.py). The real loader runs once per batch; after every batch the target, read with
delta-rs, must equal the reference implementation row for row over every column (effective, end,
current flag, audit columns) and the timeline invariants must hold.

- one targeted test per rule of the semantics;
- randomized multi-batch scenarios from fixed seeds (a failure names its seed and variant);
- one final table read by Spark, delta-rs and DuckDB, which must agree.
"""
from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from e2e_lib import AUDIT_COLUMNS, LoaderEnv
from scd2_harness import FAR_END_TS, UTC, Scd2Harness
from scd2_reference import Scd2Config

import interop_lib as il  # noqa: E402  (the path is set up by e2e_lib)

DELETE_SQL = "op = 'D'"


def is_delete(r: dict) -> bool:
    return r.get("op") == "D"


SEQ = Scd2Config(keys=("id",), sequence="seq", is_delete=is_delete)
NOSEQ = Scd2Config(keys=("id",), is_delete=is_delete)


def versions(rows: list[dict], *cols: str) -> list[tuple]:
    """The rows as tuples of `cols`, sorted (by repr: values may be None)."""
    cols = cols or ("id", "a", "effective_date", "end_date", "is_current")
    return sorted((tuple(r[c] for c in cols) for r in rows), key=repr)


def expect_versions(rows: list[dict], expected: list[tuple], *cols: str):
    got, want = versions(rows, *cols), sorted(expected, key=repr)
    assert got == want, f"versions ({', '.join(cols) or 'id, a, effective, end, current'}):\n" \
                        f"  got  {got}\n  want {want}"


def row(id, a="x", b=1, seq=None, **kw) -> dict:
    r = {"id": id, "a": a, "b": b, **kw}
    if seq is not None:
        r["seq"] = seq
    return r


# ------------------------------------------------------------------------------------------
# One test per rule
# ------------------------------------------------------------------------------------------

def test_new_key_opens_a_current_version(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, seq=10), row(2, "y", seq=11)])])
    rows = h.check()
    expect_versions(rows, [(1, "x", 10, None, True), (2, "y", 11, None, True)])
    schema = env.read("dim").schema
    assert schema.field("effective_date").type == pa.int64(), schema
    assert schema.field("end_date").type == pa.int64(), schema
    assert schema.field("is_current").type == pa.bool_(), schema


def test_tracked_change_closes_current_and_opens_new(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, "x", seq=1), row(2, "p", seq=1)])])
    h.check()
    h.load([("b", 0, [row(1, "y", seq=5), row(2, "p", b=7, seq=6)])])
    rows = h.check()
    expect_versions(rows, [(1, "x", 1, 1, 5, False), (1, "y", 1, 5, None, True),
                           (2, "p", 1, 1, 6, False), (2, "p", 7, 6, None, True)],
                    "id", "a", "b", "effective_date", "end_date", "is_current")


def test_untracked_change_updates_current_in_place(env: LoaderEnv):
    cfg = Scd2Config(keys=("id",), tracking=("a",), sequence="seq")
    h = Scd2Harness(env, cfg)
    h.load([("a", 0, [row(1, "x", b=1, note="n1", seq=1)])])
    h.check()
    h.load([("b", 0, [row(1, "x", b=2, note="n2", seq=4)])])
    rows = h.check()
    assert len(rows) == 1, rows
    r = rows[0]
    assert (r["b"], r["note"], r["seq"], r["effective_date"], r["end_date"], r["is_current"]) == (
        2, "n2", 4, 1, None, True), r
    assert r["_source_file"] == h.batches[1].files[0].path, r


def test_identical_redelivery_is_idempotent(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, "x", seq=1), row(2, "y", seq=2)])])
    first = h.check()
    h.load([("b", 0, [row(1, "x", seq=1), row(2, "y", seq=9), row(1, "x", seq=1)])])
    h.load([("c", 0, [row(2, "y", seq=9)]), ("d", 1, [row(1, "x", seq=3)])])
    after = h.check()
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(after, key=key) == sorted(first, key=key), "a re-delivery changed the table"


def test_several_changes_to_a_key_in_one_batch_with_sequence(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    # Out of order within and across files; seq 1 and 2 are identical and collapse.
    h.load([("a", 0, [row(1, "y", seq=4), row(1, "x", seq=2)]),
            ("b", 0, [row(1, "z", seq=3), row(1, "x", seq=1)])])
    rows = h.check()
    expect_versions(rows, [(1, "x", 1, 3, False), (1, "z", 3, 4, False), (1, "y", 4, None, True)])


def test_several_changes_in_one_batch_without_sequence_follow_file_then_row_order(env: LoaderEnv):
    h = Scd2Harness(env, NOSEQ, delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, "x"), row(9, "s")])])
    # File order is modification time, then path: "c" (mtime +5) comes after "b" and "d"
    # (both +3: path order); within a file, row order.
    h.load([("c", 5, [row(1, "z")]), ("d", 3, [row(1, "w"), row(1, "w")]),
            ("b", 3, [row(1, "y"), row(2, "q")])])
    rows = h.check()
    t1, t2 = h.batches[0].load_time, h.batches[1].load_time
    assert t1 is not None and t2 is not None and t1 < t2, (t1, t2)
    expect_versions([r for r in rows if r["id"] == 1], [
        (1, "x", t1, t2, False), (1, "y", t2, t2, False), (1, "w", t2, t2, False),
        (1, "z", t2, None, True)])


def test_late_out_of_order_change_splits_the_interval(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, "x", seq=10), row(1, "z", seq=30), row(2, "p", seq=20)])])
    h.check()
    h.load([("b", 0, [row(1, "y", seq=20), row(2, "o", seq=5), row(1, "x", seq=15)])])
    rows = h.check()
    expect_versions(rows, [(1, "x", 10, 20, False), (1, "y", 20, 30, False),
                           (1, "z", 30, None, True), (2, "o", 5, 20, False),
                           (2, "p", 20, None, True)])


def test_delete_then_reinsert(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, "x", op="U", seq=1), row(2, "y", op="U", seq=1)])])
    h.check()
    h.load([("b", 0, [row(1, "x", op="D", seq=3), row(3, "never", op="D", seq=3)])])
    rows = h.check()
    # A delete closes the key and opens nothing; deleting an unknown key adds nothing.
    expect_versions(rows, [(1, "x", 1, 3, False), (2, "y", 1, None, True)])
    h.load([("c", 0, [row(1, "x", op="U", seq=6)])])
    rows = h.check()
    expect_versions(rows, [(1, "x", 1, 3, False), (1, "x", 6, None, True),
                           (2, "y", 1, None, True)])


def test_retire_absent_keys(env: LoaderEnv):
    cfg = Scd2Config(keys=("id",), sequence="seq", retire_absent_keys=True)
    h = Scd2Harness(env, cfg)
    h.load([("a", 0, [row(1, seq=1), row(2, seq=2), row(3, seq=3)])])
    h.check()
    h.load([("b", 0, [row(1, "y", seq=4), row(3, seq=7)])])  # 2 absent: retired at 7
    rows = h.check()
    expect_versions(rows, [(1, "x", 1, 4, False), (1, "y", 4, None, True),
                           (2, "x", 2, 7, False), (3, "x", 3, None, True)])
    h.load([("c", 0, [row(1, "y", seq=8), row(2, seq=9), row(3, seq=8)])])
    rows = h.check()
    assert (2, "x", 9, None, True) in versions(rows)


def test_open_end_value_for_integer_sequence(env: LoaderEnv):
    cfg = Scd2Config(keys=("id",), sequence="seq", open_end=99999999)
    h = Scd2Harness(env, cfg, open_end_sql="99999999")
    h.load([("a", 0, [row(1, seq=1)])])
    h.load([("b", 0, [row(1, "y", seq=2)])])
    expect_versions(h.check(), [(1, "x", 1, 2, False), (1, "y", 2, 99999999, True)])


def test_open_end_value_for_load_time(env: LoaderEnv):
    cfg = Scd2Config(keys=("id",), open_end=FAR_END_TS)
    h = Scd2Harness(env, cfg, fmt="csv", open_end_sql="9999-12-31")
    h.load([("a", 0, [row(1), row(2)])])
    h.load([("b", 0, [row(1, "y"), row(3)])])
    rows = h.check()
    assert sorted(r["end_date"] for r in rows if r["is_current"]) == [FAR_END_TS] * 3


def test_effective_dates_from_load_time_without_sequence(env: LoaderEnv):
    h = Scd2Harness(env, NOSEQ, fmt="csv", delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, op="U"), row(2, op="U")])])
    h.load([("b", 0, [row(1, "y", op="U"), row(2, op="D"), row(3, op="U")])])
    rows = h.check()
    schema = env.read("dim").schema
    assert pa.types.is_timestamp(schema.field("effective_date").type), schema
    assert pa.types.is_timestamp(schema.field("end_date").type), schema
    t1, t2 = h.batches[0].load_time, h.batches[1].load_time
    assert isinstance(t1, dt.datetime) and t1 < t2, (t1, t2)
    for r in rows:
        assert r["effective_date"] == r["_load_timestamp"], r
    expect_versions(rows, [(1, "x", t1, t2, False), (1, "y", t2, None, True),
                           (2, "x", t1, t2, False), (3, "x", t2, None, True)])


def error_mentions(text: str, path: str, column: str, count: int) -> bool:
    rest = text.replace(path, "")
    return bool(re.search(rf"\b{re.escape(column)}\b", rest) and re.search(rf"\b{count}\b", rest))


def test_null_key_or_sequence_fails_the_file_naming_column_and_count(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    nulls = [row(None, "n", seq=5), row(4, seq=5), row(None, "m", seq=6), row(None, "o", seq=7)]
    null_seq = [row(5, seq=1), {"id": 6, "a": "x", "b": 1, "seq": None},
                {"id": 7, "a": "x", "b": 1, "seq": None}]
    r = h.load([("a", 0, [row(1, seq=1), row(2, seq=1)]), ("bad_key", 1, nulls),
                ("bad_seq", 2, null_seq), ("c", 3, [row(3, seq=2)])], expect=1)
    bad_key, bad_seq = (str(env.raw / "dim" / f"{s}.parquet") for s in ("bad_key", "bad_seq"))
    status = env.status()["e2e.dim"]
    errors = {f["file"]: f["error"] for f in status["failures"]}
    tracker = env.tracker_for("dim")
    for path, col, n in ((bad_key, "id", 3), (bad_seq, "seq", 2)):
        assert path in errors, f"status lists no failure for {path}: {status}\n{r}"
        assert error_mentions(errors[path], path, col, n), (
            f"the error for {path} must name column {col!r} and count {n}: {errors[path]!r}")
        assert tracker[path]["status"] == "failed", tracker[path]
        lines = [line for line in r.out.splitlines() if path in line]
        assert any(error_mentions(line, path, col, n) for line in lines), f"{col}/{n}:\n{r}"
    assert sorted(Path(f.path).stem for f in h.batches[0].files) == ["a", "c"]
    rows = h.check()
    assert sorted(r["id"] for r in rows) == [1, 2, 3]


def test_null_key_quarantine_keeps_bad_rows_aside_and_loads_the_rest(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL, on_bad_rows="quarantine")
    h.load([("a", 0, [row(1, seq=1), row(None, "n", seq=2), row(2, seq=3),
                      {"id": 3, "a": "q", "b": 1, "seq": None}]),
            ("b", 1, [row(4, seq=1)])])
    rows = h.check()
    assert sorted(r["id"] for r in rows) == [1, 2, 4]
    qpath = env.table_path("dim").parent / "dim_quarantine"
    q = DeltaTable(str(qpath)).to_pyarrow_table()
    for c in ("_quarantine_reason", "_quarantined_at", *AUDIT_COLUMNS, "id", "a", "seq"):
        assert c in q.column_names, f"quarantine table lacks {c}: {q.column_names}"
    qrows = sorted(q.to_pylist(), key=lambda r: r["a"])
    assert [(r["id"], r["a"], r["seq"]) for r in qrows] == [(None, "n", 2), (3, "q", None)], qrows
    assert re.search(r"\bid\b", qrows[0]["_quarantine_reason"] or ""), qrows[0]
    assert re.search(r"\bseq\b", qrows[1]["_quarantine_reason"] or ""), qrows[1]
    for r in qrows:
        assert r["_quarantined_at"] is not None, r
        assert r["_source_file"] == h.batches[0].files[0].path, r
    assert not any(r["is_current"] is None for r in rows)
    assert "_dl_scd2_changes" not in env.read("dim").column_names


def test_audit_columns(env: LoaderEnv):
    h = Scd2Harness(env, SEQ, delete_sql=DELETE_SQL)
    h.load([("a", 0, [row(1, seq=1), row(2, seq=1)]), ("b", 1, [row(3, seq=1)])])
    h.load([("c", 0, [row(1, "y", seq=2)])])
    rows = h.check()
    tracker = env.tracker_for("dim")
    for r in rows:
        t = tracker[r["_source_file"]]
        assert r["_batch_id"] == t["batch_id"], (r, t)
        assert r["_load_timestamp"] is not None, r
    assert len({r["_batch_id"] for r in rows}) == 2
    assert h.batches[0].load_time < h.batches[1].load_time


def test_audit_columns_renamed_and_off(env: LoaderEnv):
    renamed = {"load_timestamp": "loaded_at", "source_file": "src", "batch_id": "bid"}
    h = Scd2Harness(env, NOSEQ, name="ren", fmt="csv", audit_columns=renamed)
    off = Scd2Harness(env, SEQ, name="off", audit_columns=False)
    env.write_config([h.entry, off.entry])
    off.write_batch([("a", 0, [row(1, seq=1)])])
    h.load([("a", 0, [row(1), row(2)])])
    h.write_batch([("b", 0, [row(1, "y")])])
    env.load()
    ren = env.read("ren").to_pylist()
    for r in ren:
        assert set(r) == {"id", "a", "b", "loaded_at", "src", "bid", "effective_date",
                          "end_date", "is_current"}, r
        assert r["effective_date"] == r["loaded_at"], r
    closed = [r for r in ren if not r["is_current"]]
    assert len(closed) == 1 and closed[0]["end_date"] > closed[0]["loaded_at"], ren
    assert set(env.read("off").column_names) == {"id", "a", "b", "seq", "effective_date",
                                                 "end_date", "is_current"}


# ------------------------------------------------------------------------------------------
# Randomized multi-batch scenarios
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    name: str
    fmt: str
    seq: str | None = "int"  # None, "int" or "ts" (a TIMESTAMP sequence, parquet only)
    deletes: bool = True
    tracking: tuple[str, ...] | None = None
    retire: bool = False
    open_end: bool = False
    evolve_at: int | None = None  # the batch where the column `extra` appears
    composite: bool = False
    dv: bool = False  # table_properties: delta.enableDeletionVectors (rows deleted in place)


VARIANTS = [
    Variant("pq-seq-deletes-evolve", "parquet", evolve_at=2),
    Variant("csv-seq-tracked-openend", "csv", tracking=("a", "b"), open_end=True, evolve_at=3),
    Variant("pq-noseq-tracked-evolve", "parquet", seq=None, tracking=("a", "b"), open_end=True,
            evolve_at=2),
    Variant("csv-noseq-nodeletes", "csv", seq=None, deletes=False),
    Variant("pq-tsseq-retire", "parquet", seq="ts", retire=True, evolve_at=2),
    Variant("csv-seq-retire-composite", "csv", retire=True, deletes=False, composite=True),
    Variant("csv-noseq-retire", "csv", seq=None, retire=True, tracking=("a",)),
    Variant("pq-seq-deletes-evolve-dv", "parquet", evolve_at=2, dv=True),
    Variant("csv-noseq-retire-dv", "csv", seq=None, retire=True, tracking=("a",), dv=True),
]
DV_PROPERTIES = {"table_properties": {"delta.enableDeletionVectors": True}}
SEEDS = [11, 29]
TS0 = dt.datetime(2024, 1, 1, tzinfo=UTC)


def seq_value(v: Variant, n: int):
    return TS0 + dt.timedelta(hours=n) if v.seq == "ts" else n


class Generator:
    """Random batches for one variant: few keys and small value domains, so that changes,
    identical re-deliveries, ties, late rows and re-inserts all happen often."""

    def __init__(self, v: Variant, seed: int, n_keys: int):
        self.v, self.rng, self.n_keys = v, random.Random(seed), n_keys
        self.history: list[dict] = []
        self.last: dict[int, dict] = {}  # the latest row generated per id

    def value_row(self, key: int, b: int) -> dict:
        rng, v = self.rng, self.v
        nulls = v.fmt == "parquet"
        r = {"id": key}
        if v.composite:
            r["k2"] = rng.choice(["p", "q"])
        r["a"] = rng.choice(["x", "y", "z"] + ([None] if nulls else []))
        r["b"] = rng.choice([1, 2, 3, None] if nulls else [1, 2, 3])
        r["note"] = rng.choice(["n1", "n2", "n3", None])
        if v.deletes:
            r["op"] = "D" if rng.random() < 0.15 else (
                rng.choice(["I", "U"]) if v.tracking else "U")
        if v.seq:
            r["seq"] = seq_value(v, max(0, 10 * b + rng.randint(-25, 6)))
        return r

    def batch(self, b: int) -> list[tuple[str, float, list[dict]]]:
        rng, v = self.rng, self.v
        n_files = rng.randint(1, 3)
        files: list[list[dict]] = [[] for _ in range(n_files)]
        if v.retire:
            keys = [k for k in range(self.n_keys) if rng.random() < 0.7]
        else:
            keys = [rng.randrange(self.n_keys) for _ in range(rng.randint(8, 22))]
        for k in keys:
            p = rng.random()
            if self.history and p < 0.15:
                r = dict(rng.choice(self.history))  # re-delivery (late, when it has a sequence)
            elif any(files) and p < 0.25:
                r = dict(rng.choice([x for f in files for x in f]))  # duplicate in the batch
            elif k in self.last and p < 0.45:  # only `note` (and op) change: untracked or not
                r = {**self.value_row(k, b), **{c: self.last[k][c] for c in ("a", "b", "k2")
                                                 if c in self.last[k]}}
            else:
                r = self.value_row(k, b)
            files[rng.randrange(n_files)].append(r)
            self.last[r["id"]] = r
        sentinel = {"id": 1000 + b, **({"k2": "p"} if v.composite else {}), "a": "s", "b": 0,
                    "note": "s", **({"op": "U"} if v.deletes else {})}
        if v.seq:
            sentinel["seq"] = seq_value(v, 10 * b)
        files[0].insert(rng.randrange(len(files[0]) + 1), sentinel)  # learns the batch's audit
        out = []
        for i, rows in enumerate(files):
            extra = v.evolve_at is not None and b >= v.evolve_at and (i == 0 or rng.random() < .5)
            for r in rows:  # a re-delivered row keeps its own `extra` where it had one
                if not extra:
                    r.pop("extra", None)
                elif "extra" not in r:
                    r["extra"] = rng.choice(["e1", "e2", None])
            if rows:
                self.history += [dict(r) for r in rows if r["id"] < 1000]
                stem = "".join(rng.choice("abcdefgh") for _ in range(4)) + f"_{b}{i}"
                out.append((stem, rng.choice([0, 10, 10, 20, 30]), rows))
        return out


def run_scenario(env: LoaderEnv, v: Variant, seed: int, n_batches: int = 4):
    label = f"[variant {v.name}, seed {seed}] "
    keys = ("id", "k2") if v.composite else ("id",)
    cfg = Scd2Config(keys=keys, tracking=v.tracking, sequence="seq" if v.seq else None,
                     is_delete=is_delete if v.deletes else None, retire_absent_keys=v.retire,
                     open_end=(FAR_END_TS if v.seq != "int" else 99999999) if v.open_end else None)
    types = {"seq": pa.timestamp("us", tz="UTC")} if v.seq == "ts" else None
    h = Scd2Harness(env, cfg, fmt=v.fmt, label=label, types=types,
                    delete_sql=DELETE_SQL if v.deletes else None,
                    open_end_sql=(("9999-12-31" if v.seq != "int" else "99999999")
                                  if v.open_end else None),
                    **(DV_PROPERTIES if v.dv else {}))
    gen = Generator(v, seed, n_keys=random.Random(seed).randint(12, 24))
    for b in range(n_batches):
        h.load(gen.batch(b))
        h.check()
    return h


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_randomized_batches_match_the_reference(env: LoaderEnv, variant: Variant, seed: int):
    run_scenario(env, variant, seed)


# ------------------------------------------------------------------------------------------
# Readers agree
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", [VARIANTS[0], VARIANTS[-2]], ids=lambda v: v.name)
def test_spark_delta_rs_and_duckdb_read_the_same_scd2_table(env: LoaderEnv, spark,
                                                             variant: Variant):
    h = run_scenario(env, variant, seed=7, n_batches=3)
    path = env.table_path("dim")
    if variant.dv:
        assert il.deletion_vector_count(path) > 0, "no deletion vector was written"
    # delta-rs 1.6 does not read tables with deletion vectors.
    expected = il.read_spark(spark, path) if variant.dv else il.read_delta_rs(path)
    assert expected.num_rows == len(h.expected()) > 0
    m = il.Mismatches()
    m.check("spark", lambda: il.read_spark(spark, path), expected)
    m.check("duckdb", lambda: il.read_duckdb(path), expected)
    m.assert_none(f"readers disagree on the SCD2 table {path}")
