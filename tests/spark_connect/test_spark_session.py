"""The Spark engine's client (src/dl/engine/spark) against a real Spark Connect server:
runs the gtest binary dl_spark_server_test with SPARK_REMOTE naming the session's server.
A missing binary FAILS (build it: scripts/build.sh)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("DL_SPARK_SERVER_TEST_BIN",
                             REPO / "build" / "dl_spark_server_test"))


def test_spark_session_against_server(spark_connect, tmp_path):
    assert BINARY.exists(), f"{BINARY} is missing: build it (scripts/build.sh)"
    env = dict(os.environ, SPARK_REMOTE=spark_connect.remote, DL_SPARK_TEST_DIR=str(tmp_path),
               DL_SPARK_LOCAL_DIR=str(spark_connect.local_dir))
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLUSTER_ID"):
        env.pop(name, None)
    p = subprocess.run([str(BINARY), "--gtest_color=no"], capture_output=True, text=True,
                       env=env, timeout=600)
    assert p.returncode == 0, f"dl_spark_server_test failed:\n{p.stdout[-6000:]}\n{p.stderr[-2000:]}"
    assert "[  PASSED  ] 13 tests." in p.stdout, p.stdout[-3000:]
