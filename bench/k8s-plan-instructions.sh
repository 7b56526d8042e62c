#!/usr/bin/env bash
# Instructions (valgrind callgrind) of the no-op plan of bench/k8s-plan.sh
# (10 sandbox clusters x 1,000 ConfigMaps), for one or more posture binaries
# side by side. Unlike wall time, the count does not depend on what else the
# machine is doing, so two builds can be compared on a busy machine.
#
#   bash bench/k8s-plan-instructions.sh OLD/posture target/release/posture
#
# Each binary applies into its own state directory on the same sandbox, then
# its no-op plan runs under callgrind. Takes a few minutes per binary.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 POSTURE_BINARY..." >&2; exit 2; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
first=$1
work=$(mktemp -d)
trap 'kill "${sb:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$first" sandbox --clusters c0,c1,c2,c3,c4,c5,c6,c7,c8,c9 --kubeconfig "$work/kc" --nodes 1 >"$work/sb.log" 2>&1 &
sb=$!
for _ in $(seq 1 100); do grep -q "sandbox ready" "$work/sb.log" 2>/dev/null && break; sleep 0.1; done
# The same configuration as bench/k8s-plan.sh.
sed -n '/^cat > "$work\/cfg\/main.hcl" <<HCL/,/^HCL/p' bench/k8s-plan.sh | sed '1d;$d' | sed 's/\\\$/$/g' >"$work/main.hcl"
export POSTURE_VAR_kubeconfig="$work/kc"
i=0
for bin in "$@"; do
  i=$((i + 1))
  mkdir "$work/$i" && cp "$work/main.hcl" "$work/$i/"
  "$bin" --chdir "$work/$i" apply --auto-approve --parallelism 20 >"$work/$i.apply" 2>&1 || { tail -5 "$work/$i.apply"; exit 1; }
  valgrind --tool=callgrind --callgrind-out-file="$work/$i.cg" "$bin" --chdir "$work/$i" plan --detailed-exitcode \
    >"$work/$i.plan" 2>"$work/$i.err" || { tail -5 "$work/$i.err"; exit 1; }
  echo "$bin: $(grep -o 'Collected : [0-9]*' "$work/$i.err" | cut -d' ' -f3) instructions, $(tail -1 "$work/$i.plan")"
done
