#!/usr/bin/env bash
# Fetch what the Spark engine's client is built from, each pinned by sha256, into git-ignored
# third_party/ (CMake generates the C++ code from them at build time; nothing is committed):
# - the Spark Connect protocol (spark/connect/*.proto, with the google/rpc error protos it
#   answers with) from the Spark Connect JVM client jar of Spark 4.1.0 on Maven Central. The
#   server module's jar (spark-connect_2.13) carries the same protos, but its 4.1.0 is not on
#   every Maven Central mirror; the client's jar is.
# - nanoarrow's C sources (Arrow IPC decoding of Spark's results), vendored in its PyPI sdist.
# Idempotent: does nothing when the pinned versions are already unpacked.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
proto_dest="$root/third_party/spark_connect"
nano_dest="$root/third_party/nanoarrow"

spark_group="org.apache.spark"
spark_artifact="spark-connect-client-jvm_2.13"
spark_version="4.1.0"
spark_sha256="6c3c2b41b7f2ae4b36ca9c3506c86847df6a5b2fe33516f9383fc59ae8810361"
nano_version="0.9.0"
nano_sha256="1ce15bbed8532839347faa78824c5dbd3769bff60661003e34c6fba5dd881bd3"

proto_want="$spark_artifact $spark_version $spark_sha256"
nano_want="nanoarrow $nano_version $nano_sha256"
proto_ok=0 nano_ok=0
[[ "$(cat "$proto_dest/.version" 2>/dev/null)" == "$proto_want" &&
   -f "$proto_dest/proto/spark/connect/base.proto" ]] && proto_ok=1
[[ "$(cat "$nano_dest/.version" 2>/dev/null)" == "$nano_want" &&
   -f "$nano_dest/src/nanoarrow/nanoarrow.h" ]] && nano_ok=1
((proto_ok && nano_ok)) && exit 0

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

check_sha256() {  # check_sha256 FILE WANT
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ "$got" != "$2" ]]; then
    echo "fetch_spark_connect: sha256 mismatch for $(basename "$1"): expected $2, got $got" >&2
    exit 1
  fi
}

if ((!proto_ok)); then
  jar="$spark_artifact-$spark_version.jar"
  curl -fsSL -o "$work/$jar" \
    "https://repo1.maven.org/maven2/${spark_group//.//}/$spark_artifact/$spark_version/$jar"
  check_sha256 "$work/$jar" "$spark_sha256"
  python3 - "$work/$jar" "$work/proto" <<'PY'
import sys, zipfile
jar, out = sys.argv[1:]
wanted = ("google/rpc/status.proto", "google/rpc/error_details.proto")
with zipfile.ZipFile(jar) as z:
    names = [n for n in z.namelist()
             if (n.startswith("spark/connect/") and n.endswith(".proto")) or n in wanted]
    z.extractall(out, names)
PY
  rm -rf "$proto_dest"
  mkdir -p "$proto_dest"
  mv "$work/proto" "$proto_dest/proto"
  echo "$proto_want" > "$proto_dest/.version"
  echo "fetch_spark_connect: Spark Connect $spark_version protos unpacked into $proto_dest"
fi

if ((!nano_ok)); then
  sdist="nanoarrow-$nano_version.tar.gz"
  # The sdist's address from PyPI's simple index (pip would try to build it to download it).
  url="$(curl -fsSL https://pypi.org/simple/nanoarrow/ |
    python3 -c 'import re, sys; print(next(m.group(1) for m in re.finditer(r"href=\"([^\"#]+)", sys.stdin.read()) if m.group(1).endswith("/" + sys.argv[1])))' "$sdist")"
  curl -fsSL -o "$work/$sdist" "$url"
  check_sha256 "$work/$sdist" "$nano_sha256"
  tar -xzf "$work/$sdist" -C "$work"
  sub="$work/nanoarrow-$nano_version/subprojects"
  flatcc="$(find "$sub" -maxdepth 1 -type d -name 'flatcc-*' | head -n 1)"
  mkdir -p "$work/nano/src" "$work/nano/flatcc/src"
  cp -r "$sub/arrow-nanoarrow/src/nanoarrow" "$work/nano/src/"
  cp -r "$flatcc/include" "$work/nano/flatcc/"
  cp -r "$flatcc/src/runtime" "$work/nano/flatcc/src/"
  rm -rf "$nano_dest"
  mv "$work/nano" "$nano_dest"
  echo "$nano_want" > "$nano_dest/.version"
  echo "fetch_spark_connect: nanoarrow $nano_version C sources unpacked into $nano_dest"
fi
