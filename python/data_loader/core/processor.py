"""``DataProcessor``: the loader's ``run`` and ``status`` from Python.

>>> from data_loader.config.table_config import DataLoaderConfig
>>> from data_loader.core.processor import DataProcessor
>>> processor = DataProcessor(DataLoaderConfig(**config_dict))  # doctest: +SKIP
>>> results = processor.process_all_tables()                     # doctest: +SKIP
>>> results.exit_code, results.totals.files_loaded               # doctest: +SKIP
(0, 12)

A run does exactly what ``data_loader run`` does (upstream dependencies, loading, Unity
Catalog registration, notifications, metrics files), in this process on a native thread
with the GIL released. Ctrl-C (KeyboardInterrupt) stops it as SIGINT stops the command:
running batches finish (a second Ctrl-C abandons them), nothing half-committed is left, and
the KeyboardInterrupt is raised once the run has ended. The next run continues from there.
"""

from __future__ import annotations

import json
from typing import Iterable, List, Optional, Union

from data_loader import _native
from data_loader.config.table_config import DataLoaderConfig, TableConfig
from data_loader.core._runner import wait_for_run
from data_loader.core.results import ProcessingStatus, RunResult

__all__ = ["DataProcessor"]

TableRef = Union[str, TableConfig]


def _names(tables: Optional[Iterable[TableRef]]) -> List[str]:
    if tables is None:
        return []
    if isinstance(tables, (str, TableConfig)):
        tables = [tables]
    return [t.name if isinstance(t, TableConfig) else str(t) for t in tables]


class DataProcessor:
    """Runs the loader on a config (see the module's help).

    Args:
        config: the validated config (:class:`DataLoaderConfig`).
        optimize: compact each loaded table's small files afterwards (``run --optimize``).
        vacuum: delete unreferenced files afterwards (``run --vacuum``).
        dry_run: plan only, change nothing (``run --dry-run``); the plan is in ``result.plan``.
        reload_missing: load again files a deleted or restored table lost
            (``run --reload-missing``).

    Two processors on different configs may run at once, from different threads.
    """

    def __init__(
        self,
        config: DataLoaderConfig,
        *,
        optimize: bool = False,
        vacuum: bool = False,
        dry_run: bool = False,
        reload_missing: bool = False,
    ) -> None:
        if not isinstance(config, DataLoaderConfig):
            raise TypeError(f"DataProcessor needs a DataLoaderConfig, not {type(config).__name__}")
        self.config = config
        self.optimize = optimize
        self.vacuum = vacuum
        self.dry_run = dry_run
        self.reload_missing = reload_missing

    def _run(self, tables: List[str]) -> RunResult:
        handle = _native.start_run(
            self.config._native,
            tables,
            dry_run=self.dry_run,
            optimize=self.optimize,
            vacuum=self.vacuum,
            reload_missing=self.reload_missing,
        )
        return wait_for_run(handle)

    def process_all_tables(self, tables: Optional[Iterable[TableRef]] = None) -> RunResult:
        """Load every new file of every table (or of ``tables``): ``data_loader run``.

        Returns the run's :class:`RunResult` (per table and totals, ``exit_code``). Failed
        files are in the result, not raised; an unknown table name raises ValueError.
        """
        return self._run(_names(tables))

    def process_table(self, table_config: TableRef) -> RunResult:
        """Load one table's new files (a :class:`TableConfig` or a table name):
        ``data_loader run --tables NAME``."""
        return self._run(_names(table_config))

    def get_processing_status(self, tables: Optional[Iterable[TableRef]] = None) -> ProcessingStatus:
        """Per table: tracked files by status, rows, version and failures, the same as
        ``data_loader status --json``."""
        text = _native.status_json(self.config._native, _names(tables))
        return ProcessingStatus.from_dict(json.loads(text))

    def __repr__(self) -> str:
        return f"DataProcessor({self.config!r})"
