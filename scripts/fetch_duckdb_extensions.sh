#!/usr/bin/env bash
# Fetch DuckDB's httpfs (S3) and azure extensions for DuckDB 1.4.4 from their PyPI wheels
# (signed builds), verify the pinned sha256 of each wheel and unpack the .duckdb_extension
# files into third_party/duckdb_extensions (git-ignored). The engine loads them by path at
# start-up; nothing is downloaded at run time. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/third_party/duckdb_extensions"
version="1.4.4"
declare -A wheel_sha256=(
  [httpfs]=2877d33b8ae264ed1b36da393cbedafc3cd10cce61fa6a5622adf513c2897829
  [azure]=6f5c33389a13ceb70360645f16cfa312e2dae59ab9d9ce1fbf6e552c8cc13870
)
stamp="$dest/.version"
want="$version ${wheel_sha256[httpfs]} ${wheel_sha256[azure]}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$dest/httpfs.duckdb_extension" &&
      -f "$dest/azure.duckdb_extension" ]]; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME -> prints wheel path
  local name="$1" pkg="duckdb_extension_$1"
  local wheel="$pkg-$version-py3-none-manylinux2014_x86_64.whl"
  if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
      -d "$work" "duckdb-extension-$name==$version" >&2
  else  # no pip: find the wheel on PyPI's simple index
    local url
    url="$(curl -fsSL "https://pypi.org/simple/duckdb-extension-$name/" |
      python3 -c 'import re, sys; print(next(m.group(1) for m in re.finditer(r"href=\"([^\"#]+)", sys.stdin.read()) if m.group(1).endswith("/" + sys.argv[1])))' "$wheel")"
    curl -fsSL -o "$work/$wheel" "$url"
  fi
  [[ -f "$work/$wheel" ]] || { echo "fetch_duckdb_extensions: could not download $wheel" >&2; exit 1; }
  local got
  got="$(sha256sum "$work/$wheel" | cut -d' ' -f1)"
  if [[ "$got" != "${wheel_sha256[$name]}" ]]; then
    echo "fetch_duckdb_extensions: sha256 mismatch for $wheel: expected" \
      "${wheel_sha256[$name]}, got $got" >&2
    exit 1
  fi
  echo "$work/$wheel"
}

mkdir -p "$work/out"
for name in httpfs azure; do
  wheel="$(fetch "$name")"
  python3 - "$wheel" "$work/out" "$name" <<'PY'
import sys, zipfile
wheel, out, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith(f"/{name}.duckdb_extension"))
    with z.open(member) as src, open(f"{out}/{name}.duckdb_extension", "wb") as dst:
        dst.write(src.read())
PY
done
rm -rf "$dest"
mkdir -p "$dest"
mv "$work/out/"*.duckdb_extension "$dest/"
echo "$want" > "$stamp"
echo "fetch_duckdb_extensions: httpfs and azure $version unpacked into $dest"
