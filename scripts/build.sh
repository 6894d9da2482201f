#!/usr/bin/env bash
# Configure and build into build/ (Release with debug info). Extra args go to cmake.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if [[ ! -f "$root/build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$root/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
fi
cmake --build "$root/build" -j"$(nproc)"
