#!/usr/bin/env bash
# posture's main job on this machine: plan and apply the examples against
# local test peers, show that a second plan has nothing to do, then destroy.
#   examples/fleet: the fleet's posture with posture_data (no peer needed)
#   examples/dns:   a Route53 zone and per-cluster records, against moto
# (Kubernetes clusters from the API sandbox join here with the Kubernetes provider.)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --bin posture
posture=$PWD/target/debug/posture
bash scripts/install-moto.sh >/dev/null

work=$(mktemp -d)
trap 'kill "${moto_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# moto on a free loopback port; wait until it answers (bounded).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.ci/venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/"; then break; fi
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1

for ex in fleet dns; do
  cp -r "examples/$ex" "$work/$ex"
  echo "=== examples/$ex: apply"
  "$posture" --chdir "$work/$ex" apply --auto-approve
  echo "=== examples/$ex: plan again (expect no changes)"
  "$posture" --chdir "$work/$ex" plan --detailed-exitcode
  echo "=== examples/$ex: destroy"
  "$posture" --chdir "$work/$ex" destroy --auto-approve
done
echo "demo: done"
