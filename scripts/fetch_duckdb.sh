#!/usr/bin/env bash
# Fetch DuckDB 1.4.4 (shared library + C header) from the npm registry, verify the
# pinned integrity hashes and unpack into third_party/duckdb (git-ignored).
# Idempotent: does nothing when the pinned version is already unpacked.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/third_party/duckdb"
stamp="$dest/.version"
version="1.4.4"
lib_pkg="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
lib_sri="sha512-jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA=="
hdr_pkg="duckdb@1.4.4"
hdr_sri="sha512-hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog=="

if [[ -f "$stamp" && "$(cat "$stamp")" == "$version" && -f "$dest/lib/libduckdb.so" && -f "$dest/include/duckdb.h" ]]; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch PKG SRI -> prints tarball path
  local pkg="$1" sri="$2" tgz
  tgz="$(cd "$work" && npm pack --silent "$pkg" 2>/dev/null | tail -n 1)"
  local got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
  if [[ "$got" != "$sri" ]]; then
    echo "fetch_duckdb: integrity mismatch for $pkg: expected $sri, got $got" >&2
    exit 1
  fi
  echo "$work/$tgz"
}

lib_tgz="$(fetch "$lib_pkg" "$lib_sri")"
hdr_tgz="$(fetch "$hdr_pkg" "$hdr_sri")"
mkdir -p "$work/lib" "$work/hdr"
tar -xzf "$lib_tgz" -C "$work/lib"
tar -xzf "$hdr_tgz" -C "$work/hdr" package/src/duckdb/src/include/duckdb.h

rm -rf "$dest"
mkdir -p "$dest/lib" "$dest/include"
cp "$(find "$work/lib" -name libduckdb.so | head -n 1)" "$dest/lib/libduckdb.so"
cp "$work/hdr/package/src/duckdb/src/include/duckdb.h" "$dest/include/duckdb.h"
echo "$version" > "$stamp"
echo "fetch_duckdb: DuckDB $version unpacked into $dest"
