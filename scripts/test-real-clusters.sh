#!/usr/bin/env bash
# Runs the Kubernetes provider's integration tests against real clusters:
#
#   POSTURE_TEST_KUBECONFIG=~/.kube/config POSTURE_TEST_CONTEXTS=kind-a,kind-b,kind-c \
#     bash scripts/test-real-clusters.sh
#
# Portable tests run on those clusters, each in a namespace of its own that
# is deleted afterwards; tests that need the sandbox's faults or counters
# run on the sandbox as always. Without POSTURE_TEST_KUBECONFIG, a `posture
# sandbox` at the oldest supported Kubernetes version is started as a
# separate process and stands in for the real clusters (what CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${POSTURE_TEST_KUBECONFIG:-}" ]; then
  work=$(mktemp -d)
  trap 'kill "${sandbox_pid:-}" 2>/dev/null || true; wait "${sandbox_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
  cargo build --locked -q -p posture-cli
  ./target/debug/posture sandbox --clusters real-a,real-b,real-c --kubernetes-version 1.23 \
    --kubeconfig "$work/kubeconfig" >"$work/sandbox.log" 2>&1 &
  sandbox_pid=$!
  # The ready line is printed once every cluster listens and the kubeconfig is written.
  for _ in $(seq 1 300); do
    if grep -q "sandbox ready" "$work/sandbox.log" 2>/dev/null; then break; fi
    if ! kill -0 "$sandbox_pid" 2>/dev/null; then cat "$work/sandbox.log"; exit 1; fi
    sleep 0.1
  done
  grep -q "sandbox ready" "$work/sandbox.log" || { cat "$work/sandbox.log"; exit 1; }
  export POSTURE_TEST_KUBECONFIG="$work/kubeconfig"
  export POSTURE_TEST_CONTEXTS=real-a,real-b,real-c
fi

echo "portable tests on contexts ${POSTURE_TEST_CONTEXTS:-(current)} of $POSTURE_TEST_KUBECONFIG"
cargo test --locked -p posture-provider-kubernetes --test tests
