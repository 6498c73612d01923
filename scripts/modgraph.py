#!/usr/bin/env python3
"""The import graph of src/ (issue 21): which module uses which, read from the source text.

    scripts/modgraph.py [--tests] [--edges] [SRC_DIR]

Builds two graphs from the `crate::…`, `super::…` and `self::…` paths in src/**/*.rs (in `use`
declarations, brace groups included, and written inline):

- top level: `signing` → `certificate` when any file under src/signing uses `crate::certificate`;
- file level: src/signing/issue.rs → src/certificate/pdf.rs when it names an item of that file.

It prints every strongly connected component (an import circle) of either graph and exits 1 if
there is one. `#[cfg(test)]` modules are left out unless --tests is given: a test may reach
across layers without the code it tests depending on them. A module's `mod child;` declaration
is not an edge, nor is any file's use of its own submodules (the parent owns them: `pub use`
of a child is the module's facade); a child using its parent is. src/main.rs is a separate crate. Only the standard library: it runs in CI before cargo, in well under a second.
"""

import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    """The code without comments, string and char literals (braces and `crate::` in them
    must not count), keeping the newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 260]) and not _ident_before(text, i):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + len(hashes) + 2)
            end = n if end < 0 else end + 1 + len(hashes)
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == "b" and text.startswith('b"', i) and not _ident_before(text, i):
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'", text[i:i + 12])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ident_before(text, i):
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


def drop_test_modules(code):
    """The code without `#[cfg(test)] mod … { … }` blocks."""
    pattern = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+"
                         + IDENT + r"\s*\{")
    while True:
        m = pattern.search(code)
        if not m:
            return code
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        code = code[:m.start()] + "\n" * code.count("\n", m.start(), j) + code[j:]


def expand_use_tree(tree):
    """`a::{b, c::{d, e}}` → [[a, b], [a, c, d], [a, c, e]] (aliases and globs dropped)."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)

    def parse(s, i, prefix):
        paths, current = [], list(prefix)
        token = ""
        while i < len(s):
            c = s[i]
            if c == "{":
                inner, i = parse(s, i + 1, current + ([token] if token else []))
                paths.extend(inner)
                token, current = "", None
                continue
            if c == "}":
                if current is not None:
                    paths.append(current + ([token] if token else []))
                return paths, i + 1
            if c == ",":
                if current is not None:
                    paths.append(current + ([token] if token else []))
                current, token = list(prefix), ""
            elif s.startswith("::", i):
                if current is not None and token:
                    current.append(token)
                token = ""
                i += 2
                continue
            else:
                token += c
            i += 1
        if current is not None:
            paths.append(current + ([token] if token else []))
        return paths, i

    paths, _ = parse(tree, 0, [])
    return [[p for p in path if p and p != "*"] for path in paths]


def module_path(rel):
    """src-relative file → its module path: signing/seal/cms.rs → [signing, seal, cms]."""
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return parts


class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}  # module path (tuple) → src-relative file
        for root, _, names in os.walk(src):
            for name in names:
                if name.endswith(".rs"):
                    rel = os.path.relpath(os.path.join(root, name), src).replace(os.sep, "/")
                    if rel != "main.rs":
                        self.files[tuple(module_path(rel))] = rel

    def file_of(self, path):
        """The deepest file that holds `path`'s item (the item may be a module, inline or not)."""
        best = self.files.get(())
        for k in range(1, len(path) + 1):
            if tuple(path[:k]) in self.files:
                best = self.files[tuple(path[:k])]
            else:
                break
        return best

    def paths_in(self, rel, code):
        """Every crate-absolute path the file names."""
        here = module_path(rel)
        found = []
        for m in re.finditer(r"\buse\s+([^;]+);", code):
            for path in expand_use_tree(m.group(1)):
                found.append(path)
        for m in re.finditer(r"(?<![A-Za-z0-9_:])((?:crate|super|self)(?:::(?:" + IDENT + r"))+)",
                             code):
            found.append(m.group(1).split("::"))
        resolved = []
        children = {p[len(here)] for p in self.files if len(p) == len(here) + 1 and list(p[:len(here)]) == here}
        for path in found:
            if not path:
                continue
            if path[0] == "crate":
                resolved.append(path[1:])
            elif path[0] in ("super", "self"):
                base = list(here)
                while path and path[0] in ("super", "self"):
                    if path[0] == "super":
                        base = base[:-1]
                    path = path[1:]
                resolved.append(base + path)
            elif path[0] in children:  # 2018 paths: a child module by its bare name
                resolved.append(here + path)
        return [p for p in resolved if p]


def contains(parent, child):
    """Whether module `child` lies inside module `parent` (which owns it: a parent using or
    re-exporting what its children define is the facade, not a circle)."""
    return len(child) > len(parent) and child[:len(parent)] == parent


def tarjan(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def main(argv):
    tests = "--tests" in argv
    show_edges = "--edges" in argv
    rest = [a for a in argv if not a.startswith("--")]
    src = rest[0] if rest else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    crate = Crate(src)
    top, files, why = {}, {}, {}
    for rel in sorted(crate.files.values()):
        with open(os.path.join(src, rel), encoding="utf-8") as f:
            code = strip(f.read())
        if not tests:
            code = drop_test_modules(code)
        here = module_path(rel)
        for path in crate.paths_in(rel, code):
            target = crate.file_of(path)
            if target and target != rel and not contains(here, module_path(target)):
                files.setdefault(rel, set()).add(target)
                why.setdefault((rel, target), "::".join(path))
            if here and path[0] != here[0] and (path[0],) in crate.files:
                top.setdefault(here[0], set()).add(path[0])
                why.setdefault((here[0], path[0]), rel + ": crate::" + "::".join(path))
    status = 0
    for name, graph in (("top-level module", top), ("file", files)):
        components = tarjan(graph)
        print(f"{name} graph: {len(graph)} nodes, {sum(map(len, graph.values()))} edges, "
              f"{len(components)} circle(s)")
        for comp in components:
            status = 1
            print("  circle: " + " ↔ ".join(comp))
            members = set(comp)
            for a in comp:
                for b in sorted(graph.get(a, ())):
                    if b in members:
                        print(f"    {a} → {b}  ({why[(a, b)]})")
        if show_edges:
            for a in sorted(graph):
                print(f"  {a} → {', '.join(sorted(graph[a]))}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
