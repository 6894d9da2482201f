"""The loader's core from Python: :class:`data_loader.core.processor.DataProcessor`."""

from data_loader.core.processor import DataProcessor
from data_loader.core.results import (
    FileError,
    FileCounts,
    FileFailure,
    ProcessingStatus,
    RunResult,
    RunTotals,
    TableResult,
    TableStatus,
)

__all__ = [
    "DataProcessor",
    "FileCounts",
    "FileError",
    "FileFailure",
    "ProcessingStatus",
    "RunResult",
    "RunTotals",
    "TableResult",
    "TableStatus",
]
