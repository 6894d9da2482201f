"""Waiting for a native run so that Ctrl-C reaches Python and stops the run."""

from __future__ import annotations

import json
from typing import Any

from data_loader.core.results import RunResult

# How long one wait blocks (GIL released): Python handles a pending KeyboardInterrupt
# between waits, so Ctrl-C answers within this time.
_WAIT_SECONDS = 0.1


def _wait(handle: Any) -> None:
    while not handle.wait(_WAIT_SECONDS):
        pass


def wait_for_run(handle: Any) -> RunResult:
    """Wait for ``handle`` (a ``_native.RunHandle``) and return its result.

    A KeyboardInterrupt while waiting stops the run the way SIGINT stops ``data_loader run``:
    the first lets running batches finish and starts none, another abandons them (nothing is
    committed). Once the run has ended, the KeyboardInterrupt is raised again.
    """
    try:
        _wait(handle)
    except KeyboardInterrupt:
        handle.stop()
        while True:
            try:
                _wait(handle)
                break
            except KeyboardInterrupt:
                handle.stop()
        raise
    outcome = handle.outcome()
    if outcome["error_kind"] == 2:  # usage: an unknown table name, a bad option
        raise ValueError(outcome["error"])
    metrics = json.loads(outcome["metrics_json"]) if outcome["metrics_json"] else None
    return RunResult.from_outcome(outcome, metrics)
