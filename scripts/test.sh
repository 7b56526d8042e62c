#!/usr/bin/env bash
# The README's test command, and CI's: installs the test peers this machine
# lacks (scripts/install-test-peers.sh), then runs every test of the
# workspace. Extra arguments go to cargo test (e.g. -p posture-engine).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-peers.sh
export PATH="$PWD/.ci/venv/bin:$PATH"
cargo test --workspace --locked "$@"
