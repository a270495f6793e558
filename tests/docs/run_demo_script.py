#!/usr/bin/env python3
"""Runs scripts/demo.sh on this build's binaries (--no-build) while a decoy server listens on
127.0.0.1:19042, the port the demo once waited for: the demo must talk to its own cqlsim,
and finish.

    run_demo_script.py SOURCE_DIR BINARY_DIR
"""
import os
import socket
import subprocess
import sys


def main():
    src, binary = sys.argv[1], sys.argv[2]
    decoy = socket.socket()
    decoy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        decoy.bind(("127.0.0.1", 19042))
        decoy.listen(16)
    except OSError as e:  # already taken: by something that is not the demo's cqlsim either
        print("decoy not started (%s): port 19042 is taken anyway" % e)
    env = dict(os.environ, CQL_DEMO_BUILD=binary)
    p = subprocess.run(["bash", os.path.join(src, "scripts", "demo.sh"), "--no-build",
                        "--rows", "300"], capture_output=True, text=True, env=env, timeout=150)
    decoy.close()
    print(p.stdout, end="")
    print(p.stderr, end="", file=sys.stderr)
    lines = p.stdout.splitlines()
    ok = (p.returncode == 0 and lines and lines[0].startswith("connected in ")
          and "3 hosts" in lines[0] and lines[-1] == "closed"
          and "127.0.0.1:19042" not in p.stdout)
    print("OK" if ok else "FAILED: exit %d" % p.returncode)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
