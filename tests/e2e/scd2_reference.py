"""A reference implementation of data_loader's SCD Type 2 semantics (issue 4; summarised in
docs/architecture.md, "SCD Type 2"): plain loops over the full event history.

The table after any series of batches is what you get by applying every event, one at a time in
event order, to an empty table.  `build_table` does exactly that, from scratch, every time it is
called; it is slow on purpose and has no incremental state to get wrong.

Inputs are plain Python: a `Scd2Config`, and a list of `Batch`es (one `data_loader run` each),
each a list of `SourceFile`s (path, modification time, rows as dicts).  Bad rows (a NULL key or
sequence value) are the caller's business: `is_bad_row` tells them apart, `valid_events` drops
them (on_bad_rows: quarantine) and the caller leaves failed files out (on_bad_rows: fail).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

AUDIT = ("_load_timestamp", "_source_file", "_batch_id")


@dataclass(frozen=True)
class Scd2Config:
    keys: tuple[str, ...]
    tracking: tuple[str, ...] | None = None  # None: every data column but keys and sequence
    sequence: str | None = None
    is_delete: Callable[[dict], bool] | None = None  # the delete_condition, True only when TRUE
    retire_absent_keys: bool = False
    open_end: Any = None  # the open end value, already in the effective column's Python type
    effective: str = "effective_date"
    end: str = "end_date"
    current: str = "is_current"


@dataclass
class SourceFile:
    path: str
    mtime: float
    rows: list[dict]


@dataclass
class Batch:
    files: list[SourceFile]
    load_time: Any = None  # the batch's _load_timestamp (only known after its run)
    batch_id: Any = None  # the batch's _batch_id


@dataclass
class Event:
    order: tuple  # the event-order sort key
    key: tuple
    seq: Any  # what goes into effective / end
    row: dict | None  # None for a delete
    audit: dict = field(default_factory=dict)


def is_bad_row(cfg: Scd2Config, row: dict) -> bool:
    cols = list(cfg.keys) + ([cfg.sequence] if cfg.sequence else [])
    return any(row.get(c) is None for c in cols)


def ordered_files(batch: Batch) -> list[SourceFile]:
    """File order within a batch: modification time, then path."""
    return sorted(batch.files, key=lambda f: (f.mtime, f.path))


def data_columns(batches: list[Batch]) -> list[str]:
    """Every source column seen, in order of first appearance (in batch and file order)."""
    cols: list[str] = []
    for b in batches:
        for f in ordered_files(b):
            for r in f.rows:
                for c in r:
                    if c not in cols:
                        cols.append(c)
    return cols


def batch_events(cfg: Scd2Config, batch: Batch, b: int) -> list[Event]:
    """The batch's valid rows as events; bad rows are skipped."""
    events = []
    for fi, f in enumerate(ordered_files(batch)):
        for ri, row in enumerate(f.rows):
            if is_bad_row(cfg, row):
                continue
            seq = row[cfg.sequence] if cfg.sequence else batch.load_time
            order = (seq, b, fi, ri) if cfg.sequence else (b, fi, ri)
            delete = bool(cfg.is_delete and cfg.is_delete(row) is True)
            audit = {"_load_timestamp": batch.load_time, "_source_file": f.path,
                     "_batch_id": batch.batch_id}
            key = tuple(row[k] for k in cfg.keys)
            events.append(Event(order, key, seq, None if delete else row, audit))
    return events


def retire_events(cfg: Scd2Config, batch_evs: list[Event], b: int, current_keys) -> list[Event]:
    """retire_absent_keys: a delete for every current key absent from the batch, at the batch's
    maximum sequence value (load time without one), after all of the batch's rows."""
    if not batch_evs:
        return []
    present = {e.key for e in batch_evs}
    seq = max(e.seq for e in batch_evs)
    after = float("inf")
    out = []
    for k in sorted(current_keys - present, key=repr):
        order = (seq, b, after, 0) if cfg.sequence else (b, after, 0)
        out.append(Event(order, k, seq, None))
    return out


def all_events(cfg: Scd2Config, batches: list[Batch]) -> list[Event]:
    """Every event of the batches, retire events included, in event order."""
    events: list[Event] = []
    for b, batch in enumerate(batches):
        evs = batch_events(cfg, batch, b)
        if cfg.retire_absent_keys:
            before = apply_events(cfg, events, data_columns(batches[:b]))
            current = {key_of(cfg, v) for v in before if v[cfg.current]}
            evs += retire_events(cfg, evs, b, current)
        events += evs
    events.sort(key=lambda e: e.order)
    return events


def key_of(cfg: Scd2Config, version: dict) -> tuple:
    return tuple(version[k] for k in cfg.keys)


def differs(a: Any, b: Any) -> bool:
    """NULL-safe inequality (IS DISTINCT FROM)."""
    if a is None or b is None:
        return (a is None) != (b is None)
    return a != b


def apply_events(cfg: Scd2Config, events: list[Event], columns: list[str]) -> list[dict]:
    """Apply `events` (already in event order) one at a time to an empty table."""
    non_data = set(cfg.keys) | ({cfg.sequence} if cfg.sequence else set())
    tracked = [c for c in (cfg.tracking if cfg.tracking is not None else columns)
               if c not in non_data]
    untracked = [c for c in columns if c not in non_data and c not in tracked]
    table: list[dict] = []
    current: dict[tuple, dict] = {}
    for ev in sorted(events, key=lambda e: e.order):
        cur = current.get(ev.key)
        if ev.row is None:  # delete
            if cur is not None:
                cur[cfg.end], cur[cfg.current] = ev.seq, False
                del current[ev.key]
            continue
        values = {c: ev.row.get(c) for c in columns}
        if cur is not None and any(differs(cur[c], values[c]) for c in tracked):
            cur[cfg.end], cur[cfg.current] = ev.seq, False
            cur = None
        if cur is None:
            version = {**values, **ev.audit, cfg.effective: ev.seq, cfg.end: cfg.open_end,
                       cfg.current: True}
            table.append(version)
            current[ev.key] = version
        elif any(differs(cur[c], values[c]) for c in untracked):
            cur.update(values)
            cur.update(ev.audit)
    return table


def build_table(cfg: Scd2Config, batches: list[Batch]) -> list[dict]:
    """The SCD2 table after `batches`: every version as a dict over all its columns."""
    return apply_events(cfg, all_events(cfg, batches), data_columns(batches))


def delete_points(cfg: Scd2Config, batches: list[Batch]) -> set[tuple]:
    """(key, seq) of every delete event (retire events included): the only places a key's
    timeline may have a gap."""
    return {(e.key, e.seq) for e in all_events(cfg, batches) if e.row is None}


def timeline_problems(cfg: Scd2Config, rows: list[dict], deletes: set[tuple] | None = None,
                      limit: int = 10) -> list[str]:
    """Invariants of any SCD2 table: per key at most one current version, which is the latest
    and open; closed versions end at or after they start; versions never overlap; each version
    ends where the next starts unless a delete (from `deletes`, when given) closed it."""
    by_key: dict[tuple, list[dict]] = {}
    for r in rows:
        by_key.setdefault(key_of(cfg, r), []).append(r)
    problems: list[str] = []

    def end_sort(v):
        return (1, 0) if v[cfg.current] else (0, v[cfg.end])

    for k, vs in sorted(by_key.items(), key=lambda kv: repr(kv[0])):
        vs.sort(key=lambda v: (v[cfg.effective], end_sort(v)))
        cur = [v for v in vs if v[cfg.current]]
        if len(cur) > 1:
            problems.append(f"key {k}: {len(cur)} current versions")
        if cur and cur[0] is not vs[-1]:
            problems.append(f"key {k}: the current version is not the latest")
        for v in vs:
            if v[cfg.current] and differs(v[cfg.end], cfg.open_end):
                problems.append(f"key {k}: current version with end {v[cfg.end]!r}")
            if not v[cfg.current] and (v[cfg.end] is None or v[cfg.end] < v[cfg.effective]):
                problems.append(f"key {k}: closed version with end {v[cfg.end]!r} "
                                f"(effective {v[cfg.effective]!r})")
        last = vs[-1]
        if not last[cfg.current] and deletes is not None and (k, last[cfg.end]) not in deletes:
            problems.append(f"key {k}: no current version but no delete at {last[cfg.end]!r}")
        for a, b in zip(vs, vs[1:]):
            if a[cfg.current] or a[cfg.end] is None:
                continue
            if a[cfg.end] > b[cfg.effective]:
                problems.append(f"key {k}: versions overlap: ends {a[cfg.end]!r} after the "
                                f"next starts {b[cfg.effective]!r}")
            elif a[cfg.end] < b[cfg.effective] and deletes is not None \
                    and (k, a[cfg.end]) not in deletes:
                problems.append(f"key {k}: gap {a[cfg.end]!r}..{b[cfg.effective]!r} with no "
                                f"delete at {a[cfg.end]!r}")
    return problems[:limit]
