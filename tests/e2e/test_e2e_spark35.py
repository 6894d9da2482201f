"""The Spark engine against a Spark 3.5 server: Databricks' 15.x and 16.x LTS runtimes are Spark
3.5, so a user's cluster may well be one. Runs a part of the Spark suites again in a nested
pytest whose `spark_connect` fixture starts a Spark Connect 3.5 server with Delta 3.3
(DL_SPARK_SERVER_FLAVOR=3.5, tests/spark_connect/server.py) instead of the 4.1 one; the whole
Spark tier runs there the same way by hand. What differs on 3.5: docs/spark_engine.md."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "tests" / "e2e"

# Each strategy's exactly-once and DuckDB-parity tests; SCD2 through its caching path (no
# local checkpoints before Spark 4.0); a corrupt Parquet file, which Spark 3.5 does not name
# (read alone to find it); the catalog and cluster-status.
SELECTED = [
    "test_e2e_spark_append.py::test_a_corrupt_file_fails_by_name_and_the_rest_loads",
    "test_e2e_spark_overwrite.py::test_overwrite_corrupt_file_fails_alone",
    "test_e2e_spark_unity_catalog.py::"
    "test_new_table_is_registered_external_at_our_path_and_loads_exactly_once",
    "test_e2e_spark_engine.py::test_cluster_status_reports_the_remote",
    "test_e2e_spark_append.py::test_two_runs_load_exactly_once_like_duckdb",
    "test_e2e_spark_append.py::test_sigkill_after_spark_committed_before_tracker_update",
    "test_e2e_spark_append.py::test_two_loaders_started_together_load_each_file_once",
    "test_e2e_spark_merge.py::test_two_runs_updates_deletes_audit_columns_exactly_once",
    "test_e2e_spark_merge.py::test_quoted_names_quotes_and_backslashes_merge_like_duckdb",
    "test_e2e_spark_merge.py::test_sigkill_after_spark_merged_before_tracker_update",
    "test_e2e_spark_scd2.py::test_without_audit_columns_the_versions_reported_like_duckdb",
    "test_e2e_spark_scd2.py::test_null_keys_fail_their_file_and_a_missing_key_is_named",
]


def test_spark_suites_on_a_spark35_server(tmp_path):
    env = dict(os.environ, DL_SPARK_SERVER_FLAVOR="3.5")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
           "--basetemp", str(tmp_path / "runs"), *[str(E2E / t) for t in SELECTED]]
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=2400)
    assert p.returncode == 0, f"on Spark 3.5:\n{p.stdout[-12000:]}\n{p.stderr[-3000:]}"
    assert f"{len(SELECTED)} passed" in p.stdout, p.stdout[-3000:]
