#!/usr/bin/env bash
# Builds the seed corpora for the fuzz targets from what the repository already has:
#   corpus/loader: every *.hcl under examples/, engine/tests/ and fuzz/seeds/loader/, and every ```hcl block in docs/
#   corpus/expr:   every expression in engine/tests/conformance/cases.txt (one file each)
#   corpus/state:  every state fixture under state-fixtures/ but the 10,000-instance one, and fuzz/seeds/state/
# Idempotent; the corpora are not committed (libFuzzer grows them while it runs).
set -euo pipefail
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
mkdir -p "$fuzz/corpus/loader" "$fuzz/corpus/expr" "$fuzz/corpus/state"
n=0
while IFS= read -r f; do
  cp "$f" "$fuzz/corpus/loader/seed-file-$n.hcl"
  n=$((n + 1))
done < <(find "$root/examples" "$root/engine/tests" "$fuzz/seeds/loader" -name '*.hcl' | sort)
n=0
while IFS= read -r f; do
  cp "$f" "$fuzz/corpus/state/seed-$n-$(basename "$f")"
  n=$((n + 1))
done < <(find "$root/state-fixtures" "$fuzz/seeds/state" -type f ! -name '*.md' ! -name 'large-*' | sort)
python3 - "$root" "$fuzz/corpus" <<'PY'
import pathlib, re, sys
root, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
blocks = 0
for md in sorted(root.glob("docs/**/*.md")) + [root / "README.md"]:
    for m in re.finditer(r"```hcl\n(.*?)```", md.read_text(encoding="utf-8"), re.S):
        (corpus / "loader" / f"seed-doc-{blocks}.hcl").write_text(m.group(1), encoding="utf-8")
        blocks += 1
exprs = 0
for line in (root / "engine/tests/conformance/cases.txt").read_text(encoding="utf-8").splitlines():
    if not line.strip() or line.startswith("#"):
        continue
    parts = line.split(" ", 1)
    if len(parts) == 2:
        (corpus / "expr" / f"seed-case-{exprs}").write_text(parts[1], encoding="utf-8")
        exprs += 1
print(f"seeded {blocks} doc blocks into loader, {exprs} expressions into expr", file=sys.stderr)
PY
echo "loader: $(ls "$fuzz/corpus/loader" | wc -l) seeds, expr: $(ls "$fuzz/corpus/expr" | wc -l) seeds, state: $(ls "$fuzz/corpus/state" | wc -l) seeds" >&2
