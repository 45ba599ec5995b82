#!/usr/bin/env python3
"""berth's layering, checked: `make layers` (and `make check`) run it.

The modules stand in four layers and include only downward:
    launcher  >  runtime, image, conf  >  mounts, cgroup, seccomp, registry  >  util
Another folder uses a module through its one header, <module>/<module>.h. Inside a folder,
files may call each other's functions, but never round in a circle (a file that needs another
which needs it back is one concern cut in two, or a function living away from its callers).
Files stay under 800 lines.

Prints one line per finding and a summary; exits 1 when there is any finding.
Usage: scripts/layers.py [TREE]
"""
import os
import re
import sys

LAYER = {"util": 0, "mounts": 1, "cgroup": 1, "seccomp": 1, "registry": 1,
         "runtime": 2, "image": 2, "conf": 2, "launcher": 3}
MAX_LINES = 800
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# a function definition: return type and name at the start of a line, its body on the next
DEFINITION = re.compile(r'^(?!static\b)[A-Za-z_][\w \*]*?\b([a-z_][a-z0-9_]*)\s*\([^;]*$')
CALL = re.compile(r'\b([a-z_][a-z0-9_]*)\s*\(')


def module_of(rel):
    top = rel.split(os.sep, 1)[0]
    return top if top in LAYER else None


def sources(tree):
    for dirpath, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs
                         if not d.startswith(".") and d not in ("build", "tests", "bench"))
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                full = os.path.join(dirpath, f)
                yield os.path.relpath(full, tree), full


def include_findings(tree, rel, lines):
    src = module_of(rel)
    for n, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m or src is None:
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
        if not os.path.exists(os.path.join(tree, target)):
            target = os.path.normpath(m.group(1))
        dst = module_of(target)
        if dst is None or dst == src:
            continue
        where = f"{rel}:{n} includes {target}"
        if LAYER[dst] > LAYER[src]:
            yield f"upward include: {where}"
        elif LAYER[dst] == LAYER[src]:
            yield f"sideways include: {where}"
        if os.path.basename(target) != f"{dst}.h":
            yield f"private header: {where} (use {dst}/{dst}.h)"


def definitions(lines):
    names = set()
    for i, line in enumerate(lines[:-1]):
        m = DEFINITION.match(line)
        if m and lines[i + 1].startswith("{"):
            names.add(m.group(1))
    return names


def strip_comments_and_strings(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def call_cycles(files_by_folder):
    """Cycles among the .c files of each folder, through calls of non-static functions."""
    for folder, files in sorted(files_by_folder.items()):
        owner = {}
        for rel, lines in files.items():
            for name in definitions(lines):
                owner[name] = rel
        edges = {rel: set() for rel in files}
        for rel, lines in files.items():
            body = strip_comments_and_strings("\n".join(lines))
            for name in set(CALL.findall(body)):
                other = owner.get(name)
                if other and other != rel:
                    edges[rel].add(other)
        yield from cycles_of(folder, edges)


def cycles_of(folder, edges):
    seen = set()
    for start in sorted(edges):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges[node]):
                if nxt == start:
                    cycle = tuple(sorted(path))
                    if cycle not in seen:
                        seen.add(cycle)
                        yield f"call cycle in {folder}/: {' -> '.join(path + [start])}"
                elif nxt not in path and nxt > start:
                    stack.append((nxt, path + [nxt]))


def main():
    tree = sys.argv[1] if len(sys.argv) > 1 else "."
    findings = []
    by_folder = {}
    for rel, full in sources(tree):
        with open(full, errors="replace") as f:
            lines = f.read().splitlines()
        if len(lines) > MAX_LINES:
            findings.append(f"long file: {rel}: {len(lines)} lines")
        findings.extend(include_findings(tree, rel, lines))
        if rel.endswith(".c") and module_of(rel):
            by_folder.setdefault(os.path.dirname(rel), {})[rel] = lines
    findings.extend(call_cycles(by_folder))
    for line in findings:
        print(line)
    print(f"layers: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
