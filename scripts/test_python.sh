#!/usr/bin/env bash
# Test the Python package as users get it: a fresh venv (build/wheel-venv) installs the built
# wheel from dist/ (scripts/build_wheel.sh) and runs tests/python against it. The tests compare
# with the data_loader executable in build/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wheel="$(ls "$root"/dist/databricks_data_loader-*.whl 2>/dev/null | head -1)"
[[ -n "$wheel" ]] || { echo "no wheel in dist/: run scripts/build_wheel.sh" >&2; exit 2; }
venv="$root/build/wheel-venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$wheel" -r "$root/tests/python/requirements.txt"
cd "$root/tests/python"  # not the repo root: `import data_loader` must find the installed wheel
DATA_LOADER_BIN="${DATA_LOADER_BIN:-$root/build/data_loader}" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" .
