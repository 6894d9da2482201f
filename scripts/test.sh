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
# Two pytest processes side by side: the Spark engine's tier (its Spark Connect server does the
# work while the loader waits) and everything else. On 2 cores both spend much of their time
# waiting on JVMs and loopback servers, so together they finish well before one after the
# other. Each starts its own servers on free ports; the Spark tier's lines are prefixed.
spark_tier=("$root"/tests/e2e/test_e2e_spark_*.py "$root/tests/spark_connect")
others=(--ignore="$root/tests/python")
for t in "${spark_tier[@]}"; do others+=(--ignore="$t"); done
("$root/.venv/bin/python" -m pytest -q -p no:cacheprovider "${spark_tier[@]}" 2>&1 |
  sed -u 's/^/[spark tier] /'; exit "${PIPESTATUS[0]}") &
spark_pid=$!
"$root/.venv/bin/python" -m pytest -q -p no:cacheprovider "${others[@]}" "$root/tests" || status=1
wait "$spark_pid" || status=1
"$root/scripts/build_wheel.sh" && "$root/scripts/test_python.sh" || status=1
exit $status
