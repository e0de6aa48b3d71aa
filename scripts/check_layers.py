#!/usr/bin/env python3
"""The layering check of `make check` (docs/architecture.md).

A folder of src/ is one library and one layer: its CMakeLists.txt builds
exactly one library, and includes point down only. This reads every
`#include "..."` of src/, include/ and apps/, maps each to the folder of the
file it names, and fails when the folders' graph has a cycle (two folders
that include each other, or a longer loop), when `<openssl/...>` is included
outside the folders allowed below, or when a folder of src/ builds other
than one library. On success it prints the layers, lowest first: a folder's
layer is one above the highest folder it includes.

    scripts/check_layers.py [SOURCE_DIR]
"""

import os
import re
import sys

# Where <openssl/*> may be included, and why. Everything else reaches
# OpenSSL through src/crypto, and no OpenSSL type appears in a header
# outside it.
OPENSSL_ALLOWED = {
    "src/crypto": "the crypto layer: the only place OpenSSL is used",
    "src/common/secret_bytes.cc": "SecureWipe is OPENSSL_cleanse",
    "src/common/ct.cc": "ct::Equal is CRYPTO_memcmp",
}

SOURCE_ROOTS = ("src", "include", "apps")
EXTENSIONS = (".h", ".cc", ".c")
INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.MULTILINE)


def source_files(root):
    for top in SOURCE_ROOTS:
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith(EXTENSIONS):
                    yield os.path.relpath(os.path.join(folder, name), root)


def resolve(root, including, target):
    """The file an include names, relative to root, or None (a system header)."""
    candidates = [os.path.join(os.path.dirname(including), target)]
    candidates += [os.path.join(top, target) for top in ("src", "include")]
    candidates.append(target)
    for candidate in candidates:
        path = os.path.normpath(candidate)
        if os.path.isfile(os.path.join(root, path)):
            return path
    return None


def openssl_allowed(path):
    return any(path == allowed or path.startswith(allowed + "/") for allowed in OPENSSL_ALLOWED)


def find_cycle(graph):
    """A list of folders that form a cycle, or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def library_count(root, folder):
    path = os.path.join(root, folder, "CMakeLists.txt")
    if not os.path.isfile(path):
        return 0
    text = re.sub(r"#.*", "", open(path, encoding="utf-8").read())
    return len(re.findall(r"\badd_library\s*\(", text))


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    graph = {}
    problems = []
    for path in source_files(root):
        folder = os.path.dirname(path)
        graph.setdefault(folder, set())
        text = open(os.path.join(root, path), encoding="utf-8", errors="replace").read()
        for kind, target in INCLUDE.findall(text):
            if kind == "<":
                if target.startswith("openssl/") and not openssl_allowed(path):
                    problems.append(f"{path} includes <{target}>: OpenSSL belongs in src/crypto")
                continue
            included = resolve(root, path, target)
            if included is None:
                continue  # generated (proto/*.pb.h) or not ours
            other = os.path.dirname(included)
            if other != folder:
                graph[folder].add(other)

    for folder in sorted(graph):
        if folder.startswith("src/"):
            count = library_count(root, folder)
            if count != 1:
                problems.append(f"{folder} builds {count} libraries; a folder is one library")

    cycle = find_cycle(graph)
    if cycle:
        edges = []
        for a, b in zip(cycle, cycle[1:]):
            edges.append(f"{a} -> {b}")
        problems.append("folders include each other: " + ", ".join(edges))

    if problems:
        for p in problems:
            print("layering: " + p, file=sys.stderr)
        print(f"layering: {len(problems)} problem(s)", file=sys.stderr)
        return 1

    layer = {}

    def level(folder):
        if folder not in layer:
            below = [level(d) for d in graph.get(folder, ())]
            layer[folder] = 1 + max(below) if below else 0
        return layer[folder]

    for folder in graph:
        level(folder)
    for n in range(max(layer.values()) + 1):
        folders = sorted(f for f, l in layer.items() if l == n)
        print(f"layer {n}: " + "  ".join(folders))
    edges = sum(len(v) for v in graph.values())
    print(f"layering: {len(graph)} folders, {edges} folder includes, all pointing down;"
          f" <openssl/> only in {', '.join(sorted(OPENSSL_ALLOWED))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
