#!/usr/bin/env bash
# The layering check CI runs before the tests (ARCHITECTURE.md, "Invariants"):
# a provider crate depends on posture-provider-core, never on the engine.
# Fails if the normal (non-dev) dependency tree of a checked crate, with
# every feature (for this host), contains posture-engine, sled,
# hcl-edit (or any hcl-* crate) or petgraph, and prints the crate and the
# path that brings the dependency in. posture-provider-core is checked too
# (the same list, and no tokio runtime feature: the runtime is the caller's).
#
#   bash scripts/check-layers.sh              # every crate in providers/, and provider-core
#   bash scripts/check-layers.sh CRATE...     # just these crates
#   bash scripts/check-layers.sh --self-test  # shows that a crate built on the engine fails
set -euo pipefail
cd "$(dirname "$0")/.."

# Whole names, or prefixes ending in `*`.
forbidden=(posture-engine sled 'hcl-*' petgraph)
core=posture-provider-core

crate_name() { # the [package] name of a Cargo.toml
  sed -n 's/^name = "\(.*\)"$/\1/p' "$1" | head -n 1
}

# Prints "a -> b -> c" for the first path from the root of `cargo tree` to a
# forbidden package, or nothing. The tree comes with depth prefixes.
first_bad_path() {
  awk -v bad="${forbidden[*]}" '
    BEGIN { n = split(bad, pats, " ") }
    {
      match($0, /^[0-9]+/)
      depth = substr($0, 1, RLENGTH) + 0
      name = substr($0, RLENGTH + 1)
      sub(/ .*/, "", name)
      stack[depth] = name
      for (i = 1; i <= n; i++) {
        p = pats[i]
        hit = (p ~ /\*$/) ? (index(name, substr(p, 1, length(p) - 1)) == 1) : (name == p)
        if (hit && depth > 0) {
          out = stack[0]
          for (d = 1; d <= depth; d++) out = out " -> " stack[d]
          print out
          exit
        }
      }
    }'
}

check() { # CRATE: 0 when its layering holds, 1 (with a message) when not
  local crate=$1 tree path
  if ! tree=$(cargo tree --offline --locked -e normal --all-features \
    --prefix depth --format '{p}' -p "$crate" 2>&1); then
    echo "check-layers: cargo tree failed for $crate:" >&2
    echo "$tree" >&2
    return 1
  fi
  path=$(first_bad_path <<<"$tree")
  if [[ -n $path ]]; then
    echo "check-layers: FAIL: $crate depends on the engine layer: $path" >&2
    echo "  A provider may depend on $core only (posture-engine as a dev-dependency" >&2
    echo "  for its tests); move what it needs down into provider-core/." >&2
    return 1
  fi
  if [[ $crate == "$core" ]]; then
    local rt
    rt=$(cargo tree --offline --locked -e normal,features --all-features \
      -i tokio -p "$core" 2>/dev/null | grep -oE 'tokio feature "(rt|rt-multi-thread|full|net|fs|process|io-std|time|signal)"' | sort -u || true)
    if [[ -n $rt ]]; then
      echo "check-layers: FAIL: $core enables tokio runtime features: $(echo "$rt" | tr '\n' ' ')" >&2
      echo "  The Provider trait needs tokio's macros only; the runtime is the caller's." >&2
      return 1
    fi
  fi
  echo "check-layers: ok: $crate"
}

if [[ ${1:-} == --self-test ]]; then
  # A backend implements the engine's state Backend trait, so it depends
  # on the engine: the check must fail for it and name the path.
  if out=$(bash "$0" posture-backend-s3 2>&1); then
    echo "check-layers self-test: FAIL: posture-backend-s3 passed, but it depends on posture-engine" >&2
    exit 1
  fi
  if ! grep -q 'FAIL: posture-backend-s3 depends on the engine layer: posture-backend-s3 -> posture-engine' <<<"$out"; then
    echo "check-layers self-test: FAIL: the message does not name the crate and path:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "check-layers self-test: ok, refused as it should be:"
  echo "$out" | head -n 1
  exit 0
fi

crates=("$@")
if [[ ${#crates[@]} -eq 0 ]]; then
  crates=("$core")
  for manifest in providers/*/Cargo.toml; do
    crates+=("$(crate_name "$manifest")")
  done
fi

failed=0
for crate in "${crates[@]}"; do
  check "$crate" || failed=1
done
exit $failed
