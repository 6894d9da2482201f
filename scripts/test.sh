#!/usr/bin/env bash
# Install what is needed, build, and run every test: C++ unit tests (ctest), the Python
# interop/end-to-end suites (pytest, real Spark + delta-spark, delta-rs and DuckDB), and the
# Python package: the wheel is built and tested in a fresh venv (tests/python).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install_deps.sh"
"$root/scripts/setup_python.sh"
"$root/scripts/install_test_servers.sh"  # object-store servers the tests start on loopback
"$root/scripts/install_spark_connect.sh"  # the Spark Connect server of tests/spark_connect
"$root/scripts/build.sh"
status=0
(cd "$root/build" && ctest --output-on-failure -j2) || status=1
"$root/.venv/bin/python" -m pytest -q -p no:cacheprovider --ignore="$root/tests/python" \
  "$root/tests" || status=1
"$root/scripts/build_wheel.sh" && "$root/scripts/test_python.sh" || status=1
exit $status
