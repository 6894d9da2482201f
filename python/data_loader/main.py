"""The command line: ``python -m data_loader.main <command> [options]``.

Every command and option of the ``data_loader`` executable, with the same output and exit
codes (``run``, ``run-cluster``, ``cluster-status``, ``status``, ``validate``,
``create-example-config``, ``table ...``). It runs in this process, not as a subprocess.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from data_loader import _native


def run_cli(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Python's buffered output first, so the two streams keep their order.
    sys.stdout.flush()
    sys.stderr.flush()
    return _native.cli_main(["data_loader", *args])


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Entry point of ``data-loader``, ``python -m data_loader.main`` and Databricks'
    ``python_wheel_task`` (entry point ``main``): exits with the command's exit code."""
    sys.exit(run_cli(argv))


if __name__ == "__main__":
    main()
