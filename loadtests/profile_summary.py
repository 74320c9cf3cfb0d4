"""Summarise a py-spy profile in folded form (``py-spy record --format raw``, or ``bench --profile x.txt``).

``python -m loadtests.profile_summary FILE [--top 25] [--group]`` prints where the sampled time went: by
function without its callees (self), by function with them (total), and with ``--group`` by area
(module prefixes below), which is what docs/performance.md quotes.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")

# First match wins, from the leaf up: a sample belongs to the innermost frame of a known area.
AREAS: list[tuple[str, str]] = [
    # The worker's outermost Python frame: a sample whose leaf it is ran in uvloop (C) or granian (Rust),
    # i.e. socket I/O, the loop itself, and granian's request/response glue.
    ("native: uvloop loop + granian Rust (no Python frame)", "granian/server/mp.py"),
    ("redis client: pack/parse/connection", "redis/"),
    ("prometheus metrics", "prometheus_client/"),
    ("litestar prometheus middleware", "litestar/plugins/prometheus"),
    ("vote logic (ballot_box, scripts, deps, keys)", "voting_service/"),
    ("shared (crypto, keys, errors)", "shared/"),
    ("msgspec", "msgspec/"),
    ("litestar routing/handlers/serialisation", "litestar/"),
    ("asyncio / uvloop machinery", "asyncio/"),
    ("granian (Python side)", "granian/"),
    ("stdlib", "/"),
]


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():  # an empty stack: a thread with no Python frame at all (e.g. granian's Rust threads)
            stacks.append((stack.split(";") if stack else [], int(count)))
    return stacks


def file_of(frame: str) -> str:
    m = _FRAME.match(frame)
    return m.group("file") if m else frame


def func_of(frame: str) -> str:
    m = _FRAME.match(frame)
    return f"{m.group('func')} ({m.group('file')})" if m else frame


def area_of(stack: list[str]) -> str:
    if "granian/server/" not in file_of(stack[-1]):
        stack = [fr for fr in stack if "granian/server/" not in file_of(fr)]
    for frame in reversed(stack):
        f = file_of(frame)
        for name, prefix in AREAS:
            if prefix in f or (prefix == "/" and "/" not in f):
                return name
    return "other"


def summarise(stacks: list[tuple[list[str], int]], top: int, group: bool, functions: list[str] | None = None) -> str:
    everything = sum(n for _, n in stacks)
    bare = sum(n for stack, n in stacks if not stack)
    stacks = [(stack, n) for stack, n in stacks if stack]
    total = sum(n for _, n in stacks) or 1
    selfs: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for stack, n in stacks:
        selfs[func_of(stack[-1])] += n
        for f in {func_of(fr) for fr in stack}:
            incl[f] += n
        areas[area_of(stack)] += n
    out = [f"{everything} samples; {bare} ({100 * bare / (everything or 1):.1f} %) in threads with no Python stack "
           f"(granian's Rust runtime threads); the shares below are of the {total} samples with one"]
    if group:
        out.append("\nby area (innermost known frame):")
        out += [f"  {100 * n / total:5.1f} %  {name}" for name, n in areas.most_common()]
    if functions:
        out.append("\nselected functions, with callees:")
        for want in functions:
            n = sum(c for stack, c in stacks if any(want in func_of(fr) for fr in stack))
            out.append(f"  {100 * n / total:5.1f} %  {want}")
    out.append(f"\ntop {top} self:")
    out += [f"  {100 * n / total:5.1f} %  {name}" for name, n in selfs.most_common(top)]
    out.append(f"\ntop {top} total (with callees):")
    out += [f"  {100 * n / total:5.1f} %  {name}" for name, n in incl.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m loadtests.profile_summary")
    p.add_argument("file", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--group", action="store_true")
    p.add_argument("--functions", default="", help="comma-separated substrings: their inclusive share")
    a = p.parse_args(argv)
    print(summarise(parse(a.file), a.top, a.group, [f for f in a.functions.split(",") if f]))


if __name__ == "__main__":
    main()
