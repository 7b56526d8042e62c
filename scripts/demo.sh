#!/usr/bin/env bash
# posture's main job on this machine: plan and apply the examples against
# local test peers, show that a second plan has nothing to do, then destroy.
#   examples/fleet: the fleet's posture with posture_data (no peer needed)
#   examples/dns:   a Route53 zone and per-cluster records, against moto
#   examples/k8s:   namespace, ConfigMap, CRD + custom resource and a Deployment
#                   on three clusters served by `posture sandbox`; a change made
#                   with kubectl is detected as drift and corrected
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --bin posture
posture=$PWD/target/debug/posture
bash scripts/install-moto.sh >/dev/null

work=$(mktemp -d)
trap 'kill "${moto_pid:-}" "${sandbox_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

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
echo "=== posture sandbox: three clusters on loopback"
"$posture" sandbox --clusters mgmt,prod-eu,prod-us --kubeconfig "$work/kubeconfig" \
  --workload-delay-ms 200 --ready-delay-ms 200 >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 100); do
  if grep -q "sandbox ready" "$work/sandbox.log" 2>/dev/null; then break; fi
  sleep 0.1
done
cat "$work/sandbox.log"
export POSTURE_VAR_kubeconfig="$work/kubeconfig"
cp -r examples/k8s "$work/k8s"
echo "=== examples/k8s: apply"
"$posture" --chdir "$work/k8s" apply --auto-approve
echo "=== examples/k8s: someone edits a ConfigMap with kubectl"
kubectl --kubeconfig "$work/kubeconfig" --context prod-eu -n posture-system \
  patch configmap registry-mirror --type merge -p '{"data":{"hosts.toml":"server = \"https://elsewhere.example.com\"\n"}}'
echo "=== examples/k8s: plan shows the drift (exit 2)"
set +e
"$posture" --chdir "$work/k8s" plan --detailed-exitcode
code=$?
set -e
[ "$code" -eq 2 ] || { echo "expected exit 2 (changes), got $code"; exit 1; }
echo "=== examples/k8s: apply corrects it, then nothing is left to do"
"$posture" --chdir "$work/k8s" apply --auto-approve
"$posture" --chdir "$work/k8s" plan --detailed-exitcode
echo "=== examples/k8s: destroy"
"$posture" --chdir "$work/k8s" destroy --auto-approve
echo "demo: done"
