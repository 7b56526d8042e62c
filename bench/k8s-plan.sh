#!/usr/bin/env bash
# Kubernetes benchmark (issue K2): a no-op plan of 10 sandbox clusters x 1,000 ConfigMaps
# with 10 ms of latency added to every request; prints wall time, peak RSS and the
# request counts from the sandbox counters. Not part of cargo test. Usage: bench/k8s-plan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --bin posture
posture=${POSTURE:-$PWD/target/release/posture}
work=$(mktemp -d)
trap 'kill "${sb:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
clusters=c0,c1,c2,c3,c4,c5,c6,c7,c8,c9
"$posture" sandbox --clusters $clusters --kubeconfig "$work/kc" --nodes 1 >"$work/sb.log" 2>&1 &
sb=$!
for _ in $(seq 1 100); do grep -q "sandbox ready" "$work/sb.log" 2>/dev/null && break; sleep 0.1; done
admin=$(grep -o 'admin=[^ ]*' "$work/sb.log" | cut -d= -f2)
mkdir "$work/cfg"
cat > "$work/cfg/main.hcl" <<HCL
variable "kubeconfig" { type = string }
cluster "fleet" {
  for_each   = toset([for i in range(10) : "c\${i}"])
  kubeconfig = var.kubeconfig
  context    = each.key
}
locals {
  objects = merge([for c in keys(cluster.fleet) : { for i in range(1000) : "\${c}/cm-\${i}" => { cluster = c, i = i } }]...)
}
resource "kubernetes_manifest" "cm" {
  for_each = local.objects
  cluster  = cluster.fleet[each.value.cluster]
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "cm-\${each.value.i}", namespace = "default" }
    data       = { i = tostring(each.value.i) }
  }
}
HCL
export POSTURE_VAR_kubeconfig="$work/kc"
t0=$(date +%s.%N); "$posture" --chdir "$work/cfg" apply --auto-approve --parallelism 20 >"$work/apply.log" 2>&1 || { tail -20 "$work/apply.log"; exit 1; }; t1=$(date +%s.%N)
echo "apply of 10,000 ConfigMaps (no latency): $(echo "$t1 - $t0" | bc) s"
for c in ${clusters//,/ }; do
  curl -s -X PUT -d '{"latencyMs":10}' "$admin/clusters/$c/faults" >/dev/null
  curl -s -X DELETE "$admin/clusters/$c/metrics" >/dev/null
done
t0=$(date +%s.%N); /usr/bin/time -f "%M" -o "$work/rss" "$posture" --chdir "$work/cfg" plan --detailed-exitcode >"$work/plan.log" 2>&1 || code=$?; t1=$(date +%s.%N)
echo "no-op plan with 10 ms latency per request: $(echo "$t1 - $t0" | bc) s, exit ${code:-0}, peak RSS $(cat "$work/rss") KiB"
total=0
for c in ${clusters//,/ }; do
  m=$(curl -s "$admin/clusters/$c/metrics")
  n=$(echo "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  total=$((total + n))
  [ "$c" = c0 ] && echo "requests on c0: $m"
done
echo "requests on all 10 clusters: $total"
