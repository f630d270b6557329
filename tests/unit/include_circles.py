#!/usr/bin/python3
"""No include circles: builds the module graph of the source tree from its
#include "..." lines and fails on any circle.

A module is a file name without its extension (capture/client.c and
capture/client.h are the module capture/client). Module A depends on module B
when A's .c or .h includes B's header. A circle is a strongly connected set of
more than one module; each is printed with one cycle through it.

usage: include_circles.py SRC_ROOT [--known "a/x a/y" ...]
--known names modules of a circle another change is removing: a circle made
of those modules only is reported but does not fail (one reaching any other
module fails); once no such circle is left a note says to remove the entry."""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SKIP_DIRS = {'.git', 'subprojects'}


def sources(root):
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith('build')
                         and not x.startswith('.'))
        for f in sorted(files):
            if f.endswith(('.c', '.h')):
                yield os.path.normpath(os.path.join(rel, f))


def resolve(inc, src, by_name, paths):
    """The file an #include "inc" in src names: next to src, else the one of
    that name in src's top folder, else the only one in the tree."""
    here = os.path.normpath(os.path.join(os.path.dirname(src), inc))
    if here in paths:
        return here
    cands = by_name.get(os.path.basename(inc), [])
    top = src.split(os.sep)[0]
    same_top = [c for c in cands if c.split(os.sep)[0] == top]
    if len(same_top) == 1:
        return same_top[0]
    lib = [c for c in cands if c.split(os.sep)[0] in ('common', 'scenarios')]
    if len(lib) == 1:
        return lib[0]
    return cands[0] if len(cands) == 1 else None


def module_graph(root):
    files = list(sources(root))
    paths = set(files)
    by_name = {}
    for f in files:
        by_name.setdefault(os.path.basename(f), []).append(f)
    graph = {}
    for f in files:
        mod = os.path.splitext(f)[0]
        graph.setdefault(mod, set())
        with open(os.path.join(root, f), encoding='utf-8', errors='replace') as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            target = resolve(inc, f, by_name, paths)
            if target is None:
                continue
            dep = os.path.splitext(target)[0]
            if dep != mod:
                graph[mod].add(dep)
    return graph


def circles(graph):
    """Tarjan's strongly connected components of more than one module."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    sys.setrecursionlimit(10000)

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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def one_cycle(graph, comp):
    """A path from comp[0] back to itself inside comp (breadth first)."""
    inside, start = set(comp), comp[0]
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in inside and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    root, known, i = argv[1], [], 2
    while i < len(argv):
        if argv[i] == '--known' and i + 1 < len(argv):
            known.append(frozenset(argv[i + 1].split()))
            i += 2
        else:
            print('include_circles.py: unknown argument %r' % argv[i], file=sys.stderr)
            return 2
    graph = module_graph(root)
    if len(graph) < 10:
        print('include_circles.py: only %d modules under %s: wrong root?' % (len(graph), root))
        return 1
    failed = False
    found = circles(graph)
    for comp in found:
        cycle = ' -> '.join(one_cycle(graph, comp))
        if any(set(comp) <= k for k in known):
            print('known circle (being removed elsewhere): %s' % cycle)
        else:
            print('include circle: %s' % cycle)
            failed = True
    for k in known:
        if not any(set(c) <= k for c in found):
            print('note: --known circle %s is gone: remove it from tests/unit/meson.build'
                  % ' '.join(sorted(k)))
    print('%d modules, %d circles' % (len(graph), len(found)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
