#!/usr/bin/env bash
# Configure and build into build/ (Release with debug info). Extra args go to cmake.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
# ccache, when there, serves scripts/build_wheel.sh's compiles of the same sources from this
# build's (paths taken relative to the build folder, which need not hash).
launch=()
if command -v ccache >/dev/null; then
  launch=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1 CXX="${CXX:-c++}" CC="${CC:-cc}"
fi
if [[ ! -f "$root/build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$root/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launch[@]}" \
    "$@" >/dev/null
fi
cmake --build "$root/build" -j"$(nproc)"
