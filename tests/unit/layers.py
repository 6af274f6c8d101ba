#!/usr/bin/env python3
"""layers.py - the shape of the tree, checked: each layer includes only what
it may, SQL lives in src/store only, and no two files call each other in a
circle.

    python3 tests/unit/layers.py SOURCE_ROOT LIBRARY.a|OBJECT.o|FOLDER...

The layers, lowest first (README.md, "Layout"):

    util < config, mime, imap, smtp < core < store < desk < cli

1. Third-party headers come from one folder each: libpq-fe.h from store,
   curl from imap and smtp, gmime and libxml from mime, libconfig.h from
   config, libpsl.h from core (src/core/auth.c: the Public Suffix List
   compiled into libpsl is data, not I/O, so DMARC alignment stays a pure
   decision in core).  (meson gives each library only its own dependency's
   include path, which catches libpq, GMime and libxml2 at build time;
   curl's, libconfig's and libpsl's headers sit in the default include
   path, hence this check.)
2. A layer includes deskmail/ headers of its own layer and the layers below
   only, and a folder's private headers are its own.
3. No C string outside src/store holds SQL.
4. The call graph between files, read from the built objects with nm, has
   no cycle, and no call goes from a lower layer to a higher one.
Prints TAP."""

import os
import re
import subprocess
import sys

LAYERS = ["util", "config", "mime", "imap", "smtp", "core", "store", "desk", "cli"]
# what each layer may include, besides itself and util
ALLOWED = {
    "util": set(),
    "config": set(),
    "mime": set(),
    "imap": set(),
    "smtp": set(),
    "core": {"config"},  # the Config type: settings the planner reads
    "store": {"core"},  # the planner's types are what it writes
    "desk": {"config", "mime", "imap", "smtp", "core", "store"},
    "cli": {"config", "mime", "imap", "smtp", "core", "store", "desk"},
}
# rank for call direction: a call may go down or sideways, never up
RANK = {"util": 0, "config": 1, "mime": 1, "imap": 1, "smtp": 1, "core": 2, "store": 3,
        "desk": 4, "cli": 5}
HEADER_LAYER = {
    "err.h": "util", "log.h": "util", "util.h": "util", "mail.h": "util",
    "worktime.h": "util", "token.h": "util",
    "config.h": "config", "template.h": "config",
    "mime.h": "mime", "imap.h": "imap", "smtp.h": "smtp",
    "route.h": "core", "command.h": "core", "clean.h": "core", "plan.h": "core", "auth.h": "core",
    "sla.h": "core",
    "store.h": "store", "desk.h": "desk",
}
THIRD_PARTY = [
    (re.compile(r"^libpq-fe\.h$|^libpq/"), {"store"}, "libpq"),
    (re.compile(r"^curl/"), {"imap", "smtp"}, "curl"),
    (re.compile(r"^gmime/"), {"mime"}, "GMime"),
    (re.compile(r"^libxml/"), {"mime"}, "libxml2"),
    (re.compile(r"^libconfig\.h$"), {"config"}, "libconfig"),
    (re.compile(r"^libpsl\.h$"), {"core"}, "libpsl"),
    (re.compile(r"^json-glib/"), {"cli"}, "json-glib"),
    (re.compile(r"^cairo"), {"desk"}, "cairo"),
]
SQL = re.compile(r"\b(SELECT\s|INSERT\s+INTO\b|DELETE\s+FROM\b|UPDATE\s+\w+\s+SET\b|"
                 r"CREATE\s+(TABLE|INDEX|UNIQUE)\b|ALTER\s+TABLE\b|DROP\s+TABLE\b|"
                 r"SAVEPOINT\b|ROLLBACK\b|COMMIT\b|pg_advisory|nextval\()")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')

n = 0
failed = 0


def ok(cond, msg, detail=()):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, msg))
    if not cond:
        failed += 1
        for d in detail:
            print("#   " + d)


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def sources(root):
    for layer in LAYERS:
        d = os.path.join(root, "src", layer)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                yield layer, os.path.join("src", layer, f)
    inc = os.path.join(root, "include", "deskmail")
    for f in sorted(os.listdir(inc)):
        if f.endswith(".h"):
            yield HEADER_LAYER.get(f, "?"), os.path.join("include", "deskmail", f)


def check_files(root):
    bad_third, bad_own, bad_sql, unknown = [], [], [], []
    for layer, rel in sources(root):
        if layer == "?":
            unknown.append(rel)
            continue
        text = strip_comments(open(os.path.join(root, rel), encoding="utf-8").read())
        for kind, name in INCLUDE.findall(text):
            if kind == "<":
                for pat, where, what in THIRD_PARTY:
                    if pat.search(name) and layer not in where:
                        bad_third.append("%s includes %s (%s belongs to %s)"
                                         % (rel, name, what, ", ".join(sorted(where))))
                continue
            if name.startswith("deskmail/"):
                h = name.split("/", 1)[1]
                hl = HEADER_LAYER.get(h)
                if hl is None:
                    bad_own.append("%s includes %s, which no layer owns" % (rel, name))
                elif hl not in ("util", layer) and hl not in ALLOWED[layer]:
                    bad_own.append("%s (%s) includes %s (%s)" % (rel, layer, name, hl))
            elif "/" not in name and name != "dm_build.h":
                if not os.path.exists(os.path.join(root, os.path.dirname(rel), name)):
                    bad_own.append("%s includes %s, not a header of its own folder"
                                   % (rel, name))
        if not rel.startswith("src/store/"):
            for s in STRING.findall(text):
                if SQL.search(s):
                    bad_sql.append("%s: \"%s\"" % (rel, s[:80]))
    ok(not unknown, "every public header belongs to a layer", unknown)
    ok(not bad_third, "third-party headers are included from their one folder", bad_third)
    ok(not bad_own, "each layer includes only its own and lower layers' headers", bad_own)
    ok(not bad_sql, "no SQL outside src/store", bad_sql)


def nm(path):
    """(object, kind, symbol) of a static library's members or an object."""
    out = subprocess.run(["nm", "-A", path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        # lib.a:dir/file.o:0000 T name, or file.o:0000 T name; U has no value
        m = re.match(r"^(?:.*?\.a:)?([^:]+\.o):\s*(?:[0-9a-f]+\s+)?([A-Za-z])\s+(\S+)$", line)
        if m:
            yield os.path.basename(m.group(1)), m.group(2), m.group(3)


def object_layer(obj):
    # meson names objects like src_core_plan.c.o
    m = re.match(r"^src_([a-z]+)_(.+)\.c\.o$", obj)
    return (m.group(1), "src/%s/%s.c" % (m.group(1), m.group(2))) if m else (None, obj)


def check_calls(paths):
    defined, used = {}, {}
    layer_of = {}
    libs = []
    for p in paths:  # a folder stands for the objects in it
        if os.path.isdir(p):
            libs += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".o"))
        else:
            libs.append(p)
    for lib in libs:
        for obj, kind, sym in nm(lib):
            layer, name = object_layer(obj)
            layer_of[name] = layer
            if kind == "U":
                used.setdefault(name, set()).add(sym)
            elif kind in "TDBR":
                defined[sym] = name
    edges = {f: set() for f in layer_of}
    up = []
    for f, syms in used.items():
        for s in syms:
            g = defined.get(s)
            if g and g != f:
                edges[f].add(g)
                lf, lg = layer_of[f], layer_of[g]
                if lf in RANK and lg in RANK and RANK[lg] > RANK[lf]:
                    up.append("%s (%s) calls %s in %s (%s)" % (f, lf, s, g, lg))
    ok(len(layer_of) > 10, "the libraries were read (%d files)" % len(layer_of))
    ok(not up, "no call goes up the layers", sorted(up))
    # Tarjan's strongly connected components: a cycle is one of size > 1
    index, low, stack, on, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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
                cycles.append(" <-> ".join(sorted(comp)))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    ok(not cycles, "no two files call each other in a circle", cycles)


def main():
    root = sys.argv[1]
    check_files(root)
    check_calls(sys.argv[2:])
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
