"""Write the benchmark configurations for posture (main.hcl) and Terraform (main.tf).

Usage: gen.py OUT_DIR

Creates OUT_DIR/{posture,terraform}/{a,b,c}/ with the same configuration in each language:
  a  one posture_data plus 1,000 for_each instances whose input references its id
  b  a 1,000-long chain: r0..r999 where r_i.input = r_{i-1}.id (separate blocks: count
     cannot reference itself)
  c  100,000 for_each instances, no references
The resource type is posture_data for posture and terraform_data for Terraform; nothing else
differs. Only the standard library is used, so the system python3 runs it.
"""

import os
import sys

FAN_OUT = 1_000
CHAIN = 1_000
WIDE = 100_000


def fan_out(rtype: str) -> str:
    """(a): one base resource and FAN_OUT instances that depend on it."""
    return f'''resource "{rtype}" "base" {{
  input = "base"
}}

resource "{rtype}" "fan" {{
  for_each = toset([for i in range({FAN_OUT}) : format("k%04d", i)])
  input    = "${{{rtype}.base.id}}/${{each.key}}"
}}
'''


def chain(rtype: str) -> str:
    """(b): CHAIN blocks, each one's input the previous one's id."""
    parts = [f'resource "{rtype}" "r0" {{\n  input = "start"\n}}\n']
    for i in range(1, CHAIN):
        parts.append(f'resource "{rtype}" "r{i}" {{\n  input = {rtype}.r{i - 1}.id\n}}\n')
    return "\n".join(parts)


def wide(rtype: str) -> str:
    """(c): WIDE independent for_each instances."""
    return f'''resource "{rtype}" "wide" {{
  # range() stops at 1,024 values (in Terraform too): 100 x 1,000.
  for_each = toset(flatten([
    for i in range({WIDE // 1000}) : [for j in range(1000) : format("k%06d", i * 1000 + j)]
  ]))
  input    = each.key
}}
'''


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    for tool, rtype, fname in (
        ("posture", "posture_data", "main.hcl"),
        ("terraform", "terraform_data", "main.tf"),
    ):
        for name, make in (("a", fan_out), ("b", chain), ("c", wide)):
            d = os.path.join(out, tool, name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, fname), "w", encoding="utf-8") as f:
                f.write(make(rtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())
