"""Ctrl-C (KeyboardInterrupt) stops a run as SIGINT stops the command; two threads run
process_all_tables on different configs at once."""
from __future__ import annotations

import _thread
import threading
import time

import pytest

from conftest import Workspace, write_orders
from data_loader.config import DataLoaderConfig
from data_loader.core.processor import DataProcessor

FILES, ROWS = 16, 100_000


def big_config(ws: Workspace) -> DataLoaderConfig:
    for i in range(FILES):
        write_orders(ws.raw, i * ROWS, ROWS, f"orders_{i:03}.parquet")
    return DataLoaderConfig(**ws.config_dict(
        [ws.table("orders", "orders/*.parquet", max_files_per_batch=1)], max_parallel_jobs=1))


def committed_files(ws: Workspace) -> dict[str, int]:
    table = ws.read("orders")
    out: dict[str, int] = {}
    for f in table.column("_source_file").to_pylist():
        out[f] = out.get(f, 0) + 1
    return out


def test_keyboard_interrupt_stops_the_run_and_the_next_run_completes(tmp_path):
    ws = Workspace(tmp_path)
    processor = DataProcessor(big_config(ws))
    log = ws.root / "processed" / "sales" / "orders" / "_delta_log"

    def interrupt_after_first_commit():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(log.glob("*.json")):
            time.sleep(0.01)
        _thread.interrupt_main()

    t = threading.Thread(target=interrupt_after_first_commit)
    t.start()
    with pytest.raises(KeyboardInterrupt):
        processor.process_all_tables()
    t.join()
    # The run had ended when the KeyboardInterrupt came through: nothing commits after it.
    commits = sorted(log.glob("*.json"))
    time.sleep(1.0)
    assert sorted(log.glob("*.json")) == commits
    # Stopped part-way: what the table holds is whole files, each once, and the tracker
    # says the same (status counts only completed files).
    loaded = committed_files(ws)
    assert 0 < len(loaded) < FILES
    assert all(n == ROWS for n in loaded.values())
    status = processor.get_processing_status().table("orders")
    assert status.files.completed == len(loaded)
    assert status.files.processing == 0
    assert status.rows_loaded == ROWS * len(loaded)

    again = processor.process_all_tables()
    assert again.exit_code == 0, again
    assert again.totals.files_loaded == FILES - len(loaded)
    loaded = committed_files(ws)
    assert len(loaded) == FILES and all(n == ROWS for n in loaded.values())


def test_two_threads_run_different_configs_at_once(tmp_path):
    spaces = [Workspace(tmp_path / "a"), Workspace(tmp_path / "b")]
    processors = [DataProcessor(big_config(ws)) for ws in spaces]
    results: list = [None, None]
    errors: list = []

    def run(i: int) -> None:
        try:
            results[i] = processors[i].process_all_tables()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for ws, r in zip(spaces, results):
        assert r.exit_code == 0, r
        assert r.totals.files_loaded == FILES
        loaded = committed_files(ws)
        assert len(loaded) == FILES and all(n == ROWS for n in loaded.values())
        assert all(str(ws.root) in f for f in loaded)  # each its own data
    # They ran at the same time (the GIL is released while loading): the runs overlap.
    a, b = results
    assert a.start_ms < b.end_ms and b.start_ms < a.end_ms
