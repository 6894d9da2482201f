"""Six data_loader processes append to one table at the same moment: all succeed (losers of a
commit race retry at the next version), versions 1..6 each exist exactly once, and no row is
lost or duplicated."""
from __future__ import annotations

import re
import subprocess
import time

import pyarrow as pa
import pyarrow.parquet as pq

import interop_lib as il

WRITERS = 6
ROWS = 20_000


def _batch(ids) -> pa.Table:
    ids = list(ids)
    return pa.table({"id": pa.array(ids, pa.int64()), "writer": pa.array([i // 1_000_000 for i in ids], pa.int64()),
                     "s": pa.array([f"row-{i}" for i in ids], pa.string())})


def test_concurrent_appends(dl, spark, tmp_path):
    path = str(tmp_path / "table")
    dl.write(path, il.write_parquet(_batch(range(0, 100)), tmp_path / "base.parquet"))
    assert il.commit_versions(path) == [0]
    srcs = []
    for k in range(1, WRITERS + 1):
        start = k * 1_000_000
        srcs.append(il.write_parquet(_batch(range(start, start + ROWS)), tmp_path / f"w{k}.parquet"))

    procs = [subprocess.Popen([dl.bin, "table", "write", path, "--source", s], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for s in srcs]
    t0 = time.time()
    results = [p.communicate(timeout=300) for p in procs]
    elapsed = time.time() - t0
    failed = [(i + 1, p.returncode, err[-800:]) for i, (p, (_, err)) in enumerate(zip(procs, results)) if p.returncode != 0]
    assert not failed, f"concurrent writers failed: {failed}"

    versions = il.commit_versions(path)
    assert versions == list(range(WRITERS + 1)), f"expected commits 0..{WRITERS}, found {versions}"
    owner = {}
    for v in range(1, WRITERS + 1):
        actions = il.read_commit(path, v)
        assert sum("commitInfo" in a for a in actions) <= 1
        assert not any("remove" in a or "metaData" in a or "protocol" in a for a in actions), f"v{v} is not a blind append"
        adds = [a["add"] for a in actions if "add" in a]
        assert adds, f"v{v} adds nothing"
        writers = set()
        n = 0
        for a in adds:
            t = pq.read_table(il.file_abs_path(path, a["path"]), columns=["writer"])
            writers |= set(t.column("writer").to_pylist())
            n += t.num_rows
        assert len(writers) == 1, f"v{v} mixes rows of writers {writers}"
        assert n == ROWS, f"v{v} holds {n} rows, a writer wrote {ROWS}"
        owner[v] = writers.pop()
    assert sorted(owner.values()) == list(range(1, WRITERS + 1)), f"each writer must own exactly one version: {owner}"

    total = 100 + WRITERS * ROWS
    for name, snap in (("data_loader", il.read_dl(dl, path, out_dir=tmp_path)), ("delta-rs", il.read_delta_rs(path))):
        assert snap.num_rows == total, f"{name}: {snap.num_rows} rows, expected {total}"
    ids = pa.Table.from_batches(spark.read.format("delta").load(path).select("id")._collect_as_arrow()).column("id")
    assert len(ids) == total and len(set(ids.to_pylist())) == total, "Spark sees lost or duplicated rows"
    leftovers = [f for f in (tmp_path / "table" / "_delta_log").iterdir()
                 if not re.fullmatch(r"\d{20}\.(json|checkpoint\.parquet|crc)|_last_checkpoint", f.name)]
    assert not leftovers, f"temporary files left in _delta_log: {leftovers}"
    print(f"{WRITERS} concurrent appends took {elapsed:.1f}s")
