#!/usr/bin/env bash
# Install the build dependencies (Debian packages), fetch DuckDB, and fetch the Spark Connect
# protocol and nanoarrow the Spark engine's client is built from. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkgs=(libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
      libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev ca-certificates
      libroaring-dev zlib1g-dev libssl-dev libpugixml-dev python3-dev
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Tools may come from elsewhere (e.g. Node.js from its own packages): install only if absent.
declare -A tool_pkg=([cmake]=cmake [ninja]=ninja-build [g++]=g++ [openssl]=openssl [npm]=npm
                     [curl]=curl [python3]=python3-venv [ccache]=ccache
                     [clang-format]=clang-format)  # the style (.clang-format), for contributors
for t in "${!tool_pkg[@]}"; do
  command -v "$t" >/dev/null 2>&1 || missing+=("${tool_pkg[$t]}")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "install_deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
"$root/scripts/fetch_duckdb.sh"
"$root/scripts/fetch_duckdb_extensions.sh"
"$root/scripts/fetch_spark_connect.sh"
