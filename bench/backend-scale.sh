#!/usr/bin/env bash
# State backends at scale (docs/benchmarks.md, "State backends at 100,000 instances"): a generated
# 100,000-instance state pushed, changed by one record and committed, and loaded through the local
# (sled), s3 (moto_server on loopback) and kubernetes (the sandbox, in-process) backends side by
# side, plain and with pbkdf2 + aes_gcm encryption; the bytes each stores; a lock round trip; the
# heartbeat's requests and one renewal. Prints the machine and its load, then a markdown table.
# Not part of `cargo test`: it takes minutes and its numbers depend on the machine.
#
# Usage: bench/backend-scale.sh [INSTANCES [ROUNDS]]   (defaults 100000 and 3)
# Environment: ENCRYPTED=0 skips the encrypted rows; POSTURE_MOTO names moto_server (default
# .ci/venv/bin/moto_server, installed by .ci/setup); CARGO_TARGET_DIR as for cargo.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
instances=${1:-100000}
rounds=${2:-3}
export POSTURE_MOTO=${POSTURE_MOTO:-$root/.ci/venv/bin/moto_server}
if [[ ! -x "$POSTURE_MOTO" ]]; then
  echo "moto_server is missing at $POSTURE_MOTO: set POSTURE_MOTO or install .ci/venv" >&2
  exit 1
fi

cd "$root"
echo "building the example (release)..." >&2
cargo build --release --offline -p posture-cli --example backend_scale >&2
target=${CARGO_TARGET_DIR:-$root/target}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); instances: $instances; rounds: $rounds"
echo
"$target/release/examples/backend_scale" "$instances" "$rounds"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
