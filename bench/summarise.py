#!/usr/bin/python3
"""summarise.py: results.jsonl of bench/run -> markdown tables and the issue 8 targets.

    summarise.py results.jsonl [--idle-users N] [--rate R]

Every figure is the median over the rounds of one invocation; every ratio is
aiotest-replay's median over the peer's median from the same invocation.
"""
import argparse
import json
import statistics

PEER_NAME = {"wrk": "wrk", "wrkp": "wrk pipeline.lua (10 deep)", "h2load": "h2load", "locust": "Locust FastHttpUser", "aiotest": "aiotest-replay"}
CASE_TITLE = {
    "h1": "HTTP/1.1 keep-alive GET, 50 conns",
    "tls": "HTTP/1.1 over TLS, 50 conns",
    "h2": "h2 over TLS, 50 conns x 10 streams",
    "h2c": "h2c, 50 conns x 10 streams",
    "h1p": "HTTP/1.1 pipelined, 50 conns x 10 (aiotest --pipeline 10)",
    "plain": "plain GET /api/items/7, 50 users",
    "scenario": "full scenario, 50 users, /metrics 1/s",
}
# case -> its peers, in table order
CASE_PEERS = [("h1", ["wrk", "locust"]), ("tls", ["wrk"]), ("h2", ["h2load"]), ("h2c", ["h2load"]), ("h1p", ["wrkp", "wrk"])]


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def runs(rows, case, tool):
    return [r for r in rows if r["case"] == case and r["tool"] == tool]


def ok_runs(rows, case, tool):
    return [r for r in runs(rows, case, tool) if not r.get("error")]


def med(rs, key):
    v = [r[key] for r in rs if isinstance(r.get(key), (int, float))]
    return statistics.median(v) if v else None


def first_error(rows, case, tool):
    for r in runs(rows, case, tool):
        if r.get("error"):
            return r["error"]
    return None


def fmt(v, f="%.1f", none="-"):
    return f % v if isinstance(v, (int, float)) else none


def kfmt(v):
    if not isinstance(v, (int, float)):
        return "-"
    return "%.1f k" % (v / 1000) if v >= 1000 else "%.0f" % v


def ratio(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else None


def h2_missing(rows, case):
    """Why aiotest has no h2 figures in case (None when it has them)."""
    rs = runs(rows, case, "aiotest")
    if not rs:
        return None
    err = first_error(rows, case, "aiotest")
    good = ok_runs(rows, case, "aiotest")
    protos = {r.get("protocol") for r in good if r.get("protocol")}
    if err and not good:
        if "not built" in err or "not run" in err:
            return err
        return "aiotest-replay: h2 not available in this build (%s)" % err
    if protos and not any("h2" in p for p in protos):
        return "aiotest-replay: h2 not available in this build (the report shows %s)" % ",".join(sorted(protos))
    return None


def throughput_table(rows):
    out = ["| case | generator | req/s | CPU µs/req | CPU s per 100k req | p50 ms | p99 ms | peak RSS MiB "
           "| failures | server CPU µs/req | req per CPU-s, aiotest / peer | req/s, aiotest / peer |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    ratios = {}
    blank = "|" + "  |" * 9
    cases = CASE_PEERS + [("scenario", ["plain"])]
    for case, peers in cases:
        if not any(runs(rows, case if pr != "plain" else "plain", pr if pr != "plain" else "aiotest")
                   for pr in peers) and not runs(rows, case, "aiotest"):
            continue
        title = CASE_TITLE[case]
        vs = []
        why = h2_missing(rows, case) if case in ("h2", "h2c") else None
        for peer in peers:
            pcase, ptool = ("plain", "aiotest") if peer == "plain" else (case, peer)
            out.append(row_line(rows, CASE_TITLE[pcase], pcase, ptool, None))
            a, p = ok_runs(rows, case, "aiotest"), ok_runs(rows, pcase, ptool)
            eff = ratio(med(a, "req_per_cpu_s"), med(p, "req_per_cpu_s"))
            thr = ratio(med(a, "rps"), med(p, "rps"))
            if (eff is not None or thr is not None) and not why:
                ratios[(case, peer)] = (eff, thr)
                vs.append(("plain GET" if peer == "plain" else PEER_NAME[peer], eff, thr))
        err = first_error(rows, case, "aiotest")
        if why:
            out.append("| %s | aiotest-replay | %s %s" % (title, why, blank))
        elif err and not ok_runs(rows, case, "aiotest"):
            out.append("| %s | aiotest-replay | %s %s" % (title, err, blank))
        elif runs(rows, case, "aiotest"):
            out.append(row_line(rows, title, case, "aiotest", vs))
    return out, ratios


def row_line(rows, title, case, tool, vs):
    rs = ok_runs(rows, case, tool)
    if not rs:
        err = first_error(rows, case, tool) or "no run"
        return "| %s | %s | %s |" % (title, PEER_NAME[tool], err) + "  |" * 9
    p50 = fmt(med(rs, "p50_ms"), "%.2f")
    p99 = fmt(med(rs, "p99_ms"), "%.2f")
    if tool == "h2load":  # no percentiles from h2load
        p50 = "mean %s" % fmt(med(rs, "avg_ms"), "%.2f")
        p99 = "sd %s" % fmt(med(rs, "sd_ms"), "%.2f")
    rss = med(rs, "rss_kib")
    fails = med(rs, "failures")
    eff = "; ".join("%sx %s" % (fmt(v[1], "%.2f"), v[0]) for v in vs or [])
    thr = "; ".join("%sx %s" % (fmt(v[2], "%.2f"), v[0]) for v in vs or [])
    name = PEER_NAME[tool]
    conns = med([{"c": r.get("meta", {}).get("conns")} for r in rs], "c")
    if case in ("h2", "h2c") and conns:
        name += " (%.0f conns)" % conns
    return "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        title, name, kfmt(med(rs, "rps")), fmt(med(rs, "cpu_us_per_req")),
        fmt(med(rs, "cpu_s_per_100k"), "%.2f"), p50, p99, fmt(rss / 1024 if rss else None, "%.1f"),
        fmt(fails, "%.0f"), fmt(med(rs, "server_cpu_us_per_req")), eff, thr)


def idle_table(rows, n):
    out = []
    res = {}
    lines = []
    for tool, what in (("aiotest", "users thinking 1 h, one open keep-alive connection each"),
                       ("wrk", "busy connections (wrk has no idle mode)")):
        r1, rn = ok_runs(rows, "idle-1", tool), ok_runs(rows, "idle-%d" % n, tool)
        if not r1 or not rn:
            err = (first_error(rows, "idle-%d" % n, tool) or first_error(rows, "idle-1", tool)
                   or first_error(rows, "idle", tool))
            if err or runs(rows, "idle", tool):
                lines.append("| %s | %s |  |  |  |  |  |" % (PEER_NAME[tool], err or "no run"))
            continue
        a, b = med(r1, "rss_kib"), med(rn, "rss_kib")
        conns = med([dict(c=r["meta"].get("conns")) for r in rn], "c")
        per = (b - a) / (n - 1)
        res[tool] = per
        counted = med(rn, "user_mem_bytes")  # aiotest's report: user_memory() per user
        lines.append("| %s | %s | %s | %s | %s | %.2f | %s |" % (
            PEER_NAME[tool], what, fmt(a / 1024, "%.1f"), fmt(b / 1024, "%.1f"), fmt(conns, "%.0f"), per,
            fmt(counted / 1024 if counted else None, "%.2f")))
    if lines:
        out += ["", "Idle users: %d users vs 1, peak RSS (median), marginal RSS per user = (RSS(N) - RSS(1)) / (N - 1)." % n,
                "", "| generator | what | RSS(1) MiB | RSS(N) MiB | connections seen open | KiB per user |"
                " KiB per user counted (report `user_memory`) |",
                "| --- | --- | ---: | ---: | ---: | ---: | ---: |"] + lines
        if "aiotest" in res:
            out.append("")
            out.append("At that rate 100 000 users would take %.0f MiB above the base (computed; ulimit -n %s "
                       "forbids 100 000 open sockets here)." % (res["aiotest"] * 100000 / 1024, "20 000"))
    return out, res


def open_table(rows, rate):
    a_runs, w_runs = runs(rows, "open", "aiotest"), runs(rows, "open", "wrk")
    if not a_runs and not w_runs:
        return [], {}
    meta = next((r["meta"] for r in a_runs + w_runs if r.get("meta", {}).get("stall_kind")), {})
    out = ["", "Open model: %s iterations/s scheduled; the server is stalled %s ms at %s s into each run (%s)." % (
        fmt(rate, "%.0f"), fmt(meta.get("stall_ms"), "%.0f", "?"), fmt(meta.get("stall_at_s"), "%.0f", "?"),
        {"control": "aiotest-target POST /_control?delay_ms", "sigstop": "nginx SIGSTOP/SIGCONT"}.get(
            meta.get("stall_kind"), "?")),
           "", "| generator | model | req/s | started/s (min second) | p50 ms | p99 ms | max ms |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    res = {}
    for tool, model in (("aiotest", "open: fixed arrival rate, latency from the scheduled start"),
                        ("wrk", "closed: 50 conns, as fast as answers come")):
        rs = ok_runs(rows, "open", tool)
        if not rs:
            err = first_error(rows, "open", tool)
            if err:
                out.append("| %s | %s |  |  |  |  |  |" % (PEER_NAME[tool], err))
            continue
        started = "-"
        if tool == "aiotest":
            # started over the scheduled time (the shape's length), not the run's
            # length with its drain at the end
            st = [r["iterations_started"] / (r.get("shape_duration_s") or r["tool_duration_s"]) for r in rs
                  if isinstance(r.get("iterations_started"), (int, float)) and
                  (r.get("shape_duration_s") or r.get("tool_duration_s"))]
            mins = [min(r["history_iterations_per_s"][1:-1] or r["history_iterations_per_s"]) for r in rs
                    if r.get("history_iterations_per_s")]
            s_med = statistics.median(st) if st else None
            m_med = statistics.median(mins) if mins else None
            started = "%s (%s)" % (fmt(s_med, "%.0f"), fmt(m_med, "%.0f"))
            res["started"] = s_med
            res["min_second"] = m_med
        res[tool] = {"p99": med(rs, "p99_ms"), "max": med(rs, "max_ms")}
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            PEER_NAME[tool], model, kfmt(med(rs, "rps")), started, fmt(med(rs, "p50_ms"), "%.2f"),
            fmt(med(rs, "p99_ms"), "%.2f"), fmt(med(rs, "max_ms"), "%.1f")))
    res["stall_ms"] = meta.get("stall_ms")
    return out, res


def verdict(v, ok, need):
    if v is None:
        return "not measured"
    return "%s (%s; target %s)" % ("HOLDS" if ok else "does not hold", v, need)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--idle-users", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=2000)
    a = ap.parse_args()
    rows = load(a.results)
    lines, ratios = throughput_table(rows)
    idle, idle_res = idle_table(rows, a.idle_users)
    opn, open_res = open_table(rows, a.rate)
    if len(lines) == 2:  # no throughput case was run
        lines = []
    print("\n".join(lines + idle + opn).strip("\n"))

    print("\nTargets of issue 8 (ratios of medians, same run):\n")
    g = lambda k, i: ratios.get(k, (None, None))[i]
    e = g(("h1", "wrk"), 0)
    print("- HTTP/1.1 requests per generator CPU-second >= 1.0x wrk: " +
          verdict(fmt(e, "%.3fx", None) if e else None, e is not None and e >= 1.0, ">= 1.0x"))
    t = g(("h1", "wrk"), 1)
    print("- HTTP/1.1 throughput not below wrk's (server-bound): " +
          verdict(fmt(t, "%.3fx", None) if t else None, t is not None and t >= 0.98, ">= 1.0x, 2% noise allowed"))
    e = g(("h2", "h2load"), 0)
    print("- h2 (TLS) requests per CPU-second >= 1.0x h2load: " +
          verdict(fmt(e, "%.3fx", None) if e else None, e is not None and e >= 1.0, ">= 1.0x"))
    e = g(("h2c", "h2load"), 0)
    if e is not None:
        print("- h2c requests per CPU-second vs h2load (information): %.3fx" % e)
    e = g(("h1", "locust"), 0)
    print("- requests per CPU-second >= 20x Locust FastHttpUser: " +
          verdict(fmt(e, "%.1fx", None) if e else None, e is not None and e >= 20, ">= 20x"))
    k = idle_res.get("aiotest")
    print("- RSS per idle user with an open connection <= 4 KiB: " +
          verdict(fmt(k, "%.2f KiB", None) if k is not None else None, k is not None and k <= 4.0, "<= 4 KiB"))
    e = g(("scenario", "plain"), 0)
    cost = 1 / e if e else None
    print("- full scenario CPU per request <= 1.5x the plain GET: " +
          verdict(fmt(cost, "%.3fx", None) if cost else None, cost is not None and cost <= 1.5, "<= 1.5x"))
    if "started" in open_res or "aiotest" in open_res:
        s, m, stall = open_res.get("started"), open_res.get("min_second"), open_res.get("stall_ms")
        ok = s is not None and s >= 0.95 * a.rate
        print("- open model keeps its schedule through the stall: " +
              verdict("%s/s started over the run; slowest whole second of the report's history %s/s" % (
                  fmt(s, "%.0f"), fmt(m, "%.0f")) if s else None, ok, ">= 95%% of %.0f/s over the run" % a.rate))
        p = (open_res.get("aiotest") or {}).get("p99")
        w = (open_res.get("wrk") or {}).get("p99")
        shows = p is not None and stall and p >= stall / 4
        print("- open model latency shows the stall: " +
              verdict("aiotest p99 %s ms vs wrk p99 %s ms, stall %s ms" % (fmt(p, "%.0f"), fmt(w, "%.1f"),
                                                                          fmt(stall, "%.0f")) if p else None,
                      shows, "p99 >= stall/4"))


if __name__ == "__main__":
    main()
