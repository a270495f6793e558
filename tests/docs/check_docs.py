#!/usr/bin/env python3
"""Checks that README.md and the other documents stay true to the tree (each check names the
issue it keeps from coming back):

 - every build/... path they name is under a preset's build directory, and the programs they
   name under this build directory exist (examples/README.md once named build/sim/cqlsim);
 - README's prose does not list as missing what its feature table says works (it once listed
   typed collections, tuples and UDTs among what we lack);
 - the demo installs only what building it needs (scripts/setup.sh demo), not the whole
   development set (Docker, clang, doxygen, ...);
 - README documents threads and executors, and the Asio settings a program linking the
   library must share, with the ways out.

    check_docs.py SOURCE_DIR BINARY_DIR
"""
import glob
import os
import re
import subprocess
import sys

PRESETS = {"release", "debug", "asan", "tsan", "fuzz", "demo"}
BUILT_DIRS = {"sim", "examples", "tools", "benchmarks"}


def documents(src):
    docs = [os.path.join(src, "README.md")]
    docs += glob.glob(os.path.join(src, "docs", "*.md"))
    docs += glob.glob(os.path.join(src, "*", "README.md"))
    return sorted(set(docs))


def check_paths(src, binary, problems):
    preset = os.path.basename(os.path.normpath(binary))
    for doc in documents(src):
        text = open(doc, encoding="utf-8").read()
        for m in re.finditer(r"(?<![\w/.-])build/([\w.-]+)((?:/[\w.<>-]+)*)", text):
            first, rest = m.group(1), m.group(2)
            where = "%s: %s" % (os.path.relpath(doc, src), m.group(0))
            if first not in PRESETS:
                problems.append(where + ": not under a preset's directory (build/release/...)")
                continue
            parts = [p for p in rest.split("/") if p]
            if first != preset or not parts or parts[0] not in BUILT_DIRS:
                continue
            if any(re.search(r"NAME|<|>", p) for p in parts):
                continue  # a placeholder
            if not os.path.isdir(os.path.join(binary, parts[0])):
                continue  # that part of the tree is not built here
            if not os.path.exists(os.path.join(binary, *parts)):
                problems.append(where + ": no such file in " + binary)


def check_readme_prose(src, problems):
    text = open(os.path.join(src, "README.md"), encoding="utf-8").read()
    works = {}
    for row in re.findall(r"^\|([^|\n]*)\|([^|\n]*)\|\s*$", text, re.M):
        works[row[0].strip()] = row[1].strip().startswith("works")
    lack = re.search(r"What we\s+lack\s+is(.*?)(?:\n\n|$)", text, re.S)
    if not lack:
        problems.append("README.md: no 'What we lack is ...' paragraph to check")
        return
    lacking = " ".join(lack.group(1).split()).lower()
    # (feature row starts with, words the prose must not list as missing when the row works)
    claims = [("Collections, tuples, UDTs", ["collections", "tuples", "udts"]),
              ("TLS", ["tls"]),
              ("LZ4 compression", ["lz4"]),
              ("Token-aware routing", ["token-aware"]),
              ("Schema metadata", ["schema metadata"])]
    for row, words in claims:
        state = [v for k, v in works.items() if k.startswith(row)]
        if not state:
            problems.append("README.md: no feature row starting with %r" % row)
            continue
        if state[0]:
            for w in words:
                if re.search(r"\b%s\b" % re.escape(w), lacking):
                    problems.append("README.md: 'What we lack' lists %r, but the feature "
                                    "table says %r works" % (w, row))


def check_demo(src, problems):
    demo = open(os.path.join(src, "scripts", "demo.sh"), encoding="utf-8").read()
    if not re.search(r"scripts/setup\.sh demo\b", demo):
        problems.append("scripts/demo.sh: does not install only the demo's packages "
                        "(scripts/setup.sh demo)")
    out = subprocess.run(["bash", os.path.join(src, "scripts", "setup.sh"), "--list", "demo"],
                         capture_output=True, text=True, check=True).stdout.split()
    needless = {"docker-compose", "clang", "clang-format", "doxygen", "catch2",
                "libbenchmark-dev", "python3-cassandra", "python3-lz4", "python3-yaml",
                "libclang-rt-14-dev", "ccache"}
    extra = sorted(needless & set(out))
    if extra:
        problems.append("scripts/setup.sh demo installs what the demo does not need: %s"
                        % ", ".join(extra))
    for needed in ("g++", "cmake", "ninja-build", "libboost1.81-dev"):
        if needed not in out:
            problems.append("scripts/setup.sh demo lacks %s" % needed)


def check_readme_sections(src, problems):
    text = open(os.path.join(src, "README.md"), encoding="utf-8").read()
    if not re.search(r"^## Threads and executors", text, re.M):
        problems.append("README.md: no 'Threads and executors' section")
    elif "io_threads" not in text.split("## Threads and executors", 1)[1].split("\n## ", 1)[0]:
        problems.append("README.md: the threads section does not say what io_threads does")
    pc = open(os.path.join(src, "cmake", "cqlasio.pc.in"), encoding="utf-8").read()
    if "BOOST_ASIO_NO_DEPRECATED" in pc:
        problems.append("cmake/cqlasio.pc.in forces BOOST_ASIO_NO_DEPRECATED on programs")
    for needed in ("BOOST_ASIO_SEPARATE_COMPILATION", "CQL_ASIO_SEPARATE_COMPILATION",
                   "BOOST_ASIO_NO_DEPRECATED", "CQL_ASIO_NO_DEPRECATED"):
        if needed not in text:
            problems.append("README.md: does not document %s" % needed)


def main():
    src, binary = sys.argv[1], sys.argv[2]
    problems = []
    check_paths(src, binary, problems)
    check_readme_prose(src, problems)
    check_demo(src, problems)
    check_readme_sections(src, problems)
    for p in problems:
        print(p)
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
