"""Drives one SCD2 table through the real loader, batch by batch, next to the reference
(scd2_reference.py), and compares them after every batch.

`Scd2Harness.load(files)` writes the batch's source files (csv or parquet, with explicit
modification times), runs `data_loader run` once, learns the batch's `_batch_id` (from the
tracker) and `_load_timestamp` (from the table's rows of that batch), and `check()` compares the
target, read with delta-rs, row for row with the reference over every column, and checks the
timeline invariants.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from e2e_lib import LoaderEnv, Result
from scd2_reference import (AUDIT, Batch, Scd2Config, SourceFile, build_table, data_columns,
                            delete_points, is_bad_row, key_of, ordered_files, timeline_problems)

UTC = dt.timezone.utc
FAR_END_TS = dt.datetime(9999, 12, 31, tzinfo=UTC)

# Parquet types of the columns the tests use (csv leaves typing to the loader's reader).
PARQUET_TYPES = {"id": pa.int64(), "k2": pa.string(), "a": pa.string(), "b": pa.int64(),
                 "note": pa.string(), "op": pa.string(), "seq": pa.int64(), "extra": pa.string()}


def canon(v):
    if isinstance(v, dt.datetime):
        return "TS:" + v.astimezone(UTC).isoformat(timespec="microseconds")
    return v


def canon_row(r: dict) -> str:
    return json.dumps({k: canon(v) for k, v in r.items()}, sort_keys=True)


def write_source(path: Path, rows: list[dict], fmt: str, mtime: float, types: dict) -> Path:
    """One source file; every row has the same columns (the first row's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(rows[0].keys()) if rows else ["id"]
    if fmt == "parquet":
        schema = pa.schema([pa.field(c, types[c]) for c in cols])
        pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in cols}, schema=schema), path)
    else:
        def cell(v):
            assert v is None or "," not in str(v), v
            return "" if v is None else str(v)
        lines = [",".join(cols)] + [",".join(cell(r.get(c)) for c in cols) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    os.utime(path, (mtime, mtime))
    return path


class Scd2Harness:
    def __init__(self, env: LoaderEnv, cfg: Scd2Config, fmt: str = "parquet", name: str = "dim",
                 delete_sql: str | None = None, open_end_sql: str | None = None,
                 types: dict | None = None, label: str = "", **entry_extra):
        self.env, self.cfg, self.fmt, self.name = env, cfg, fmt, name
        # A Spark batch takes 30-100 s on 2 busy cores; the default 120 s flaked there.
        self.run_timeout = 600 if entry_extra.get("engine") == "spark" else 120
        self.types = {**PARQUET_TYPES, **(types or {})}
        self.batches: list[Batch] = []
        self.label = label
        self.mtime0 = 1_700_000_000  # fixed, long past: file ages never matter
        entry = {"loading_strategy": "scd2", "primary_keys": list(cfg.keys)}
        if cfg.tracking is not None:
            entry["tracking_columns"] = list(cfg.tracking)
        if cfg.sequence:
            entry["sequence_column"] = cfg.sequence
        if delete_sql:
            entry["delete_condition"] = delete_sql
        if cfg.retire_absent_keys:
            entry["retire_absent_keys"] = True
        if open_end_sql is not None:
            entry["scd2_open_end_value"] = open_end_sql
        entry.update(entry_extra)
        self.entry = env.table_entry(name, f"{name}/*.{fmt}", fmt, **entry)
        self.other_tables: list[dict] = []

    def write_config(self):
        self.env.write_config([self.entry, *self.other_tables])

    # -- loading ---------------------------------------------------------------------------
    def write_batch(self, files: list[tuple[str, float, list[dict]]]) -> Batch:
        """files: (basename without extension, mtime offset, rows)."""
        b = len(self.batches)
        srcs = []
        for stem, offset, rows in files:
            path = self.env.raw / self.name / f"{stem}.{self.fmt}"
            mtime = self.mtime0 + 1000 * b + offset
            write_source(path, rows, self.fmt, mtime, self.types)
            srcs.append(SourceFile(str(path), mtime, rows))
        return Batch(srcs)

    def load(self, files: list[tuple[str, float, list[dict]]], expect: int = 0,
             keep_failed: bool = False) -> Result:
        """Write the batch's files and run the loader once. Files that failed are left out of
        the reference (a failed file loads nothing) unless keep_failed."""
        if not self.env.config_path.exists():
            self.write_config()
        batch = self.write_batch(files)
        r = self.env.run("run", timeout=self.run_timeout)
        assert r.rc == expect, f"{self.label}batch {len(self.batches)}: expected exit {expect}\n{r}"
        tracker = self.env.tracker_for(self.name)
        if not keep_failed:
            batch.files = [f for f in batch.files
                           if tracker.get(f.path, {}).get("status") == "completed"]
        ids = {tracker[f.path]["batch_id"] for f in batch.files if f.path in tracker}
        assert len(ids) <= 1, f"{self.label}one run's files got several batch ids: {ids}"
        batch.batch_id = ids.pop() if ids else None
        times = {r["_load_timestamp"] for r in self.actual()
                 if r.get("_batch_id") == batch.batch_id}
        assert len(times) <= 1, f"{self.label}batch {batch.batch_id} has load times {times}"
        batch.load_time = times.pop() if times else None
        self.batches.append(batch)
        return r

    # -- reading and comparing -------------------------------------------------------------
    def actual(self) -> list[dict]:
        return self.env.read(self.name).to_pylist()

    def expected(self) -> list[dict]:
        return build_table(self.cfg, self.batches)

    def check(self, where: str = "") -> list[dict]:
        """Target == reference row for row, and the timeline invariants hold. Returns the rows."""
        actual, expected = self.actual(), self.expected()
        where = f"{self.label}{where or f'after batch {len(self.batches) - 1}'}"
        if expected:
            want_cols = set(expected[0])
            got_cols = set(self.env.read(self.name).column_names)
            assert got_cols == want_cols, (f"{where}: columns {sorted(got_cols)} != reference "
                                           f"{sorted(want_cols)}")
        ca = Counter(canon_row(r) for r in actual)
        ce = Counter(canon_row(r) for r in expected)
        if ca != ce:
            raise AssertionError(f"{where}: target != reference\n" + self.explain(actual, expected))
        problems = timeline_problems(self.cfg, actual, delete_points(self.cfg, self.batches))
        assert not problems, f"{where}: timeline invariants broken:\n  " + "\n  ".join(problems)
        return actual

    def explain(self, actual: list[dict], expected: list[dict], max_keys: int = 3) -> str:
        """The keys whose versions differ: expected vs actual versions and the key's events."""
        ca = Counter(canon_row(r) for r in actual)
        ce = Counter(canon_row(r) for r in expected)
        bad = (ca - ce) + (ce - ca)
        keys = []
        for r in actual + expected:
            k = key_of(self.cfg, r)
            if canon_row(r) in bad and k not in keys:
                keys.append(k)
        out = [f"{len(actual)} rows vs {len(expected)} expected; {len(keys)} keys differ"]
        eff = self.cfg.effective

        def show(rows):
            rows = sorted(rows, key=lambda r: (canon_row({"e": r[eff]}), canon_row(r)))
            return "\n".join("      " + canon_row(r) for r in rows) or "      (none)"
        for k in keys[:max_keys]:
            exp = [r for r in expected if key_of(self.cfg, r) == k]
            act = [r for r in actual if key_of(self.cfg, r) == k]
            out.append(f"  key {k}:\n    expected:\n{show(exp)}\n    actual:\n{show(act)}"
                       f"\n    events (batch, file, row#, row):")
            for b, batch in enumerate(self.batches):
                for f in ordered_files(batch):
                    for i, row in enumerate(f.rows):
                        if not is_bad_row(self.cfg, row) and key_of(self.cfg, row) == k:
                            out.append(f"      {b} {Path(f.path).name} "
                                       f"mtime+{f.mtime - self.mtime0:g} #{i} {canon_row(row)}")
        return "\n".join(out)

    def columns(self) -> list[str]:
        return data_columns(self.batches)


def audit_only(rows: list[dict]) -> list[dict]:
    return [{c: r.get(c) for c in AUDIT} for r in rows]
