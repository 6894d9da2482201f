"""Read Delta tables: rows as a pyarrow Table, the change data feed, the table's description
and its history.

The same reads as ``data_loader table scan|describe|history`` (same snapshot, time travel,
column and ``where`` checks), run in this process. Rows are handed over through the Arrow C
data interface, batch by batch as pyarrow pulls them; nothing goes through text.

Errors name the table: a missing table or version is ``FileNotFoundError``, a bad argument (a
negative version, an unknown column, a refused ``where``) ``ValueError``, anything else (a data
file that cannot be read) ``RuntimeError``, or pyarrow's ``OSError`` when it happens while
batches are read.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Union

from data_loader import _native

if TYPE_CHECKING:  # pyarrow is needed by scan() only
    import pyarrow

__all__ = [
    "scan",
    "scan_batches",
    "changes",
    "describe",
    "history",
    "TableDescription",
    "Protocol",
    "HistoryEntry",
]

Timestamp = Union[str, _dt.datetime]
TablePath = Union[str, "os.PathLike[str]"]  # str or pathlib.Path


@dataclass(frozen=True)
class Protocol:
    """The table's protocol (``protocol`` of ``table describe --json``)."""

    min_reader_version: int
    min_writer_version: int
    reader_features: Optional[List[str]] = None
    writer_features: Optional[List[str]] = None


@dataclass(frozen=True)
class TableDescription:
    """A snapshot of a table: the fields of ``table describe --json``."""

    path: str
    version: int
    id: str
    name: Optional[str]
    schema: Dict[str, Any]  #: the Delta schema (its JSON form)
    partition_columns: List[str]
    protocol: Protocol
    properties: Dict[str, str]
    num_files: int
    size_bytes: int
    created_time: Optional[int]  #: ms since the epoch, as in the metadata action
    last_commit: _dt.datetime  #: time of the snapshot's commit (UTC)


@dataclass(frozen=True)
class HistoryEntry:
    """One commit: the fields of ``table history --json`` (``operationParameters`` is
    ``operation_parameters``, and so on)."""

    version: int
    timestamp: _dt.datetime  #: commit time (UTC; in-commit timestamp when the table has one)
    operation: Optional[str]
    operation_parameters: Optional[Dict[str, Any]]
    operation_metrics: Optional[Dict[str, Any]]
    engine_info: Optional[str]


def _parse_time(text: str) -> _dt.datetime:
    # The CLI's format: 2024-01-31T12:00:00.123Z (fromisoformat takes "Z" only from 3.11).
    return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.timezone.utc)


def _timestamp_arg(timestamp: Optional[Timestamp]) -> Optional[str]:
    if timestamp is None or isinstance(timestamp, str):
        return timestamp
    if isinstance(timestamp, _dt.datetime):
        if timestamp.tzinfo is not None:  # naive datetimes are taken as UTC
            timestamp = timestamp.astimezone(_dt.timezone.utc)
        return timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp.microsecond // 1000:03d}Z"
    raise TypeError(f"timestamp must be an ISO-8601 string or a datetime, not {type(timestamp)}")


def _version_arg(path: TablePath, version: Optional[int]) -> Optional[int]:
    if version is not None and (not isinstance(version, int) or version < 0):
        raise ValueError(f"table {path}: version must be a number >= 0, not {version!r}")
    return version


def _storage_args(storage_options: Optional[Mapping[str, str]]) -> List[str]:
    # KEY=VALUE, as --storage-option (delta-rs key names; values may use ${VAR}).
    return [f"{k}={v}" for k, v in (storage_options or {}).items()]


def _stream(
    path: TablePath,
    version: Optional[int],
    timestamp: Optional[Timestamp],
    columns: Optional[Sequence[str]],
    where: Optional[str],
    limit: Optional[int],
    storage_options: Optional[Mapping[str, str]],
) -> Any:
    if isinstance(columns, str):
        raise TypeError("columns must be a list of column names, not a string")
    if columns is not None and len(columns) == 0:
        raise ValueError("columns must name at least one column (None reads all)")
    return _native.table_scan(
        os.fspath(path),
        _version_arg(path, version),
        _timestamp_arg(timestamp),
        None if columns is None else list(columns),
        where,
        limit,
        _storage_args(storage_options),
    )


def scan_batches(
    path: TablePath,
    version: Optional[int] = None,
    timestamp: Optional[Timestamp] = None,
    columns: Optional[Sequence[str]] = None,
    where: Optional[str] = None,
    limit: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> pyarrow.RecordBatchReader:
    """Like :func:`scan`, as a ``pyarrow.RecordBatchReader``: batches are read from the
    table as you iterate, so a table larger than memory can be processed."""
    import pyarrow as pa

    stream = _stream(path, version, timestamp, columns, where, limit, storage_options)
    if hasattr(pa.RecordBatchReader, "from_stream"):  # pyarrow >= 15
        return pa.RecordBatchReader.from_stream(stream)
    return pa.RecordBatchReader._import_from_c_capsule(stream.__arrow_c_stream__())


def scan(
    path: TablePath,
    version: Optional[int] = None,
    timestamp: Optional[Timestamp] = None,
    columns: Optional[Sequence[str]] = None,
    where: Optional[str] = None,
    limit: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> pyarrow.Table:
    """The rows of the Delta table at ``path`` as a ``pyarrow.Table``.

    :param path: table directory or URI (``s3://``, ``abfss://``, ``dbfs:/`` ...).
    :param version: read this version (time travel); default the latest.
    :param timestamp: read the table as of this time (ISO-8601 text, or a datetime; a naive
        one is UTC).
    :param columns: only these columns, in this order.
    :param where: a SQL filter (``"amount > 10 AND region = 'eu'"``), checked as
        ``table scan --where`` checks it: an expression over the table's columns only.
    :param limit: at most this many rows.
    :param storage_options: object store options, delta-rs key names (as ``storage_options:``
        in the config).

    Needs pyarrow. Column types are the table's: decimals, timestamps (UTC), dates, structs,
    lists and maps arrive as their Arrow types.
    """
    reader = scan_batches(path, version, timestamp, columns, where, limit, storage_options)
    return reader.read_all()


def changes(
    path: TablePath,
    from_version: int,
    to_version: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> pyarrow.Table:
    """The change data feed of the table at ``path`` for versions ``from_version`` through
    ``to_version`` (default the latest), as ``table changes``: the table's columns plus
    ``_change_type`` (insert, delete, update_preimage, update_postimage), ``_commit_version``
    and ``_commit_timestamp``. A version the table does not have is ``FileNotFoundError``, a
    range where ``delta.enableChangeDataFeed`` was off ``ValueError``. Needs pyarrow."""
    import pyarrow as pa

    stream = _native.table_changes(
        os.fspath(path),
        _version_arg(path, from_version),
        _version_arg(path, to_version),
        _storage_args(storage_options),
    )
    if hasattr(pa.RecordBatchReader, "from_stream"):  # pyarrow >= 15
        return pa.RecordBatchReader.from_stream(stream).read_all()
    return pa.RecordBatchReader._import_from_c_capsule(stream.__arrow_c_stream__()).read_all()


def describe(
    path: TablePath,
    version: Optional[int] = None,
    timestamp: Optional[Timestamp] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> TableDescription:
    """Schema, partitioning, protocol, properties and size of the table at ``path`` (the
    latest snapshot, or ``version`` / ``timestamp``), as ``table describe --json``."""
    j = json.loads(
        _native.table_describe(
            os.fspath(path),
            _version_arg(path, version),
            _timestamp_arg(timestamp),
            _storage_args(storage_options),
        )
    )
    p = j["protocol"]
    return TableDescription(
        path=j["path"],
        version=j["version"],
        id=j["id"],
        name=j["name"],
        schema=j["schema"],
        partition_columns=j["partition_columns"],
        protocol=Protocol(
            min_reader_version=p["minReaderVersion"],
            min_writer_version=p["minWriterVersion"],
            reader_features=p.get("readerFeatures"),
            writer_features=p.get("writerFeatures"),
        ),
        properties=j["properties"],
        num_files=j["num_files"],
        size_bytes=j["size_bytes"],
        created_time=j["created_time"],
        last_commit=_parse_time(j["last_commit"]),
    )


def history(
    path: TablePath,
    limit: Optional[int] = None,
    storage_options: Optional[Mapping[str, str]] = None,
) -> List[HistoryEntry]:
    """The commits of the table at ``path``, newest first (at most ``limit``), as
    ``table history --json``."""
    entries = json.loads(
        _native.table_history(os.fspath(path), limit, _storage_args(storage_options))
    )
    return [
        HistoryEntry(
            version=e["version"],
            timestamp=_parse_time(e["timestamp"]),
            operation=e["operation"],
            operation_parameters=e["operationParameters"],
            operation_metrics=e["operationMetrics"],
            engine_info=e["engineInfo"],
        )
        for e in entries
    ]
