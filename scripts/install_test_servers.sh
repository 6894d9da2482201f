#!/usr/bin/env bash
# Install the object-store servers the tests start on loopback, into the git-ignored
# third_party/bin. Idempotent: a server already there is kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/third_party/bin"
mkdir -p "$bin"

# --- S3: versitygw (checks signatures; its conditional PUTs are atomic) -------------------
# moto, the second S3 server, comes from tests/requirements.txt (moto_server in .venv/bin).
versitygw_version=v1.8.0
if [[ ! -x "$bin/versitygw" ]]; then
  command -v go >/dev/null 2>&1 || { echo "install_test_servers: go is required to build versitygw" >&2; exit 1; }
  echo "install_test_servers: building versitygw $versitygw_version (about 1.5 min)"
  GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi
# --- end S3 ------------------------------------------------------------------------------
