"""data_loader: load files landing in storage into Delta Lake tables, exactly once.

The loader's core is native (C++, with DuckDB embedded); this package calls it in-process.

- ``python -m data_loader.main <command> ...``: the command line (``data-loader`` too).
- :mod:`data_loader.config`: ``load_config_from_file``, ``DataLoaderConfig``.
- :mod:`data_loader.core.processor`: ``DataProcessor``.
- :mod:`data_loader.cluster`: cluster mode.
- :mod:`data_loader.table`: read and describe Delta tables.
- :mod:`data_loader.job_runner`: Databricks jobs (widgets or ``DATALOADER_*`` variables).
"""

import os as _os

_here = _os.path.dirname(_os.path.abspath(__file__))
# The wheel carries DuckDB's storage extensions beside the module; the engine loads them by
# path (never downloads). A user's own setting wins.
if _os.path.isdir(_os.path.join(_here, "duckdb_extensions")):
    _os.environ.setdefault("DATA_LOADER_DUCKDB_EXTENSIONS", _os.path.join(_here, "duckdb_extensions"))

__version__ = "0.1.0"


def configure_logging(level: str = "INFO", format: str = "text") -> None:
    """Set the loader's log level (DEBUG, INFO, WARNING, ERROR) and format (text, json) for
    the whole process. The API never changes logging itself (the command line sets it from
    its options and the config's log_level); logs go to stderr."""
    from data_loader import _native

    _native.configure_logging(level.upper(), format.lower())
