#!/usr/bin/env python3
"""Runs a program extracted from the documentation (extract_programs.py) twice:

 1. with nothing listening at its contact point: it must fail visibly, exiting non-zero and
    saying on stderr why, naming the contact point (README's first program once printed
    nothing and exited 0);
 2. against a 3-node cqlsim: it must exit 0 and print what the documentation says.

    run_doc_program.py --cqlsim PATH --program PATH --expect REGEX
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
from run_example import Cqlsim, Failure, free_port  # noqa: E402

TIMEOUT = 60


def run(program, contact):
    env = dict(os.environ, CQL_DOC_CONTACT=contact)
    p = subprocess.run([program], capture_output=True, text=True, env=env, timeout=TIMEOUT)
    print("$ CQL_DOC_CONTACT=%s %s  -> exit %d" % (contact, os.path.basename(program),
                                                   p.returncode))
    print(p.stdout, end="")
    if p.stderr:
        print("[stderr]\n" + p.stderr, end="")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cqlsim", required=True)
    ap.add_argument("--program", required=True)
    ap.add_argument("--expect", required=True)
    a = ap.parse_args()
    try:
        # A port that was free a moment ago, on an address only this test uses.
        nothing = "127.0.0.1:%d" % free_port()
        p = run(a.program, nothing)
        if p.returncode == 0:
            raise Failure("without a server the program exited 0")
        if nothing not in p.stderr:
            raise Failure("without a server the program did not say why on stderr (%r)"
                          % p.stderr)
        with Cqlsim(a.cqlsim, nodes=3) as sim:
            p = run(a.program, sim.contact)
            if p.returncode != 0:
                raise Failure("against cqlsim the program exited %d" % p.returncode)
            if not re.search(a.expect, p.stdout):
                raise Failure("the program's output does not match %r" % a.expect)
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAILED: %s" % e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
