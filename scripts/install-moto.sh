#!/usr/bin/env bash
# Installs moto's server (the Route53 test peer) into the project's venv at
# .ci/venv, so `cargo test -p posture-provider-route53` finds
# .ci/venv/bin/moto_server. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x .ci/venv/bin/moto_server ]; then
  echo "moto_server already installed in .ci/venv"
  exit 0
fi
if [ ! -x .ci/venv/bin/python ]; then
  python3 -m venv .ci/venv
fi
.ci/venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
.ci/venv/bin/moto_server --help >/dev/null
echo "moto_server installed: .ci/venv/bin/moto_server"
