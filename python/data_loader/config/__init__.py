"""Configuration: load and validate a data_loader config from Python.

The rules are the command line's (``data_loader validate``): every problem of a config is
reported, each with its key path and, for text and files, its line.

>>> from data_loader.config import load_config_from_file
>>> config = load_config_from_file("config.yaml")          # doctest: +SKIP
>>> config.get_table_config("customers").loading_strategy  # doctest: +SKIP
'scd2'
"""

from __future__ import annotations

from data_loader.config.table_config import (
    ConfigError,
    ConfigProblem,
    DataLoaderConfig,
    TableConfig,
    load_config_from_file,
)

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "DataLoaderConfig",
    "TableConfig",
    "load_config_from_file",
]
