#!/usr/bin/env bash
# Create the git-ignored venv with the Spark Connect server the tests start and pyspark's Connect
# client the interop tests drive it with (pyspark 4.1.0 and the client's dependencies, pinned in
# scripts/spark_connect/requirements.txt), apart from .venv whose pyspark 3.5 the rest of the
# interop tests use. Java 17 runs it. Idempotent (reinstalls when the requirements change).
# DL_SPARK_CONNECT_VENV puts the venv elsewhere (the tests honour the same variable).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${DL_SPARK_CONNECT_VENV:-$root/third_party/spark-connect/venv}"
req="$root/scripts/spark_connect/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ -x "$venv/bin/spark-submit" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
  exit 0
fi
echo "install_spark_connect: installing pyspark 4.1.0 (server and Connect client) into $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
