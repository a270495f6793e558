#!/usr/bin/env python3
"""Checks that every ```cpp block of a document is code that is compiled: its lines (stripped
of indentation, blank lines ignored) must appear one after the other in one of the source
files given, which the build compiles and the tests run.

    check_doc_snippets.py DOC.md SOURCE.cpp...
"""
import re
import sys


def lines_of(text):
    return [l.strip() for l in text.splitlines() if l.strip()]


def contains(haystack, needle):
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def main():
    doc, sources = sys.argv[1], sys.argv[2:]
    text = open(doc, encoding="utf-8").read()
    blocks = re.findall(r"^```cpp\n(.*?)^```", text, re.S | re.M)
    if not blocks:
        print("%s has no ```cpp block" % doc)
        return 1
    compiled = {s: lines_of(open(s, encoding="utf-8").read()) for s in sources}
    failures = 0
    for i, block in enumerate(blocks, 1):
        want = lines_of(block)
        if not any(contains(have, want) for have in compiled.values()):
            failures += 1
            print("block %d of %s is in no compiled source:\n%s" % (i, doc, block))
    print("%d of %d cpp blocks found in compiled sources" % (len(blocks) - failures, len(blocks)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
