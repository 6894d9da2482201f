"""Databricks job runner: run the loader with settings from notebook widgets or the
environment.

In a Databricks notebook (``dbutils`` available), the widgets

- ``config``: the config file's path (or the config itself, YAML or JSON),
- ``log_level``: DEBUG, INFO, WARNING or ERROR,
- ``optimize``, ``vacuum``: ``true``/``false``,
- ``tables``: comma-separated table names (empty: all),

are read with ``dbutils.widgets.get``; a widget that is missing or empty leaves the setting
to its ``DATALOADER_*`` environment variable (docs/cluster.md, "Job runner mode"). Without
``dbutils``, every setting comes from those variables. The command is ``DATALOADER_COMMAND``
(``run-cluster`` by default, or ``run``).

Run it with ``python -m data_loader.job_runner``, or from a notebook cell::

    from data_loader.job_runner import run_job
    exit_code = run_job()

The run is the command line's, in this process: the same output and exit codes.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any, Dict, List, Optional

from data_loader.main import run_cli

__all__ = ["find_dbutils", "job_arguments", "main", "read_widgets", "run_job"]

WIDGETS = ("config", "log_level", "optimize", "vacuum", "tables")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def find_dbutils() -> Optional[Any]:
    """The notebook's ``dbutils``: from the IPython user namespace, else ``builtins``;
    None outside Databricks notebooks."""
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]

        shell = get_ipython()
        if shell is not None and "dbutils" in shell.user_ns:
            return shell.user_ns["dbutils"]
    except ImportError:
        pass
    return getattr(builtins, "dbutils", None)


def read_widgets(dbutils: Any) -> Dict[str, str]:
    """The job runner's widgets that are defined and not empty, by name."""
    values: Dict[str, str] = {}
    for name in WIDGETS:
        try:
            value = dbutils.widgets.get(name)
        except Exception:  # Databricks raises when a widget is not defined
            continue
        if value is not None and str(value).strip():
            values[name] = str(value).strip()
    return values


def _flag(name: str, value: str) -> bool:
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"widget {name}: {value!r} is not true or false")


def job_arguments(widgets: Dict[str, str], command: Optional[str] = None) -> List[str]:
    """The command line the widgets mean: ``[command, options...]``. Settings without a
    widget are left to the ``DATALOADER_*`` variables (the command line reads them)."""
    command = command or os.environ.get("DATALOADER_COMMAND") or "run-cluster"
    if command not in ("run", "run-cluster"):
        raise ValueError(f"DATALOADER_COMMAND: {command!r} is not run or run-cluster")
    args = [command]
    config = widgets.get("config")
    if config:
        inline = config.lstrip().startswith("{") or "\n" in config
        args += ["--config-json" if inline else "--config", config]
    if "log_level" in widgets:
        args += ["--log-level", widgets["log_level"].upper()]
    for name in ("optimize", "vacuum"):
        if name in widgets:  # false too: the widget wins over DATALOADER_OPTIMIZE/VACUUM
            args.append(f"--{name}={'true' if _flag(name, widgets[name]) else 'false'}")
    if "tables" in widgets:
        args += ["--tables", widgets["tables"]]
    return args


def run_job(dbutils: Optional[Any] = None) -> int:
    """Run the loader as a job: widgets through ``dbutils`` (found when not given), else the
    ``DATALOADER_*`` variables. Returns the exit code (0: every file loaded)."""
    dbutils = dbutils if dbutils is not None else find_dbutils()
    widgets = read_widgets(dbutils) if dbutils is not None else {}
    if not widgets:
        # The executable's job runner mode: everything from DATALOADER_* variables.
        return run_cli([])
    return run_cli(job_arguments(widgets))


def main() -> None:
    """``python -m data_loader.job_runner``: exits with the run's exit code."""
    sys.exit(run_job())


if __name__ == "__main__":
    main()
