#!/usr/bin/env python3
"""scnq: facts about a scenario's JSON view (aiotest-convert --json) for the
convert tests. Usage: scnq.py FILE.json WHAT
  requests    total number of requests (every class, every section)
  ws          number of WebSocket steps (every class, every section)
  classes     one line per class: weight<TAB>name
  steps       one line per step: class<TAB>section<TAB>parallel<TAB>n<TAB>think_us<TAB>names
  extractors  one line per extractor: var<TAB>kind<TAB>expr<TAB>request name
  urls        one line per request: method url"""
import json
import sys

SECTIONS = ("on_start", "tasks", "on_stop")


def req_name(r):
    return r.get("name") or "%s %s" % (r["method"], r["url"].split("?")[0])


def walk(scn):
    for c in scn["classes"]:
        for sec in SECTIONS:
            for step in c.get(sec, []):
                yield c, sec, step


def main():
    path, what = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        scn = json.load(f)
    if what == "requests":
        print(sum(len(s.get("requests", [])) for _, _, s in walk(scn)))
    elif what == "ws":
        print(sum(1 for _, _, s in walk(scn) if "ws" in s))
    elif what == "classes":
        for c in scn["classes"]:
            print("%d\t%s" % (c["weight"], c["name"]))
    elif what == "steps":
        for c, sec, s in walk(scn):
            print("%s\t%s\t%s\t%d\t%d\t%s" % (c["name"], sec, str(bool(s.get("parallel"))).lower(),
                                             len(s.get("requests", [])), s.get("think_us", 0),
                                             ",".join(req_name(r) for r in s.get("requests", [])) or
                                             ("WS " + s["ws"]["name"] if "ws" in s else "")))
    elif what == "extractors":
        for _, _, s in walk(scn):
            for r in s.get("requests", []):
                for e in r.get("extract", []):
                    print("%s\t%s\t%s\t%s" % (e["var"], e["kind"], e["expr"], req_name(r)))
    elif what == "urls":
        for _, _, s in walk(scn):
            for r in s.get("requests", []):
                print("%s %s" % (r["method"], r["url"]))
    else:
        sys.exit("scnq: unknown question " + what)


main()
