#!/usr/bin/env python3
"""Fails when a Catch2 assertion (CHECK, REQUIRE, CHECK_FALSE, REQUIRE_THAT, ...) has
`co_await` in its parenthesised argument: Catch2 v2 expands the argument three times and
g++ 12 runs each co_await of a coroutine, so the awaited operation happens three times.
Await into a local before the assertion instead.

    check_no_co_await_in_asserts.py [ROOT | FILE]...

A ROOT (the source tree; by default the one this script is in) is scanned for
tests/**/*.cpp, tests/**/*.hpp, examples/**/*.cpp and examples/**/*.hpp; a FILE is checked as it is.
Comments and string and character literals are skipped; the argument may span lines.
"""
import pathlib
import re
import sys

ASSERTION = re.compile(r"(CHECK|REQUIRE)[A-Z_]*")
PATTERNS = ("tests/**/*.cpp", "tests/**/*.hpp", "examples/**/*.cpp", "examples/**/*.hpp")
REASON = ("Catch2 v2 expands an assertion's argument three times and g++ 12 runs every "
          "co_await in it each time, so the awaited operation happens three times: "
          "co_await into a local first, then assert on the local.")


def tokens(text):
    """(kind, text, line) for identifiers and punctuation, without comments or literals."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace() or c == "\\":
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":  # (a line comment ended by "\" is rare enough)
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if j < n and text[j] in "\"'" and word in ("u8", "u", "U", "L", "R", "u8R", "uR",
                                                       "UR", "LR"):
                i, line = literal(text, j, line, raw=word.endswith("R"))
            else:
                yield "word", word, line
                i = j
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i + 1  # a pp-number, digit separators (1'000) and exponent signs included
            while j < n and (text[j].isalnum() or text[j] in "._" or
                             (text[j] == "'" and j + 1 < n and text[j + 1].isalnum()) or
                             (text[j] in "+-" and text[j - 1] in "eEpP")):
                j += 1
            i = j
        elif c in "\"'":
            i, line = literal(text, i, line, raw=False)
        else:
            yield "punct", c, line
            i += 1


def literal(text, i, line, raw):
    """Skips the string or character literal whose opening quote is at i."""
    n = len(text)
    if raw:
        open_paren = text.find("(", i + 1)
        close = ")" + text[i + 1:open_paren] + '"'
        end = text.find(close, open_paren)
        end = n if end < 0 else end + len(close)
    else:
        quote, end = text[i], i + 1
        while end < n and text[end] != quote and text[end] != "\n":
            end += 2 if text[end] == "\\" else 1
        end += 1
    return end, line + text.count("\n", i, end)


def offenders(text):
    """Lines of the assertions whose argument contains co_await."""
    found = []
    toks = list(tokens(text))
    for k, (kind, word, line) in enumerate(toks):
        if kind != "word" or not ASSERTION.fullmatch(word):
            continue
        if k + 1 >= len(toks) or toks[k + 1][1] != "(":
            continue
        depth = 0
        for kind2, tok, _ in toks[k + 1:]:
            if kind2 == "punct" and tok == "(":
                depth += 1
            elif kind2 == "punct" and tok == ")":
                depth -= 1
                if depth == 0:
                    break
            elif kind2 == "word" and tok == "co_await":
                found.append(line)
                break
    return found


SELF_TEST = (
    ("CHECK(co_await work() == 0);", [1]),
    ("REQUIRE(co_await until([&] {\n  return x;\n}));", [1]),
    ("CHECK_FALSE(\n    co_await rows.async_next(use_awaitable));", [1]),
    ("REQUIRE_THAT(f(g(1), co_await h()), M);", [1]),
    ("const bool ok = co_await eventually(p);\nCHECK(ok);", []),
    ("CHECK(s == \"co_await (\");  // CHECK(co_await x)\nCHECK(c == ')');", []),
    ("/* REQUIRE(co_await x); */ CHECK(n == 1'000);\nCHECK(R\"(co_await)\" != s);", []),
    ("MY_CHECK(co_await x);\nCHECK(ok); co_await x;", []),
)


def main():
    for source, want in SELF_TEST:
        if offenders(source) != want:
            print("self-test failed: %r should give lines %s, gives %s" %
                  (source, want, offenders(source)))
            return 2
    args = sys.argv[1:] or [str(pathlib.Path(__file__).resolve().parents[2])]
    files = []
    for arg in map(pathlib.Path, args):
        if arg.is_dir():
            files += sorted(f for p in PATTERNS for f in arg.glob(p) if f.is_file())
        else:
            files.append(arg)
    if not files:
        print("no C++ file found in %s" % " ".join(args))
        return 2
    bad = 0
    for f in files:
        for line in offenders(f.read_text(encoding="utf-8", errors="replace")):
            print("%s:%d: co_await inside a Catch assertion" % (f, line))
            bad += 1
    if bad:
        print(REASON)
        return 1
    print("%d files: no co_await inside a Catch assertion" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
