#!/usr/bin/python3
"""parse_run.py: one measured run of bench/run -> one JSON line on stdout.

    parse_run.py TOOL RUNDIR CASE ROUND

TOOL is wrk, h2load, locust or aiotest. RUNDIR holds what bench/run kept:
  stdout, stderr       the tool's own output
  time                 /usr/bin/time -f '%e %U %S %M %x' (wall s, user s, sys s,
                       peak RSS KiB, exit status)
  meta                 KEY=VALUE lines from bench/run (server_requests: the
                       nginx stub_status delta; conns: established sockets seen
                       mid-run; stall_*: the open-model stall; ...)
  report.json          aiotest-replay --report
  locust_stats.csv     locust --csv
Figures the tool does not give are null; "error" says why a run has none.
"""
import csv
import json
import math
import os
import re
import sys

UNIT_MS = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def dur_ms(text):
    m = re.fullmatch(r"([0-9.]+)\s*(us|µs|ms|s|m|h)", text.strip())
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else None


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def read_meta(rundir):
    meta = {}
    for line in read(os.path.join(rundir, "meta")).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            try:
                meta[k] = float(v) if re.fullmatch(r"-?[0-9.]+(e-?[0-9]+)?", v) else v
            except ValueError:
                meta[k] = v
    return meta


def read_time(rundir):
    """GNU time output; the last line holds the figures (earlier lines may say
    'Command exited with non-zero status N')."""
    lines = [l for l in read(os.path.join(rundir, "time")).splitlines() if l.strip()]
    for line in reversed(lines):
        f = line.split()
        if len(f) == 5:
            try:
                return {"wall_s": float(f[0]), "cpu_s": float(f[1]) + float(f[2]),
                        "user_s": float(f[1]), "sys_s": float(f[2]),
                        "rss_kib": int(f[3]), "exit": int(f[4])}
            except ValueError:
                pass
    return {}


def parse_wrk(rundir, rec):
    out = read(os.path.join(rundir, "stdout"))
    m = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    if not m:
        rec["error"] = "wrk printed no Requests/sec"
        return
    rec["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([0-9.]+\w+)", out)
    if m:
        rec["tool_requests"] = int(m.group(1))
        rec["tool_duration_s"] = dur_ms(m.group(2)) / 1000.0
    for pct in ("50", "75", "90", "99"):
        m = re.search(r"^\s*%s%%\s+([0-9.]+\w+)" % pct, out, re.M)
        if m:
            rec["p%s_ms" % pct] = dur_ms(m.group(1))
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m:
        rec["avg_ms"] = dur_ms(m.group(1))
        rec["max_ms"] = dur_ms(m.group(3))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errs = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs += int(m.group(1)) if m else 0
    rec["failures"] = errs


def parse_h2load(rundir, rec):
    out = read(os.path.join(rundir, "stdout"))
    m = re.search(r"finished in ([0-9.]+\w+), ([0-9.]+) req/s", out)
    if not m:
        rec["error"] = "h2load printed no 'finished in' line"
        return
    rec["rps"] = float(m.group(2))
    rec["tool_duration_s"] = dur_ms(m.group(1)) / 1000.0
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
    if m:
        rec["tool_requests"] = int(m.group(4))
        rec["failures"] = int(m.group(5)) + int(m.group(6)) + int(m.group(7))
    # h2load prints no percentiles: min, max, mean, sd of the request time.
    m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        rec["avg_ms"] = dur_ms(m.group(3))
        rec["max_ms"] = dur_ms(m.group(2))
        rec["sd_ms"] = dur_ms(m.group(4))
        rec["latency_note"] = "h2load gives mean/sd only"
    m = re.search(r"Application protocol: (\S+)", out)
    if m:
        rec["protocol"] = m.group(1)


def parse_locust(rundir, rec):
    path = os.path.join(rundir, "locust_stats.csv")
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        rec["error"] = "locust wrote no %s" % os.path.basename(path)
        return
    agg = [r for r in rows if r.get("Name") == "Aggregated"]
    if not agg:
        rec["error"] = "locust CSV has no Aggregated row"
        return
    a = agg[0]
    num = lambda k: float(a[k]) if a.get(k) not in (None, "", "N/A") else None
    rec["rps"] = num("Requests/s")
    rec["tool_requests"] = int(num("Request Count") or 0)
    rec["failures"] = int(num("Failure Count") or 0)
    rec["p50_ms"] = num("50%")
    rec["p99_ms"] = num("99%")
    rec["avg_ms"] = num("Average Response Time")
    rec["max_ms"] = num("Max Response Time")


def pick(d, *keys):
    """First present key; values may be numbers or nested {"ms": x}."""
    for k in keys:
        if isinstance(d, dict) and d.get(k) is not None:
            return d[k]
    return None


def report_ms(total, pct):
    """Percentile pct of the report's total, in ms, whatever the spelling."""
    v = pick(total, "p%s_ms" % pct, "p%s" % pct)
    if v is None:
        for sub in ("percentiles_ms", "percentiles", "latency_ms"):
            v = pick(total.get(sub) if isinstance(total.get(sub), dict) else None,
                     "p%s" % pct, str(pct), "%s%%" % pct, "%s.0" % pct)
            if v is not None:
                break
    if v is None and pct in ("max", "avg", "min"):
        v = pick(total, pct + "_ms")
    if v is None:
        us = pick(total, "p%s_us" % pct, "%s_us" % pct)
        return us / 1000.0 if isinstance(us, (int, float)) else None
    return float(v) if isinstance(v, (int, float)) else None


def parse_aiotest(rundir, rec):
    text = read(os.path.join(rundir, "report.json"))
    err = read(os.path.join(rundir, "stderr")).strip().splitlines()
    if not text:
        last = next((l for l in reversed(err) if l.strip()), "")
        rec["error"] = "aiotest-replay wrote no report" + (": " + last[:160] if last else "")
        return
    try:
        rep = json.loads(text)
    except ValueError as e:
        rec["error"] = "aiotest-replay report is not JSON: %s" % e
        return
    total = rep.get("total") or {}
    dur = pick(rep, "duration_s", "duration")
    count = pick(total, "count", "requests", "num_requests")
    rec["tool_requests"] = int(count) if count is not None else None
    rec["tool_duration_s"] = float(dur) if dur else None
    rps = pick(total, "rps", "requests_per_s")
    if rps is None and count is not None and dur:
        rps = count / float(dur)
    rec["rps"] = float(rps) if rps is not None else None
    rec["failures"] = int(pick(total, "failures", "num_failures") or 0)
    for p in ("50", "90", "99", "99.9"):
        v = report_ms(total, p)
        if v is not None:
            rec["p%s_ms" % p.replace(".", "_")] = v
    for k in ("avg", "max"):
        v = pick(total, k + "_ms", k)
        if isinstance(v, (int, float)):
            rec[k + "_ms"] = float(v)
    protos = set()
    for e in rep.get("entries") or []:
        pr = e.get("protocols")
        if isinstance(pr, dict):
            protos.update(k for k, v in pr.items() if v)
    if protos:
        rec["protocol"] = ",".join(sorted(protos))
    mem = rep.get("user_memory") or {}
    if isinstance(mem, dict) and isinstance(mem.get("bytes_per_user"), (int, float)):
        rec["user_mem_bytes"] = mem["bytes_per_user"]  # user_memory(): what the program counts
    it = rep.get("iterations") or {}
    if isinstance(it, dict):
        rec["iterations_started"] = pick(it, "started", "it_started")
        rec["iterations_completed"] = pick(it, "completed", "it_completed")
    shape = rep.get("shape")
    if isinstance(shape, list) and shape:
        rec["shape_duration_s"] = sum(st.get("duration_s") or 0 for st in shape if isinstance(st, dict))
    hist = rep.get("history") or []
    if hist:
        ips = [h.get("iterations_per_s") for h in hist if isinstance(h, dict)]
        ips = [x for x in ips if isinstance(x, (int, float))]
        if ips:
            rec["history_iterations_per_s"] = ips
        p99 = [h.get("p99_ms", (h.get("p99_us") or 0) / 1000.0) for h in hist if isinstance(h, dict)]
        rec["history_p99_ms"] = p99


def main():
    tool, rundir, case, rnd = sys.argv[1:5]
    rec = {"case": case, "tool": tool, "round": int(rnd)}
    meta = read_meta(rundir)
    rec.update(read_time(rundir))
    rec["meta"] = meta
    {"wrk": parse_wrk, "wrkp": parse_wrk, "h2load": parse_h2load, "locust": parse_locust,
     "aiotest": parse_aiotest}[tool](rundir, rec)
    if meta.get("error"):
        rec["error"] = meta["error"]
    # Requests the generator made: nginx's own count when the server is ours
    # (the same counter for every tool), else the tool's.
    reqs = meta.get("server_requests")
    if not isinstance(reqs, float) or reqs <= 0:
        reqs = rec.get("tool_requests")
    rec["requests"] = reqs
    if reqs and rec.get("cpu_s") is not None and "error" not in rec:
        rec["cpu_us_per_req"] = rec["cpu_s"] / reqs * 1e6
        rec["cpu_s_per_100k"] = rec["cpu_s"] / reqs * 1e5
        rec["req_per_cpu_s"] = reqs / rec["cpu_s"] if rec["cpu_s"] > 0 else math.inf
    if reqs and isinstance(meta.get("server_cpu_s"), float) and "error" not in rec:
        rec["server_cpu_us_per_req"] = meta["server_cpu_s"] / reqs * 1e6
    print(json.dumps(rec, sort_keys=True))


if __name__ == "__main__":
    main()
