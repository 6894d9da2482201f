"""Typed results: the fields of the command line's JSON as dataclasses.

- :class:`RunResult`: a run's metrics (the ``run-*.json`` file the run writes under
  ``<checkpoint_path>/metrics/``), with ``exit_code`` (what ``data_loader run`` exits with).
- :class:`ProcessingStatus`: what ``data_loader status --json`` prints.

Every class has ``to_dict()``, which gives back the JSON's shape.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

__all__ = [
    "FileCounts",
    "FileError",
    "FileFailure",
    "ProcessingStatus",
    "RunResult",
    "RunTotals",
    "TableResult",
    "TableStatus",
]


class _Record:
    def to_dict(self) -> Dict[str, Any]:
        """The fields as plain data (the JSON's shape)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class FileError(_Record):
    """A file that failed in the run, with its error."""

    file: str
    error: str


@dataclass(frozen=True)
class TableResult(_Record):
    """What a run did to one table (``tables[]`` of the run's metrics)."""

    table: str
    strategy: str
    files_discovered: int = 0
    files_loaded: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    files_waiting: int = 0
    files_deferred: int = 0
    batches: int = 0
    batches_failed: int = 0
    retries: int = 0
    rows_loaded: int = 0
    bytes_loaded: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0
    target_version: Optional[int] = None
    errors: List[FileError] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TableResult":
        d = dict(d)
        d["errors"] = [FileError(**e) for e in d.get("errors", [])]
        return cls(**d)


@dataclass(frozen=True)
class RunTotals(_Record):
    """The run's totals over its tables (``totals`` of the run's metrics)."""

    tables: int = 0
    files_discovered: int = 0
    files_loaded: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    files_deferred: int = 0
    batches: int = 0
    batches_failed: int = 0
    retries: int = 0
    rows_loaded: int = 0
    bytes_loaded: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0
    bytes_per_second: float = 0.0


@dataclass(frozen=True)
class RunResult(_Record):
    """The outcome of ``process_all_tables()`` / ``process_table()``: the run's metrics, as
    the metrics file of the same run holds them, and its exit code.

    Attributes:
        exit_code: what ``data_loader run`` exits with: 0 every file loaded; 1 a file or
            table failed (see ``tables[].errors``, ``table_errors``, ``error``); 3 upstream
            dependencies unmet; 130 stopped with work left for the next run.
        ok: ``exit_code == 0``.
        error: why the run could not start or finish (None when it ran).
        table_errors: tables that could not be loaded at all.
        stopped: a stop ended the run with work left for the next run.
        plan: a dry run's plan (what would be loaded).
        run_id, command, dry_run, start_time, end_time, start_ms, end_ms, duration_seconds,
        totals, tables, storage_requests, resources: the run's metrics (None/empty when the
            run did not reach a pass, e.g. unmet dependencies).
    """

    exit_code: int
    error: Optional[str] = None
    table_errors: List[str] = field(default_factory=list)
    stopped: bool = False
    plan: str = ""
    run_id: Optional[str] = None
    command: Optional[str] = None
    dry_run: bool = False
    start_time: Optional[str] = None
    end_time: Optional[str] = None
    start_ms: int = 0
    end_ms: int = 0
    duration_seconds: float = 0.0
    totals: RunTotals = field(default_factory=RunTotals)
    tables: List[TableResult] = field(default_factory=list)
    storage_requests: Dict[str, Any] = field(default_factory=dict)
    resources: Optional[Dict[str, Any]] = None

    @property
    def ok(self) -> bool:
        """True when the run loaded every file (exit code 0)."""
        return self.exit_code == 0

    def table(self, name: str) -> TableResult:
        """The result of the table named ``name`` (display name or table name)."""
        for t in self.tables:
            if name in (t.table, t.table.rsplit(".", 1)[-1]):
                return t
        raise KeyError(f"no table {name!r} in the run's result")

    @classmethod
    def from_outcome(cls, outcome: Dict[str, Any], metrics: Optional[Dict[str, Any]]) -> "RunResult":
        m = dict(metrics or {})
        if "totals" in m:
            m["totals"] = RunTotals(**m["totals"])
        m["tables"] = [TableResult.from_dict(t) for t in m.get("tables", [])]
        return cls(
            exit_code=outcome["exit_code"],
            error=outcome["error"],
            table_errors=list(outcome["table_errors"]),
            stopped=outcome["stopped"],
            plan=outcome["plan"],
            **m,
        )


@dataclass(frozen=True)
class FileCounts(_Record):
    """A table's tracked files by status."""

    pending: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class FileFailure(_Record):
    """A file that failed to load (retries: attempts so far)."""

    file: str
    retries: int
    error: str


@dataclass(frozen=True)
class TableStatus(_Record):
    """One table of ``status --json``: what the tracker and the table say."""

    table: str
    path: str
    strategy: str
    version: Optional[int]
    files: FileCounts
    files_missing_from_table: int
    rows_loaded: Optional[int]
    last_load: Optional[str]
    failures: List[FileFailure] = field(default_factory=list)
    data_files: Optional[int] = None
    table_error: Optional[str] = None
    #: Completed files whose rows were not counted (reconciled from the table's log after a
    #: crash): ``rows_loaded`` is then a lower bound.
    files_rows_unknown: int = 0
    #: What a run would warn about the table's source ("source_path_pattern ...: its base
    #: directory does not exist").
    source_warnings: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        """The fields as ``status --json`` has them (data_files and table_error only when
        the JSON has them)."""
        d = dataclasses.asdict(self)
        for key in ("data_files", "table_error"):
            if d[key] is None:
                del d[key]
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TableStatus":
        d = dict(d)
        d["files"] = FileCounts(**d["files"])
        d["failures"] = [FileFailure(**f) for f in d.get("failures", [])]
        d.setdefault("version", None)
        return cls(**d)


@dataclass(frozen=True)
class ProcessingStatus(_Record):
    """``get_processing_status()``: the same as ``data_loader status --json``."""

    tracker: str
    tables: List[TableStatus]

    def to_dict(self) -> Dict[str, Any]:
        """The fields as ``status --json`` has them."""
        return {"tracker": self.tracker, "tables": [t.to_dict() for t in self.tables]}

    def table(self, name: str) -> TableStatus:
        """The status of the table named ``name`` (display name or table name)."""
        for t in self.tables:
            if name in (t.table, t.table.rsplit(".", 1)[-1]):
                return t
        raise KeyError(f"no table {name!r} in the status")

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "ProcessingStatus":
        return cls(tracker=d["tracker"], tables=[TableStatus.from_dict(t) for t in d["tables"]])
