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
  # The official Go distribution's place, when it is not on PATH (Debian's golang is too old).
  [[ -x /usr/local/go/bin/go ]] && PATH="/usr/local/go/bin:$PATH"
  command -v go >/dev/null 2>&1 || { echo "install_test_servers: go is required to build versitygw" >&2; exit 1; }
  echo "install_test_servers: building versitygw $versitygw_version (about 1.5 min)"
  GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi
# --- end S3 ------------------------------------------------------------------------------

# --- Azure: Azurite (Blob endpoint), npm package pinned by scripts/azurite/package-lock.json --
# Installed with `npm ci` (the lockfile's integrity hashes) into third_party/azurite; no
# install scripts run. The tests start third_party/azurite/node_modules/.bin/azurite-blob.
azurite_dir="$root/third_party/azurite"
azurite_lock="$root/scripts/azurite/package-lock.json"
if [[ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]] ||
   ! cmp -s "$azurite_lock" "$azurite_dir/package-lock.json"; then
  command -v npm >/dev/null 2>&1 || { echo "install_test_servers: npm is required for Azurite" >&2; exit 1; }
  echo "install_test_servers: installing Azurite into $azurite_dir"
  mkdir -p "$azurite_dir"
  cp "$root/scripts/azurite/package.json" "$azurite_lock" "$azurite_dir/"
  npm ci --prefix "$azurite_dir" --ignore-scripts --omit=dev --no-audit --no-fund --loglevel=error
fi
# --- end Azure -------------------------------------------------------------------------------
